"""What a reader trusts: English pages in English, sources that can be followed, disputes only
where the quoted values differ, notes in the reader's language, the milestone and series lists,
filter chips, the member map, "as of" dates, one search and a JSON view of each record."""

import json
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from catalog import search
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
from tests.factories import (
    make_citation,
    make_exercise,
    make_fact,
    make_membership,
    make_milestone,
    make_source,
    make_state,
)
from tests.test_views import Elements, elements, texts

LISTS = (
    "home",
    "state_list",
    "membership_list",
    "summit_list",
    "exercise_list",
    "exerciseseries_list",
    "crisis_list",
    "milestone_list",
    "source_list",
    "timeline",
)
DETAIL_MODELS = (State, Membership, Summit, ExerciseSeries, Exercise, Crisis, Milestone, Source)
FILE_NAME = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")


def urls_in(language):
    with translation.override(language):
        urls = [reverse(f"catalog:{name}") for name in LISTS]
        urls += [record.get_absolute_url() for model in DETAIL_MODELS for record in model.objects.all()]
        urls.append(reverse("catalog:search") + "?q=1992")
    return urls


def visible_text(html):
    """The text a reader sees: no tags, attributes, scripts or styles."""
    found = Elements(html).found
    body = next(text for tag, _attrs, text in found if tag == "body")
    return body


def internal_field_names():
    names = set()
    for model in (*DETAIL_MODELS, Citation):
        names |= {field.name for field in model._meta.concrete_fields if "_" in field.name}
    return names


@pytest.fixture
def pages(client, shipped_catalog):
    def fetch(language):
        result = {}
        for url in urls_in(language):
            response = client.get(url)
            assert response.status_code == 200, url
            result[url] = response
        return result

    return fetch


def test_english_pages_have_no_chinese_list_comma_and_capitalised_column_headers(pages):
    problems = []
    for url, response in pages("en").items():
        # Chinese quotes and titles, marked as Chinese, may hold it; English text may not.
        if _english_text_has(response.content.decode(), "、"):
            problems.append((url, "、"))
        for _attrs, text in elements(response, "th", scope="col"):
            if text and not text[0].isupper():
                problems.append((url, f"header {text!r}"))
        for _attrs, text in elements(response, "h3"):
            if text and text[0].isalpha() and text[0].isascii() and not text[0].isupper():
                problems.append((url, f"heading {text!r}"))
    assert problems[:10] == []


def _english_text_has(html, needle):
    """Whether `needle` occurs in text outside every element marked with a Chinese `lang`."""

    class Outside(Elements):
        def __init__(self, html):
            self.hits, self.depth = [], []
            super().__init__(html)

        def handle_starttag(self, tag, attrs):
            super().handle_starttag(tag, attrs)
            if tag not in self.VOID:
                self.depth.append(dict(attrs).get("lang", "").startswith("zh"))

        def handle_endtag(self, tag):
            super().handle_endtag(tag)
            if self.depth:
                self.depth.pop()

        def handle_data(self, data):
            super().handle_data(data)
            if needle in data and not any(self.depth):
                self.hits.append(data)

    return bool(Outside(html).hits)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_public_page_shows_a_file_name_or_a_field_internal_name(pages, language):
    names = internal_field_names()
    problems = []
    for url, response in pages(language).items():
        text = visible_text(response.content.decode())
        if FILE_NAME.search(text):
            problems.append((url, FILE_NAME.search(text).group()))
        shown = {word for word in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text) if word in names}
        if shown:
            problems.append((url, sorted(shown)))
    assert problems == []


