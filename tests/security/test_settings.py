"""Security settings: Content-Security-Policy, login throttling, CSRF, request size limits, password rules,
API rate limits, and `manage.py check --deploy` clean under production variables."""
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


# --- Content-Security-Policy ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/dashboard/", "/accounts/login/", "/audit/", "/audit/verify/", "/api/"])
def test_every_page_carries_a_strict_content_security_policy(client, path):
    policy = _policy(client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_allow_inline_styles_but_never_inline_scripts(client, path):
    response = client.get(path)
    policy = _policy(response)
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


def test_swagger_ui_start_up_script_is_served_as_javascript(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "inline <style>"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_what_the_policy_would_block():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, problems


# --- Login throttling ----------------------------------------------------------------------------


def _sign_in(client, username, password, address="203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_failed_sign_ins_lock_the_username_at_that_address(client, donor_officer, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, "donor", "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    locked = _sign_in(client, "donor", "wrong-password")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Too many failed sign-ins" in html and "15 minutes" in html
    assert AccessAttempt.objects.get(username="donor").failures_since_start == settings.AXES_FAILURE_LIMIT
    # even the right password is refused while locked, and the session stays anonymous
    again = _sign_in(client, "donor", "correct-horse-battery-staple")
    assert again.status_code == 429 and "_auth_user_id" not in client.session
    # the same person from another address, and another username from this one, still sign in
    assert _sign_in(Client(), "donor", "correct-horse-battery-staple", address="198.51.100.4").status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, donor_officer, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "donor", "wrong-password")
    assert _sign_in(client, "donor", "correct-horse-battery-staple").status_code == 302
    assert not AccessAttempt.objects.filter(username="donor").exists()


def test_the_token_endpoint_is_locked_too(api_client, donor_officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/auth/token/", {"username": "donor", "password": "wrong"}, format="json",
                        REMOTE_ADDR="203.0.113.9")
    response = api_client.post("/api/auth/token/", {"username": "donor", "password": "correct-horse-battery-staple"},
                               format="json", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.json()["message"] and "token" not in response.json()


def test_the_token_endpoint_has_its_own_rate_limit(api_client, db):
    codes = [api_client.post("/api/auth/token/", {"username": f"nobody{n}", "password": "x"}, format="json").status_code
             for n in range(21)]
    assert codes[:20] == [400] * 20 and codes[20] == 429


def test_the_client_address_behind_a_proxy_is_read_from_the_right(rf, settings):
    from alliance.security import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5", REMOTE_ADDR="10.0.0.2")
    settings.GACP_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"
    settings.GACP_TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.5"  # the forged left-most value is ignored


# --- CSRF ----------------------------------------------------------------------------------------


def test_forms_refuse_a_post_without_the_csrf_token(donor_officer):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "donor", "password": "correct-horse-battery-staple"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_api_refuses_a_session_post_without_the_csrf_token(donor_officer, small_round):
    client = Client(enforce_csrf_checks=True)
    client.force_login(donor_officer)
    response = client.post("/api/pledges/", {"round": small_round.pk, "kind": "cash", "cash_usd": "10"},
                           content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


# --- Request sizes -------------------------------------------------------------------------------


def test_an_oversized_api_payload_is_refused_with_413_and_the_limit(api_for, ministry_officer_a, settings):
    from allocation.models import ComputeRequest

    body = '{"title": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'
    response = api_for(ministry_officer_a).generic("POST", "/api/requests/", body, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["message"] and "2.0" in response.json()["message"]
    assert response.json()["extra"]["limit_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert not ComputeRequest.objects.exists()


def test_an_oversized_form_post_is_refused_with_a_page_saying_why(client, settings):
    body = "username=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "The request is too large" in response.content.decode()


def test_an_oversized_field_in_a_multipart_form_is_refused_with_a_page_saying_why(client, settings):
    response = client.post(reverse("login"), {"username": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 400
    assert "more than 2.0" in response.content.decode()


def test_an_oversized_upload_is_refused(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("round.json", b"{" + b" " * settings.GACP_MAX_UPLOAD_BYTES + b"}")
    response = client.post("/api/rounds/", {"file": big})
    assert response.status_code == 413


def test_a_normal_payload_passes_the_limit(api_client):
    assert api_client.post("/api/auth/token/", {"username": "a", "password": "b"}, format="json").status_code == 400


# --- Passwords -----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["short-pw", "123456789012345", "password1234", "officer_a-2026"])
def test_weak_passwords_are_refused(password, ministry_officer_a):
    with pytest.raises(ValidationError):
        validate_password(password, ministry_officer_a)


def test_a_long_passphrase_is_accepted(ministry_officer_a):
    validate_password("tea-garden-monsoon-harbour", ministry_officer_a)


# --- Production -----------------------------------------------------------------------------------


def _production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "REDIS_"))}
    env.update(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="example.org",
               DJANGO_SETTINGS_MODULE="alliance.settings", **extra)
    return env


def test_check_deploy_is_clean_under_production_variables():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=_production_env(), capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_sends_hsts_secure_cookies_and_redirects_to_https():
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='example.org'); "
        "t = Client().get('/healthz', HTTP_HOST='example.org', secure=True); "
        "print(json.dumps({'redirect': r.status_code, 'location': r.get('Location'), "
        "'hsts': t.get('Strict-Transport-Security'), 'session': s.SESSION_COOKIE_SECURE, "
        "'csrf': s.CSRF_COOKIE_SECURE, 'httponly': s.SESSION_COOKIE_HTTPONLY}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=_production_env(), capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["redirect"] == 301 and facts["location"] == "https://example.org/healthz"
    assert facts["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert facts["session"] and facts["csrf"] and facts["httponly"]
