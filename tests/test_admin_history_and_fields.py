"""Editors: a freshly loaded record's first edit can be reverted to the loaded state, the history
shows whole diffs and no "None", reasons in the editor's language; "supports field" is a choice
of the record's fields; the export page shows no template comment."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from catalog.models import Exercise, Milestone, State

from .admin_forms import admin_form_data, formset_prefix
from .factories import make_citation, make_exercise, make_state

pytestmark = pytest.mark.django_db


def change_url(record):
    return reverse(f"admin:catalog_{record._meta.model_name}_change", args=[record.pk])


def history_url(record, language=""):
    prefix = f"/{language}" if language else ""
    return prefix + reverse(f"admin:catalog_{record._meta.model_name}_history", args=[record.pk])


def test_every_loaded_record_has_a_first_version(shipped_catalog):
    for model in (State, Exercise, Milestone):
        assert model.history.filter(history_type="+").count() == model.objects.count() > 0


def test_first_admin_edit_of_a_loaded_record_can_be_reverted_to_the_loaded_state(
    admin_client, shipped_catalog
):
    milestone = Milestone.objects.get(key="treaty-signed")
    loaded_name = milestone.name_en
    page = admin_client.get(change_url(milestone))
    data = admin_form_data(page)
    data["name_en"] = "Meeting of the heads of state in Tashkent, with a long name for the diff"
    assert admin_client.post(change_url(milestone), data).status_code == 302

    versions = list(admin_client.get(history_url(milestone, "en")).context["page_obj"])
    assert [version.history_type for version in versions] == ["~", "+"]
    changes = [(str(c["field"]), c["old"], c["new"]) for c in versions[0].history_delta_changes]
    assert changes == [
        (
            "Name (English)",
            loaded_name,
            "Meeting of the heads of state in Tashkent, with a long name for the diff",
        )
    ]

    revert_url = reverse("admin:catalog_milestone_simple_history", args=[milestone.pk, versions[1].pk])
    page = admin_client.get(revert_url)
    response = admin_client.post(revert_url, {**admin_form_data(page), "_save": "Revert"})
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.name_en == loaded_name


def test_history_shows_long_changes_whole_and_no_none_for_a_missing_reason(admin_client):
    exercise = make_exercise(
        description_en="Meeting of the defence ministers on the collective forces' information"
    )
    page = admin_client.get(change_url(exercise))
    data = {
        **admin_form_data(page),
        "description_en": "Meeting of the foreign ministers on the collective forces' information",
    }
    admin_client.post(change_url(exercise), data)

    html = admin_client.get(history_url(exercise, "en")).content.decode()
    assert "chars]" not in html
    assert "Meeting of the foreign ministers on the collective forces&#x27; information" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html.split('id="change-history"')[1], flags=re.S)[1:]
    reasons = [re.sub(r"\s+", " ", re.findall(r"<td>(.*?)</td>", row, flags=re.S)[4]).strip() for row in rows]
    assert reasons == ["", ""]


def test_revert_reason_is_in_the_editors_language(admin_client):
    exercise = make_exercise(troops=1000)
    Exercise.objects.filter(pk=exercise.pk).update(troops=5)
    exercise.refresh_from_db()
    exercise.save()
    first = exercise.history.earliest("history_date")
    revert_url = reverse("admin:catalog_exercise_simple_history", args=[exercise.pk, first.pk])
    page = admin_client.get(revert_url)
    admin_client.post(revert_url, {**admin_form_data(page), "_save": "Revert"})
    reason = exercise.history.latest("history_date").history_change_reason
    assert reason == f"已恢复到 {first.history_date:%Y-%m-%d %H:%M:%S} UTC 的版本"


def test_supports_field_offers_the_fields_of_the_records_kind_in_the_editors_language(admin_client):
    state = make_state("KZ")
    citation = make_citation(state, field="parliament_zh")
    legacy = make_citation(state, field="old_name", quote="另一段")
    with translation.override("en"):
        page = admin_client.get(change_url(state))
    prefix = formset_prefix(page, type(citation))
    forms = page.context["inline_admin_formsets"][1].formset.forms
    choices = dict(forms[0].fields["field"].choices)
    html = page.content.decode()
    assert '<option value="parliament_zh" selected>Ratifying parliament (Chinese)</option>' in html
    assert '<option value="">(the record as a whole)</option>' in html
    assert "troops" not in choices and "key" not in choices
    assert dict(forms[1].fields["field"].choices)["old_name"] == "old_name"  # still valid as it stands
    data = admin_form_data(page)
    assert data[f"{prefix}-0-field"] == "parliament_zh"
    data[f"{prefix}-0-field"] = "troops"
    response = admin_client.post(change_url(state), data)
    assert response.status_code == 200  # refused: a state has no troops
    citation.refresh_from_db()
    assert citation.field == "parliament_zh"
    assert legacy.field == "old_name"
    with translation.override("zh-hans"):
        chinese = admin_client.get(change_url(state))
    chinese_choices = dict(
        chinese.context["inline_admin_formsets"][1].formset.forms[0].fields["field"].choices
    )
    assert "parliament_zh" in chinese_choices
    assert '<option value="parliament_zh" selected>批准议会（中文）</option>' in chinese.content.decode()


def test_citation_admin_checks_the_field_against_the_chosen_kind(admin_client):
    exercise = make_exercise()
    citation = make_citation(exercise, field="troops")
    url = reverse("admin:catalog_citation_change", args=[citation.pk])
    data = {**admin_form_data(admin_client.get(url)), "field": "parliament_zh"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "field" in response.context["adminform"].form.errors


def test_export_page_shows_no_template_comment(admin_client):
    html = admin_client.get(reverse("admin:catalog_exercise_export")).content.decode()
    assert "{#" not in html and "#}" not in html
