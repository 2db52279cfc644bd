"""The shipped catalog itself: it loads, loads again without change, and says what the documents say."""

from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from catalog.models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    FactTopic,
    Membership,
    Milestone,
    OrganizationFact,
    Source,
    State,
    Summit,
)

KINDS = (
    Source,
    State,
    Membership,
    ExerciseSeries,
    Exercise,
    Summit,
    Crisis,
    Milestone,
    OrganizationFact,
    Citation,
)
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
    assert State.objects.count() == 18
    assert Citation.objects.count() > State.objects.count()


def test_loading_the_fixtures_twice_changes_nothing(db):
    call_command("loaddata", *map(str, FIXTURES), verbosity=0)
    first = snapshot()

    call_command("loaddata", *map(str, FIXTURES), verbosity=0)

    assert snapshot() == first
    assert sum(len(rows) for rows in first.values()) > 400


def test_the_shipped_catalog_passes_check_catalog_showing_only_the_two_role_disagreements(
    shipped_catalog, capsys
):
    call_command("check_catalog")

    out = capsys.readouterr().out
    assert ": 0 problems." in out
    assert "2 disagreements shown on purpose" in out
    assert "membership az-signatory-1993, role = member: a table citation says founding_signatory" in out
    assert "membership ge-signatory-1993, role = member: a table citation says founding_signatory" in out


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
    for model in (State, ExerciseSeries, Exercise, Summit, Crisis, Milestone, OrganizationFact):
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


def quotes_of(record, **filters):
    return [citation.quote for citation in Citation.objects.for_record(record).filter(**filters)]


def test_the_kyrgyz_tajik_clash_of_spring_2021_is_a_crisis_the_organization_ignored(shipped_catalog):
    crisis = Crisis.objects.get(key="kyrgyz-tajik-border-2021")

    assert crisis.start == "2021"
    assert crisis.response == "no_response"
    assert sorted(crisis.states.values_list("code", flat=True)) == ["KG", "TJ"]
    assert crisis.requested_by.exists() is False
    assert any("去年春天" in quote and "被该组织忽视" in quote for quote in quotes_of(crisis, field="start"))
    assert "curator's inference" in crisis.note_en and "编者推断" in crisis.note_zh


def test_the_belarus_russia_rift_of_2010_has_its_gas_cut_documentary_and_remarks(shipped_catalog):
    crisis = Crisis.objects.get(key="belarus-russia-rift-2010")
    quotes = " ".join(quotes_of(crisis))

    assert crisis.start == "2010-04"
    assert crisis.response == "not_asked"
    assert sorted(crisis.states.values_list("code", flat=True)) == ["BY", "RU"]
    for words in ("削减对白俄罗斯的天然气供应", "NTV播放了一部纪录片", "这是什么样的组织", "真正的伙伴关系"):
        assert words in quotes


@pytest.mark.parametrize(
    ("model", "key", "words"),
    [
        (ExerciseSeries, "command-exercises", "每年举行军事指挥演习"),
        (ExerciseSeries, "air-defence-exercises", "聯合防空的10個國家"),
        (Milestone, "assistance-exercise-plan-2007", "三个级别"),
    ],
)
def test_the_missing_exercises_and_the_2007_plan_are_recorded_with_their_quotes(
    shipped_catalog, model, key, words
):
    record = model.objects.get(key=key)

    assert any(words in quote for quote in quotes_of(record))
    assert all(citation.translation_en for citation in Citation.objects.for_record(record))


def test_turkmenistan_the_united_states_and_moldova_have_records_by_the_same_rule(shipped_catalog):
    assert set(Milestone.objects.get(key="central-asia-nwfz-2006").states.values_list("code", flat=True)) == {
        "KG",
        "TJ",
        "UZ",
        "TM",
        "KZ",
    }
    assert list(Milestone.objects.get(key="iraq-statement-2004").states.values_list("code", flat=True)) == [
        "US"
    ]
    assert Milestone.objects.get(key="uzbekistan-joins-guam").states.filter(code="MD").exists()
    for code in ("TM", "US", "MD"):
        state = State.objects.get(code=code)
        assert "README" in state.note_en and state.note_zh
        assert state.memberships.exists() is False


@pytest.mark.parametrize(
    ("key", "other_side"),
    [("az-signatory-1993", "創始國，已退出"), ("ge-signatory-1993", "創始國，計畫加入")],
)
def test_azerbaijan_and_georgia_take_the_role_of_the_prose_and_keep_the_table_as_competing(
    shipped_catalog, key, other_side
):
    membership = Membership.objects.get(key=key)
    role_citations = Citation.objects.for_record(membership).filter(field="role")

    assert membership.role == "member"
    assert role_citations.filter(section="歷史", quote__contains="加入此条约").count() == 1
    table = role_citations.get(quote=other_side)
    assert table.section.endswith("› 表格")
    assert table.note_en and table.note_zh


