"""Site-wide pages, included by alliance/urls.py at "": home, public dashboard, awards, open data, login and
logout."""
from django.contrib.auth import views as auth_views
from django.urls import path

from alliance import views
from alliance.cache import cache_public_page

urlpatterns = [
    path("", cache_public_page(views.home), name="home"),
    path("dashboard/", cache_public_page(views.dashboard), name="dashboard"),
    path("dashboard/awards/", cache_public_page(views.awards), name="awards"),
    path("open-data/", cache_public_page(views.open_data), name="open-data"),
    path("open-data/<slug:table>.<str:extension>", views.open_data_download, name="open-data-download"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
