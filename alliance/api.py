"""API plumbing shared by every app: the exception handler, pagination, strict input serializers, role
checks, a JSON 404 for unknown API paths and a ReDoc page that loads nothing from a CDN.

Error bodies:
- a refused state change (``ApplicationError``) -> 400 ``{"message", "extra"}`` (403 when the service
  says the person's role does not allow it: ``NotPermitted``);
- bad input (DRF ``ValidationError``, or a Django ``ValidationError`` raised by a service) -> 400 with a
  dict naming each field;
- anything else DRF knows (401, 403, 404, 405, 415, 429, malformed JSON) -> ``{"message"}``.
"""
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet, TextChoices
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template import engines
from django.urls import Resolver404, resolve
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from alliance.exceptions import ApplicationError
from allocation.exceptions import NotPermitted
from allocation.selectors import is_secretariat, membership_of
from members.models import Role


def exception_handler(exc, context):
    """DRF's handler, plus: ApplicationError -> 400 {"message", "extra"} (NotPermitted -> 403); Django
    ValidationError -> 400 naming the fields; Http404 -> 404 {"message"} keeping the selector's words."""
    if isinstance(exc, ApplicationError):
        code = status.HTTP_403_FORBIDDEN if isinstance(exc, NotPermitted) else status.HTTP_400_BAD_REQUEST
        return Response({"message": exc.message, "extra": exc.extra}, status=code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, Http404):
        return Response({"message": str(exc) or "Not found."}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and not isinstance(exc, exceptions.ValidationError)
        and isinstance(response.data, dict)
        and "detail" in response.data
    ):
        response.data = {"message": response.data["detail"]}
    return response


def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ (including non-numeric ids) answer in JSON, like every other error. A
    known path without its final slash is redirected with 308, which keeps the method and body (Django's
    APPEND_SLASH cannot redirect a POST)."""
    path = request.path
    if not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponseRedirect(path + "/" + (f"?{query}" if query else ""), status=308)
    return JsonResponse({"message": f"No API endpoint or object at {path}."}, status=404)


class ErrorSerializer(serializers.Serializer):
    """A refused request: what went wrong, for people, and structured details, for programs."""

    message = serializers.CharField()
    extra = serializers.DictField(required=False)


class EnumField(serializers.ChoiceField):
    """A choice field over one ``TextChoices`` class, documented as one named schema component
    (``RoundStatusEnum``, ``PledgeStatusEnum``, ...) shared by every serializer that uses it, so that
    the many fields named ``status`` or ``region`` never collide in the schema."""

    def __init__(self, choices_class: type[TextChoices], **kwargs):
        self.choices_class = choices_class
        super().__init__(choices=choices_class.choices, **kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def map_serializer_field(self, auto_schema, direction):
        choices_class = self.target.choices_class
        name = choices_class.__qualname__.replace(".", "") + "Enum"
        schema = {
            "type": "string",
            "enum": list(choices_class.values),
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices_class.choices),
        }
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=choices_class, schema=schema)
        auto_schema.registry.register_on_missing(component)
        return component.ref


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


IGNORED_KEYS = {"csrfmiddlewaretoken"}  # sent by HTML forms (the browsable API), never data


class InputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not know: a typo is a 400 naming it, never a
    silently ignored field."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known and key not in IGNORED_KEYS)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


ROLE_WORDS = {
    Role.MINISTRY_OFFICER: "a ministry officer",
    Role.DONOR_OFFICER: "a donor officer",
    Role.PROVIDER_OFFICER: "a provider officer",
    Role.SECRETARIAT_OFFICER: "the secretariat",
    Role.REVIEWER: "a reviewer",
}


def require_role(view, request, *roles: str, secretariat: bool = False) -> None:
    """Refuse (401/403 with a message) unless the person acts in one of ``roles``, or is the secretariat
    (secretariat officers and superusers) when ``secretariat`` is set."""
    user = request.user
    membership = membership_of(user)
    if membership is not None and membership.role in roles:
        return
    if secretariat and is_secretariat(user):
        return
    allowed = [ROLE_WORDS[role] for role in roles] + (["the secretariat"] if secretariat else [])
    view.permission_denied(request, message=f"Only {' or '.join(dict.fromkeys(allowed))} may do this.")


def require_secretariat(view, request) -> None:
    require_role(view, request, secretariat=True)


def object_or_404(queryset: QuerySet, pk):
    """One object of a visible queryset, or Http404 (also for malformed ids)."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {queryset.model._meta.verbose_name} with id {pk!r} is visible to you.") from None


REDOC_TEMPLATE = """{% extends "drf_spectacular/redoc.html" %}{% load static %}
{% block head %}
<title>{{ title|default:"Redoc" }}</title>
<link rel="icon" href="{% static 'img/logo.svg' %}" type="image/svg+xml">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>
{% endblock head %}
"""


class RedocView(SpectacularRedocView):
    """drf-spectacular's ReDoc page without its Google Fonts links: everything is served locally from
    the sidecar package (the stock template preconnects to fonts.googleapis.com)."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        html = engines["django"].from_string(REDOC_TEMPLATE).render(response.data, request)
        return HttpResponse(html, content_type="text/html; charset=utf-8")