def test_belarus_is_a_member_since_1993_in_one_period(shipped_catalog):
    periods = list(Membership.objects.filter(state__code="BY").values_list("key", "role", "start", "end"))

    assert periods == [("by-signatory-1993", "member", "1993", "")]
    assert Membership.objects.get(key="by-signatory-1993").charter_ratified == "2002-05-14"
    assert Membership.objects.filter(role="founding_signatory", start="1993").exists() is False


def test_the_first_time_claim_for_kazakhstan_2022_is_shown_against_the_earlier_crises(shipped_catalog):
    crisis = Crisis.objects.get(key="kazakhstan-2022")
    disputed = list(Citation.objects.for_record(crisis).filter(field="description", note_en__gt=""))

    assert "first time" not in crisis.description_en.replace("first active involvement", "")
    assert "disagree" in crisis.description_en and "不一" in crisis.description_zh
    assert {citation.source.key for citation in disputed} == {
        "aljazeera-2022-01-09",
        "aljazeera-2022-01-07",
        "encyclopedia-csto-role-zh-hant",
    }
    assert any("第一次" in citation.quote for citation in disputed)
    assert any("1996 年秋季" in citation.quote for citation in disputed)


def test_the_kazakhstan_deployment_names_its_units_commander_airport_and_justification(shipped_catalog):
    crisis = Crisis.objects.get(key="kazakhstan-2022")
    quotes = " ".join(quotes_of(crisis))

    for words in ("第45近卫特种部队", "谢尔久科夫", "阿拉木图机场", "国际恐怖组织"):
        assert words in crisis.outcome_zh + crisis.description_zh
        assert words in quotes
    assert "Serdyukov" in crisis.outcome_en and "Almaty airport" in crisis.outcome_en
    assert "carried" not in crisis.outcome_en


def test_claims_beyond_the_quotes_are_gone(shipped_catalog):
    assert "most" not in State.objects.get(code="RU").description_en
    assert "never" not in Milestone.objects.get(key="rapid-reaction-force-2009").description_en
    assert "had not yet" in Milestone.objects.get(key="rapid-reaction-force-2009").description_en
    bordyuzha = Milestone.objects.get(key="secretary-general-bordyuzha")
    assert bordyuzha.states.exists() is False
    assert "2007 to 2015" not in bordyuzha.description_en


def test_an_offer_and_a_statement_are_not_agreements_and_yerevan_has_no_stated_kind(shipped_catalog):
    assert Milestone.objects.get(key="donbas-offer-2015").kind == "statement"
    assert Milestone.objects.get(key="iraq-statement-2004").kind == "statement"
    assert Summit.objects.get(key="yerevan-2010").kind == "unstated"
    assert Summit.objects.get(key="moscow-2009-02").kind == "extraordinary"


def test_uzbekistans_2012_exit_gives_the_reason_the_documents_give(shipped_catalog):
    membership = Membership.objects.get(key="uz-member-2006")

    assert "United States" in membership.note_en and "美国" in membership.note_zh
    assert any("与美国达成协议" in quote for quote in quotes_of(membership, field="end"))
    assert "United States" in State.objects.get(code="UZ").description_en


def test_the_organization_facts_cover_every_topic_each_cited_and_translated(shipped_catalog):
    facts = OrganizationFact.objects.all()

    assert facts.count() >= 45
    assert set(facts.values_list("topic", flat=True)) == set(FactTopic.values)
    for fact in facts:
        citations = list(Citation.objects.for_record(fact))
        assert citations, fact.key
        assert all(citation.translation_en for citation in citations), fact.key
        assert bool(fact.note_zh) == bool(fact.note_en), fact.key
    for key in ("position-iran-nuclear", "position-korea", "osce", "nato", "un-observer", "secretariat"):
        assert facts.filter(key=key).exists()


def test_notes_come_in_both_languages_and_mark_every_inference(shipped_catalog):
    for model in (State, Membership, ExerciseSeries, Exercise, Summit, Crisis, Milestone, OrganizationFact):
        for record in model.objects.all():
            if "inferen" in record.note_en or "identified" in record.note_en:
                assert "curator's inference" in record.note_en, record
                assert "编者推断" in record.note_zh, record


@pytest.mark.parametrize(
    ("language", "heading"), [("zh-hans", "对国际问题的立场"), ("en", "Positions on international questions")]
)
def test_the_organization_page_shows_every_shipped_fact_with_its_references(
    client, shipped_catalog, language, heading
):
    with translation.override(language):
        url = reverse("catalog:organization")
    html = client.get(url).content.decode()

    assert html.count('<article class="fact"') == OrganizationFact.objects.count()
    fact_citations = Citation.objects.filter(content_type__model="organizationfact")
    assert html.count('<li id="ref-') == fact_citations.count()
    assert heading in html
    assert "針對伊朗核計畫" in html
    translated = "On Iran&#x27;s nuclear programme the organization holds"
    assert (translated in html) is (language == "en")
