"""All configuration comes from the environment, read and validated here once.

Every variable, with its default and meaning, is listed in the README's "Configuration" table.
"""

import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def _caddy_installed() -> bool:
    import sys

    return bool(os.environ.get("APPCONTROL_CADDY")) or Path(sys.executable).with_name("caddy").exists()


def _secret_key(data_dir: Path) -> str:
    """Use the configured key, else one generated on first start and kept 0600 in the data dir.

    A fixed key shipped with the code would let anyone forge sessions and signed links.
    """
    configured = os.environ.get("APPCONTROL_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


DATA_DIR = Path(os.environ.get("APPCONTROL_DATA_DIR") or "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = _secret_key(DATA_DIR)
# Keys that encrypt stored secrets (deploy keys, git passwords): the first encrypts, all decrypt (rotation).
APPCONTROL_SECRETS_KEY = [
    key.strip() for key in os.environ.get("APPCONTROL_SECRETS_KEY", "").split(",") if key.strip()
] or [SECRET_KEY]
DEBUG = _env_bool("APPCONTROL_DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("APPCONTROL_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "appcontrol.core",
    "appcontrol.accounts",
    "appcontrol.applications",
    "appcontrol.services",
    "appcontrol.backups",
    "appcontrol.deployments",
    "appcontrol.activities",
    "appcontrol.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # API requests: the caller identified once, rate limits, Idempotency-Key; then ETags and If-None-Match.
    "appcontrol.accounts.middleware.ApiRequestMiddleware",
    "appcontrol.core.conditional.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The API routes accept paths with and without the trailing slash themselves; a redirect
# would turn divio-cli's slash-less POSTs into GETs.
APPEND_SLASH = False

ROOT_URLCONF = "appcontrol.urls"
CSRF_FAILURE_VIEW = "appcontrol.core.views.csrf_failure"
WSGI_APPLICATION = "appcontrol.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of other packages' templates (the admin's branding, the API docs page).
        "DIRS": [Path(__file__).resolve().parent / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'appcontrol.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
# Django's backends with SELECT statements written once per shape of query (appcontrol.core.sql_compiler).
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "appcontrol.core.backends.postgresql",
    "django.db.backends.sqlite3": "appcontrol.core.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"] == "appcontrol.core.backends.postgresql" and _env_bool(
    "APPCONTROL_DATABASE_PREPARED_STATEMENTS", True
):
    # Values travel apart from their statement, so a statement is the same text for every request of its shape,
    # and from its fifth run on a connection psycopg prepares it: PostgreSQL then stops parsing and planning it
    # each time (planning was most of the database's work per lookup: 0.35-0.45 ms a statement, 0.1-0.17 ms
    # prepared; bench/README). A pooler that hands a connection to another client between transactions
    # (PgBouncer in transaction mode before 1.21) cannot keep them: set the variable to false behind one.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
if DATABASES["default"]["ENGINE"] == "appcontrol.core.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions. Connections are kept between requests
    # as on PostgreSQL (opening one and its pragmas cost about 1 ms a request; autocommit holds no lock).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Passwords, with failed attempts slowed down and then locked (accounts.login_throttle).
AUTHENTICATION_BACKENDS = ["appcontrol.accounts.backends.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:access-tokens"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve assets straight from the installed packages: the embedded default needs no collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

APPCONTROL_PAGE_SIZE = _env_int("APPCONTROL_PAGE_SIZE", 100)
APPCONTROL_MAX_PAGE_SIZE = _env_int("APPCONTROL_MAX_PAGE_SIZE", 500)
if APPCONTROL_PAGE_SIZE > APPCONTROL_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("APPCONTROL_PAGE_SIZE must not exceed APPCONTROL_MAX_PAGE_SIZE")
# Where service instances live on this host, and the PostgreSQL cluster that hosts database
# instances (a DSN allowed to create databases and roles; unset: no PostgreSQL service).
APPCONTROL_SERVICES_DIR = DATA_DIR / "services"
APPCONTROL_POSTGRES_URL = os.environ.get("APPCONTROL_POSTGRES_URL", "")
APPCONTROL_POSTGRES_PUBLIC_HOST = os.environ.get("APPCONTROL_POSTGRES_PUBLIC_HOST", "")
APPCONTROL_PG_BIN_DIR = os.environ.get("APPCONTROL_PG_BIN_DIR", "")
# pg_dump's gzip level: the default (6) makes compression the bottleneck; 1 is several times faster.
APPCONTROL_PG_DUMP_COMPRESSION = _env_int("APPCONTROL_PG_DUMP_COMPRESSION", 1, minimum=0)

APPCONTROL_BACKUP_DIR = DATA_DIR / "backups"
# Where backup artifacts go: "filesystem" (APPCONTROL_BACKUP_DIR) or "s3" (the bucket below).
APPCONTROL_BACKUP_STORAGE = os.environ.get("APPCONTROL_BACKUP_STORAGE", "filesystem")
if APPCONTROL_BACKUP_STORAGE not in {"filesystem", "s3"}:
    raise ImproperlyConfigured("APPCONTROL_BACKUP_STORAGE must be filesystem or s3")
# An S3 (or S3-compatible) bucket for artifacts and for S3 media storage instances.
APPCONTROL_S3_BUCKET = os.environ.get("APPCONTROL_S3_BUCKET", "")
APPCONTROL_S3_ENDPOINT_URL = os.environ.get("APPCONTROL_S3_ENDPOINT_URL", "")
APPCONTROL_S3_REGION = os.environ.get("APPCONTROL_S3_REGION", "us-east-1")
APPCONTROL_S3_ACCESS_KEY_ID = os.environ.get("APPCONTROL_S3_ACCESS_KEY_ID", "")
APPCONTROL_S3_SECRET_ACCESS_KEY = os.environ.get("APPCONTROL_S3_SECRET_ACCESS_KEY", "")
APPCONTROL_S3_PREFIX = os.environ.get("APPCONTROL_S3_PREFIX", "appcontrol/")
if APPCONTROL_BACKUP_STORAGE == "s3" and not APPCONTROL_S3_BUCKET:
    raise ImproperlyConfigured("APPCONTROL_BACKUP_STORAGE=s3 needs APPCONTROL_S3_BUCKET")
if APPCONTROL_S3_BUCKET and importlib.util.find_spec("boto3") is None:
    raise ImproperlyConfigured("APPCONTROL_S3_BUCKET needs boto3: pip install 'appcontrol[s3]'")
# How long a signed download or upload link works.
APPCONTROL_LINK_MAX_AGE_SECONDS = _env_int("APPCONTROL_LINK_MAX_AGE_SECONDS", 3600)
APPCONTROL_UPLOAD_MAX_BYTES = _env_int("APPCONTROL_UPLOAD_MAX_BYTES", 50 * 1024**3)

APPCONTROL_JOB_HEARTBEAT_SECONDS = _env_int("APPCONTROL_JOB_HEARTBEAT_SECONDS", 5)
# No job runs longer: its child processes are killed and the reaper fails it, heartbeat or not.
APPCONTROL_JOB_TIMEOUT_SECONDS = _env_int("APPCONTROL_JOB_TIMEOUT_SECONDS", 6 * 3600)
# Local scratch space of jobs (verified copies of artifacts, restore scripts).
APPCONTROL_WORK_DIR = DATA_DIR / "work"
# How programs that read tenant files are confined: "auto" (bubblewrap when installed), "bwrap"
# (required), or "none" (the fallback: empty environment and working directory, unprivileged uid).
APPCONTROL_SANDBOX = os.environ.get("APPCONTROL_SANDBOX", "auto")
if APPCONTROL_SANDBOX not in {"auto", "bwrap", "none"}:
    raise ImproperlyConfigured("APPCONTROL_SANDBOX must be auto, bwrap or none")
APPCONTROL_SANDBOX_UID = _env_int("APPCONTROL_SANDBOX_UID", 65534)
# Bounds of a media archive being restored or checked.
APPCONTROL_MEDIA_MAX_FILES = _env_int("APPCONTROL_MEDIA_MAX_FILES", 1_000_000)
APPCONTROL_MEDIA_MAX_BYTES = _env_int("APPCONTROL_MEDIA_MAX_BYTES", 100 * 1024**3)
APPCONTROL_SCHEDULER_INTERVAL_SECONDS = _env_int("APPCONTROL_SCHEDULER_INTERVAL_SECONDS", 30)
# A running job whose heartbeat is older than this is failed by the reaper.
APPCONTROL_JOB_STALE_SECONDS = _env_int("APPCONTROL_JOB_STALE_SECONDS", 60)
# Writing last_used_at on every request would turn each read into a write.
APPCONTROL_TOKEN_LAST_USED_RESOLUTION_SECONDS = 60
# Reads take their caller from memory when this process looked the token up before, and verify it in the
# statement that reads their page (accounts/caller_cache.py; PostgreSQL). Off: every request looks it up.
APPCONTROL_REMEMBER_CALLERS = _env_bool("APPCONTROL_REMEMBER_CALLERS", True)

# Deployments. The container engine releases run on: APPCONTROL_DOCKER_HOST, else DOCKER_HOST, else the
# default socket when it exists; empty: deployments fail at once, saying so. "docker" (one host) or "swarm".
APPCONTROL_DOCKER_HOST = (
    os.environ.get("APPCONTROL_DOCKER_HOST")
    or os.environ.get("DOCKER_HOST")
    or ("unix:///var/run/docker.sock" if Path("/var/run/docker.sock").exists() else "")
)
APPCONTROL_RUNTIME_DRIVER = os.environ.get("APPCONTROL_RUNTIME_DRIVER", "docker")
if APPCONTROL_RUNTIME_DRIVER not in {"docker", "swarm"}:
    raise ImproperlyConfigured("APPCONTROL_RUNTIME_DRIVER must be docker or swarm")
APPCONTROL_REPOSITORIES_DIR = DATA_DIR / "repositories"
# Repositories appcontrol hosts itself: applications without a `repository` are pushed to (/git/).
APPCONTROL_HOSTED_REPOSITORIES_DIR = DATA_DIR / "hosted"
# Time limits of git (clone, fetch), a build and each release command.
APPCONTROL_GIT_TIMEOUT_SECONDS = _env_int("APPCONTROL_GIT_TIMEOUT_SECONDS", 300)
# The largest push to a hosted repository (/git/), in bytes: git refuses a bigger pack.
APPCONTROL_GIT_PUSH_MAX_BYTES = _env_int("APPCONTROL_GIT_PUSH_MAX_BYTES", 1024**3)
# A client sending a request body to /git/ that pauses this long is cut off (it would hold a server thread).
APPCONTROL_GIT_IDLE_SECONDS = _env_int("APPCONTROL_GIT_IDLE_SECONDS", 30, minimum=1)
APPCONTROL_BUILD_TIMEOUT_SECONDS = _env_int("APPCONTROL_BUILD_TIMEOUT_SECONDS", 1800)
APPCONTROL_RELEASE_COMMAND_TIMEOUT_SECONDS = _env_int("APPCONTROL_RELEASE_COMMAND_TIMEOUT_SECONDS", 900)
# Loopback ports web processes listen on (PORT), one per running release.
APPCONTROL_RELEASE_PORTS = os.environ.get("APPCONTROL_RELEASE_PORTS", "20000-29999")
try:
    APPCONTROL_RELEASE_PORT_RANGE = range(
        int(APPCONTROL_RELEASE_PORTS.split("-")[0]), int(APPCONTROL_RELEASE_PORTS.split("-")[1]) + 1
    )
except (ValueError, IndexError):
    raise ImproperlyConfigured("APPCONTROL_RELEASE_PORTS must be FIRST-LAST, e.g. 20000-29999") from None
APPCONTROL_RELEASE_MEMORY_MB = _env_int("APPCONTROL_RELEASE_MEMORY_MB", 512)
# Builds: their memory, and the network their RUN steps reach: "none" (the default; a Dockerfile that downloads
# needs one), or a network of the engine such as Docker's "bridge". Never "host": it reaches this host's loopback.
APPCONTROL_BUILD_MEMORY_MB = _env_int("APPCONTROL_BUILD_MEMORY_MB", 2048)
APPCONTROL_BUILD_NETWORK = os.environ.get("APPCONTROL_BUILD_NETWORK", "none")
# Health checks of a new web process: GET this path on its PORT, at most this many attempts (Divio's rule).
APPCONTROL_HEALTH_CHECK_PATH = os.environ.get("APPCONTROL_HEALTH_CHECK_PATH", "/")
APPCONTROL_HEALTH_CHECK_ATTEMPTS = _env_int("APPCONTROL_HEALTH_CHECK_ATTEMPTS", 300)
# After the switch, requests already at the old release get this long to finish before it is stopped.
APPCONTROL_DRAIN_SECONDS = _env_int("APPCONTROL_DRAIN_SECONDS", 5, minimum=0)
# Environment logs (what releases print) are kept this many days, and at most this many lines per environment.
APPCONTROL_LOG_RETENTION_DAYS = _env_int("APPCONTROL_LOG_RETENTION_DAYS", 14)
APPCONTROL_LOG_MAX_LINES = _env_int("APPCONTROL_LOG_MAX_LINES", 100_000)
# Environments answer at <application>-<environment>.<APPCONTROL_APPS_DOMAIN> and at their domains.
APPCONTROL_APPS_DOMAIN = os.environ.get("APPCONTROL_APPS_DOMAIN", "localhost")
# The router: "embedded" (`appcontrol serve` runs Caddy), "external" (an operator's Caddy, reached on
# APPCONTROL_ROUTER_ADMIN_SOCKET) or "off" (releases only listen on their loopback port).
APPCONTROL_ROUTER = os.environ.get("APPCONTROL_ROUTER") or ("embedded" if _caddy_installed() else "off")
if APPCONTROL_ROUTER not in {"embedded", "external", "off"}:
    raise ImproperlyConfigured("APPCONTROL_ROUTER must be embedded, external or off")
APPCONTROL_ROUTER_BIND = os.environ.get("APPCONTROL_ROUTER_BIND", "127.0.0.1:8080")
# Where the router's files live: the embedded Caddy's admin socket and one upstream file per environment
# (an external Caddy must be able to read them).
APPCONTROL_ROUTER_DIR = Path(os.environ.get("APPCONTROL_ROUTER_DIR") or DATA_DIR / "router")
APPCONTROL_ROUTER_ADMIN_SOCKET = Path(
    os.environ.get("APPCONTROL_ROUTER_ADMIN_SOCKET") or APPCONTROL_ROUTER_DIR / "admin.sock"
)

# Counters shared by every server process (rate limits, failed logins): Redis when set, else the database.
APPCONTROL_REDIS_URL = os.environ.get("APPCONTROL_REDIS_URL", "")
if APPCONTROL_REDIS_URL and importlib.util.find_spec("redis") is None:
    raise ImproperlyConfigured("APPCONTROL_REDIS_URL needs the redis package: pip install 'appcontrol[redis]'")
# API requests a minute: per token, and per client address for requests without a valid token (0: no limit).
# An organisation's own limit (admin, or `appcontrol orgs limit`) replaces the first for its tokens.
APPCONTROL_RATE_LIMIT = _env_int("APPCONTROL_RATE_LIMIT", 1200, minimum=0)
APPCONTROL_RATE_LIMIT_ANONYMOUS = _env_int("APPCONTROL_RATE_LIMIT_ANONYMOUS", 300, minimum=0)
# Environments an organisation may have across its applications (0: no limit); an organisation's own limit
# (admin) replaces it.
APPCONTROL_ENVIRONMENT_LIMIT = _env_int("APPCONTROL_ENVIRONMENT_LIMIT", 100, minimum=0)
# Reverse proxies in front of the server that append the client's address to X-Forwarded-For (0: none,
# the client's address is the connection's).
APPCONTROL_PROXY_HOPS = _env_int("APPCONTROL_PROXY_HOPS", 0, minimum=0)
# Failed logins: from the Nth on, each attempt waits twice as long as the one before (1 s, 2 s, 4 s, …);
# from LOCK_AFTER on, logins for that account from that client are locked for LOCK_SECONDS. Clients without
# a device cookie of the account also share a lock per address and one per account (see the README).
APPCONTROL_LOGIN_DELAY_AFTER = _env_int("APPCONTROL_LOGIN_DELAY_AFTER", 3)
APPCONTROL_LOGIN_LOCK_AFTER = _env_int("APPCONTROL_LOGIN_LOCK_AFTER", 10)
APPCONTROL_LOGIN_LOCK_SECONDS = _env_int("APPCONTROL_LOGIN_LOCK_SECONDS", 900)
APPCONTROL_LOGIN_ADDRESS_LOCK_AFTER = _env_int("APPCONTROL_LOGIN_ADDRESS_LOCK_AFTER", 50)
APPCONTROL_LOGIN_ACCOUNT_LOCK_AFTER = _env_int("APPCONTROL_LOGIN_ACCOUNT_LOCK_AFTER", 100)
if APPCONTROL_LOGIN_DELAY_AFTER > APPCONTROL_LOGIN_LOCK_AFTER:
    raise ImproperlyConfigured("APPCONTROL_LOGIN_DELAY_AFTER must not exceed APPCONTROL_LOGIN_LOCK_AFTER")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["appcontrol.accounts.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "appcontrol.accounts.permissions.TokenAllowsMethod",
    ],
    "DEFAULT_RENDERER_CLASSES": ["appcontrol.core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "appcontrol.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "appcontrol.core.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "appcontrol.core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "appcontrol API",
    "DESCRIPTION": (
        "Applications management (apps/v3) and identity (iam/v3). Authenticate with the header "
        "`authorization: Token <token>`. Ids are UUIDs written as 26 lower-case base32 characters; "
        'paths and filters accept the dashed form too. Errors are JSON (`{"detail": …}` or per field), except '
        "two the HTTP server answers before the application sees the request: 414 for a request line over "
        "8190 bytes and 431 for headers over its limits."
    ),
    "VERSION": "3",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # System fonts: the docs page loads nothing from outside the server.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
                "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "appcontrol.accounts.models.Role",
        "ServiceTypeEnum": "appcontrol.services.models.ServiceType",
        "OutcomeEnum": "appcontrol.backups.models.Outcome",
        "BackupStateEnum": "appcontrol.backups.models.BackupState",
        "RepositoryStateEnum": "appcontrol.applications.models.RepositoryState",
        "BuildStateEnum": "appcontrol.deployments.models.BuildState",
        "DeploymentStatusEnum": "appcontrol.deployments.models.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "appcontrol.core.schema.document_ids_and_errors",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact_links": {"()": "appcontrol.core.log_redaction.RedactLinks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_links"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("APPCONTROL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers for its logger (debug console, admin mails) do not redact links: ours only.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