def test_a_source_page_reads_as_a_reference_with_its_address(client, shipped_catalog):
    with translation.override("en"):
        url = Source.objects.get(key="zh-wikipedia-csto-longer").get_absolute_url()
    response = client.get(url)
    html = response.content.decode()
    assert elements(response, "h1")[0][0]["lang"] == "zh-Hans"
    reference = texts(response, "p", **{"class": "reference"})[0]
    assert reference == (
        "集体安全条约组织（维基百科条目，较长版本）, 中文维基百科 · encyclopedia entry · "
        "Chinese (simplified) · zh.wikipedia.org/wiki/集体安全条约组织"
    )
    assert "004_955d0fc9168baf6f.txt" not in html
    assert "Document" not in texts(response, "dt")
    # The quotes of this source are marked with its language.
    assert {attrs["lang"] for attrs, _t in elements(response, "blockquote")} == {"zh-Hans"}


# --- Where sources differ ----------------------------------------------------------------------


def dispute_labels(client, record, language="en"):
    with translation.override(language):
        url = record.get_absolute_url()
    response = client.get(url)
    return [text for attrs, text in elements(response, "h4")], response


def test_agreeing_sources_of_the_shipped_catalog_show_no_dispute(client, shipped_catalog):
    treaty = Milestone.objects.get(key="treaty-signed")
    assert Citation.objects.for_record(treaty).filter(field="date").count() == 3
    assert dispute_labels(client, treaty)[0] == []
    rubezh = Exercise.objects.get(key="rubezh-2008")
    assert Citation.objects.for_record(rubezh).filter(field="troops").values("source").distinct().count() == 2
    labels, response = dispute_labels(client, rubezh)
    assert labels == []
    assert "Where sources differ" not in response.content.decode()


def test_sources_stating_different_dates_for_one_field_show_a_dispute(client, db):
    milestone = make_milestone(date="1992-05-15")
    make_citation(milestone, quote="1992年5月15日签署", field="date")
    make_citation(milestone, quote="1992年4月签署", field="date")
    labels, response = dispute_labels(client, milestone)
    assert labels == ["Date"]
    assert len(texts(response, "figure", **{"class": "claim"})) == 2


def test_a_coarser_date_agrees_with_a_finer_one(client, db):
    milestone = make_milestone(date="1992-05-15")
    make_citation(milestone, quote="1992年5月15日签署", field="date")
    make_citation(milestone, quote="1992年签署", field="date", note_en="Only the year.")
    assert dispute_labels(client, milestone)[0] == []


# --- References and notes in the reader's language ----------------------------------------------


def test_references_name_the_field_and_mark_the_quote_with_its_language(client, db):
    state = make_state("KZ", parliament_zh="哈萨克斯坦议会", parliament_en="Parliament of Kazakhstan")
    make_citation(
        state,
        quote="哈薩克斯坦議會",
        field="parliament_zh",
        section="成員",
        translation_en="Parliament of Kazakhstan",
    )
    with translation.override("en"):
        url = state.get_absolute_url()
    response = client.get(url)
    reference = texts(response, "p", **{"class": "citation-source"})[0]
    assert reference.endswith("section: 成員 · supports: ratifying parliament")
    assert "parliament_zh" not in response.content.decode()
    assert [attrs.get("lang") for attrs, _t in elements(response, "blockquote")] == ["zh-Hans"]
    assert texts(response, "p", **{"class": "translation"}) == ["Our translation: Parliament of Kazakhstan"]

    with translation.override("zh-hans"):
        chinese = client.get(state.get_absolute_url())
    assert texts(chinese, "p", **{"class": "translation"}) == []
    assert "支持：" in texts(chinese, "p", **{"class": "citation-source"})[0]


def test_a_note_only_in_english_is_marked_as_english_on_a_chinese_page(client, db):
    exercise = make_exercise(note_en="Dates differ by a week.", note_zh="")
    response = client.get(exercise.get_absolute_url())
    marked = elements(response, "div", **{"class": "other-language"})
    assert [(attrs["lang"], text) for attrs, text in marked] == [("en", "Dates differ by a week.")]
    assert texts(response, "span", **{"class": "language-label"}) == ["（英文）"]

    both = make_exercise(note_en="In English.", note_zh="中文说明。")
    response = client.get(both.get_absolute_url())
    assert "In English." not in response.content.decode()
    assert elements(response, "div", **{"class": "other-language"}) == []


