"""Settings for the test suite: production settings with a fixed throwaway key, plain static
storage (the manifest storage answers 404 under a live test server) and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-for-the-test-suite-only")

from django.db.models import FETCH_RAISE  # noqa: E402

from .settings import *  # noqa: E402,F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files straight from the app and project folders: no collectstatic in tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests change settings and data freely: pages are rendered every time unless a test asks for the cache.
CACHES = {
    **CACHES,  # noqa: F405
    "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}

# A public page that reads a relation it did not load up front fails its test.
PUBLIC_FETCH_MODE = FETCH_RAISE

# Facet counts, results and searches are not given up on a busy test machine: the tests of the
# time limits set their own.
PUBLIC_FACET_TIME_LIMIT_MS = PUBLIC_RESULTS_TIME_LIMIT_MS = 60_000
PUBLIC_SEARCH_TIME_LIMIT_MS = PUBLIC_SEARCH_ONE_KIND_TIME_LIMIT_MS = 60_000

# On PostgreSQL no statement of the suite may run for minutes: a plan gone wrong fails its test
# instead of stalling the run.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c statement_timeout=120000"  # noqa: F405
