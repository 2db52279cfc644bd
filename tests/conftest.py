import pytest
from django.core.management import call_command


@pytest.fixture
def shipped_catalog(db):
    """The whole catalog from fixtures/, for the tests that are about the catalog itself."""
    call_command("load_catalog", verbosity=0)
