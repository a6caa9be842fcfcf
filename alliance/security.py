"""Request-level protections of the platform: the body size limit, the login throttle's backend, client
address and lockout page. Settings that switch them on live in ``alliance/settings.py``."""
from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# --- Request bodies -----------------------------------------------------------------------------


def body_limit(request) -> int:
    """The largest body accepted: file uploads (multipart) get the upload limit, everything else the
    data limit (JSON bodies included: DRF's parsers read the stream without Django's own check)."""
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return settings.GACP_MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def refusal_page(request, message: str, status: int):
    """A page saying why a request was refused, also before the authentication middleware has run."""
    if not hasattr(request, "user"):
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return render(request, "413.html", {"message": message, "status": status}, status=status)


class RequestBodyLimitMiddleware:
    """Refuse an oversized body with 413 before anything reads it, with a message saying the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            message = _("The request is too large: %(size)s, where at most %(limit)s is accepted.") % {
                "size": filesizeformat(length), "limit": filesizeformat(limit)}
            if request.path.startswith("/api/"):
                return JsonResponse({"message": message, "extra": {"limit_bytes": limit, "size_bytes": length}},
                                    status=413)
            return refusal_page(request, message, 413)
        return self.get_response(request)


# --- Content-Security-Policy ---------------------------------------------------------------------


INLINE_STYLE_PREFIXES = ("/admin/", "/api/")


class ThirdPartyInlineStylesMiddleware:
    """Django's admin and DRF's browsable API (HTML pages under /admin/ and /api/, from their own templates)
    set some styles inline: allow inline styles on those HTML pages, and nowhere else. Scripts stay 'self'
    only. Placed after django-csp's middleware, which reads the attribute when the response passes back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(INLINE_STYLE_PREFIXES) and response.get("Content-Type", "").startswith("text/html"):
            update = getattr(response, "_csp_update", None) or {}
            response._csp_update = {**update, "style-src": ["'unsafe-inline'"]}
        return response


# --- Login throttling (django-axes) --------------------------------------------------------------


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come through a web request. Calls without a request (the
    shell, management commands, tests' ``authenticate``) are not counted: there is no address to lock."""

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``DJANGO_TRUSTED_PROXIES`` proxies the address the
    outermost trusted proxy saw (counted from the right of X-Forwarded-For, which clients can forge on
    the left)."""
    proxies = settings.GACP_TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return ngettext(
        "Too many failed sign-ins for this username from your address. Sign-in is locked for %(minutes)d minute; "
        "try again then, or ask the secretariat to unlock the account.",
        "Too many failed sign-ins for this username from your address. Sign-in is locked for %(minutes)d minutes; "
        "try again then, or ask the secretariat to unlock the account.",
        minutes,
    ) % {"minutes": minutes}


def login_is_locked(request, username) -> bool:
    """Whether sign-in of ``username`` from this request's address is locked (for views that authenticate
    outside Django's login view, such as the API's token exchange)."""
    return bool(username) and AxesProxyHandler.is_locked(request, {"username": str(username)})


def login_locked_out(request, original_response=None, credentials=None):
    """What a locked-out sign-in gets: 429 with the reason, on the sign-in page or in JSON for the API."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message}, status=429)
    username = (credentials or {}).get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    return render(request, "registration/login.html", {"form": form, "lockout_message": message,
                                                       "next": request.POST.get("next", "")}, status=429)


# --- Refused requests ----------------------------------------------------------------------------

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def bad_request(request, exception=None):
    """The 400 page (``handler400``): says why when a form sent too much, else Django's own words."""
    from django.views.defaults import bad_request as django_bad_request

    if isinstance(exception, TOO_LARGE):
        if isinstance(exception, RequestDataTooBig):
            message = _("The form sent more than %(limit)s of text, which is the most accepted.") % {
                "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
        else:
            message = _("The form sent too many fields or files to be accepted.")
        if request.path.startswith("/api/"):
            return JsonResponse({"message": message}, status=400)
        return refusal_page(request, message, 400)
    return django_bad_request(request, exception)
