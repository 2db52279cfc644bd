import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from catalog.models import Exercise

from .admin_forms import admin_form_data
from .factories import make_exercise

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("editor", password="editor-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def edit_in_admin(client, record, **changes):
    url = reverse("admin:catalog_exercise_change", args=[record.pk])
    data = admin_form_data(client.get(url))
    data.update({name: str(value) for name, value in changes.items()})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def history_page(client, record):
    return client.get(reverse("admin:catalog_exercise_history", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="en")


def test_history_page_lists_each_version_with_its_author_and_changed_fields(editor_client, editor):
    exercise = make_exercise(name_en="Rubezh 2008", troops=1000)
    edit_in_admin(editor_client, exercise, troops=4000, name_en="Rubezh-2008")

    response = history_page(editor_client, exercise)

    assert response.status_code == 200
    records = list(response.context["page_obj"])
    assert [record.history_type for record in records] == ["~", "+"]
    assert records[0].history_user == editor
    assert records[1].history_user is None  # created by code, not in the admin
    with translation.override("en"):
        changes = {(str(c["field"]), str(c["old"]), str(c["new"])) for c in records[0].history_delta_changes}
    assert changes == {("Troops", "1000", "4000"), ("Name (English)", "Rubezh 2008", "Rubezh-2008")}
    html = response.content.decode()
    assert ">editor</a>" in html
    with translation.override(response["Content-Language"]):
        troops = capfirst(Exercise._meta.get_field("troops").verbose_name)
        assert f"<strong>{troops}:</strong>" in html


def test_unchanged_fields_are_not_listed_as_changes(editor_client):
    exercise = make_exercise(troops=1000, aircraft=12)
    edit_in_admin(editor_client, exercise, troops=1500)

    record = history_page(editor_client, exercise).context["page_obj"][0]

    with translation.override("en"):
        assert [str(change["field"]) for change in record.history_delta_changes] == ["Troops"]


def test_editor_reverts_a_record_to_an_earlier_version(editor_client, editor):
    exercise = make_exercise(troops=1000, purpose_zh="维和")
    edit_in_admin(editor_client, exercise, troops=4000, purpose_zh="反恐")
    first_version = exercise.history.earliest("history_date")
    revert_url = reverse("admin:catalog_exercise_simple_history", args=[exercise.pk, first_version.pk])

    page = editor_client.get(revert_url)
    assert page.status_code == 200
    assert page.context["adminform"].form["troops"].value() == 1000
    response = editor_client.post(revert_url, {**admin_form_data(page), "_save": "Revert"})

    assert response.status_code == 302
    exercise.refresh_from_db()
    assert (exercise.troops, exercise.purpose_zh) == (1000, "维和")
    latest = exercise.history.latest("history_date")
    assert (latest.history_type, latest.history_user, latest.troops) == ("~", editor, 1000)
    assert exercise.history.count() == 3


def test_reviewer_sees_the_history_but_cannot_revert(client, django_user_model):
    reviewer = django_user_model.objects.create_user("reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(reviewer)
    exercise = make_exercise(troops=1000)
    version = exercise.history.get()
    revert_url = reverse("admin:catalog_exercise_simple_history", args=[exercise.pk, version.pk])

    assert history_page(client, exercise).status_code == 200
    page = client.get(revert_url)
    assert page.context["revert_disabled"] is True
    # A complete, valid form: simple-history alone would save it for a view-only user.
    response = client.post(revert_url, {**admin_form_data(page), "troops": "5", "_save": "Revert"})

    assert response.status_code == 403
    exercise.refresh_from_db()
    assert exercise.troops == 1000


def test_reverting_stays_enabled_in_settings():
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is False


def test_history_page_has_no_inline_style(admin_client):
    exercise = make_exercise()
    Exercise.objects.filter(pk=exercise.pk).update(troops=10)

    html = history_page(admin_client, exercise).content.decode()

    assert 'id="change-history"' in html
    assert "style=" not in html


def test_an_admin_edit_an_import_and_a_revert_each_leave_a_version_with_user_and_reason(
    editor_client, editor
):
    exercise = make_exercise(key="rubezh-2008", name_zh="防线-2008", name_en="Rubezh 2008", troops=1000)
    edit_in_admin(editor_client, exercise, troops=4000)

    sheet = "key,name_zh,name_en,date,troops\nrubezh-2008,防线-2008,Rubezh 2008,2008-07,4500\n"
    upload = SimpleUploadedFile("exercises-fix.csv", sheet.encode())
    preview = editor_client.post(
        reverse("admin:catalog_exercise_import"), {"import_file": upload, "format": "1", "resource": "0"}
    )
    confirm = editor_client.post(
        reverse("admin:catalog_exercise_process_import"), preview.context["confirm_form"].initial
    )
    assert confirm.status_code == 302
    exercise.refresh_from_db()
    assert exercise.troops == 4500

    admin_version = exercise.history.get(troops=4000)
    revert_url = reverse("admin:catalog_exercise_simple_history", args=[exercise.pk, admin_version.pk])
    page = editor_client.get(revert_url)
    editor_client.post(revert_url, {**admin_form_data(page), "_save": "Revert"})
    exercise.refresh_from_db()
    assert exercise.troops == 4000

    versions = list(history_page(editor_client, exercise).context["page_obj"])
    # Reverted in the Chinese admin (/admin/), so the reason is in Chinese.
    reverted_to = f"已恢复到 {admin_version.history_date:%Y-%m-%d %H:%M:%S} UTC 的版本"
    assert [(v.troops, v.history_user, v.history_change_reason) for v in versions] == [
        (4000, editor, reverted_to),
        (4500, editor, "Imported from exercises-fix.csv"),
        (4000, editor, None),
        (1000, None, None),
    ]
    html = history_page(editor_client, exercise).content.decode()
    assert reverted_to in html
    assert "Imported from exercises-fix.csv" in html
