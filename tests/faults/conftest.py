"""Fault tests: a worker killed mid-solve, Redis down, a database error in the middle of a write.

They run on PostgreSQL (and Redis, for the worker), like tests/integration: outside CI they skip with the
reason when those are absent; in CI their absence is a failure. Workers started here consume a queue of
their own, so a worker left running by another test never takes their tasks."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import services_unavailable
from tests.integration.conftest import wait_for  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def closed_port() -> int:
    """A local port on which nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_broker(postgres):
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        services_unavailable("CELERY_BROKER_URL does not point to Redis")
    import redis

    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    except redis.RedisError as error:
        services_unavailable(f"Redis at {settings.CELERY_BROKER_URL} is unreachable: {error}")
    return settings.CELERY_BROKER_URL


@pytest.fixture
def solve_queue(redis_broker, monkeypatch):
    """A queue of this test's own: solves enqueued by the services go there, and only the workers
    started by ``start_worker`` consume it."""
    from allocation.tasks import solve_round_task

    name = f"faults-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(solve_round_task, "delay",
                        lambda run_id: solve_round_task.apply_async((run_id,), queue=name))
    yield name
    from alliance.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(name)


class Workers:
    def __init__(self, queue: str, tmp_path: Path):
        self.queue = queue
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, *, pause: float = 0.0, visibility_timeout: int = 5) -> subprocess.Popen:
        """A worker process (its own process group) on the test database, consuming the test's queue."""
        number = len(self.processes) + 1
        log = self.tmp_path / f"worker-{number}.log"
        env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_CONN_MAX_AGE": "0",
               "GACP_TEST_SOLVE_PAUSE": str(pause), "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout)}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.slow_worker", "-A", "alliance", "worker", "--loglevel=INFO",
                 "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-Q", self.queue, "--hostname", f"faults-{number}-{os.getpid()}@%h"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        process.log_path = log
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_path.read_text(errors='replace')}" for p in self.processes)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children at once: no warm shutdown, no acknowledgement."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(process)


@pytest.fixture
def workers(solve_queue, tmp_path):
    pool = Workers(solve_queue, tmp_path)
    yield pool
    pool.stop_all()
