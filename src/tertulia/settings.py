"""Django settings, derived from the environment by `tertulia.config`.

Two runtime profiles share this file (see docs/architecture.md):
embedded (SQLite in WAL mode + Huey on SQLite, in the data directory) and
scale-out (`DATABASE_URL` for PostgreSQL, `REDIS_URL` for Huey and live updates).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from tertulia.config import load_config, parse_bool, parse_count, parse_firehose_url, parse_seconds
from tertulia.core.outbound.addresses import validate_allow_setting

CONFIG = load_config()
PACKAGE_DIR = Path(__file__).resolve().parent

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = list(CONFIG.csrf_trusted_origins)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    # Sign-in (docs/security.md). tertulia.accounts comes first: its templates restyle allauth's.
    "tertulia.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
    "tertulia.core",
    "tertulia.live",
    "tertulia.vault",
    "tertulia.connectors",
    "tertulia.connectors.sandbox",
    "tertulia.inbox",
    "tertulia.moderation",
    "tertulia.publishing",
    "tertulia.listening",
    "tertulia.webhooks",
    "tertulia.guard",
    "tertulia.governance",
    "tertulia.crisis",
    "tertulia.analytics",
    "tertulia.teamops",
    "tertulia.portal",
    "tertulia.reports",
    "tertulia.api",
    "tertulia.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tertulia.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tertulia.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tertulia.accounts.middleware.SessionActivityMiddleware",
    "tertulia.accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tertulia.web.middleware.CurrentTenantMiddleware",
]

ROOT_URLCONF = "tertulia.urls"
ASGI_APPLICATION = "tertulia.asgi.application"
WSGI_APPLICATION = "tertulia.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tertulia.web.context_processors.tenant",
                "tertulia.governance.context_processors.coverage",
            ],
        },
    }
]

if CONFIG.database_url:
    DATABASES = {
        "default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60, conn_health_checks=True)
    }
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CONFIG.sqlite_path),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers (web and
                # worker processes) queue on busy_timeout instead of failing to upgrade a
                # read lock mid-transaction ("database is locked").
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Sign-in with django-allauth (docs/security.md, docs/decisions/0018-sign-in-with-allauth.md): e-mail and
# password, no public sign-up (people join by invitation), second factors, per-organization OIDC.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "tertulia.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # addresses come from an invitation link or an administrator
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed", "a security key was removed"...
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset asked for an unknown address e-mails nobody
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Tertulia: "
# Throttling (shared by every process through the cache below): failed sign-ins per IP and per address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_FORMS = {"login": "tertulia.accounts.forms.LoginForm"}
MFA_ADAPTER = "tertulia.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_ALLOW_UNVERIFIED_EMAIL = True  # see ACCOUNT_EMAIL_VERIFICATION
MFA_TOTP_ISSUER = "Tertulia"
MFA_PASSKEY_LOGIN_ENABLED = False  # security keys and passkeys are a second factor, not a password
SOCIALACCOUNT_ADAPTER = "tertulia.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # tertulia.accounts.sso decides who an SSO sign-in is
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_OPENID_CONNECT_URL_PREFIX = "oidc"
USERSESSIONS_TRACK_ACTIVITY = False  # tertulia.accounts.middleware records activity once a minute
# An organization's OIDC issuer must be https://; this allows http:// (a laboratory, the tests).
TERTULIA_SSO_ALLOW_HTTP = parse_bool("TERTULIA_SSO_ALLOW_HTTP", os.environ.get("TERTULIA_SSO_ALLOW_HTTP"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Huey: the queue only wakes work up; the database is the source of truth and
# periodic sweeps recover what a crashed worker left behind.
if CONFIG.tasks_immediate:
    HUEY = {"huey_class": "huey.MemoryHuey", "name": "tertulia", "immediate": True}
elif CONFIG.redis_url:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "tertulia",
        "url": CONFIG.redis_url,
        "immediate": False,
        "utc": True,
        "consumer": {"workers": 4, "worker_type": "thread", "periodic": True},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tertulia",
        "filename": str(CONFIG.queue_path),
        "immediate": False,
        "utc": True,
        "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
    }

# Shared by every process (sign-in throttling counts across web workers): files in the data directory.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CONFIG.data_dir / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}
if CONFIG.redis_url:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CONFIG.redis_url}
    }

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "tertulia_language"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Static files are served straight from the installed package: no collectstatic
# step at install time.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "tertulia_session"
CSRF_COOKIE_NAME = "tertulia_csrftoken"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error reports (e-mails to ADMINS) hide POST fields and local variables named like secrets too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "tertulia.web.reporting.SecretsReporterFilter"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
if CONFIG.https:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000

# Requests to addresses people type (link previews, webhooks, feeds, Mastodon instances) reach public
# addresses on ports 80/443 only; this comma-separated allow-list opens more (docs/outbound.md).
TERTULIA_OUTBOUND_ALLOW = validate_allow_setting(
    "TERTULIA_OUTBOUND_ALLOW", os.environ.get("TERTULIA_OUTBOUND_ALLOW")
)

# Connector options an operator may need (see docs/connectors/): intranet feeds, a private handle resolver.
TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = parse_bool(
    "TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES", os.environ.get("TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES")
)
TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = parse_bool(
    "TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES", os.environ.get("TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES")
)
TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = parse_bool(
    "TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES", os.environ.get("TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES")
)
if os.environ.get("TERTULIA_BLUESKY_HANDLE_RESOLVER"):
    TERTULIA_BLUESKY_HANDLE_RESOLVER = os.environ["TERTULIA_BLUESKY_HANDLE_RESOLVER"]

# How often the inbox reads a channel whose connector gives no hint; webhooks wake it sooner.
TERTULIA_INBOX_POLL_SECONDS = parse_seconds(
    "TERTULIA_INBOX_POLL_SECONDS", os.environ.get("TERTULIA_INBOX_POLL_SECONDS"), default=60, minimum=5
)

# Crisis alerts (docs/crisis-alerts.md): when a brand's whole escalation chain was told and nobody
# acknowledged, it is told again every this many minutes; the acknowledge link in alert e-mails works
# this many hours; e-mailed links start with TERTULIA_PUBLIC_URL (the address people reach Tertulia at).
TERTULIA_CRISIS_RENOTIFY_MINUTES = parse_count(
    "TERTULIA_CRISIS_RENOTIFY_MINUTES",
    os.environ.get("TERTULIA_CRISIS_RENOTIFY_MINUTES"),
    default=15,
    minimum=1,
)
# ...at most this many times: then the alert stays open on its page, and nobody is woken again for it.
TERTULIA_CRISIS_RENOTIFY_ROUNDS = parse_count(
    "TERTULIA_CRISIS_RENOTIFY_ROUNDS", os.environ.get("TERTULIA_CRISIS_RENOTIFY_ROUNDS"), default=8, minimum=0
)
TERTULIA_CRISIS_ACK_LINK_HOURS = parse_count(
    "TERTULIA_CRISIS_ACK_LINK_HOURS", os.environ.get("TERTULIA_CRISIS_ACK_LINK_HOURS"), default=24, minimum=1
)
TERTULIA_PUBLIC_URL = (os.environ.get("TERTULIA_PUBLIC_URL") or "").strip().rstrip("/")
# Crisis detection: per-minute counts older than this many days are deleted every hour, except those of a
# crisis's window (tertulia.crisis.retention); under 29 is raised to 29, the detector learns from 28.
TERTULIA_CRISIS_BUCKET_DAYS = parse_count(
    "TERTULIA_CRISIS_BUCKET_DAYS", os.environ.get("TERTULIA_CRISIS_BUCKET_DAYS"), default=35, minimum=1
)

# Listening: the Bluesky firehose (a relay such as wss://bsky.network, or a PDS) one worker reads for
# every organization's queries; empty: off (docs/listening.md#the-bluesky-firehose).
TERTULIA_FIREHOSE_URL = parse_firehose_url("TERTULIA_FIREHOSE_URL", os.environ.get("TERTULIA_FIREHOSE_URL"))
# Listening: how often each RSS/Atom source is read, and how many Mastodon streams one worker holds open.
TERTULIA_LISTENING_FEED_SECONDS = parse_seconds(
    "TERTULIA_LISTENING_FEED_SECONDS",
    os.environ.get("TERTULIA_LISTENING_FEED_SECONDS"),
    default=900,
    minimum=60,
)
TERTULIA_LISTENING_STREAMS = parse_count(
    "TERTULIA_LISTENING_STREAMS", os.environ.get("TERTULIA_LISTENING_STREAMS"), default=20, minimum=0
)

# Publishing: dispatcher threads per worker process, and how long a claim on a delivery lasts
# (longer than any network call; a killed worker's deliveries are taken over after it).
TERTULIA_PUBLISH_THREADS = parse_count(
    "TERTULIA_PUBLISH_THREADS", os.environ.get("TERTULIA_PUBLISH_THREADS"), default=2, minimum=0
)
TERTULIA_PUBLISH_LEASE_SECONDS = parse_seconds(
    "TERTULIA_PUBLISH_LEASE_SECONDS", os.environ.get("TERTULIA_PUBLISH_LEASE_SECONDS"), default=90, minimum=2
)

# Uploaded images and their renditions. On several machines, point this at shared storage
# (docs/operations.md): every worker reads the files it publishes.
MEDIA_ROOT = str(CONFIG.data_dir / "uploads")
MEDIA_URL = "/media-files/"  # never served as is: images are served through a view that checks access

# E-mail (invitations, password resets, security alerts): an SMTP server from TERTULIA_SMTP_URL, or,
# without one, each e-mail written as an .eml file to the data directory's outbox/ (docs/operations.md).
DEFAULT_FROM_EMAIL = SERVER_EMAIL = CONFIG.email_from
if CONFIG.smtp is not None:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = CONFIG.smtp.host
    EMAIL_PORT = CONFIG.smtp.port
    EMAIL_HOST_USER = CONFIG.smtp.username
    EMAIL_HOST_PASSWORD = CONFIG.smtp.password
    EMAIL_USE_SSL = CONFIG.smtp.use_ssl
    EMAIL_USE_TLS = CONFIG.smtp.use_starttls
    EMAIL_TIMEOUT = CONFIG.smtp.timeout
else:
    EMAIL_BACKEND = "tertulia.governance.mail.OutboxBackend"
    EMAIL_FILE_PATH = str(CONFIG.outbox_path)

TERTULIA_LIVE_BROKER = "redis" if CONFIG.redis_url else "database"
TERTULIA_REDIS_URL = CONFIG.redis_url

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # HTTP clients log every request's URL at INFO; some networks put tokens in query strings.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "huey": {"level": "WARNING" if CONFIG.log_level == "INFO" else CONFIG.log_level},
    },
}
