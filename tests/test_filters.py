"""List filters: the query-string names, partial-date year ranges, "in force on", facets, and
bad input shown as form errors."""

import pytest
from django import forms
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog.filters import (
    CrisisFilter,
    ExerciseFilter,
    MembershipFilter,
    PythonSelect,
    PythonSelectMultiple,
    SummitFilter,
)
from catalog.models import Exercise, ExerciseSeries, Membership
from tests.factories import make_crisis, make_exercise, make_membership, make_state, make_summit
from tests.test_views import elements, texts


def keys(filterset):
    assert filterset.is_valid(), filterset.errors
    return [record.key for record in filterset.qs]


def facets_by_name(filterset):
    return {name: values for name, _label, values in filterset.facets()}


def exercises(query):
    return keys(ExerciseFilter(QueryDict(query), queryset=Exercise.objects.public()))


def memberships(query):
    return keys(MembershipFilter(QueryDict(query), queryset=Membership.objects.public()))


@pytest.fixture
def states(db):
    return {code: make_state(code) for code in ("RU", "KZ", "UZ", "AM", "BY")}


@pytest.fixture
def uzbekistan_history(states):
    make_membership(states["RU"], key="ru", role="founding_signatory", start="1992-05-15")
    make_membership(states["UZ"], key="uz-1994", start="1994-04-20", end="1999-04")
    make_membership(states["UZ"], key="uz-2006", start="2006-08-16", end="2012-12")
    make_membership(states["AM"], key="am", start="1994-04-20")
    make_membership(states["BY"], key="by-observer", role="observer", start="2010-06", end="2010-06")


def test_members_in_force_in_2010_include_uzbekistan(uzbekistan_history):
    assert memberships("in_force=2010&kind=member") == ["am", "uz-2006"]


def test_members_in_force_in_2013_exclude_uzbekistan(uzbekistan_history):
    assert memberships("in_force=2013&kind=member") == ["am"]


def test_in_force_reads_stored_dates_at_their_precision(uzbekistan_history):
    assert memberships("in_force=2012-12-31") == ["am", "ru", "uz-2006"]
    assert memberships("in_force=2013-01") == ["am", "ru"]
    assert memberships("in_force=2010-06-15&kind=observer") == ["by-observer"]
    assert memberships("in_force=2010-07&kind=observer") == []
    assert memberships("in_force=1999&state=UZ") == ["uz-1994"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("year_from=2008&year_to=2010", ["year-2008", "month-2010", "day-2009"]),
        ("year_from=2010&year_to=2010", ["month-2010"]),
        ("year_from=2011", ["year-2011"]),
        ("year_to=2008", ["year-2008"]),
    ],
)
def test_year_range_works_across_date_precisions(db, query, expected):
    make_exercise(key="year-2008", date="2008")
    make_exercise(key="day-2009", date="2009-12-31")
    make_exercise(key="month-2010", date="2010-06")
    make_exercise(key="year-2011", date="2011")
    assert sorted(exercises(query)) == sorted(expected)


def test_membership_year_range_keeps_periods_that_overlap_it(uzbekistan_history):
    assert memberships("year_from=2000&year_to=2005") == ["am", "ru"]


def test_state_filter_over_hosts_and_participants_lists_each_exercise_once(states):
    make_exercise(key="both", hosts=[states["KZ"]], participants=[states["KZ"], states["RU"]])
    make_exercise(key="guest", participants=[states["RU"]])
    make_exercise(key="other", participants=[states["AM"]])
    assert exercises("state=KZ&state=RU") == ["both", "guest"]
    assert exercises("host=KZ") == ["both"]


def test_state_and_years_follow_an_exercise_whose_date_changes(states):
    # The state's links are narrowed by the date each carries: it must be the exercise's own.
    make_exercise(key="moved", date="2010-05", hosts=[states["KZ"]], participants=[states["RU"]])
    make_exercise(key="undated", date="", participants=[states["RU"]])
    assert exercises("state=RU&year_from=2010&year_to=2010") == ["moved"]
    assert exercises("state=KZ&year_to=2011") == ["moved"]

    Exercise.objects.filter(key="moved").update(date="2012-09-01")
    assert exercises("state=RU&year_from=2010&year_to=2010") == []
    assert exercises("state=KZ&year_to=2011") == []
    assert exercises("state=KZ&state=RU&year_from=2012") == ["moved"]
    assert sorted(exercises("state=RU")) == ["moved", "undated"]


def test_troops_bounds_are_inclusive(db):
    for troops in (1000, 2000, 3000):
        make_exercise(key=f"troops-{troops}", troops=troops)
    make_exercise(key="troops-unknown")
    assert exercises("troops_min=2000") == ["troops-2000", "troops-3000"]
    assert exercises("troops_max=2000") == ["troops-1000", "troops-2000"]


