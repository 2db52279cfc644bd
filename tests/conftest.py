import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.utils import translation


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's default language: a request or an override in one test
    must not decide the language (and the URL prefixes) of the next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def shipped_catalog(db):
    """The whole catalog from fixtures/, for the tests that are about the catalog itself."""
    call_command("load_catalog", verbosity=0)


@pytest.fixture
def page_cache(settings):
    """The public page cache as production has it by default (the suite otherwise runs without)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-pages"},
    }
    caches["pages"].clear()
    yield caches["pages"]
    caches["pages"].clear()
