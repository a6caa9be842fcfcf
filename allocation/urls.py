"""Pages of the allocation app (round progress and results)."""
from django.urls import path

from allocation import views
from allocation.views import donor, provider, secretariat
from allocation.views import reviews as review_views

urlpatterns = [
    path("rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/solve/", views.round_solve, name="round-solve"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run-progress"),
    # Donor officers
    path("donor/", donor.donor_home, name="donor-home"),
    path("donor/pledges/new/in-kind/", donor.pledge_in_kind_create, name="donor-pledge-in-kind"),
    path("donor/pledges/new/cash/", donor.pledge_cash_create, name="donor-pledge-cash"),
    path("donor/pledges/<int:pledge_id>/", donor.pledge_detail, name="donor-pledge-detail"),
    path("donor/pledges/<int:pledge_id>/withdraw/", donor.pledge_withdraw, name="donor-pledge-withdraw"),
    path("donor/pledges/<int:pledge_id>/statement.<str:fmt>", donor.pledge_statement, name="donor-pledge-statement"),
    # Provider officers
    path("provider/", provider.provider_home, name="provider-home"),
    path("provider/offers/new/", provider.offer_create, name="provider-offer-new"),
    path("provider/offers/<int:offer_id>/withdraw/", provider.offer_withdraw, name="provider-offer-withdraw"),
    path("provider/rounds/<int:round_id>/lines/", provider.round_lines, name="provider-round-lines"),
    path("provider/rounds/<int:round_id>/lines/confirm-all/", provider.lines_confirm_all,
         name="provider-lines-confirm-all"),
    path("provider/lines/<int:line_id>/confirm/", provider.line_confirm, name="provider-line-confirm"),
    path("provider/lines/<int:line_id>/flag/", provider.line_flag, name="provider-line-flag"),
    path("allocation-lines/<int:line_id>/", provider.line_detail, name="line-detail"),
]

# The secretariat's pages and the reviewers'.
urlpatterns += [
    path("secretariat/", secretariat.home, name="secretariat-home"),
    path("secretariat/calls/new/", secretariat.call_create, name="secretariat-call-create"),
    path("secretariat/calls/<int:call_id>/rounds/new/", secretariat.round_create, name="secretariat-round-create"),
    path("secretariat/rounds/<int:round_id>/", secretariat.round_manage, name="secretariat-round"),
    path("secretariat/rounds/<int:round_id>/deadline/", secretariat.round_deadline, name="secretariat-round-deadline"),
    path("secretariat/rounds/<int:round_id>/close/", secretariat.round_close, name="secretariat-round-close"),
    path("secretariat/rounds/<int:round_id>/reopen/", secretariat.round_reopen, name="secretariat-round-reopen"),
    path("secretariat/rounds/<int:round_id>/eligibility/", secretariat.eligibility, name="secretariat-eligibility"),
    path("secretariat/requests/<int:request_id>/eligibility/", secretariat.eligibility_decide,
         name="secretariat-eligibility-decide"),
    path("secretariat/rounds/<int:round_id>/reviews/", secretariat.reviews, name="secretariat-reviews"),
    path("secretariat/rounds/<int:round_id>/reviews/assign/", secretariat.review_assign,
         name="secretariat-review-assign"),
    path("secretariat/assignments/<int:assignment_id>/unassign/", secretariat.review_unassign,
         name="secretariat-review-unassign"),
    path("secretariat/rounds/<int:round_id>/policy/", secretariat.policy, name="secretariat-policy"),
    path("secretariat/rounds/<int:round_id>/compare/", secretariat.compare, name="secretariat-compare"),
    path("secretariat/runs/<int:run_id>/approve/", secretariat.run_approve, name="secretariat-run-approve"),
    path("secretariat/rounds/<int:round_id>/publish/", secretariat.round_publish, name="secretariat-round-publish"),
    path("secretariat/cofinancing/", secretariat.cofinancing, name="secretariat-cofinancing"),
    path("secretariat/cofinancing/<int:obligation_id>/payment/", secretariat.payment, name="secretariat-payment"),
    path("reviews/", review_views.my_reviews, name="reviews-home"),
    path("reviews/requests/<int:request_id>/", review_views.review_score, name="review-score"),
]

# The ministry portal
from allocation.views import ministry as ministry_views  # noqa: E402

urlpatterns += [
    path("ministry/", ministry_views.ministry_home, name="ministry-home"),
    path("ministry/rounds/<int:round_id>/requests/new/", ministry_views.request_new, name="ministry-request-new"),
    path("ministry/requests/<int:request_id>/", ministry_views.request_detail, name="ministry-request-detail"),
    path("ministry/requests/<int:request_id>/edit/", ministry_views.request_edit, name="ministry-request-edit"),
    path("ministry/requests/<int:request_id>/submit/", ministry_views.request_action, {"action": "submit"},
         name="ministry-request-submit"),
    path("ministry/requests/<int:request_id>/withdraw/", ministry_views.request_action, {"action": "withdraw"},
         name="ministry-request-withdraw"),
    path("ministry/requests/<int:request_id>/accept/", ministry_views.request_action, {"action": "accept"},
         name="ministry-request-accept"),
    path("ministry/requests/<int:request_id>/decline/", ministry_views.request_action, {"action": "decline"},
         name="ministry-request-decline"),
]

# Appeals: lodged by ministries, answered by the secretariat
from allocation.views import appeals as appeal_views  # noqa: E402

urlpatterns += [
    path("ministry/requests/<int:request_id>/appeal/", appeal_views.appeal_lodge, name="ministry-appeal-lodge"),
    path("ministry/appeals/<int:appeal_id>/withdraw/", appeal_views.appeal_withdraw, name="ministry-appeal-withdraw"),
    path("secretariat/appeals/", appeal_views.secretariat_appeals, name="secretariat-appeals"),
    path("secretariat/appeals/<int:appeal_id>/", appeal_views.secretariat_appeal_detail,
         name="secretariat-appeal-detail"),
    path("secretariat/appeals/<int:appeal_id>/review/", appeal_views.secretariat_appeal_review,
         name="secretariat-appeal-review"),
]
