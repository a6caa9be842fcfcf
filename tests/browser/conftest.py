"""Browser tests: Playwright drives Debian's Chromium against a live server.

The live server runs on the test database (SQLite in the embedded default, PostgreSQL in CI's second
pass). Solves started from a page go through Celery: eagerly inside the server in the embedded
default, and to a real worker process through Redis when the settings name a Redis broker.

Screenshots go to ``test-artifacts/screenshots/<name>.png``. Outside CI the tests skip when Chromium
is not installed; in CI its absence is a failure (``.ci/run`` installs it with apt-get).
"""
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make around it
# are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.integration.conftest import celery_worker_process, real_services  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is required in CI and is not at {CHROMIUM}")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Visit:
    """A browser tab on the live server, with helpers to sign in, switch language and take screenshots.

    ``visit.page`` is the Playwright page; ``visit.errors`` collects script errors, which fail the test."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def go(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def sign_in_as(self, user):
        """Attach a fresh session of ``user`` to the browser (the login form itself has its own test)."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        self.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                   "url": self.base_url}])

    def sign_in_with_form(self, username: str, password: str):
        self.go("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()

    def use_language(self, code: str):
        self.context.add_cookies([{"name": "django_language", "value": code, "url": self.base_url}])

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(autouse=True)
def _static_files_from_the_apps(settings):
    """The live server serves static files from the apps' folders (Django's static files handler), so
    pages name them unhashed, whatever storage production uses (its hashed names exist only after
    collectstatic, and are served there by WhiteNoise)."""
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def visit(chromium, live_server):
    """A new browser context (its own cookies) on the live server."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = Visit(context, live_server.url)
    yield tab
    context.close()
    assert not tab.errors, f"script errors on the page: {tab.errors}"


@pytest.fixture
def phone(chromium, live_server):
    """A phone-sized browser context on the live server."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                   device_scale_factor=2, locale="en-GB")
    tab = Visit(context, live_server.url)
    yield tab
    context.close()
    assert not tab.errors, f"script errors on the page: {tab.errors}"


@pytest.fixture
def solver_worker(request):
    """Where solves started from a page run: a real worker when the settings name PostgreSQL and Redis,
    else eagerly inside the live server (the embedded default)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis://"):
        return request.getfixturevalue("celery_worker_process")
    return None


@pytest.fixture
def demo_alliance(transactional_db):
    """The demo alliance with round 1 solved and published (the same state `make run` serves)."""
    from alliance.celery import app
    from allocation import demo, services
    from allocation.models import Round

    summary = demo.demo_load()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        round_ = Round.objects.get(call__title=demo.CALL_TITLE, number=1)
        run = services.round_enqueue_solve(round_=round_)
        run.refresh_from_db()
        services.run_approve(run=run)
        services.round_publish(round_=round_)
    finally:
        app.conf.task_always_eager = previous
    return summary
