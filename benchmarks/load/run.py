"""Load benchmark of the public dashboard and the open-data API, against /healthz on the same server.

    .venv/bin/python benchmarks/load/run.py              # or: make load-benchmark
    .venv/bin/python benchmarks/load/run.py --duration 30 --connections 32

Uses PostgreSQL (``DATABASE_URL``, default the local ``gacp_ops`` database) and a Redis cache
(``REDIS_CACHE_URL``, default db 7 of the local Redis). It migrates, seeds the database with
``manage.py seed_load`` (100,000 requests and 1,000,000 allocation lines) unless the seed is already
there, starts gunicorn with 2 x cores sync workers, times each endpoint's first (uncached) answer, warms
up, then runs wrk against each endpoint in turn and prints p50/p95/p99 latency, throughput and the ratio of
each endpoint's throughput to /healthz's. Targets: p95 under 50 ms and at least half of /healthz's
throughput. Needs wrk (Debian: ``apt-get install wrk``).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORTER = Path(__file__).with_name("report.lua")
ENDPOINTS = [
    ("trivial: /healthz", "/healthz"),
    ("public dashboard", "/dashboard/"),
    ("open data: summary", "/api/published/summary/"),
    ("open data: a page of 50 lines", "/api/published/allocations/?page=200&page_size=50"),
]
P95_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *args, quiet=False):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.DEVNULL if quiet else None)


def seeded(env) -> bool:
    probe = ("from allocation.management.commands.seed_load import CALL_TITLE; from allocation.models import Call; "
             "print(Call.objects.filter(title=CALL_TITLE).exists())")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", probe], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return result.stdout.strip().endswith("True")


def fetch(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - our own http://127.0.0.1 server
        response.read()
        assert response.status == 200, (url, response.status)
    return time.perf_counter() - started


def wrk(url: str, *, duration: int, connections: int, threads: int) -> dict:
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(REPORTER), url],
        capture_output=True, text=True, check=True,
    )
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("{"))
    figures = json.loads(line)
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of measurement per endpoint")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk).", file=sys.stderr)
        return 2

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gacp_ops"),
        "REDIS_CACHE_URL": os.environ.get("REDIS_CACHE_URL", "redis://127.0.0.1:6379/7"),
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "load-benchmark-only-" + "k" * 40),
        "DJANGO_DEBUG": "false", "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        # One client address makes every request; the anonymous rate limit would otherwise answer 429.
        "GACP_API_ANON_RATE": "1000000/second",
    }
    env.pop("CELERY_BROKER_URL", None)
    print(f"database {env['DATABASE_URL']}, cache {env['REDIS_CACHE_URL']}")
    manage(env, "migrate", "--noinput", "-v0")
    if not seeded(env):
        manage(env, "seed_load")
    manage(env, "collectstatic", "--noinput", "-v0")
    subprocess.run(["redis-cli", "-u", env["REDIS_CACHE_URL"], "FLUSHDB"], check=False, stdout=subprocess.DEVNULL)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "alliance.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("gunicorn did not start", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        load_before = os.getloadavg()
        cold = {path: fetch(base + path) for _, path in ENDPOINTS}
        for _, path in ENDPOINTS:
            wrk(base + path, duration=args.warmup, connections=args.connections, threads=args.threads)
        results = {path: wrk(base + path, duration=args.duration, connections=args.connections,
                             threads=args.threads) for _, path in ENDPOINTS}
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)

    trivial = results["/healthz"]["rps"]
    print(f"\ngunicorn {args.workers} sync workers; wrk {args.threads} threads, {args.connections} connections, "
          f"{args.duration} s per endpoint after {args.warmup} s of warm-up; {os.cpu_count()} cores; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    header = f"{'endpoint':<32} {'first':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'req/s':>9} {'vs trivial':>10} " \
             f"{'errors':>6}"
    print(header)
    print("-" * len(header))
    failed = []
    for label, path in ENDPOINTS:
        r = results[path]
        ratio = r["rps"] / trivial
        errors = r["socket_errors"] + r["http_errors"]
        print(f"{label:<32} {cold[path] * 1000:>6.0f}ms {r['p50_us'] / 1000:>6.1f}ms {r['p95_us'] / 1000:>6.1f}ms "
              f"{r['p99_us'] / 1000:>6.1f}ms {r['rps']:>9.0f} {ratio:>9.0%} {errors:>6}")
        if path != "/healthz" and (r["p95_us"] / 1000 >= P95_TARGET_MS or ratio < THROUGHPUT_TARGET or errors):
            failed.append(label)
    print(f"\n'first' is the first, uncached answer; targets: p95 < {P95_TARGET_MS:.0f} ms and at least "
          f"{THROUGHPUT_TARGET:.0%} of /healthz's throughput, no errors.")
    print("All targets met." if not failed else f"Targets missed: {', '.join(failed)}.")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
