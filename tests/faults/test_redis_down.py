"""Redis down: the platform's own server (gunicorn, production settings) with its broker, result backend
and cache pointed at a port where nothing listens. The machine's Redis is left alone.

Pages still serve; the solve button answers at once that solving is unavailable, and the round is not
left "solving" with nobody working on it."""
import os
import re
import subprocess
import sys
import time

import pytest
import requests

from tests.faults.conftest import ROOT, closed_port, database_url

pytestmark = [pytest.mark.integration]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def server_without_redis(postgres, tmp_path):
    port, dead = closed_port(), closed_port()
    dead_redis = f"redis://127.0.0.1:{dead}/0"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(), "DJANGO_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": dead_redis, "CELERY_RESULT_BACKEND": dead_redis, "REDIS_CACHE_URL": dead_redis,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "faults-test-secret-key-" + "x" * 40),
        "DJANGO_DEBUG": "false", "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():  # `make test` collects them first
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "alliance.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(base + "/healthz", timeout=10)
            break
        except (requests.ConnectionError, requests.Timeout):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.3)
    server.base = base
    server.log_path = log
    yield server
    server.terminate()
    server.wait(timeout=20)


def test_pages_and_open_data_serve_with_redis_down(server_without_redis, small_round):
    base = server_without_redis.base
    health = requests.get(base + "/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"database": "ok", "queue": "broker"}
    for path in ("/", "/dashboard/", "/api/published/summary/", "/api/published/allocations/", "/api/rounds/"):
        started = time.monotonic()
        response = requests.get(base + path, timeout=10)
        assert response.status_code == 200, (path, server_without_redis.log_path.read_text()[-3000:])
        assert time.monotonic() - started < 5, path  # a dead cache costs a refused connection, not a wait


def test_solving_with_redis_down_says_it_is_unavailable_and_leaves_the_round_closed(
    server_without_redis, small_round, secretariat_officer
):
    from django.test import Client

    from allocation.models import AllocationRun, Round, RoundStatus

    signed_in = Client()
    signed_in.force_login(secretariat_officer)
    browser = requests.Session()
    browser.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
    base = server_without_redis.base

    page = browser.get(f"{base}/rounds/{small_round.pk}/", timeout=10)
    assert page.status_code == 200
    assert "Solve this round" in page.text
    token = TOKEN.search(page.text).group(1)

    started = time.monotonic()
    answer = browser.post(f"{base}/rounds/{small_round.pk}/solve/", data={"csrfmiddlewaretoken": token},
                          headers={"Referer": f"{base}/rounds/{small_round.pk}/"}, timeout=30)
    waited = time.monotonic() - started

    assert answer.status_code == 200, server_without_redis.log_path.read_text()[-3000:]
    assert answer.url == f"{base}/rounds/{small_round.pk}/"
    assert "Solving is unavailable right now: the task queue cannot be reached." in answer.text
    assert waited < 15
    round_ = Round.objects.get(pk=small_round.pk)
    assert round_.status == RoundStatus.CLOSED  # not stuck in "solving"
    run = AllocationRun.objects.get(round=small_round)
    assert run.status == AllocationRun.Status.FAILED
    assert "task queue is unavailable" in run.error
    assert "Solve this round" in answer.text  # the button is back: the secretariat can try again

    api = browser.post(f"{base}/api/rounds/{small_round.pk}/solve/", timeout=30,
                       headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": f"{base}/api/"})
    assert api.status_code == 503
    assert api.json()["message"].startswith("Solving is unavailable")
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.CLOSED
    assert AllocationRun.objects.filter(round=small_round, status=AllocationRun.Status.FAILED).count() == 2