# --- Lists: milestones, series, chips, mobile order ----------------------------------------------


def test_milestones_list_filters_by_kind_and_downloads(client, db):
    kz = make_state("KZ")
    make_milestone(key="treaty", name_en="Treaty signed", kind="treaty", date="1992-05-15", states=[kz])
    make_milestone(key="charter", name_en="Charter in force", kind="charter", date="2003-09-18")
    with translation.override("en"):
        url = reverse("catalog:milestone_list")
    response = client.get(url, {"kind": "treaty"})
    assert texts(response, "th", scope="row") == ["Treaty signed"]
    assert texts(response, "h2", id="results-heading") == ["1 milestone, treaty only"]
    assert [text for _a, text in elements(response, "th", scope="col")] == [
        "Date",
        "Name",
        "Kind",
        "States involved",
    ]
    download = client.get(url, {"kind": "treaty", "format": "csv"})
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert "treaty" in body and "charter" not in body.split("\n", 1)[1]


def test_series_list_counts_the_exercises_of_each_series(client, db):
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh", first_year=2004)
    make_exercise(series=rubezh)
    make_exercise(series=rubezh)
    with translation.override("en"):
        response = client.get(reverse("catalog:exerciseseries_list"))
    rows = elements(response, "tr")
    assert texts(response, "th", scope="row") == ["Rubezh"]
    assert [attrs["href"] for attrs, text in elements(response, "a") if text == "2"] == [
        "/en/exercises/?kind=rubezh"
    ]
    assert len(rows) == 2


def test_each_filter_chip_drops_its_own_value_and_keeps_the_others(client, db):
    kz, ru = make_state("KZ"), make_state("RU")
    make_membership(kz)
    make_membership(ru)
    response = client.get("/en/memberships/", {"state": ["KZ", "RU"], "kind": "member", "page": "1"})
    chips = {text: attrs["href"] for attrs, text in elements(response, "a", **{"class": "chip"})}
    assert chips == {
        "Remove the filter State: Kazakhstan ×": "?kind=member&state=RU",
        "Remove the filter State: Russia ×": "?kind=member&state=KZ",
        "Remove the filter Role: member ×": "?state=KZ&state=RU",
    }


def test_exercise_chips_name_the_series_and_the_state_and_an_unknown_series_is_a_form_error(client, db):
    kazakhstan = make_state("KZ")
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    make_exercise(key="rubezh-2014", series=rubezh, hosts=[kazakhstan])
    response = client.get("/en/exercises/", {"kind": "rubezh", "host": "KZ"})
    chips = [text for _attrs, text in elements(response, "a", **{"class": "chip"})]
    assert chips == ["Remove the filter Host state: Kazakhstan ×", "Remove the filter Series: Rubezh ×"]
    assert [record.key for record in response.context["object_list"]] == ["rubezh-2014"]

    unknown = client.get("/en/exercises/", {"kind": "no-such-series"})
    assert unknown.status_code == 200
    assert "kind" in unknown.context["filter"].errors
    assert list(unknown.context["object_list"]) == []


def test_list_results_come_before_the_filters_in_the_page(client, db):
    response = client.get("/en/memberships/")
    html = response.content.decode()
    assert html.index('id="results-heading"') < html.index('class="filter-panel"')


# --- Time, map -------------------------------------------------------------------------------------


@pytest.fixture
def members(db):
    kz, uz, af = make_state("KZ"), make_state("UZ"), make_state("AF", name_zh="阿富汗", name_en="Afghanistan")
    make_membership(kz, key="kz-founding", role="founding_signatory", start="1992-05-15", end="2002-10-07")
    make_membership(kz, key="kz-member", start="2002-10-07")
    make_membership(uz, key="uz-member", start="2006-08-16", end="2012-12")
    make_membership(af, key="af-observer", role="observer", start="2013")
    make_source(published="2022-01-09")
    make_source(published="2010")
    return {"KZ": kz, "UZ": uz, "AF": af}


