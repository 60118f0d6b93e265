"""The one settings module. Everything is driven by ``OPSASSURE_*`` environment variables.

Default (embedded) mode needs no services: SQLite in WAL mode inside the data directory and a
Celery broker on the filesystem of that directory. Scale-out mode is chosen by setting
``OPSASSURE_DATABASE_URL`` (PostgreSQL) and ``OPSASSURE_BROKER_URL`` (Redis or RabbitMQ).
Every secret may also be given as ``<NAME>_FILE`` pointing to a file that holds it.
See docs/configuration.md for the full list.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

# Lets classes like ModelForm[User] be subscripted at run time (type hints only).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
TESTING = "pytest" in sys.modules or os.environ.get("OPSASSURE_TESTING") == "1"


def env(name: str, default: str = "") -> str:
    """Read ``OPSASSURE_<name>``, or the contents of the file named by ``OPSASSURE_<name>_FILE``."""
    key = f"OPSASSURE_{name}"
    file_path = os.environ.get(f"{key}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(key, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name, "1" if default else "0").strip().lower()
    return raw in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = env(name, str(default)).strip()
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = env(name, str(default)).strip()
    return float(raw) if raw else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


if TESTING and not env("DATA_DIR"):
    import tempfile

    # Each test run gets its own scratch data directory (secret key, broker folders, files).
    DATA_DIR = Path(tempfile.mkdtemp(prefix="opsassure-test-"))
else:
    DATA_DIR = Path(env("DATA_DIR", str(Path.cwd() / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use the configured key, else one generated once into the data directory."""
    configured = env("SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # O_EXCL: when several processes start at once, exactly one writes the key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(50))
    for _attempt in range(50):
        value = key_file.read_text(encoding="utf-8").strip()
        if value:
            return value
        import time

        time.sleep(0.02)
    raise RuntimeError(f"empty secret key file {key_file}")


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
BASE_URL = env("BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Security. Production values are on by default when served over HTTPS. -----------------
SECURE_HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = SECURE_HTTPS and env_bool("SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
# Proxies whose X-Forwarded-For we believe (the client address is taken from it behind them).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes and scrapers talk plain HTTP to the process, even when users are redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_AGE_SECONDS", 12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "opsassure.core",
    "opsassure.cmdb",
    "opsassure.catalog",
    "opsassure.servicedesk",
    "opsassure.servicedesk.mail",
    "opsassure.notify",
    "opsassure.oncall",
    "opsassure.alerting",
    "opsassure.monitoring",
    "opsassure.web",
]

MIDDLEWARE = [
    "opsassure.core.middleware.RequestIdMiddleware",
    "opsassure.core.middleware.BodySizeLimitMiddleware",
    "opsassure.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opsassure.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "opsassure.core.middleware.OutOfRangeMiddleware",
]

# Machine endpoints that take thousands of requests a second skip the middlewares that serve
# people (sessions, CSRF, authentication, messages, HTMX, static files, HTML headers): the WSGI
# entry point sends paths under these prefixes through a second handler with this short chain
# (opsassure/wsgi.py). Their views authenticate by their own tokens.
LEAN_PATH_PREFIXES = (
    "/api/v1/alerting/ingest/",
    "/api/v1/alerting/events/v2/",
)
LEAN_MIDDLEWARE = [
    "opsassure.core.middleware.RequestIdMiddleware",
    "opsassure.core.middleware.BodySizeLimitMiddleware",
    "opsassure.core.metrics.RequestMetricsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
]

ROOT_URLCONF = "opsassure.urls"
WSGI_APPLICATION = "opsassure.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsassure.web.context_processors.shell",
            ],
        },
    }
]

# --- Database ----------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "opsassure.sqlite3"
_database_url = (
    env("TEST_DATABASE_URL") if TESTING and env("TEST_DATABASE_URL") else env("DATABASE_URL")
)
if _database_url:
    DATABASES: dict[str, Any] = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers
                # queue on the busy timeout instead of failing with "database is locked" on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=30000;"
                ),
            },
        }
    }
IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiles a "costly" plan in ~100 ms: a loss for every query here (the
    # KPI aggregates over a month run in tens of ms). Off per connection; a server-side
    # setting in the URL (options=-c jit=on) still wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling, short-lived state). Redis when configured, else files in DATA_DIR. -----
_cache_url = env("CACHE_URL")
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
        }
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Passwords ---------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests that check hashing use it explicitly.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Languages and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")  # display default; storage is always UTC

# --- Static files: vendored, served by WhiteNoise. -----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = TESTING

