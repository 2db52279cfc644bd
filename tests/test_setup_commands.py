import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import State

from .factories import make_state

pytestmark = pytest.mark.django_db


def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_admin_account_takes_its_password_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-chosen-password")
    call_command("ensure_admin")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("a-long-chosen-password")
    assert "a-long-chosen-password" not in capsys.readouterr().out


def test_without_a_given_password_a_random_one_is_printed_once(monkeypatch, capsys):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    call_command("ensure_admin")
    printed = capsys.readouterr().out
    password = printed.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)

    call_command("ensure_admin")
    again = capsys.readouterr().out
    assert password not in again
    assert "already exists" in again
    assert get_user_model().objects.get(username="admin").check_password(password)


@pytest.fixture
def fixtures_dir(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    (tmp_path / "fixtures").mkdir()
    state = {
        "model": "catalog.state",
        "pk": 1,
        "fields": {"code": "AM", "name_zh": "亚美尼亚", "name_en": "Armenia"},
    }
    (tmp_path / "fixtures" / "02_states.json").write_text(json.dumps([state]), encoding="utf-8")
    return tmp_path / "fixtures"


def test_the_catalog_loads_into_an_empty_database(fixtures_dir, capsys):
    call_command("load_catalog")
    assert list(State.objects.values_list("code", flat=True)) == ["AM"]
    assert "Loaded 1 catalog records from 1 fixtures." in capsys.readouterr().out


def test_the_catalog_never_loads_over_editors_changes(fixtures_dir, capsys):
    call_command("load_catalog")
    State.objects.filter(code="AM").update(name_en="Republic of Armenia")
    call_command("load_catalog")
    assert State.objects.get(code="AM").name_en == "Republic of Armenia"
    assert State.objects.count() == 1
    assert "fixtures not loaded" in capsys.readouterr().out


def test_replace_starts_the_catalog_over(fixtures_dir):
    make_state("KZ")
    call_command("load_catalog", replace=True)
    assert list(State.objects.values_list("code", flat=True)) == ["AM"]
