"""Parley's settings: everything that differs between machines comes from the environment.

Variables are read from the process environment and an optional `.env` file in the
project root (django-environ). `.env.example` documents each one. With no variables at
all Parley runs for development: SQLite, the in-memory channel layer, DEBUG on.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from parley.files.storage_url import storage_from_url

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEV_SECRET_KEY = "parley-development-key-not-for-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is the development default or shorter than 40 "
        "characters. Set SECRET_KEY to a long random value (see .env.example)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# daphne gives `runserver` its ASGI mode (it must come first). It is a development
# dependency (requirements-dev.in): production runs uvicorn and installs requirements.lock,
# which has no daphne, so it is an app only where it is installed (docs/dependencies.md).
INSTALLED_APPS = ["daphne"] if find_spec("daphne") else []
INSTALLED_APPS += [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "csp",
    "django_tasks",
    "django_tasks_db",
    "parley.accounts",
    "parley.jobs",
    "parley.chat",
    "parley.files",
    "parley.support",
    "parley.webhooks",
    "parley.exports",
    "parley.realtime",
    "parley.api",
    "parley.web",
    "allauth",
    "allauth.account",
    "allauth.headless",
]

MIDDLEWARE = [
    # /livez, /readyz, /healthz answered before the HTTPS redirect and host validation: a
    # kubelet or load balancer asks a process directly (parley/common/probes.py).
    "parley.common.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "parley.common.csp.ContentSecurityPolicyMiddleware",
    # whitenoise, serving the hashed files of the previous and next version too
    # (parley/web/staticfiles.py).
    "parley.web.staticfiles.StaticFilesMiddleware",
    # A JSON body too large, too deep or not JSON: 400 `invalid_json` before any view.
    "parley.common.jsonbody.JsonBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "parley.accounts.middleware.RateLimitRetryMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, so the first to see a view's exception: a database outage is a 503.
    "parley.common.outage.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "parley.urls"
ASGI_APPLICATION = "parley.asgi.application"
WSGI_APPLICATION = "parley.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -------------------------------------------------------------------------
# SQLite by default (WAL, synchronous=NORMAL: a commit per message costs ~2 ms with the
# default fsync on this class of disk), PostgreSQL through psycopg 3 with DATABASE_URL.
# Persistent connections on both: a new SQLite connection per database call (PRAGMAs,
# and closing the last one checkpoints and drops the WAL) cost half of the gateway's time
# (docs/performance.md). The init_command PRAGMAs run once per connection, on connect.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
_db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
_db.setdefault("CONN_HEALTH_CHECKS", True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    )
else:
    # A test database for PostgreSQL runs next to the one named in DATABASE_URL.
    _db.setdefault("TEST", {})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer, cache --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a publish is one PUBLISH, and Redis pushes it to each process's
            # subscription; no per-channel lists to poll. At-most-once like every layer:
            # the gateway fills gaps from the database (docs/architecture.md, "Delivery").
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_PREFIX", default="parley"),
            },
        }
    }
    CACHES = {
        "default": {
            # Django's RedisCache, answering as an empty cache while Redis is down
            # instead of failing the request (parley/common/cache.py).
            "BACKEND": "parley.common.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="parley"),
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            # Channels' in-memory layer, expiring once a second instead of walking every
            # group on every call (parley/realtime/layers.py).
            "BACKEND": "parley.realtime.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env.int("CHANNEL_CAPACITY", default=5000), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "parley.accounts.backends.EmailBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "account_login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if "pytest" in sys.modules:  # hashing at full cost makes every login in the suite slow
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SESSION_COOKIE_AGE = 14 * 24 * 3600

# --- Accounts (django-allauth; each choice is explained in docs/accounts.md) -------------
ACCOUNT_ADAPTER = "parley.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "parley.accounts.forms.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGIN_METHODS = {"email"}
# The username is optional at signup (derived from the email when left blank).
ACCOUNT_SIGNUP_FIELDS = ["email*", "username", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = 3  # new codes per signup, each voids the last
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_CHANGE = 1  # fix a typo in the address once
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_CHANGE_EMAIL = True  # a new address replaces the old one once its code is entered
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
ACCOUNT_EMAIL_NOTIFICATIONS = True  # tell the old address about password/email changes
ACCOUNT_SESSION_REMEMBER = None  # "Remember me" box: SESSION_COOKIE_AGE or a browser session
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Parley] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    # Failed logins: per client IP and per account (the key is the email address).
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/h/ip",
    # Sending a verification code: one per 30 s per address, 20 per hour per IP.
    "confirm_email": "1/30s/key,20/h/ip",
    # Password reset codes: per IP and per address.
    "reset_password": "10/h/ip,3/15m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
HEADLESS_CLIENTS = ("browser", "app")
HEADLESS_SERVE_SPECIFICATION = True  # /_allauth/openapi.json, .yaml and .html
# allauth's own page loads Redoc from a CDN: ours shows the same schema in the vendored
# Swagger UI of /api/docs/.
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "api/allauth_openapi.html"
# Client IPs for rate limits: X-Forwarded-For is read only behind a trusted proxy.
# BEHIND_PROXY alone trusts one proxy (the last X-Forwarded-For entry is the client).
TRUSTED_PROXY_COUNT = env.int(
    "TRUSTED_PROXY_COUNT", default=1 if env.bool("BEHIND_PROXY", default=False) else 0
)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None

# --- Email ---------------------------------------------------------------------------------
# One EMAIL_URL: smtp+tls://user:password@host:587 in production; the console by default.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds each step of talking to the mail server may take (connect, greeting, each
# command). Mail is sent by the job worker, never from a request (docs/jobs.md): an
# attempt that times out is retried later, and a hung server cannot hold a worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=5.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parley <parley@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background jobs (django-tasks with its database backend; docs/jobs.md) -------------
# The queue is a table of this database: no broker, and a job enqueued in a transaction
# exists exactly when that transaction commits. `manage.py parley_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- I18N, static files ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Outside the checkout in production (/var/lib/parley/static), so that each version's
# collectstatic adds its files next to the previous version's (docs/deployment.md).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Finished exports (docs/export.md): written by the job worker, read by every server
# process, so a directory they share (or object storage). Never under MEDIA_ROOT, which
# nginx serves to anyone: an export is downloaded only through its permission check.
EXPORTS_ROOT = Path(env.str("EXPORTS_ROOT", default=str(BASE_DIR / "exports")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": EXPORTS_ROOT, "base_url": "/exports-are-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "parley.web.staticfiles.StaticFilesStorage"  # ES module imports hashed too
        )
    },
    # Attachments (parley/files, docs/files.md): STORAGE_URL says where, the local disk
    # under MEDIA_ROOT/attachments by default (not served by the web server: every file
    # goes out through Parley's permission check).
    "attachments": storage_from_url(
        env.str("STORAGE_URL", default=""), default_location=str(MEDIA_ROOT / "attachments")
    ),
}

# --- Content-Security-Policy (django-csp, parley/common/csp.py) --------------------------
# Everything from this origin only, and no inline script or style anywhere: the web UI,
# the account pages, the admin and the API docs all load their code from static files.
# Images may be data: URLs (Swagger UI's icons are). A view that needs more (a page to
# be framed by a customer's site) replaces a directive with csp.decorators.csp_replace.
# docs/deployment.md, "Content-Security-Policy".
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],  # and the websocket origins of this host, added per request
        "frame-ancestors": [_NONE],
        "base-uri": [_NONE],
        "form-action": [_SELF],
        "object-src": [_NONE],
    }
}

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "parley.api.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "parley.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Scoped limits (429 `rate_limited`): token requests per client address (REST sends per
    # user are PARLEY["RATE_LIMITS"]["rest_messages"]; the websocket has its own token
    # bucket, PARLEY["FRAME_RATE"]).
    "DEFAULT_THROTTLE_RATES": {
        "auth": "20/min",
    },
    # The client address is read from X-Forwarded-For only behind trusted proxies.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": (
        "Conversations, messages and receipts. Realtime events: docs/protocol.md. "
        "Accounts (signup, login, password reset, email) are served by allauth's headless "
        "API under `/_allauth/{browser|app}/v1/`: its own OpenAPI schema is "
        "[/_allauth/openapi.html](/_allauth/openapi.html) "
        "([JSON](/_allauth/openapi.json))."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "parley.api.schema.document_invalid_json",  # 400 `invalid_json` on JSON bodies
    ],
    # /api/docs/ loads Swagger UI from drf-spectacular-sidecar's static files, pinned
    # with the rest, instead of the latest from a CDN (blank offline, and a third party
    # in the page): the Content-Security-Policy allows scripts from this origin only.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several fields are named "kind" and "role": one enum name per set of choices.
    "ENUM_NAME_OVERRIDES": {
        "ConversationKindEnum": "parley.chat.models.Conversation.Kind",
        "ParticipantKindEnum": ["user", "visitor", "bot"],
        "RoleEnum": "parley.chat.models.Membership.Role",
        "AssignableRoleEnum": ["admin", "member"],
        "PrechatFieldEnum": "parley.support.models.Widget.Field",
    },
}

# --- Request bodies ------------------------------------------------------------------------
# A body that is not a file (form fields, JSON) is read into memory: at most this many
# bytes, else 400. Uploaded files (avatars) are not counted; they have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Parley ------------------------------------------------------------------------------
PARLEY = {
    # Every JSON request body (parley/common/jsonbody.py): at most this many bytes and
    # this deep, else 400 `invalid_json`. The largest body the API takes is a message of
    # 20,000 characters (6 bytes each when escaped); nothing it takes nests beyond 2.
    "JSON_MAX_BYTES": 256 * 1024,
    "JSON_MAX_DEPTH": 32,
    # Support widget visitors whose conversation had no message for this many days are
    # deleted with it by `manage.py parley_support_purge` (run it daily, docs/widget.md).
    "SUPPORT_RETENTION_DAYS": env.int("PARLEY_SUPPORT_RETENTION_DAYS", default=365),
    # A reply the visitor has not read, a visitor's message or an assignment the team
    # has not: emailed this many minutes later, if still unread (docs/widget.md).
    "SUPPORT_FOLLOWUP_MINUTES": env.float("PARLEY_SUPPORT_FOLLOWUP_MINUTES", default=10.0),
    # Where people reach this Parley, for the links in emails sent by the worker (which
    # has no request to take it from): scheme://host[:port].
    "SITE_URL": env.str("PARLEY_SITE_URL", default="http://127.0.0.1:8000"),
    # A widget bot's regular expressions get this many seconds per visitor message, all
    # its patterns together; past it the child process that runs them is killed and no
    # pattern matched (parley/support/regex_sandbox.py, docs/widget.md "The bot").
    "BOT_REGEX_TIMEOUT": env.float("PARLEY_BOT_REGEX_TIMEOUT", default=0.1),
    "MESSAGE_MAX_LENGTH": 4000,
    # How long after sending a message its sender may still edit it, in seconds; unset:
    # no limit (parley/chat/services/edits.py, `edit_window_closed`).
    "EDIT_TIME_LIMIT": env.float("PARLEY_EDIT_TIME_LIMIT", default=None),
    # How many of the people who added an emoji to a message are named with it (the first
    # ones); the count says how many there are in all.
    "REACTION_NAMES": env.int("PARLEY_REACTION_NAMES", default=3),
    "FRAME_MAX_BYTES": 16 * 1024,
    # Per-user limits on REST actions any signed-in user can repeat (429 `rate_limited`,
    # parley/common/ratelimit.py): "amount/period", the period s, m, h or d with an
    # optional count ("10/5m"); empty: no limit. docs/accounts.md, "Looking people up".
    "RATE_LIMITS": {
        # People looked up by email or username: each distinct address of a direct chat, a
        # new group's member list or a member add counts one. What an address probe costs;
        # keep it at or above the 50 members a group create may name.
        "lookups": env.str("PARLEY_RATE_LOOKUPS", default="100/h"),
        # Groups created, and people added to existing groups: each puts others in a
        # conversation (and announces it to them).
        "groups": env.str("PARLEY_RATE_GROUPS", default="10/h"),
        "member_adds": env.str("PARLEY_RATE_MEMBER_ADDS", default="60/h"),
        # Profile changes (page and API; the admin is exempt), refused ones too: an avatar
        # costs a decode either way.
        "profile_edits": env.str("PARLEY_RATE_PROFILE_EDITS", default="10/10m"),
        # Messages sent over REST per user (the websocket has its own bucket per socket).
        "rest_messages": env.str("PARLEY_RATE_REST_MESSAGES", default="600/m"),
        # Support widget visitors: new visits per client address, messages per visitor.
        "widget_visitors": env.str("PARLEY_RATE_WIDGET_VISITORS", default="30/h"),
        "widget_messages": env.str("PARLEY_RATE_WIDGET_MESSAGES", default="20/10s"),
        # Message searches per user (docs/search.md): each is a full-text query over
        # every conversation of theirs.
        "searches": env.str("PARLEY_RATE_SEARCHES", default="30/m"),
        # Files uploaded per user (docs/files.md): each is stored, an image decoded.
        "uploads": env.str("PARLEY_RATE_UPLOADS", default="120/10m"),
        # Conversation exports asked for per user (docs/export.md): each reads the whole
        # history the member may see and writes a zip.
        "exports": env.str("PARLEY_RATE_EXPORTS", default="10/h"),
    },
    # A finished export may be downloaded for this many hours, then it is deleted
    # (docs/export.md).
    "EXPORT_KEEP_HOURS": env.float("PARLEY_EXPORT_KEEP_HOURS", default=24.0),
    # The text search configuration of message search on PostgreSQL (its stemming and stop
    # words): read by the migration that builds the search column, and by every query.
    # Changing it needs that column rebuilt (docs/search.md, "Language").
    "SEARCH_LANGUAGE": env.str("PARLEY_SEARCH_LANGUAGE", default="english"),
    # Token bucket per socket: sustained frames per second and burst size.
    "FRAME_RATE": env.float("PARLEY_FRAME_RATE", default=20.0),
    "FRAME_BURST": env.int("PARLEY_FRAME_BURST", default=60),
    # A resume further back than this many events per conversation is refused with
    # `resume_too_old`; the client reloads that conversation over REST instead.
    "RESUME_MAX_EVENTS": env.int("PARLEY_RESUME_MAX_EVENTS", default=1000),
    # Unread counts stop at this many messages per conversation (an `unread` equal to it
    # means that many or more): a count costs at most this many rows, however far behind.
    "UNREAD_CAP": 1000,
    # The most pinned messages a conversation holds (`too_many_pins` past it).
    "PIN_LIMIT": 50,
    # Presence in Redis: a killed process's people drop out within PRESENCE_TTL seconds.
    "PRESENCE_TTL": env.int("PARLEY_PRESENCE_TTL", default=30),
    "PRESENCE_HEARTBEAT": env.float("PARLEY_PRESENCE_HEARTBEAT", default=10.0),
    "PRESENCE_PREFIX": env.str("PARLEY_PRESENCE_PREFIX", default="parley:pr"),
    # Every this many seconds each process compares the seq of the streams it follows
    # with the database, so an event the channel layer dropped is still delivered.
    "GAP_CHECK_SECONDS": env.float("PARLEY_GAP_CHECK_SECONDS", default=3.0),
    # With Redis, the sends of a conversation are written by one process, the others
    # forward theirs to it; a forward unanswered for WRITER_TIMEOUT seconds is written by
    # the process that received it (parley/realtime/writer.py).
    "SINGLE_WRITER": env.bool("PARLEY_SINGLE_WRITER", default=True),
    "WRITER_TIMEOUT": env.float("PARLEY_WRITER_TIMEOUT", default=1.0),
    # SIGTERM drains a process (parley/shutdown.py): its sockets are asked to reconnect to
    # the other processes, each at a random moment within DRAIN_SECONDS; the process waits
    # for them DRAIN_TIMEOUT seconds at most, then the server stops as before.
    "DRAIN_SECONDS": env.float("PARLEY_DRAIN_SECONDS", default=5.0),
    "DRAIN_TIMEOUT": env.float("PARLEY_DRAIN_TIMEOUT", default=10.0),
    # Every BALANCE_SECONDS a process holding clearly more sockets than the others asks its
    # excess to reconnect (parley/realtime/balance.py); 0: never.
    "BALANCE_SECONDS": env.float("PARLEY_BALANCE_SECONDS", default=5.0),
    # Open websockets per user and per client address, on all server processes together
    # (counted by presence, in Redis with REDIS_URL); the next is closed with 4429. 0: no cap.
    "SOCKETS_PER_USER": env.int("PARLEY_SOCKETS_PER_USER", default=20),
    "SOCKETS_PER_IP": env.int("PARLEY_SOCKETS_PER_IP", default=500),
    # The same for support widget visitors, whose sockets per address are counted apart:
    # a visitor has one chat, and anyone on the web may open a visitor socket.
    "VISITOR_SOCKETS_PER_VISITOR": env.int("PARLEY_VISITOR_SOCKETS_PER_VISITOR", default=5),
    "VISITOR_SOCKETS_PER_IP": env.int("PARLEY_VISITOR_SOCKETS_PER_IP", default=5),
    # Background jobs (parley/jobs/runner.py): a failed job runs again after
    # RETRY_BASE_SECONDS, then 3x longer each time up to RETRY_MAX_SECONDS; a job running
    # for LEASE_SECONDS is taken as lost (its worker was killed) and run again, which each
    # worker checks every SWEEP_SECONDS. The lease must exceed the longest job (an email:
    # a few EMAIL_TIMEOUTs).
    "JOBS": {
        "RETRY_BASE_SECONDS": env.float("PARLEY_JOBS_RETRY_BASE_SECONDS", default=10.0),
        "RETRY_MAX_SECONDS": env.float("PARLEY_JOBS_RETRY_MAX_SECONDS", default=600.0),
        "LEASE_SECONDS": env.float("PARLEY_JOBS_LEASE_SECONDS", default=300.0),
        "SWEEP_SECONDS": env.float("PARLEY_JOBS_SWEEP_SECONDS", default=30.0),
        # Periodic jobs (parley/jobs/periodic.py): each worker enqueues them this often.
        "FILES_SWEEP": env.float("PARLEY_JOBS_FILES_SWEEP_SECONDS", default=900.0),
    },
    # Attachments (parley/files, docs/files.md). Sizes in bytes; an image's pixels are
    # counted from its header before anything is decoded (all frames of an animation).
    "FILES": {
        "MAX_FILE_BYTES": env.int("PARLEY_FILES_MAX_FILE_BYTES", default=25 * 1024 * 1024),
        "MAX_MESSAGE_BYTES": env.int("PARLEY_FILES_MAX_MESSAGE_BYTES", default=100 * 1024 * 1024),
        "MAX_PER_MESSAGE": env.int("PARLEY_FILES_MAX_PER_MESSAGE", default=10),
        # Uploads of one person not sent yet, together (never-sent ones go after a day).
        "MAX_PENDING_BYTES": env.int("PARLEY_FILES_MAX_PENDING_BYTES", default=200 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": env.int("PARLEY_FILES_MAX_IMAGE_PIXELS", default=50_000_000),
        "MAX_IMAGE_SIDE": env.int("PARLEY_FILES_MAX_IMAGE_SIDE", default=4096),
        "THUMBNAIL_SIDE": 480,
        "DECODE_WAIT": env.float("PARLEY_FILES_DECODE_WAIT", default=20.0),
        # Checked against the type found from the content, never the name. HTML, SVG and
        # XML are refused whatever this says (parley/files/sniffing.py).
        "ALLOWED_TYPES": env.list(
            "PARLEY_FILES_ALLOWED_TYPES",
            default=[
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "application/pdf",
                "application/zip",
                "application/gzip",
                "application/x-7z-compressed",
                "text/plain",
                "audio/mpeg",
                "audio/ogg",
                "audio/wav",
                "audio/flac",
                "video/mp4",
                "video/quicktime",
                "video/webm",
            ],
        ),
        # A file of a message deleted for everyone leaves the storage this long after
        # (a client resuming meanwhile still gets a tombstone, never a broken file).
        "DELETE_GRACE_SECONDS": env.int("PARLEY_FILES_DELETE_GRACE_SECONDS", default=600),
        # An upload never attached to a message is removed once this old.
        "ORPHAN_SECONDS": env.int("PARLEY_FILES_ORPHAN_SECONDS", default=24 * 3600),
    },
    # Outgoing webhooks (parley/webhooks/targets.py, docs/webhooks.md): http:// URLs and
    # private or loopback addresses are refused unless these are on (DEBUG turns both on,
    # for a receiver on this machine); TIMEOUT_SECONDS bounds each network operation.
    "WEBHOOKS": {
        "ALLOW_HTTP": env.bool("PARLEY_WEBHOOKS_ALLOW_HTTP", default=DEBUG),
        "ALLOW_PRIVATE": env.bool("PARLEY_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG),
        "TIMEOUT_SECONDS": env.float("PARLEY_WEBHOOKS_TIMEOUT_SECONDS", default=10.0),
    },
    # Prometheus metrics at /metrics for `Authorization: Bearer <token>`; empty: no
    # endpoint and no HTTP counting (parley/common/metrics.py, docs/operations.md).
    "METRICS_TOKEN": env.str("PARLEY_METRICS_TOKEN", default=""),
    # One access log line per HTTP request and per websocket (parley/common/accesslog.py).
    "ACCESS_LOG": env.bool("PARLEY_ACCESS_LOG", default=True),
    # A server process refuses to start while the database lacks migrations of its code
    # (parley/startup.py); true skips that check, for the rare case that needs it.
    "SKIP_MIGRATION_CHECK": env.bool("PARLEY_SKIP_MIGRATION_CHECK", default=False),
}

if PARLEY["METRICS_TOKEN"]:
    # First: /metrics answered before the Host check and the HTTPS redirect (a scrape
    # comes to the process's own address), and every request counted with its status.
    MIDDLEWARE.insert(0, "parley.common.metrics.MetricsMiddleware")

# --- Production hardening (active when DEBUG is off) ------------------------------------
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Every record is made with credentials blanked (a token put in a URL by mistake, as
# servers log URLs) and the id of the request or socket being served: parley/common/logs.py,
# docs/operations.md "Logs". LOG_FORMAT=json: one JSON object per line.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: it must be plain or json.")
LOGGING_CONFIG = "parley.common.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "parley.common.logs.PlainFormatter"},
        "json": {"()": "parley.common.logs.JsonFormatter"},
    },
    "filters": {"connection_lines": {"()": "parley.common.logs.DropConnectionLines"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        # the last errors of this process, for the admin's status page
        "recent_errors": {"()": "parley.common.processes.RecentErrors"},
    },
    "root": {
        "handlers": ["console", "recent_errors"],
        "level": env.str("LOG_LEVEL", default="INFO"),
    },
    "loggers": {
        # Django's default configuration gives "django" handlers of its own (a second copy
        # of each line with DEBUG on, mail to ADMINS): its records go to the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.channels.server": {"level": "WARNING"},
        # uvicorn's loggers write through Parley's handler (JSON too). Its access log is
        # off: Parley writes its own, with the request id (parley/common/accesslog.py).
        "uvicorn": {"handlers": ["console", "recent_errors"], "propagate": False},
        "uvicorn.error": {"filters": ["connection_lines"]},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}

# --- Error tracking (optional) -----------------------------------------------------------
# With SENTRY_DSN, errors (exceptions in views and frames, ERROR log lines) go to Sentry
# or a compatible tracker, scrubbed of credentials and bodies (parley/common/errortracking.py,
# docs/operations.md "Error tracking"). Without it sentry_sdk is not even imported.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from parley import __version__
    from parley.common import errortracking

    errortracking.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=f"parley@{__version__}",
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