def test_text_search_matches_chinese_and_english_names_ignoring_case(db):
    make_exercise(key="rubezh", name_zh="防线-2008", name_en="Rubezh-2008")
    make_exercise(key="kanal", name_zh="通道", name_en="Kanal", description_en="Anti-drug operation")
    assert exercises("q=rubezh") == ["rubezh"]
    assert exercises("q=防线") == ["rubezh"]
    assert exercises("q=ANTI-DRUG") == ["kanal"]


def test_sorting_by_troops_descending_is_the_ascending_order_reversed_ties_included(db):
    first = make_exercise(key="a", troops=500)
    second = make_exercise(key="b", troops=500)
    make_exercise(key="c", troops=900)
    assert exercises("sort=troops") == [first.key, second.key, "c"]
    assert exercises("sort=-troops") == ["c", second.key, first.key]


@pytest.mark.parametrize("sort, expected", [("troops", [None, 500, 900]), ("-troops", [900, 500, None])])
def test_exercises_of_unknown_troops_come_first_ascending_and_last_descending(db, sort, expected):
    for troops in (500, None, 900):
        make_exercise(troops=troops)
    filterset = ExerciseFilter(QueryDict(f"sort={sort}"), queryset=Exercise.objects.public())
    assert [exercise.troops for exercise in filterset.qs] == expected


@pytest.mark.parametrize(
    "sort, expected", [("series", ["", "Kanal", "Rubezh"]), ("-series", ["Rubezh", "Kanal", ""])]
)
def test_exercises_of_no_series_come_first_ascending_and_last_descending(db, sort, expected):
    for name in ("Rubezh", None, "Kanal"):
        series = ExerciseSeries.objects.create(key=name.lower(), name_zh=name, name_en=name) if name else None
        make_exercise(series=series)
    filterset = ExerciseFilter(QueryDict(f"sort={sort}"), queryset=Exercise.objects.public())
    assert [exercise.series.name_en if exercise.series else "" for exercise in filterset.qs] == expected


@pytest.mark.parametrize("sort, expected", [("troops", [None, 300, 1500]), ("-troops", [1500, 300, None])])
def test_crises_of_unknown_troops_come_first_ascending_and_last_descending(db, sort, expected):
    for troops in (1500, None, 300):
        make_crisis(troops_deployed=troops)
    filterset = CrisisFilter(QueryDict(f"sort={sort}"), queryset=CrisisFilter._meta.model.objects.all())
    assert [crisis.troops_deployed for crisis in filterset.qs] == expected


def test_series_is_the_exercise_category(db):
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    make_exercise(key="in-series", series=rubezh)
    make_exercise(key="alone")
    assert exercises("kind=rubezh") == ["in-series"]


@pytest.mark.parametrize("query", ["", "year_from=2000"])
def test_the_number_of_results_includes_exercises_of_no_series(db, query):
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    make_exercise(key="in-series", series=rubezh)
    make_exercise(key="alone")
    make_exercise(key="alone-too")
    filterset = ExerciseFilter(QueryDict(query), queryset=Exercise.objects.public())
    assert filterset.is_valid()
    assert filterset.total() == 3
    assert {value["value"]: value["count"] for value in facets_by_name(filterset)["kind"]} == {"rubezh": 1}


def test_crisis_response_and_summit_kind_are_categories(states):
    make_crisis(key="deployed", response="deployed")
    make_crisis(key="declined", response="declined")
    make_summit(key="regular", kind="regular", host=states["RU"])
    make_summit(key="extra", kind="extraordinary", participants=[states["KZ"]])
    assert keys(
        CrisisFilter(QueryDict("kind=declined"), queryset=CrisisFilter._meta.model.objects.all())
    ) == ["declined"]
    summit_filter = SummitFilter(QueryDict("state=KZ"), queryset=SummitFilter._meta.model.objects.public())
    assert keys(summit_filter) == ["extra"]


def test_facets_count_results_per_value_and_link_to_the_narrower_list(states):
    make_exercise(key="one", hosts=[states["KZ"]], participants=[states["KZ"], states["RU"]])
    make_exercise(key="two", hosts=[states["KZ"]], participants=[states["RU"]])
    make_exercise(key="three", hosts=[states["RU"]])
    filterset = ExerciseFilter(QueryDict("year_from=2000"), queryset=Exercise.objects.public())
    facets = facets_by_name(filterset)
    assert [(value["value"], value["count"]) for value in facets["host"]] == [("KZ", 2), ("RU", 1)]
    assert [(value["value"], value["count"]) for value in facets["state"]] == [("RU", 3), ("KZ", 2)]
    assert facets["host"][0]["url"] == "?year_from=2000&host=KZ"
    assert facets["kind"] == []


