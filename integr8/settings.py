"""Integr8 settings: everything comes from environment variables (see README)."""

import logging
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret_key() -> str:
    """Without SECRET_KEY, a random key kept in .secret_key (never a published default)."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        with tempfile.NamedTemporaryFile("w", dir=BASE_DIR, delete=False) as draft:
            draft.write(secrets.token_urlsafe(50))
        try:
            os.link(draft.name, path)  # atomic: the first process to start wins
        except FileExistsError:
            pass
        finally:
            os.unlink(draft.name)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
DEBUG = env_bool("DEBUG", False)

# HTTPS (README "Production"): SECURE_SSL_REDIRECT=1 behind TLS sends plain HTTP to HTTPS
# and turns on secure cookies and HSTS (SECURE_HSTS_SECONDS, a year by default then).
# Behind a TLS-terminating proxy, SECURE_PROXY_SSL_HEADER=1 trusts its
# X-Forwarded-Proto: https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if SECURE_SSL_REDIRECT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.humanize",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "offers",
    "postbacks",
    "logs",
    "health",
    "alerts",
    "reports",
    "privacy",
    "accounts",
    "portal",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that reads the request, so the API's and /conversion/'s refusals are
    # JSON; after SecurityMiddleware, so its headers are on them too.
    "integr8.middleware.JsonRefusalsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "integr8.middleware.ContentSecurityPolicyMiddleware",
    # Last: refuses a locked-out login (django-axes).
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes, SPEC §14): after LOGIN_FAILURE_LIMIT wrong passwords for a
# username, or from one IP address, logins there are refused (429), the right password
# included, for LOGIN_COOLOFF_MINUTES; a success clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Scripts from this site only, never inline; inline style attributes are allowed (the
# admin's and Swagger UI's use them). CONTENT_SECURITY_POLICY="" turns the header off.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

# Longest query string answered, in bytes; longer is a 414 (JSON on the API and /conversion/).
# bin/run-all lets gunicorn pass longer request lines so that this limit is the one that answers.
MAX_QUERY_STRING = env_int("MAX_QUERY_STRING", 8192)

ROOT_URLCONF = "integr8.urls"
WSGI_APPLICATION = "integr8.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context.scope",
            ],
        },
    },
]

# SQLite by default (WAL + busy timeout so web and worker can write at once);
# PostgreSQL when DATABASE_URL=postgres://… is set.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# PostgreSQL: commit clicks without waiting for the WAL flush (a PostgreSQL crash can lose
# the last ~0.6 s of clicks, never corrupt anything). Conversions always wait for the disk.
CLICK_SYNCHRONOUS_COMMIT = env_bool("CLICK_SYNCHRONOUS_COMMIT", False)
# PostgreSQL: the click INSERT is a named prepared statement on each connection (saves
# the server a parse and plan per click). 0 behind a pooler that cannot keep them:
# PgBouncer in transaction mode before 1.21, or without max_prepared_statements.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
# Entries in each process's click-path cache of offers, publishers and Click postback
# configs (offers/lookups.py); the least recently used go first when it is full.
CLICK_CACHE_SIZE = env_int("CLICK_CACHE_SIZE", 10_000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/logs/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Queue: the ORM broker by default, Redis when REDIS_URL is set. The queue only
# rings the bell; delivery state lives on postbacks.Delivery rows.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": "integr8",
    "workers": env_int("Q_WORKERS", 4),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 250,
    "catch_up": False,
    "poll": 0.2,
    "label": "Django Q2",
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Django's cache holds the rate-limit counts (integr8/ratelimit.py, the API's throttle):
# in Redis when CACHE_URL is set (default REDIS_URL), so every web process counts
# together; without it each process counts on its own (local memory).
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "integr8",
        }
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's three, with a JSON parser that refuses too deep or too large bodies.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
}
# Requests per API key (or user, or IP without either) to /api/v1/: "<n>/<s|m|h|d>";
# empty turns the limit off. Past it: 429 with Retry-After.
API_RATE = os.environ.get("API_RATE", "1200/m")
# Per client IP on the public endpoints (integr8/ratelimit.py); empty turns one off.
CLICK_RATE_PER_IP = os.environ.get("CLICK_RATE_PER_IP", "100/s")
CONVERSION_RATE_PER_IP = os.environ.get("CONVERSION_RATE_PER_IP", "50/s")
CUSTOM_POSTBACK_RATE_PER_IP = os.environ.get("CUSTOM_POSTBACK_RATE_PER_IP", "50/s")
SPECTACULAR_SETTINGS = {
    "TITLE": "Integr8 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OfferStatusEnum": "offers.models.Status",
        "ConversionStatusEnum": "offers.models.ConversionStatus",
        "LogStatusEnum": "postbacks.models.LogStatus",
    },
    # The enum hook is drf-spectacular's default; ours add /api/v1/custom-postback/, a
    # plain Django view the generator does not see, the range of path IDs and the 4xx shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_custom_postback",
        "api.schema.state_path_ids",
        "api.schema.document_error_shape",
    ],
}

# Postback delivery.
POSTBACK_ALLOW_NETWORKS = env_list("POSTBACK_ALLOW_NETWORKS")
POSTBACK_CONNECT_TIMEOUT = float(os.environ.get("POSTBACK_CONNECT_TIMEOUT", "5"))
POSTBACK_CONCURRENCY = env_int("POSTBACK_CONCURRENCY", 256)
# "asyncio": one event loop carries the requests in flight (aiohttp); "threads": a thread
# per request in flight (requests). docs/scaling.md.
POSTBACK_SENDER = os.environ.get("POSTBACK_SENDER", "asyncio")
POSTBACK_RETRY_AFTER_CAP = env_int("POSTBACK_RETRY_AFTER_CAP", 6 * 3600)
POSTBACK_SWEEP_MINUTES = env_int("POSTBACK_SWEEP_MINUTES", 1)
POSTBACK_DISPATCHERS = env_int("POSTBACK_DISPATCHERS", 2)
POSTBACK_LEASE_MARGIN = env_int("POSTBACK_LEASE_MARGIN", 30)
POSTBACK_IDLE_WAIT_SECONDS = float(os.environ.get("POSTBACK_IDLE_WAIT_SECONDS", "10"))
# At most this many requests in flight per config, so one hanging publisher cannot
# take every sending thread.
POSTBACK_PER_CONFIG_CONCURRENCY = env_int("POSTBACK_PER_CONFIG_CONCURRENCY", 8)
# After "Rotate signing secret", requests carry both signatures for this long.
POSTBACK_SECRET_GRACE_HOURS = env_int("POSTBACK_SECRET_GRACE_HOURS", 24)

OPS_EMAIL = os.environ.get("OPS_EMAIL", "")

# Personal data at rest (SPEC §14, README "Privacy").
LOG_RETENTION_DAYS = env_int("LOG_RETENTION_DAYS", 90)
CLICK_RETENTION_DAYS = env_int("CLICK_RETENTION_DAYS", 180)
# PostgreSQL: the log table's day partitions made ahead of time (postbacks/partitions.py).
LOG_PARTITION_DAYS_AHEAD = env_int("LOG_PARTITION_DAYS_AHEAD", 7)
PRIVACY_TRUNCATE_IP = os.environ.get("PRIVACY_TRUNCATE_IP", "0") == "1"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "integr8@localhost")
# Where this platform is reached, for the links in alert notices.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000")
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 5)


class QClusterLifecycle(logging.Filter):
    """django-q2's lines about the cluster starting, running and stopping (its cluster.py),
    not the INFO line per task it also writes ("Enqueued", "processing", "Processed");
    anything at LOG_LEVEL or above passes too."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.module == "cluster" or record.levelno >= logging.root.level


LOG_LEVEL = os.environ.get("LOG_LEVEL", "WARNING").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"q_cluster_lifecycle": {"()": QClusterLifecycle}},
    "formatters": {
        "q": {"format": "%(asctime)s [Q] %(levelname)s %(message)s", "datefmt": "%H:%M:%S"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "q_console": {"class": "logging.StreamHandler", "formatter": "q"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # So that `make run` shows the worker start ("Q Cluster … running.") and stop.
    "loggers": {
        "django-q": {
            "handlers": ["q_console"],
            "level": "DEBUG" if LOG_LEVEL == "DEBUG" else "INFO",
            "filters": ["q_cluster_lifecycle"],
            "propagate": False,
        }
    },
}