def test_home_says_as_of_the_newest_source_and_counts_members_on_that_day(client, members):
    response = client.get("/en/")
    assert len(elements(response, "path", **{"class": "open-end role-member"})) == 1  # Kazakhstan's
    make_membership(members["UZ"], key="uz-later", start="2023-01")  # after every source: not yet
    response = client.get("/en/")
    assert texts(response, "p", **{"class": "as-of-note meta"}) == [
        "As of 9 January 2022, the date of the newest source."
    ]
    figures = dict(zip(texts(response, "dt"), texts(response, "dd"), strict=False))
    assert figures["Members now"] == "1"
    assert figures["Observers now"] == "1"
    assert "as of 9 January 2022" in texts(response, "figcaption")[1]


def test_map_colours_each_state_by_its_role_in_the_chosen_year(client, members):
    def roles(response):
        """{state name: class of its shape} from the map's links, each holding one shape."""
        links = [
            attrs["aria-label"].split(":")[0]
            for attrs, _t in elements(response, "a")
            if attrs.get("href", "").startswith("/en/states/") and "aria-label" in attrs
        ]
        shapes = [
            attrs["class"]
            for attrs, _t in elements(response, "path")
            if attrs.get("class", "").startswith("map-state")
        ]
        return dict(zip(links, shapes, strict=True))

    response = client.get("/en/", {"year": "2008"})
    assert roles(response) == {
        "Afghanistan": "map-state role-none",
        "Kazakhstan": "map-state role-member",
        "Uzbekistan": "map-state role-member",
    }
    assert elements(response, "a", **{"aria-current": "true"})[0][1] == "2008"
    assert texts(response, "figcaption")[0] == "Members and partners on 31 December 2008"
    response = client.get("/en/", {"year": "2022"})
    assert roles(response)["Afghanistan"] == "map-state role-observer"
    assert roles(response)["Uzbekistan"] == "map-state role-none"
    # An impossible year shows the as-of year rather than failing.
    assert client.get("/en/", {"year": "abc"}).status_code == 200
    assert (
        texts(client.get("/en/", {"year": "1066"}), "figcaption")[0]
        == "Members and partners on 9 January 2022"
    )


def test_map_is_on_the_states_list_with_a_table_alternative_and_attribution(client, members):
    response = client.get("/en/states/", {"year": "1995"})
    html = response.content.decode()
    assert 'aria-labelledby="map-title map-desc"' in html
    assert "Natural Earth" in texts(response, "desc")[0]
    table = texts(response, "caption")
    assert "Roles on 31 December 1995" in table
    rows = [
        text for text in texts(response, "tr") if text.startswith(("Kazakhstan", "Uzbekistan", "Afghanistan"))
    ]
    assert "Kazakhstanfounding signatory" in rows and "Uzbekistanno role" in rows


# --- Search ----------------------------------------------------------------------------------------


def test_search_groups_results_by_kind_and_highlights_the_escaped_match(client, db):
    kz = make_state("KZ")
    exercise = make_exercise(name_en="<b>Kanal</b> 2010", description_en="Held near the Kanal border.")
    source = make_source(title="Kanal report")
    make_citation(exercise, source, quote="运河-2010 (Kanal) 演习", translation_en="Exercise Kanal 2010")
    make_citation(kz, source, quote="无关")
    response = client.get("/en/search/", {"q": "kanal"})
    assert texts(response, "h2") == ["Exercises", "Sources", "Citations"]
    html = response.content.decode()
    assert "&lt;b&gt;<mark>Kanal</mark>&lt;/b&gt; 2010" in html
    assert "<b>" not in html
    quotes = [attrs for attrs, _t in elements(response, "span", **{"class": "snippet"})]
    assert {"lang": "zh-Hans", "class": "snippet"} in quotes


