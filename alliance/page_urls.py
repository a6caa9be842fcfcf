"""Site-wide pages, included by alliance/urls.py at "": home, public dashboard, login and logout."""
from django.contrib.auth import views as auth_views
from django.urls import path

from alliance import views
from alliance.cache import cache_public_page

urlpatterns = [
    path("", cache_public_page(views.home), name="home"),
    path("dashboard/", cache_public_page(views.dashboard), name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
