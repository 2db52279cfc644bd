"""The shipped catalog itself: it loads, loads again without change, and says what the documents say."""

from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command

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

KINDS = (Source, State, Membership, ExerciseSeries, Exercise, Summit, Crisis, Milestone, Citation)
FIXTURES = sorted(Path(settings.BASE_DIR, "fixtures").glob("*.json"))


def snapshot():
    """Counts per kind and every value that matters, leaving out the last-changed stamps."""
    rows = {}
    for model in KINDS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "updated_at"]
        rows[model.__name__] = list(model.objects.order_by("pk").values_list(*fields))
    rows["exercise participants"] = sorted(
        Exercise.participants.through.objects.values_list("exercise_id", "state_id")
    )
    rows["crisis requests"] = sorted(Crisis.requested_by.through.objects.values_list("crisis_id", "state_id"))
    return rows


def test_all_fixtures_load_in_one_loaddata_call_into_an_empty_database(db):
    assert [path.name for path in FIXTURES][0] == "01_sources.json"

    call_command("loaddata", *map(str, FIXTURES), verbosity=0)

    assert Source.objects.count() == 5
    assert State.objects.count() == 16
    assert Citation.objects.count() > State.objects.count()


def test_loading_the_fixtures_twice_changes_nothing(db):
    call_command("loaddata", *map(str, FIXTURES), verbosity=0)
    first = snapshot()

    call_command("loaddata", *map(str, FIXTURES), verbosity=0)

    assert snapshot() == first
    assert sum(len(rows) for rows in first.values()) > 400


def test_the_shipped_catalog_passes_check_catalog(shipped_catalog, capsys):
    call_command("check_catalog")

    out = capsys.readouterr().out
    assert "problems" in out
    assert ": 0 problems." in out


def test_each_source_names_its_document_and_only_certain_urls(shipped_catalog):
    sources = {source.key: source for source in Source.objects.all()}

    assert {source.document for source in sources.values()} == {
        "000_3051c4fd7656dad0.txt",
        "001_fecb3f472d808dc7.txt",
        "002_58fc07a424610916.txt",
        "003_48c2098024739996.txt",
        "004_955d0fc9168baf6f.txt",
    }
    # The Chinese Wikipedia article's address follows from its title; the news articles' are not known.
    article = "https://zh.wikipedia.org/wiki/" + quote("集体安全条约组织")
    assert {key: source.url for key, source in sources.items() if source.url} == {
        "zh-wikipedia-csto-shorter": article,
        "zh-wikipedia-csto-longer": article,
    }
    assert sources["aljazeera-2022-01-07"].published == "2022-01-07"
    assert sources["encyclopedia-csto-role-zh-hant"].publisher == ""
    assert sources["encyclopedia-csto-role-zh-hant"].language == "zh-hant"


def test_every_record_has_names_and_descriptions_in_both_languages(shipped_catalog):
    for model in (State, ExerciseSeries, Exercise, Summit, Crisis, Milestone):
        for record in model.objects.all():
            assert record.name_zh and record.name_en, record
            assert record.description_zh and record.description_en, record
    for membership in Membership.objects.all():
        assert membership.note_zh and membership.note_en, membership


def test_uzbekistan_signed_in_1992_left_in_1999_rejoined_in_2006_and_left_in_2012(shipped_catalog):
    periods = list(
        Membership.objects.filter(state__code="UZ").order_by("start").values_list("role", "start", "end")
    )

    assert periods == [
        ("founding_signatory", "1992-05-15", "1999"),
        ("member", "2006-06-23", "2012-06-28"),
    ]


def test_uzbekistans_2012_exit_keeps_both_the_suspension_and_the_withdrawal_claims(shipped_catalog):
    membership = Membership.objects.get(key="uz-member-2006")
    quotes = [citation.quote for citation in Citation.objects.for_record(membership).filter(field="end")]

    assert any("暂停其在该组织的成员资格" in quote for quote in quotes)
    assert any("决定退出该组织的照会" in quote for quote in quotes)
    assert "suspended" in membership.note_en and "withdrew" in membership.note_en


def test_the_2022_kazakhstan_deployment_is_2500_strong_at_tokayevs_request(shipped_catalog):
    crisis = Crisis.objects.get(key="kazakhstan-2022")

    assert crisis.response == "deployed"
    assert crisis.troops_deployed == 2500
    assert crisis.start == "2022-01"
    assert list(crisis.requested_by.values_list("code", flat=True)) == ["KZ"]
    assert (
        Citation.objects.for_record(crisis).filter(field="troops_deployed", quote__contains="2500").count()
        == 2
    )


def test_rubezh_2008_was_held_in_armenia_with_4000_troops(shipped_catalog):
    exercise = Exercise.objects.get(key="rubezh-2008")

    assert exercise.series.key == "rubezh"
    assert exercise.date == "2008-07"
    assert exercise.troops == 4000
    assert list(exercise.hosts.values_list("code", flat=True)) == ["AM"]
    assert exercise.participants.count() == 7
    assert {citation.source.key for citation in Citation.objects.for_record(exercise)} == {
        "aljazeera-2022-01-07",
        "zh-wikipedia-csto-longer",
    }


def test_the_2010_kyrgyz_requests_were_declined(shipped_catalog):
    clashes = Crisis.objects.get(key="kyrgyzstan-june-2010")

    assert clashes.response == "declined"
    assert clashes.troops_deployed is None
    assert list(clashes.requested_by.values_list("code", flat=True)) == ["KG"]
    assert "奥通巴耶娃" in clashes.requesters_zh
    assert Crisis.objects.filter(start__startswith="2010", response="deployed").exists() is False


@pytest.mark.parametrize(
    ("code", "role"),
    [("AF", "observer"), ("RS", "observer"), ("IR", "candidate"), ("SA", "candidate"), ("SY", "candidate")],
)
def test_observers_and_candidates_inferred_from_the_wiki_tables_say_so(shipped_catalog, code, role):
    membership = Membership.objects.get(state__code=code, role=role)

    assert "table" in membership.note_en
    assert "row" in State.objects.get(code=code).note_en


def test_the_two_2011_troop_counts_are_both_cited(shipped_catalog):
    exercise = Exercise.objects.get(key="largest-exercise-2011")
    quotes = [citation.quote for citation in Citation.objects.for_record(exercise)]

    assert exercise.troops == 10000
    assert exercise.aircraft == 70
    assert any("1万多" in quote for quote in quotes)
    assert any("10000多" in quote for quote in quotes)
