import importlib

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import translation

from catalog.models import Exercise, Source

from .factories import make_exercise, make_source

pytestmark = pytest.mark.django_db

groups_migration = importlib.import_module("catalog.migrations.0004_editor_and_reviewer_groups")

CATALOG_MODELS = [
    "state",
    "membership",
    "summit",
    "exerciseseries",
    "exercise",
    "crisis",
    "milestone",
    "organizationfact",
    "source",
    "citation",
    "photo",
]
HISTORICAL_MODELS = [f"historical{model}" for model in CATALOG_MODELS]

ADMIN_LOGIN_ERROR = (
    "Please enter the correct username and password for a staff account. "
    "Note that both fields may be case-sensitive."
)


def codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def staff_in(django_user_model, group_name, username):
    user = django_user_model.objects.create_user(username, password=f"{username}-password", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_editors_may_do_everything_to_the_catalog_but_delete_sources():
    expected = {
        f"{action}_{model}"
        for model in CATALOG_MODELS + HISTORICAL_MODELS
        for action in ("view", "add", "change", "delete")
    } - {"delete_source", "delete_historicalsource"}

    assert codenames("Editors") == expected


def test_reviewers_may_only_view():
    assert codenames("Reviewers") == {f"view_{model}" for model in CATALOG_MODELS + HISTORICAL_MODELS}


def test_neither_group_may_touch_accounts_or_groups():
    for name in ("Editors", "Reviewers"):
        apps_granted = set(
            Group.objects.get(name=name).permissions.values_list("content_type__app_label", flat=True)
        )
        assert apps_granted == {"catalog"}


def test_creating_the_groups_again_changes_nothing():
    before = {name: codenames(name) for name in ("Editors", "Reviewers")}

    groups_migration.create_groups(apps, schema_editor=None)
    groups_migration.create_groups(apps, schema_editor=None)

    assert Group.objects.filter(name__in=["Editors", "Reviewers"]).count() == 2
    assert {name: codenames(name) for name in ("Editors", "Reviewers")} == before


def test_groups_are_created_with_their_permissions_on_an_empty_permission_table():
    Group.objects.all().delete()
    Permission.objects.filter(content_type__app_label="catalog").delete()

    groups_migration.create_groups(apps, schema_editor=None)

    assert "change_exercise" in codenames("Editors")
    assert "view_photo" in codenames("Reviewers")


def test_editor_changes_and_deletes_records_but_not_sources(client, django_user_model):
    client.force_login(staff_in(django_user_model, "Editors", "editor"))
    exercise, source = make_exercise(), make_source()

    assert client.get(reverse("admin:catalog_exercise_add")).status_code == 200
    assert client.get(reverse("admin:catalog_exercise_delete", args=[exercise.pk])).status_code == 200
    assert client.get(reverse("admin:catalog_source_change", args=[source.pk])).status_code == 200
    assert client.get(reverse("admin:catalog_source_delete", args=[source.pk])).status_code == 403
    response = client.post(reverse("admin:catalog_source_delete", args=[source.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()
    client.post(reverse("admin:catalog_exercise_delete", args=[exercise.pk]), {"post": "yes"})
    assert not Exercise.objects.filter(pk=exercise.pk).exists()


@pytest.mark.parametrize("group_name", ["Editors", "Reviewers"])
def test_editors_and_reviewers_cannot_manage_accounts(client, django_user_model, group_name):
    client.force_login(staff_in(django_user_model, group_name, "someone"))

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_reviewer_reads_but_cannot_add_or_change(client, django_user_model):
    client.force_login(staff_in(django_user_model, "Reviewers", "reviewer"))
    exercise = make_exercise(name_en="Rubezh 2008")
    change_url = reverse("admin:catalog_exercise_change", args=[exercise.pk])

    page = client.get(change_url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.get(reverse("admin:catalog_exercise_add")).status_code == 403
    response = client.post(
        change_url, {"key": exercise.key, "name_zh": "x", "name_en": "Changed", "date": "2008"}
    )
    assert response.status_code == 403
    exercise.refresh_from_db()
    assert exercise.name_en == "Rubezh 2008"


@pytest.mark.parametrize("group_name", ["Editors", "Reviewers"])
def test_export_needs_view_and_import_needs_add(django_user_model, group_name):
    user = staff_in(django_user_model, group_name, "someone")

    assert user.has_perm("catalog.view_exercise") is True
    assert user.has_perm("catalog.add_exercise") is (group_name == "Editors")


@pytest.mark.parametrize("url_name", ["admin:index", "admin:catalog_exercise_changelist"])
def test_admin_needs_a_staff_login(client, django_user_model, url_name):
    url = reverse(url_name)
    anonymous = client.get(url)
    client.force_login(django_user_model.objects.create_user("reader", password="reader-password"))
    not_staff = client.get(url)

    for response in (anonymous, not_staff):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def login(client, username, password):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR="203.0.113.7",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_login_failure_for_an_unknown_user_reads_as_for_a_wrong_password(client, django_user_model):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)

    unknown = login(client, "nobody", "whatever")
    wrong = login(client, "editor", "wrong-password")

    assert unknown.status_code == wrong.status_code == 200
    with translation.override("en"):
        assert unknown.context["form"].non_field_errors() == [ADMIN_LOGIN_ERROR]
        assert wrong.context["form"].non_field_errors() == [ADMIN_LOGIN_ERROR]


@pytest.mark.parametrize("username", ["editor", "nobody"])
def test_repeated_failed_logins_are_locked_out_alike_for_known_and_unknown_users(
    client, django_user_model, settings, username
):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)
    password = "right-password" if username == "editor" else "whatever"

    failures = [
        login(client, username, "wrong-password").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    locked = login(client, username, password)

    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"too many" in locked.content.lower()


def test_a_lockout_holds_one_address_and_username_only(client, django_user_model, settings):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "editor", "wrong-password")

    from_elsewhere = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "right-password", "next": reverse("admin:index")},
        REMOTE_ADDR="198.51.100.9",
    )

    assert from_elsewhere.status_code == 302
    assert client.session["_auth_user_id"]


def test_failed_logins_of_earlier_tests_are_forgotten(client, django_user_model):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)

    assert AccessAttempt.objects.count() == 0
    assert login(client, "editor", "right-password").status_code == 302


def test_a_successful_login_resets_the_failure_count(client, django_user_model, settings):
    django_user_model.objects.create_user("editor", password="right-password", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "editor", "wrong-password")

    assert login(client, "editor", "right-password").status_code == 302
    client.logout()
    assert login(client, "editor", "wrong-password").status_code == 200