# --- Request limits ----------------------------------------------------------------------------
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 25 * 1024 * 1024)  # CMDB imports take 20 MB
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Service desk ------------------------------------------------------------------------------
OPSASSURE_ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
OPSASSURE_AUTO_CLOSE_DAYS = env_int("AUTO_CLOSE_DAYS", 7)  # resolved → closed unless reopened
OPSASSURE_REOPEN_DAYS = env_int("REOPEN_DAYS", OPSASSURE_AUTO_CLOSE_DAYS)  # customer may reopen
OPSASSURE_RATING_LINK_DAYS = env_int("RATING_LINK_DAYS", 14)  # e-mailed rating link expires
OPSASSURE_SLA_BREACH_RAISES_PRIORITY = env_bool("SLA_BREACH_RAISES_PRIORITY", False)
OPSASSURE_SLA_FUNCTIONAL_ESCALATION = env_bool("SLA_FUNCTIONAL_ESCALATION", True)
OPSASSURE_SLA_BREACH_REASSIGNS_TO_LEAD = env_bool("SLA_BREACH_REASSIGNS_TO_LEAD", False)
# 事件解决率 variant of the KPIs: "resolved" (resolved ÷ received) or "within_sla".
SERVICEDESK_RESOLUTION_RATE = env("RESOLUTION_RATE", "resolved")

# --- Notifications (opsassure.notify; docs/notify.md) -----------------------------------------
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6)  # then the row is left 'failed'
NOTIFY_BACKOFF_SECONDS = env_int("NOTIFY_BACKOFF_SECONDS", 30)  # doubled after each failure
NOTIFY_BACKOFF_MAX_SECONDS = env_int("NOTIFY_BACKOFF_MAX_SECONDS", 3600)
NOTIFY_HTTP_TIMEOUT = env_int("NOTIFY_HTTP_TIMEOUT", 10)  # seconds, every HTTP channel
NOTIFY_STUCK_SECONDS = env_int("NOTIFY_STUCK_SECONDS", 300)  # 'sending' longer: worker lost
NOTIFY_DEFAULT_LANGUAGE = env("NOTIFY_DEFAULT_LANGUAGE", "zh-hans")

# --- On-call (opsassure.oncall; docs/oncall.md) -------------------------------------------------
ONCALL_HANDOVER_ACK_MINUTES = env_int("ONCALL_HANDOVER_ACK_MINUTES", 30)  # then the lead is told
ONCALL_ACTION_LINK_HOURS = env_int("ONCALL_ACTION_LINK_HOURS", 72)  # signed ack/resolve links
ONCALL_SWEEP_BATCH = env_int("ONCALL_SWEEP_BATCH", 200)  # due steps claimed per sweep pass

# --- Alerting (docs/alerting.md) ---------------------------------------------------------------
OPSASSURE_ALERT_MAX_BODY_BYTES = env_int("ALERT_MAX_BODY_BYTES", 4 * 1024 * 1024)  # 413 above
# A worker that claimed an ingest batch and died: another may take it over after this long.
OPSASSURE_ALERT_BATCH_LEASE_SECONDS = env_int("ALERT_BATCH_LEASE_SECONDS", 120)
# A worker run goes on with the oldest waiting batches, one at a time, up to this many.
OPSASSURE_ALERT_RUN_BATCHES = env_int("ALERT_RUN_BATCHES", 50)
# Each web process tells the workers about new batches at most once per window (one trailing
# message folds the rest; core.jobs.CoalescingSender). 0 = one message per batch.
OPSASSURE_ALERT_NOTIFY_WINDOW_SECONDS = env_float("ALERT_NOTIFY_WINDOW_SECONDS", 0.05)