def test_search_is_bounded_per_kind_and_links_to_more(client, db, django_assert_max_num_queries):
    for n in range(8):
        make_milestone(name_en=f"Summit of states {n}")
    # One query per kind and the catalog's version. On PostgreSQL the time limit adds a savepoint,
    # its release, and the statement timeout set before each kind and back after the last.
    kinds = len(search.KINDS)
    with django_assert_max_num_queries(kinds + 2 + (kinds + 3 if connection.vendor == "postgresql" else 0)):
        response = client.get("/en/search/", {"q": "states"})
    assert len(elements(response, "li")) >= 5
    milestones = [text for attrs, text in elements(response, "a") if text.startswith("Summit of states")]
    assert len(milestones) == 5
    more = [attrs["href"] for attrs, text in elements(response, "a") if text.startswith("More milestones")]
    assert more == ["?q=states&kind=milestone"]
    response = client.get("/en/search/", {"q": "states", "kind": "milestone"})
    assert len([text for _a, text in elements(response, "a") if text.startswith("Summit of states")]) == 8


def test_search_finds_chinese_text_and_an_empty_query_shows_no_results(client, db):
    make_state("KZ")
    response = client.get("/search/", {"q": "哈萨克"})
    assert "<mark>哈萨克</mark>斯坦" in response.content.decode()
    assert texts(client.get("/search/", {"q": "  "}), "h2") == []


def test_search_finds_facts_about_the_organization_and_links_to_their_place_on_its_page(client, db):
    fact = make_fact(
        key="headquarters", name_en="Headquarters in Moscow", description_en="Its seat is Moscow."
    )
    make_citation(fact, quote="该组织总部设在俄罗斯首都莫斯科", translation_en="headquartered in Moscow")
    response = client.get("/en/search/", {"q": "moscow"})
    assert texts(response, "h2") == ["Facts about the organization", "Citations"]
    links = [attrs["href"] for attrs, text in elements(response, "a") if text == "Headquarters in Moscow"]
    assert links == [reverse("catalog:organization") + "#headquarters"]


# --- JSON --------------------------------------------------------------------------------------------


def test_detail_pages_offer_the_record_and_its_citations_as_json(client, db):
    kz = make_state("KZ")
    exercise = make_exercise(key="rubezh-2008", troops=4000, hosts=[kz])
    source = make_source(key="tass")
    make_citation(exercise, source, field="troops", quote="4000 servicemen", translation_en="4000 servicemen")
    page = client.get(exercise.get_absolute_url())
    assert [attrs["href"] for attrs, _t in elements(page, "a", rel="alternate") if attrs.get("type")] == [
        "?format=json"
    ]
    response = client.get(exercise.get_absolute_url(), {"format": "json"})
    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert (data["record_kind"], data["key"], data["troops"], data["hosts"]) == (
        "exercise",
        "rubezh-2008",
        4000,
        [["KZ"]],
    )
    assert [(c["source"], c["field"], c["quote"]) for c in data["citations"]] == [
        ("tass", "troops", "4000 servicemen")
    ]
    assert client.get(exercise.get_absolute_url(), {"format": "xml"}).status_code == 400
    source_data = json.loads(client.get(source.get_absolute_url(), {"format": "json"}).content)
    assert "document" not in source_data
    assert source_data["citations"][0]["record_kind"] == "exercise"


def test_search_snippets_prefer_the_readers_language(client, db):
    ExerciseSeries.objects.create(
        key="kanal",
        name_zh="通道",
        name_en="Kanal",
        description_zh="代号“通道”（Kanal）",
        description_en="Kanal, a drug operation",
    )
    response = client.get("/en/search/", {"q": "kanal"})
    assert [
        (attrs.get("lang"), text) for attrs, text in elements(response, "span", **{"class": "snippet"})
    ] == [("en", "Kanal, a drug operation")]
