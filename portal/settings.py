"""Cinderlab settings, read from the environment with working defaults.

Everything a deployment changes is an environment variable (see README):
``DATABASE_URL``, ``REDIS_URL``, ``CINDERLAB_AUTH`` and the scheduler and
agent options under Cinder's own names.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from core.kernel.env import envbool, envfloat, envint, envlist, envstr
from core.kernel.rq_queues import EveryQueue

BASE_DIR = Path(__file__).resolve().parent.parent
# Relative CINDERLAB_VAR paths are taken from the project folder (tests use var/test).
VAR_DIR = (BASE_DIR / envstr("CINDERLAB_VAR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """A key from the environment, else one generated once and kept under var/."""
    key = envstr("CINDERLAB_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("CINDERLAB_DEBUG", False)
ALLOWED_HOSTS = envlist("CINDERLAB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CINDERLAB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "django_htmx",
    "axes",
    "core.kernel",
    "core.cinder",
    "portal",
    "volumes",
    "scheduler",
    "agent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"

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
            ],
        },
    },
]

# SQLite under var/ by default; DATABASE_URL switches to PostgreSQL.
# WAL plus IMMEDIATE transactions let the web process, the scheduler worker
# and the agents write the same file without "database is locked" surprises.
_SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'cinderlab.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(envstr("DATABASE_URL", _SQLITE_DEFAULT))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, its write transactions queued on a lock file (see there).
    DATABASES["default"]["ENGINE"] = "core.kernel.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Each lasting thread (API threads, workers) keeps its connection: opening one and
    # its PRAGMAs costs about 1 ms per request or job.
    DATABASES["default"]["CONN_MAX_AGE"] = envint("DATABASE_CONN_MAX_AGE", 600)
    # Tests run real worker processes, so the test database must be a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Django's native psycopg pool: each process keeps a few server connections and
    # lends one to each request, job or thread, instead of a new connection each time.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them, not Django
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": envint("DATABASE_POOL_SIZE", 4),
            "max_idle": 300,
            "timeout": 30,
        },
    }
    # A statement run this often on a connection is prepared there, so the server parses
    # and plans it once (its CPU per create 16.5 -> 11.6 ms). Needs server-side binding;
    # 0 turns both off, as a transaction-mode pooler (PgBouncer) requires.
    PREPARE_THRESHOLD = envint("DATABASE_PREPARE_THRESHOLD", 2)
    if PREPARE_THRESHOLD > 0:
        DATABASES["default"]["OPTIONS"] |= {
            "server_side_binding": True,
            "prepare_threshold": PREPARE_THRESHOLD,
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The test suite creates many users; a fast hasher keeps that from dominating
# its run time. Refused in production settings.
FAST_PASSWORD_HASHER = envbool("CINDERLAB_INSECURE_FAST_HASHER", False)
if FAST_PASSWORD_HASHER:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
# Failed logins (web form and POST /identity/v3/auth/tokens alike) are counted by
# django-axes per user name and client address; past the limit that pair is locked
# out for the cool-off time. Its backend must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = envbool("CINDERLAB_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = envint("CINDERLAB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=envint("CINDERLAB_LOGIN_COOLOFF", 900))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # every token request is a login: keep only failures
AXES_LOCKOUT_CALLABLE = "portal.identity.lockout.response"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True

# Redis carries the RQ casts and the channel layer. Unset REDIS_URL means the
# embedded server that `make run` (and the test suite) start under var/.
EMBEDDED_REDIS = not envstr("REDIS_URL")
REDIS_URL = envstr("REDIS_URL") or f"unix://{VAR_DIR / 'redis' / 'redis.sock'}"

# Every queue, for django-rq's dashboard: the scheduler's, and each volume service's
# (read from the services table when the dashboard asks).
RQ_QUEUES = EveryQueue(
    {"scheduler": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}},
    backend_config={"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
)
RQ = {"COMMIT_MODE": "on_db_commit"}
RQ_LOG_LEVEL = envstr("CINDERLAB_RQ_LOG_LEVEL", "WARNING")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 defaults socket_timeout to 5 s, which kills idle
            # channels_redis readers (runtime-notes C2); None restores blocking.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": envstr("CINDERLAB_CHANNEL_PREFIX", "cinderlab"),
            "capacity": envint("CINDERLAB_CHANNEL_CAPACITY", 100),
        },
    }
}

CINDERLAB_AUTH = envstr("CINDERLAB_AUTH", "keystone")
if CINDERLAB_AUTH not in ("keystone", "noauth"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CINDERLAB_AUTH must be 'keystone' or 'noauth'")

# Cinder's options, under Cinder's names and defaults.
SCHEDULER_DEFAULT_FILTERS = envlist(
    "SCHEDULER_DEFAULT_FILTERS",
    ["AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter"],
)
SCHEDULER_DEFAULT_WEIGHERS = envlist("SCHEDULER_DEFAULT_WEIGHERS", ["CapacityWeigher"])
SCHEDULER_MAX_ATTEMPTS = envint("SCHEDULER_MAX_ATTEMPTS", 3)
CAPACITY_WEIGHT_MULTIPLIER = envfloat("CAPACITY_WEIGHT_MULTIPLIER", 1.0)
ALLOCATED_CAPACITY_WEIGHT_MULTIPLIER = envfloat("ALLOCATED_CAPACITY_WEIGHT_MULTIPLIER", -1.0)
VOLUME_NUMBER_MULTIPLIER = envfloat("VOLUME_NUMBER_MULTIPLIER", -1.0)
GOODNESS_WEIGHT_MULTIPLIER = envfloat("GOODNESS_WEIGHT_MULTIPLIER", 1.0)
MAX_OVER_SUBSCRIPTION_RATIO = envstr("MAX_OVER_SUBSCRIPTION_RATIO", "20.0")
RESERVED_PERCENTAGE = envint("RESERVED_PERCENTAGE", 0)
SERVICE_DOWN_TIME = envint("SERVICE_DOWN_TIME", 60)
REPORT_INTERVAL = envint("REPORT_INTERVAL", 10)
# Teaching pace (core/kernel/pace.py): how long each task is held when a learner asks to watch.
TEACHING_HOLD_SECONDS = envfloat("TEACHING_HOLD_SECONDS", 1.0)
BACKEND_STATS_POLLING_INTERVAL = envint("BACKEND_STATS_POLLING_INTERVAL", 60)
# oslo.messaging's rpc_response_timeout: how long an RPC call (attach, detach...) waits.
RPC_RESPONSE_TIMEOUT = envint("RPC_RESPONSE_TIMEOUT", 60)
RESERVATION_EXPIRE = envint("RESERVATION_EXPIRE", 86400)
RESERVATION_CLEAN_INTERVAL = envint("RESERVATION_CLEAN_INTERVAL", RESERVATION_EXPIRE)
DEFAULT_AVAILABILITY_ZONE = envstr("DEFAULT_AVAILABILITY_ZONE", "nova")
DEFAULT_VOLUME_TYPE = envstr("DEFAULT_VOLUME_TYPE", "__DEFAULT__")

# Web processes `make run` starts on the one listening socket: Cinder's
# osapi_volume_workers, which defaults to the number of CPUs.
OSAPI_VOLUME_WORKERS = envint("OSAPI_VOLUME_WORKERS", os.cpu_count() or 1)
# Threads per web process that run REST API requests (portal/api_threads.py); more
# requests wait in line for one. The GIL runs one at a time: a few let requests waiting on
# the database overlap, more only contend (at 45 creates/s offered, 4 completed 22.2/s where
# 8 completed 18.6/s).
OSAPI_VOLUME_THREADS = envint("OSAPI_VOLUME_THREADS", 4)

# The largest API request body (bytes): oslo.middleware's max_request_body_size, as Cinder.
API_MAX_REQUEST_BODY = envint("API_MAX_REQUEST_BODY", 114688)

# The image catalog: the largest upload accepted (bytes), checked as it streams in.
IMAGE_UPLOAD_MAX_BYTES = envint("IMAGE_UPLOAD_MAX_BYTES", 1024**3)

# Agent options. AGENT_WORKERS: processes running an agent's jobs concurrently.
AGENT_WORKERS = envint("AGENT_WORKERS", 3)
# The storage hosts whose agents `make run` starts on this machine (empty: every configured
# host); a machine that serves its own runs `manage.py agent --host` there.
AGENT_HOSTS = envlist("AGENT_HOSTS", [])
VOLUME_CLEAR = envstr("VOLUME_CLEAR", "zero")
VOLUME_CLEAR_SIZE = envint("VOLUME_CLEAR_SIZE", 0)
AGENT_DATA_DIR = Path(envstr("CINDERLAB_AGENT_DATA", str(VAR_DIR / "agents")))
# Cinder's migration_create_volume_timeout_secs: how long a migration waits for its
# destination volume to be created.
MIGRATION_CREATE_VOLUME_TIMEOUT_SECS = envint("MIGRATION_CREATE_VOLUME_TIMEOUT_SECS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("CINDERLAB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