@pytest.mark.parametrize("query", ["", "year_from=2000"])
def test_summit_facets_count_a_host_that_also_took_part_once(states, query):
    make_summit(key="moscow", kind="regular", host=states["RU"], participants=[states["RU"], states["KZ"]])
    make_summit(key="astana", kind="extraordinary", host=states["KZ"], participants=[states["RU"]])
    make_summit(key="minsk", kind="regular", participants=[states["BY"]])
    filterset = SummitFilter(QueryDict(query), queryset=SummitFilter._meta.model.objects.all())
    facets = facets_by_name(filterset)
    assert {value["value"]: value["count"] for value in facets["state"]} == {"KZ": 2, "RU": 2, "BY": 1}
    assert [(value["value"], value["count"]) for value in facets["kind"]] == [
        ("regular", 2),
        ("extraordinary", 1),
    ]


def test_heading_states_the_active_filters_in_words(states):
    for year in (2008, 2010, 2014):
        make_exercise(date=str(year), hosts=[states["KZ"]])
    make_exercise(date="2015", hosts=[states["KZ"]])
    query = QueryDict("host=KZ&year_from=2008&year_to=2014")
    filterset = ExerciseFilter(query, queryset=Exercise.objects.public())
    assert filterset.heading(filterset.qs.count()) == "3 次演习，东道国：哈萨克斯坦，2008–2014"
    with translation.override("en"):
        filterset = ExerciseFilter(query, queryset=Exercise.objects.public())
        assert filterset.heading(filterset.qs.count()) == "3 exercises, hosted by Kazakhstan, 2008–2014"


@pytest.mark.parametrize(
    ("url", "field", "message"),
    [
        ("/exercises/?year_from=abc", "year_from", "输入整数"),
        ("/exercises/?state=XX", "state", "XX"),
        ("/exercises/?troops_min=-5", "troops_min", "0"),
        ("/exercises/?sort=colour", "sort", "colour"),
        ("/memberships/?in_force=2010-13", "in_force", "2010-06-15"),
        ("/memberships/?state=KZ&state=ZZ", "state", "ZZ"),
    ],
)
def test_an_invalid_filter_shows_its_error_beside_the_field_and_no_results(
    client, states, url, field, message
):
    make_exercise(key="visible", hosts=[states["KZ"]])
    make_membership(states["KZ"], key="kz")
    response = client.get(url)
    assert response.status_code == 200
    error = texts(response, "p", id=f"id_{field}_error")
    assert len(error) == 1 and message in error[0]
    assert texts(response, "th", scope="row") == []  # never the unfiltered list
    assert texts(response, "h2", id="results-heading") == ["部分筛选条件无法应用"]


def test_facet_counts_appear_beside_the_filters_on_the_page(client, states):
    make_exercise(hosts=[states["KZ"]])
    make_exercise(hosts=[states["KZ"]])
    make_exercise(hosts=[states["RU"]])
    response = client.get("/exercises/")
    facet_items = texts(response, "li")
    assert "哈萨克斯坦 2" in facet_items
    assert "俄罗斯 1" in facet_items
    facet_links = [attrs["href"] for attrs, text in elements(response, "a") if text == "哈萨克斯坦"]
    assert facet_links[-2:] == ["?host=KZ", "?state=KZ"]  # after the results' own links to the state


def test_selects_written_in_python_match_djangos_select_templates(states):
    """The filter selects skip Django's per-option templates; their markup must not change."""
    ExerciseSeries.objects.create(key="rubezh", name_zh="防线<&>", name_en="Rubezh")
    filterset = ExerciseFilter(QueryDict("state=KZ&state=RU&kind=rubezh"), queryset=Exercise.objects.public())
    form = filterset.form
    for name, template_class in (("state", forms.SelectMultiple), ("kind", forms.Select)):
        widget = form.fields[name].widget
        expected = template_class(attrs=widget.attrs, choices=widget.choices).render(
            name, form[name].value(), {"id": f"id_{name}", "aria-invalid": False}
        )
        assert (
            widget.render(name, form[name].value(), {"id": f"id_{name}", "aria-invalid": False}) == expected
        )
    assert isinstance(form.fields["state"].widget, PythonSelectMultiple)
    assert isinstance(form.fields["kind"].widget, PythonSelect)
    html = str(form["state"])
    assert '<option value="KZ" selected>' in html
    assert '<option value="AM">' in html
    assert "防线&lt;&amp;&gt;" in str(form["kind"])


def test_state_selects_and_facet_labels_read_the_states_once(client, states):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/exercises/")
    assert response.status_code == 200
    state_reads = [query["sql"] for query in queries if query["sql"].startswith('SELECT "catalog_state"')]
    assert len(state_reads) == 1
    assert response.content.decode().count('<option value="AM">') == 2  # host, and host or participant
