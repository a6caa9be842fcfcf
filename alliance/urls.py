from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alliance.health import healthz


def favicon(request):
    """Browsers ask every host for /favicon.ico (e.g. on JSON and browsable API pages): the logo."""
    return HttpResponsePermanentRedirect(static("img/logo.svg"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/", include("alliance.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI with its start-up script served as a file (no inline script); its styles are inline
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"]})(
        SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("allocation.urls")),
    path("", include("audit.urls")),
    path("", include("alliance.page_urls")),
]

handler400 = "alliance.security.bad_request"  # says why an oversized form was refused
