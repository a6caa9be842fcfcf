"""Real services for integration tests: PostgreSQL, Redis, and a Celery worker process.

Outside CI these tests skip, with the reason, when the services are not configured or not reachable;
in CI (``CI=true``) their absence is a failure."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"integration services are required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_services(django_db_setup, django_db_blocker):
    """Skip (or fail in CI) unless the tests run on PostgreSQL with a Redis broker."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable("DATABASE_URL does not point to PostgreSQL")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        _unavailable("CELERY_BROKER_URL does not point to Redis")
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis at {settings.CELERY_BROKER_URL} is unreachable: {error}")
    return settings


@pytest.fixture(scope="session")
def celery_worker_process(real_services, tmp_path_factory):
    """A real `celery worker` process on the test database, fed through Redis."""
    from django.db import connection

    from alliance.celery import app

    app.control.purge()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}@{db['HOST'] or '127.0.0.1'}:" \
          f"{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_CONN_MAX_AGE": "0"}
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "alliance", "worker", "--loglevel=INFO", "--pool=prefork",
             "--concurrency=1", "--without-gossip", "--without-mingle", "--hostname", f"ci-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {process.returncode}:\n{log.read_text()}")
        if app.control.ping(timeout=1.0):
            break
    else:
        process.kill()
        pytest.fail(f"the Celery worker did not answer within 60 s:\n{log.read_text()}")
    process.log_path = log
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.3):
    """Poll ``predicate`` until it returns something truthy; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
