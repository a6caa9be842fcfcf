"""Caching of what the public reads: the home page, the dashboard and the open-data API.

Entries carry the *version* of the public data they were computed under (read with the entry, in one round
trip), and only an entry of the current version is served. Every service that changes what the public sees (a
round created, closed, reopened or published; a pledge or offer made or withdrawn; a request submitted or
withdrawn) calls ``public_data_changed()``, which bumps the version once its transaction has committed, so
the next reader computes afresh; entries of older versions are never read again and expire after
``GACP["PUBLIC_CACHE_SECONDS"]``, which also bounds how stale anything else can be (reference data loaded by
a command, say).

The cache is a convenience, never a dependency: in production it is Redis (``REDIS_CACHE_URL``) through
django-redis with ``IGNORE_EXCEPTIONS``, so with Redis down every read is a miss and pages are computed as if
there were no cache.

Pages are cached only for visitors without a session (the anonymous public: the page is the same for all
of them). Each page holds a CSRF token in its language form; the cached copy keeps a placeholder in its
place and every visitor gets a token of their own (and the matching cookie), exactly as on an uncached page.
"""
import functools
import hashlib
import logging
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

VERSION_KEY = "public:version"
CSRF_INPUT = re.compile(rb'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(")')
CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary", "Allow")


def _timeout() -> int:
    return settings.GACP["PUBLIC_CACHE_SECONDS"]


def _new_version() -> int:
    """A first version, from the clock: a version key lost with a Redis restart never comes back as a
    number that old entries still carry."""
    cache.add(VERSION_KEY, time.time_ns(), timeout=None)
    version = cache.get(VERSION_KEY)
    return version if version is not None else 0


def public_version_bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or it was evicted): start a new one
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    _schedule_warming()


WARMING_KEY = "public:warming"


def _schedule_warming() -> None:
    """Have a worker compute the public figures of the new version (``alliance.tasks``), so that the first
    visitor after a change does not wait seconds for them: at most one task every few seconds, none with
    eager Celery (it would run inside the request that made the change) or with the broker down (the first
    visitor computes them, as without warming)."""
    if (not settings.GACP["WARM_PUBLIC_FIGURES"] or settings.CELERY_TASK_ALWAYS_EAGER
            or not cache.add(WARMING_KEY, 1, timeout=5)):
        return
    from alliance.tasks import warm_public_figures

    try:
        warm_public_figures.apply_async(retry=False)
    except Exception:  # any broker failure: warming is an optimisation
        logger.warning("Could not queue the warming of the public figures.", exc_info=True)


def public_figures(name: str, compute):
    """A computation over the public data that is the same in every language (figures, not pages), kept
    under the current version: each page and API answer that shows it is then quick to compute in any
    language and format."""
    key = f"public:data:{name}"
    version, entry = _lookup(key)
    if entry is not None:
        return entry["value"]
    value = compute()
    cache.set(key, {"version": version, "value": value}, _timeout())
    return value


def public_data_changed() -> None:
    """Called by services that change what the public sees: invalidate once the change is committed."""
    transaction.on_commit(public_version_bump)


def _key(kind: str, request) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    accept = request.headers.get("Accept", "") if kind == "api" else ""
    identity = "\n".join([request.path, query, accept, translation.get_language() or ""])
    return f"public:{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:32]}"


def _lookup(key: str) -> tuple[int, dict | None]:
    """The current version and the entry stored under ``key`` if it is of that version: one round trip."""
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        return _new_version(), None
    entry = found.get(key)
    return version, entry if entry is not None and entry.get("version") == version else None


def _store(key: str, version: int, response, content: bytes) -> None:
    """Keep an answer computed under ``version`` (read before computing: a change committed meanwhile
    makes the entry stale at once)."""
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    cache.set(key, {"version": version, "status": response.status_code, "content": content, "headers": headers},
              _timeout())


def _replay(entry: dict, content: bytes) -> HttpResponse:
    response = HttpResponse(content, status=entry["status"])
    for name, value in entry["headers"].items():
        response[name] = value
    return response


def _has_session(request) -> bool:
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies


def cache_public_page(view):
    """Serve a page to the anonymous public from the cache (see the module's docstring)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or _has_session(request):
            return view(request, *args, **kwargs)
        key = _key("page", request)
        version, entry = _lookup(key)
        if entry is not None:
            token = get_token(request).encode()
            response = _replay(entry, entry["content"].replace(CSRF_PLACEHOLDER, token))
            patch_vary_headers(response, ("Cookie",))
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies.keys() - {"csrftoken"}:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            _store(key, version, response, CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", response.content))
        return response

    return wrapper


def cache_public_api(view):
    """Serve a public API endpoint's JSON from the cache: the same for every caller, keyed by path, query
    and the negotiated format. Only successful JSON answers are kept (the browsable HTML holds the
    caller's own session details and is always rendered afresh)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        key = _key("api", request)
        version, entry = _lookup(key)
        if entry is not None:
            return _replay(entry, entry["content"])
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
            _store(key, version, response, response.content)
        return response

    return wrapper
