"""Search must read the same on SQLite and PostgreSQL (`.ci/run` runs the suite on both)."""

import pytest
from django.urls import reverse

from catalog.models import Exercise

from .factories import make_exercise

pytestmark = pytest.mark.django_db


@pytest.fixture
def exercises():
    return {
        "rubezh": make_exercise(name_zh="鲁贝日-2008", name_en="Rubezh 2008", purpose_en="Counter-terrorism"),
        "kanal": make_exercise(name_zh="通道-2009", name_en="Kanal 2009", purpose_zh="打击毒品走私"),
        "cooperation": make_exercise(name_zh="协作-2015", name_en="Interaction 2015"),
    }


SEARCHES = [
    ("rubezh", {"rubezh"}),
    ("RUBEZH", {"rubezh"}),
    ("rUbEzH 20", {"rubezh"}),
    ("counter-TERRORISM", {"rubezh"}),
    ("鲁贝日", {"rubezh"}),
    ("毒品", {"kanal"}),
    ("20", {"rubezh", "kanal", "cooperation"}),
    ("协作-2015", {"cooperation"}),
    ("100%", set()),
    ("_", set()),
]


@pytest.mark.parametrize(("text", "found"), SEARCHES)
def test_case_insensitive_search_in_chinese_and_english(exercises, text, found):
    keys = {name: record.key for name, record in exercises.items()}
    matches = Exercise.objects.filter(name_en__icontains=text) | Exercise.objects.filter(
        name_zh__icontains=text
    )
    matches |= Exercise.objects.filter(purpose_en__icontains=text) | Exercise.objects.filter(
        purpose_zh__icontains=text
    )

    assert set(matches.values_list("key", flat=True)) == {keys[name] for name in found}


@pytest.mark.parametrize(("text", "found"), SEARCHES)
def test_admin_search_finds_the_same(admin_client, exercises, text, found):
    response = admin_client.get(reverse("admin:catalog_exercise_changelist"), {"q": text})

    assert response.status_code == 200
    assert {record.key for record in response.context["cl"].result_list} == {
        exercises[name].key for name in found
    }
