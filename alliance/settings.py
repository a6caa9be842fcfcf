"""Settings for the alliance platform: one file, read from the environment with embedded defaults.

With no variables set the platform runs as a self-contained development instance: a SQLite file
beside the project and Celery tasks executed eagerly in the web process. Setting ``DATABASE_URL``
switches to PostgreSQL and ``CELERY_BROKER_URL`` to Redis with real workers, which is production.
Every variable is documented in ``.env.example``.
"""
import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEVELOPMENT_SECRET_KEY = "django-insecure-gacp-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", default="DATABASE_URL" not in os.environ)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a private value when DJANGO_DEBUG is off (production). "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "members",
    "allocation",
    "audit",
    "alliance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "alliance.security.ThirdPartyInlineStylesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # before anything reads the body: refuses oversized requests with 413, in the visitor's language
    "alliance.security.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last: turns a locked-out sign-in into the sign-in page with the reason (429)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alliance.context_processors.platform",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL (or any dj-database-url URL) from DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("GACP_PASSWORD_MIN_LENGTH", "12"))}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "alliance.security.LoginThrottleBackend",  # refuses sign-ins of a locked username at an address
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads and request bodies: refuse oversized payloads (413, alliance.security.RequestBodyLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
GACP_MAX_UPLOAD_BYTES = int(os.environ.get("DJANGO_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE  # larger uploads go to a temporary file
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# Security: strict in production, relaxed for the embedded development instance.
SESSION_COOKIE_SECURE = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = not DEBUG and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# How many reverse proxies in front of the platform append to X-Forwarded-For (for the client's address).
GACP_TRUSTED_PROXIES = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0"))

# Content-Security-Policy (django-csp): only this host's scripts, styles, images and fonts; no inline
# script anywhere. The API docs pages add inline styles only (alliance/urls.py, alliance/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login throttling (django-axes): after GACP_LOGIN_FAILURE_LIMIT failed sign-ins of one username from one
# address, that pair is locked for GACP_LOGIN_COOLOFF_MINUTES; a successful sign-in clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("GACP_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("GACP_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "alliance.security.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "alliance.security.client_ip"
AXES_VERBOSE = False

# Celery: eager in the embedded default, Redis and real workers when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("GACP_SOLVE_TIME_LIMIT", "900")) + 60
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("GACP_SOLVE_TIME_LIMIT", "900")) + 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task not acknowledged within the visibility timeout (its worker died: acks_late) is handed to another
# worker. It must outlast the longest task (the hard time limit), or a slow solve would be started twice
# (harmless, since runs are claimed by compare-and-set, but wasted); shorter means a faster recovery.
# Workers look for such tasks every 10 s (one small Redis query; kombu's default throttle makes it ~100 s).
# The socket timeouts make a broker that vanished mid-connection an error rather than a hung request.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(CELERY_TASK_TIME_LIMIT + 300))),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
    "socket_timeout": 30,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "recover-stale-allocation-runs": {"task": "allocation.tasks.runs_recover_stale", "schedule": 600.0},
}

# The cache (public pages, open data, API throttles): Redis in production, through django-redis with
# IGNORE_EXCEPTIONS so that Redis being down makes every read a miss instead of an error (alliance/cache.py).
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["REDIS_CACHE_URL"],
        "KEY_PREFIX": "gacp",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": float(os.environ.get("REDIS_CACHE_CONNECT_TIMEOUT", "0.25")),
            "SOCKET_TIMEOUT": float(os.environ.get("REDIS_CACHE_TIMEOUT", "0.5")),
        },
    }
    if os.environ.get("REDIS_CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gacp"}
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "alliance.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("GACP_API_ANON_RATE", "600/minute"),
        "user": os.environ.get("GACP_API_USER_RATE", "3000/minute"),
        # recomputing the audit chain reads every entry: a scoped, lower rate
        "audit_verify": os.environ.get("GACP_API_AUDIT_VERIFY_RATE", "30/minute"),
        # exchanging a password for a token: slow enough to make guessing useless (axes locks per username too)
        "auth": os.environ.get("GACP_API_AUTH_RATE", "20/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Global Alliance for Computational Power API",
    "DESCRIPTION": "Member states, organisations, hardware, pledges, offers, calls and rounds, "
    "compute requests, reviews and allocation results of the alliance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alliance.schema.document_field_errors",  # a 400 is {message, extra} or field errors
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; lockouts are logged as warnings
    "loggers": {"axes": {"level": os.environ.get("GACP_LOGIN_LOG_LEVEL", "WARNING")}},
}

# The alliance's policy parameters: thresholds and defaults, never literals in code.
GACP = {
    # Gavi eligibility: three-year average GNI per capita (Atlas, US$) at or below this is eligible.
    "GAVI_ELIGIBILITY_THRESHOLD_USD": float(os.environ.get("GACP_GAVI_ELIGIBILITY_THRESHOLD_USD", "2300")),
    # The year whose phase is read from the Gavi file and from which years in phase are counted.
    "COFINANCING_YEAR": int(os.environ.get("GACP_COFINANCING_YEAR", "2026")),
    # World Bank FY2026 thresholds (GNI per capita, Atlas, US$): upper bounds of LIC, LMIC and UMIC.
    "WB_THRESHOLDS_USD": {
        "LIC": float(os.environ.get("GACP_WB_LIC_MAX_USD", "1135")),
        "LMIC": float(os.environ.get("GACP_WB_LMIC_MAX_USD", "4495")),
        "UMIC": float(os.environ.get("GACP_WB_UMIC_MAX_USD", "13935")),
    },
    # Default policy of a new round (the secretariat may change it per round; values kept per round).
    "DEFAULT_POLICY": {
        "income_weights": {"LIC": 2.0, "LMIC": 1.5, "UMIC": 1.2, "HIC": 1.0},
        "sector_weights": {
            "health": 1.25,
            "education": 1.25,
            "justice": 1.25,
            "agriculture": 1.25,
            "climate": 1.25,
            "language": 1.25,
        },
        "local_language_bonus": 1.2,
        "open_weights_bonus": 1.1,
        "small_model_bonus": 1.1,
        "small_model_max_params_billion": 10,
        "cofinancing": {
            "initial_share": 0.05,
            "preparatory_growth": 0.15,
            "preparatory_cap": 0.8,
            "accelerated_start_share": 0.2,
            "accelerated_years": 8,
        },
    },
    "SOLVE_TIME_LIMIT_SECONDS": int(os.environ.get("GACP_SOLVE_TIME_LIMIT", "900")),
    "COFINANCING_DUE_DAYS": int(os.environ.get("GACP_COFINANCING_DUE_DAYS", "180")),
    # How long a cached public page or open-data answer may be kept (changes made through the services
    # invalidate it at once; this bounds anything else).
    "PUBLIC_CACHE_SECONDS": int(os.environ.get("GACP_PUBLIC_CACHE_SECONDS", "300")),
    # Queue the computation of the public figures when they change (needs a worker; off in the test suite).
    "WARM_PUBLIC_FIGURES": env_bool("GACP_WARM_PUBLIC_FIGURES", True),
    # How long the public audit check (page and API) may reuse a full verification while nothing is appended.
    "AUDIT_VERIFY_SECONDS": int(os.environ.get("GACP_AUDIT_VERIFY_SECONDS", "60")),
    # Days after a round's publication during which a ministry may appeal a decision on its requests.
    "APPEAL_WINDOW_DAYS": int(os.environ.get("GACP_APPEAL_WINDOW_DAYS", "30")),
}
