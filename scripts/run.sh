#!/usr/bin/env bash
# Serve the platform with the demo alliance. Embedded default: SQLite, eager Celery, Django's server.
# With DATABASE_URL and CELERY_BROKER_URL: PostgreSQL, Redis, a Celery worker and gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py migrate --noinput
$PY manage.py load_demo

pids=()
cleanup() { for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -n "${CELERY_BROKER_URL:-}" ]; then
  .venv/bin/celery -A alliance worker --loglevel=INFO --concurrency=1 &
  pids+=($!)
fi

$PY manage.py solve_round demo --publish --if-needed

if [ -n "${DATABASE_URL:-}" ]; then
  $PY manage.py collectstatic --noinput -v0
  echo "Serving on http://127.0.0.1:${PORT}/ (gunicorn, PostgreSQL, Redis)"
  .venv/bin/gunicorn alliance.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - &
  pids+=($!)
  wait "${pids[-1]}"
else
  echo "Serving on http://127.0.0.1:${PORT}/ (embedded: SQLite, eager Celery)"
  $PY manage.py runserver "127.0.0.1:${PORT}" --noreload
fi
