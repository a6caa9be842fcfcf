"""The settings contract: embedded default with no variables, production from the environment, and a
refusal to run production on the development secret key."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'debug': s.DEBUG, 'hsts': s.SECURE_HSTS_SECONDS, 'secure_cookie': s.SESSION_COOKIE_SECURE}))"
)
VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_CACHE_URL", "DJANGO_SECRET_KEY",
             "DJANGO_DEBUG", "DJANGO_SECURE_SSL_REDIRECT")


def settings_with(**variables):
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="alliance.settings")
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)


def test_no_variables_gives_sqlite_and_eager_celery():
    result = settings_with()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"engine": "django.db.backends.sqlite3", "eager": True, "debug": True,
                                         "hsts": 0, "secure_cookie": False}


def test_database_and_broker_urls_give_production():
    result = settings_with(DATABASE_URL="postgres://gacp@127.0.0.1:5432/gacp",
                           CELERY_BROKER_URL="redis://127.0.0.1:6379/0", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"engine": "django.db.backends.postgresql", "eager": False, "debug": False,
                                         "hsts": 31536000, "secure_cookie": True}


def test_production_refuses_the_development_secret_key():
    result = settings_with(DATABASE_URL="postgres://gacp@127.0.0.1:5432/gacp")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert settings_with(DJANGO_DEBUG="false").returncode != 0
