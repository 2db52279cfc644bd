import pytest
from django.conf import settings
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
