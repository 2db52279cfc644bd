"""Text an editor or an imported file can enter is shown as text everywhere, never run as markup."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import reverse
from django.utils import translation

from catalog.dates import PartialDateField
from catalog.models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    Source,
    State,
    Summit,
)

from .factories import make_citation, make_crisis, make_exercise, make_membership, make_milestone, make_summit

pytestmark = pytest.mark.django_db

PAYLOAD = """<script>alert("x")</script>'"><img src=x onerror=alert(1)>"""
RAW_MARKUP = ("<script>alert", "<img src=x")
ESCAPED = "&lt;script&gt;alert("

MODELS = (Source, State, Membership, ExerciseSeries, Exercise, Summit, Crisis, Milestone, Citation)


def free_text_fields(model):
    """Every text field an editor types freely: not keys, codes, choices, dates or URLs."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not isinstance(field, models.SlugField | models.URLField | PartialDateField)
        and not field.choices
        and field.name != "code"
        and field.editable
    ]


def hostile(record):
    for name in free_text_fields(type(record)):
        max_length = record._meta.get_field(name).max_length
        setattr(record, name, PAYLOAD[:max_length] if max_length else PAYLOAD)
    record.save()
    return record


@pytest.fixture
def hostile_catalog():
    kazakhstan = hostile(State.objects.create(code="KZ", name_zh="哈萨克斯坦", name_en="Kazakhstan"))
    series = hostile(ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh"))
    records = {
        "state": kazakhstan,
        "membership": hostile(make_membership(state=kazakhstan, key="kz-member")),
        "exerciseseries": series,
        "exercise": hostile(make_exercise(key="rubezh-2008", series=series, hosts=[kazakhstan], troops=4000)),
        "summit": hostile(make_summit(key="moscow-2009", host=kazakhstan, participants=[kazakhstan])),
        "crisis": hostile(make_crisis(key="kz-2022", states=[kazakhstan])),
        "milestone": hostile(make_milestone(key="treaty", states=[kazakhstan])),
    }
    for record in list(records.values()):
        citation = make_citation(record, field="date")
        hostile(citation.source)
        hostile(citation)
    records["source"] = Source.objects.first()
    records["citation"] = Citation.objects.first()
    return records


def assert_shown_as_text(response):
    assert response.status_code == 200
    html = response.content.decode()
    for markup in RAW_MARKUP:
        assert markup not in html
    assert ESCAPED in html


def test_every_kind_has_free_text_to_attack():
    assert {model.__name__: bool(free_text_fields(model)) for model in MODELS} == dict.fromkeys(
        (model.__name__ for model in MODELS), True
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "url_name",
    ["state_list", "membership_list", "summit_list", "exercise_list", "crisis_list", "source_list"],
)
def test_public_lists_show_entered_markup_as_text(client, hostile_catalog, url_name, language):
    with translation.override(language):
        url = reverse(f"catalog:{url_name}")
    assert_shown_as_text(client.get(url, {"q": PAYLOAD[:20]} if url_name == "exercise_list" else {}))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "kind", ["state", "membership", "exerciseseries", "exercise", "summit", "crisis", "milestone", "source"]
)
def test_public_detail_pages_show_entered_markup_as_text(client, hostile_catalog, kind, language):
    with translation.override(language):
        url = hostile_catalog[kind].get_absolute_url()
    assert_shown_as_text(client.get(url))


def test_the_timeline_and_home_show_entered_markup_as_text(client, hostile_catalog):
    assert_shown_as_text(client.get(reverse("catalog:timeline")))
    html = client.get(reverse("catalog:home")).content.decode()
    assert not any(markup in html for markup in RAW_MARKUP)


@pytest.mark.parametrize("kind", [model._meta.model_name for model in MODELS])
def test_admin_list_and_change_form_show_entered_markup_as_text(admin_client, hostile_catalog, kind):
    record = hostile_catalog[kind]
    changelist = admin_client.get(reverse(f"admin:catalog_{kind}_changelist"))
    assert changelist.status_code == 200
    assert not any(markup in changelist.content.decode() for markup in RAW_MARKUP)
    assert_shown_as_text(admin_client.get(reverse(f"admin:catalog_{kind}_change", args=[record.pk])))


def test_the_import_preview_shows_entered_markup_as_text(admin_client, hostile_catalog):
    content = f"key,name_zh,name_en,date\nnew-2010,演习,{json.dumps(PAYLOAD)},2010\n"
    upload = SimpleUploadedFile("exercises.csv", content.encode())
    response = admin_client.post(
        reverse("admin:catalog_exercise_import"), {"import_file": upload, "format": "1", "resource": "0"}
    )
    assert_shown_as_text(response)


def test_downloads_keep_entered_text_exactly_as_data(client, hostile_catalog):
    response = client.get(reverse("catalog:exercise_list"), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["name_en"] == PAYLOAD[: Exercise._meta.get_field("name_en").max_length]
    assert rows[0]["description_zh"] == PAYLOAD

    response = client.get(reverse("catalog:exercise_list"), {"format": "json"})
    records = json.loads(b"".join(response.streaming_content))
    assert records[0]["note_en"] == PAYLOAD
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