# --- Monitoring (opsassure.monitoring; docs/monitoring.md) -------------------------------------
MONITORING_RAW_RETENTION_DAYS = env_int("MONITORING_RAW_RETENTION_DAYS", 7)  # results, samples
MONITORING_ROLLUP_RETENTION_DAYS = env_int("MONITORING_ROLLUP_RETENTION_DAYS", 400)  # a year+
MONITORING_MIN_INTERVAL_SECONDS = env_int("MONITORING_MIN_INTERVAL_SECONDS", 10)
MONITORING_MAX_FUTURE_SECONDS = env_int("MONITORING_MAX_FUTURE_SECONDS", 300)  # clock skew allowed
MONITORING_MAX_RESULTS_PER_BATCH = env_int("MONITORING_MAX_RESULTS_PER_BATCH", 5000)
MONITORING_PROBE_CONCURRENCY = env_int("MONITORING_PROBE_CONCURRENCY", 500)
# Pushes per minute per agent token (one token may serve a fleet: 30 s pushes from 3,000
# hosts). Above it: 429 with Retry-After, and the agent keeps its points for the next try.
MONITORING_AGENT_PUSH_RATE = env("MONITORING_AGENT_PUSH_RATE", "6000/min")

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opsassure.core.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["opsassure.core.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "opsassure.core.api.pagination.OrderedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "opsassure.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_RATE_USER", "6000/min"),
        "anon": env("API_RATE_ANON", "600/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpsAssure API",
    "DESCRIPTION": "IT operations service assurance. Authenticate with `Authorization: Bearer "
    "oa_…` (create a token on your profile page or with `opsassure token create`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI / ReDoc assets come from drf-spectacular-sidecar: served locally, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field names collide across apps ("kind", "status", "state").
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "opsassure.servicedesk.models.TicketKind",
        "TicketStatusEnum": "opsassure.servicedesk.models.TicketStatus",
        "TicketEventKindEnum": "opsassure.servicedesk.models.TicketEvent.Kind",
        "EscalationKindEnum": "opsassure.servicedesk.models.Escalation.Kind",
        "SlaClockStateEnum": "opsassure.servicedesk.models.SlaClock.State",
        "TicketChannelEnum": "opsassure.servicedesk.models.Channel",
        "NotifyChannelEnum": "opsassure.notify.models.Channel",
        "NotificationStateEnum": "opsassure.notify.models.Notification.State",
        "NotifySeverityEnum": "opsassure.notify.models.Severity",
    },
}

# --- Celery ------------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
_broker_url = env("TEST_BROKER_URL") if TESTING and env("TEST_BROKER_URL") else env("BROKER_URL")
if _broker_url:
    CELERY_BROKER_URL = _broker_url
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
else:
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport with atomic writes and claims (see core/broker.py).
    CELERY_BROKER_TRANSPORT = "opsassure.core.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # exchange → queue bindings; kombu's default is "control" in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder (default every 1 s, fetching at most a prefetch's worth):
        # alert → notification is two hops, so the default alone cost ~2 s of latency.
        "polling_interval": env_float("BROKER_POLLING_SECONDS", 0.1),
    }
EMBEDDED_BROKER = CELERY_BROKER_URL == "filesystem://"
CELERY_TASK_QUEUES_NAMES = ["alerts", "notify", "automation", "reports", "default"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "opsassure.core.scheduler:LeaderDatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = TESTING and env_bool("TEST_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_SEND_TASK_EVENTS = False
DJANGO_CELERY_BEAT_TZ_AWARE = True

HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_SECONDS", 15)
HEARTBEAT_MAX_AGE_SECONDS = env_int("HEARTBEAT_MAX_AGE_SECONDS", 90)

# --- E-mail (service desk channel: SMTP out; IMAP mailboxes are rows of servicedesk.Mailbox) --
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "OpsAssure <opsassure@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Right-hand side of the Message-IDs we generate (default: the domain of EMAIL_FROM).
EMAIL_MESSAGE_ID_DOMAIN = env("EMAIL_MESSAGE_ID_DOMAIN") or (
    DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") if "@" in DEFAULT_FROM_EMAIL else "localhost"
)
OPSASSURE_MAIL_DOMAIN = EMAIL_MESSAGE_ID_DOMAIN  # read by servicedesk.conf.mail_domain()
# Inbound limits: larger messages are kept (headers only) for inspection, not imported.
EMAIL_MAX_MESSAGE_BYTES = env_int("EMAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)
EMAIL_MAX_HEADER_BYTES = env_int("EMAIL_MAX_HEADER_BYTES", 64 * 1024)
EMAIL_SEND_MAX_ATTEMPTS = env_int("EMAIL_SEND_MAX_ATTEMPTS", 6)
EMAIL_IMAP_TIMEOUT = env_int("EMAIL_IMAP_TIMEOUT", 60)
# Extra CA bundle to verify IMAPS servers with (e.g. a company CA); system CAs otherwise.
EMAIL_IMAP_CA_FILE = env("EMAIL_IMAP_CA_FILE")

# --- Metrics endpoint access -------------------------------------------------------------------
METRICS_TOKEN = env("METRICS_TOKEN")
METRICS_ALLOW = env_list("METRICS_ALLOW", "127.0.0.1,::1")

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "filters": {"request_id": {"()": "opsassure.core.request_context.RequestIdLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}
