"""Settings for cstosite, read from the environment.

Development is the default: `DJANGO_DEBUG=1` with no secret key gives a throwaway key.
Outside debug every required variable must be set, or start-up fails loudly.
Variables are documented in `.env.example`.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.db.models import FETCH_PEERS
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it, or set DJANGO_DEBUG=1 for local development."
        )
    # A fresh random key per process is enough for development: sessions do not survive restarts.
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
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
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django_countries",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its own response.
    "axes.middleware.AxesMiddleware",
]

# django-axes watches every login through the first backend; the second one authenticates.
AUTHENTICATION_BACKENDS = [
    "cstosite.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cstosite.urls"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

WSGI_APPLICATION = "cstosite.wsgi.application"

# A blank DATABASE_URL is taken as unset, as CACHE_URL is (dj-database-url gives it no engine).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as a web server's database: write-ahead logging lets readers go on while an import
    # writes; a writer waits up to `timeout` seconds for another instead of failing at once; and
    # a transaction takes the write lock when it begins (IMMEDIATE), so two transactions never
    # both read and then fail to upgrade to writing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese (simplified) at unprefixed URLs, English under /en/.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Chinese (simplified)")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "catalog" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded images. Served by Django only in debug; in production the web server serves
# MEDIA_ROOT at MEDIA_URL (docs/deploying.md).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Uploads larger than this are streamed to a temporary file rather than kept in memory; the
# image validator rejects anything over 5 MB anyway (catalog/images.py).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o644

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Public pages (and list facet counts) are cached keyed by the catalog's version
# (catalog/caching.py), so a change shows at once; the timeout only bounds memory held for pages
# nobody asks for again. Per process by default; CACHE_URL (redis://host:port/db) shares one
# Redis between every server and worker.
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL.")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "cstosite",
        }
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "public-pages",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    ),
}
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("DJANGO_PAGE_CACHE_SECONDS", "600"))
# A list's facet counts are kept apart from its pages: every page and sort of a filter reads them
# from here, even the pages that are not stored (0 counts them on every request).
PUBLIC_FACET_CACHE_SECONDS = int(os.environ.get("DJANGO_FACET_CACHE_SECONDS", "600"))
# A page larger than this is served but not stored (2,000 entries of it bound a worker's cache).
PUBLIC_PAGE_CACHE_MAX_BYTES = int(os.environ.get("DJANGO_PAGE_CACHE_MAX_BYTES", 512 * 1024))
# Facet counts on the lists that take longer are left out, and the page says so (0: never counted).
PUBLIC_FACET_TIME_LIMIT_MS = int(os.environ.get("DJANGO_FACET_TIME_LIMIT_MS", "200"))
# Counts left out are tried again after this long, since a cold start (a new worker, a database
# not yet in memory) may be what made them slow: neither the answer nor the page without them is
# kept longer than this.
PUBLIC_FACET_RETRY_SECONDS = int(os.environ.get("DJANGO_FACET_RETRY_SECONDS", "60"))
# Once the counts were left out, a list's results are read (up to 10,000, in the order of the sort)
# for no longer than this; past it the page shows none and says so, as the counts' limit and this
# one keep a list within a second at any size of the catalog.
PUBLIC_RESULTS_TIME_LIMIT_MS = int(os.environ.get("DJANGO_RESULTS_TIME_LIMIT_MS", "500"))
# The search of every kind at once stops after this long in the database and names the kinds it
# did not get to; a search of one kind has the second limit.
PUBLIC_SEARCH_TIME_LIMIT_MS = int(os.environ.get("DJANGO_SEARCH_TIME_LIMIT_MS", "60"))
PUBLIC_SEARCH_ONE_KIND_TIME_LIMIT_MS = int(os.environ.get("DJANGO_SEARCH_ONE_KIND_TIME_LIMIT_MS", "1000"))

# A relation the public pages did not load up front is read for a whole page of records at once
# (one query, not one per row); the test suite raises instead, so a missed join is a failure.
PUBLIC_FETCH_MODE = FETCH_PEERS

# Security headers. Inline scripts and styles are not allowed on any page we render.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# DJANGO_HTTPS=1 behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/deploying.md).
if env_flag("DJANGO_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

# Failed logins: after AXES_FAILURE_LIMIT failures for one username from one address, further
# attempts get 429 until the cool-off ends. The count lives in the database (reset by a
# successful login, or `manage.py axes_reset`).
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind a reverse proxy every request comes from the proxy's address: DJANGO_PROXY_COUNT=1
# makes the address the proxy appended to X-Forwarded-For count instead.
PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "cstosite.auth_backends.client_ip"

# Edit history: the admin history page lists each version with its author and changed fields;
# editors may revert to any version.
SIMPLE_HISTORY_REVERT_DISABLED = False
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = False

# django-import-export: validate every row through the model, and wrap an import in one
# transaction so a file with any invalid row writes nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
CATALOG_IMPORT_MAX_BYTES = int(os.environ.get("CATALOG_IMPORT_MAX_BYTES", 10 * 1024 * 1024))
CATALOG_IMPORT_MAX_ROWS = int(os.environ.get("CATALOG_IMPORT_MAX_ROWS", 200_000))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
