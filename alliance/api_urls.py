"""The REST API's routes, mounted at /api/ (the schema, Swagger UI and ReDoc live beside them)."""
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.serializers import CharField, Serializer
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from alliance.api import ErrorSerializer, RedocView, api_not_found
from alliance.cache import cache_public_api
from alliance.security import lockout_message, login_is_locked
from allocation.api import appeals, capacity, compute_requests, published, rounds
from audit import api as audit_api
from members import api as members_api


class TokenOutputSerializer(Serializer):
    token = CharField(help_text="Send it as the header `Authorization: Token <token>`.")


class TokenObtainApi(ObtainAuthToken):
    """Exchange a username and password for an API token."""

    throttle_classes = [AnonRateThrottle, UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(operation_id="auth_token_create", tags=["auth"], request=AuthTokenSerializer,
                   responses={200: TokenOutputSerializer, 400: ErrorSerializer, 429: ErrorSerializer}, auth=[])
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if login_is_locked(request._request, username):
            return Response({"message": lockout_message()}, status=429)
        return super().post(request, *args, **kwargs)


app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    # Members
    path("member-states/", members_api.MemberStateListApi.as_view(), name="member-state-list"),
    path("member-states/<str:iso3>/", members_api.MemberStateDetailApi.as_view(), name="member-state-detail"),
    path("organisations/", members_api.OrganisationListApi.as_view(), name="organisation-list"),
    path("organisations/<int:organisation_id>/", members_api.OrganisationDetailApi.as_view(),
         name="organisation-detail"),
    # Hardware, calls, rounds and runs
    path("hardware/", rounds.HardwareListApi.as_view(), name="hardware-list"),
    path("hardware/<str:key>/", rounds.HardwareDetailApi.as_view(), name="hardware-detail"),
    path("calls/", rounds.CallListApi.as_view(), name="call-list"),
    path("calls/<int:call_id>/", rounds.CallDetailApi.as_view(), name="call-detail"),
    path("rounds/", rounds.RoundListApi.as_view(), name="round-list"),
    path("rounds/<int:round_id>/", rounds.RoundDetailApi.as_view(), name="round-detail"),
    path("rounds/<int:round_id>/close/", rounds.RoundCloseApi.as_view(), name="round-close"),
    path("rounds/<int:round_id>/reopen/", rounds.RoundReopenApi.as_view(), name="round-reopen"),
    path("rounds/<int:round_id>/solve/", rounds.RoundSolveApi.as_view(), name="round-solve"),
    path("rounds/<int:round_id>/publish/", rounds.RoundPublishApi.as_view(), name="round-publish"),
    path("rounds/<int:round_id>/policy/", rounds.RoundPolicyApi.as_view(), name="round-policy"),
    path("rounds/<int:round_id>/runs/", rounds.RoundRunListApi.as_view(), name="round-runs"),
    path("runs/<int:run_id>/", rounds.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/approve/", rounds.RunApproveApi.as_view(), name="run-approve"),
    # Pledges and offers
    path("pledges/", capacity.PledgeListApi.as_view(), name="pledge-list"),
    path("pledges/<int:pledge_id>/", capacity.PledgeDetailApi.as_view(), name="pledge-detail"),
    path("pledges/<int:pledge_id>/withdraw/", capacity.PledgeWithdrawApi.as_view(), name="pledge-withdraw"),
    path("offers/", capacity.OfferListApi.as_view(), name="offer-list"),
    path("offers/<int:offer_id>/", capacity.OfferDetailApi.as_view(), name="offer-detail"),
    path("offers/<int:offer_id>/withdraw/", capacity.OfferWithdrawApi.as_view(), name="offer-withdraw"),
    # Compute requests and reviews
    path("requests/", compute_requests.ComputeRequestListApi.as_view(), name="request-list"),
    path("requests/<int:request_id>/", compute_requests.ComputeRequestDetailApi.as_view(), name="request-detail"),
    path("requests/<int:request_id>/submit/", compute_requests.ComputeRequestSubmitApi.as_view(),
         name="request-submit"),
    path("requests/<int:request_id>/withdraw/", compute_requests.ComputeRequestWithdrawApi.as_view(),
         name="request-withdraw"),
    path("requests/<int:request_id>/accept/", compute_requests.ComputeRequestAcceptApi.as_view(),
         name="request-accept"),
    path("requests/<int:request_id>/decline/", compute_requests.ComputeRequestDeclineApi.as_view(),
         name="request-decline"),
    path("requests/<int:request_id>/eligibility/", compute_requests.ComputeRequestEligibilityApi.as_view(),
         name="request-eligibility"),
    path("reviews/", compute_requests.ReviewListApi.as_view(), name="review-list"),
    path("reviews/<int:review_id>/", compute_requests.ReviewDetailApi.as_view(), name="review-detail"),
    # Appeals
    path("appeals/", appeals.AppealListApi.as_view(), name="appeal-list"),
    path("appeals/<int:appeal_id>/", appeals.AppealDetailApi.as_view(), name="appeal-detail"),
    path("appeals/<int:appeal_id>/withdraw/", appeals.AppealWithdrawApi.as_view(), name="appeal-withdraw"),
    path("appeals/<int:appeal_id>/review/", appeals.AppealReviewApi.as_view(), name="appeal-review"),
    path("appeals/<int:appeal_id>/answer/", appeals.AppealAnswerApi.as_view(), name="appeal-answer"),
    # Open data
    path("published/allocations/", cache_public_api(published.PublishedAllocationListApi.as_view()),
         name="published-allocations"),
    path("published/summary/", cache_public_api(published.PublishedSummaryApi.as_view()), name="published-summary"),
    # Audit trail
    path("audit/", audit_api.AuditEntryListApi.as_view(), name="audit-list"),
    path("audit/verify/", audit_api.AuditVerifyApi.as_view(), name="audit-verify"),
    # ReDoc without CDN fonts; shadows the stock view routed after this include in alliance/urls.py.
    # (ReDoc injects its styles and runs a worker from a blob: URL; no inline script)
    path("redoc/", csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
        RedocView.as_view(url_name="schema")), name="redoc"),
    # Anything else under /api/ (e.g. /api/requests/abc/) is a JSON 404, or a 308 to the path with its
    # final slash. The schema and Swagger UI, routed in alliance/urls.py after this include, match there.
    re_path(r"^(?!(schema|docs)/?$)", api_not_found, name="not-found"),
]
