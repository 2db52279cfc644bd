"""Every public page's work and size are bounded whatever the catalog holds, and bad input is a
form error, never a 500."""

import re
import time

import pytest
from django.db import connection, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.models import Q
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from catalog import filters
from catalog.models import Exercise
from catalog.views import TimelineView
from tests.factories import make_exercise, make_state
from tests.test_query_counts import build, ten_of_each
from tests.test_views import elements, texts

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")

# The benchmark's target for a page of HTML; the sitemap pages are held to it as well.
MOST_BYTES = 300 * 1024


@pytest.fixture
def small_catalog(db):
    return ten_of_each()


BOUNDED_PAGES = [
    "/timeline/",
    "/timeline/?year=2009",
    "/en/timeline/?state=KZ&kind=exercise",
    "/states/KZ/",
    "/sitemap.xml",
    "/sitemap-exercise-zh-hans.xml",
    "/sitemap-membership-en.xml",
    "/exercises/?page=2",
    "/exercises/?state=KZ&sort=-troops",
    "/exercises/series/rubezh/",
    "/sources/tass/",
]


def measure(client):
    sizes, counts = {}, {}
    for url in BOUNDED_PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url], sizes[url] = len(queries), len(response.content)
    return counts, sizes


def test_pages_cost_the_same_queries_at_10_and_5000_records_and_stay_small(client, small_catalog):
    measure(client)  # fills the content type cache once per process
    at_10, _sizes = measure(client)
    build(10, 4990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    at_5000, sizes = measure(client)
    assert at_5000 == at_10
    assert max(sizes.values()) <= MOST_BYTES, sizes


def test_the_timeline_shows_one_window_of_years_and_links_the_others(client, small_catalog):
    build(10, 4990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    response = client.get("/en/timeline/", {"kind": "exercise"})
    years = [text for text in texts(response, "h2") if text.isdigit()]
    assert years == ["1995"]  # 167 exercises in 1995, 167 in 1996: one year fills a window
    assert len(elements(response, "time")) == 167
    later = [attrs["href"] for attrs, _t in elements(response, "a", rel="next")]
    assert later == ["?kind=exercise&year=1996", "?kind=exercise&year=1996"]  # above and below
    assert texts(response, "p", role="status") == ["5000 events; 1995: 167 events"]


def test_a_year_with_more_events_than_a_page_shows_the_first_and_links_the_lists(client, small_catalog):
    build(10, 4990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    response = client.get("/en/timeline/", {"kind": "summit", "year": "2009"})  # 5,000 summits in 2009
    assert len(elements(response, "time")) == 200
    more = [
        attrs["href"] for attrs, _t in elements(response, "a") if "year_from=2009" in attrs.get("href", "")
    ]
    assert "/en/summits/?year_from=2009&year_to=2009" in more


def test_a_year_with_more_of_some_states_exercises_than_a_page_shows_the_first_each_once(client, db):
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    for n in range(230):
        states = {"hosts": [kazakhstan], "participants": [russia] if n % 2 else []}
        make_exercise(key=f"exercise-{n:03d}", date=f"2009-{n % 12 + 1:02d}-{n % 28 + 1:02d}", **states)
    first = Exercise.objects.order_by("date", "pk").values_list("key", flat=True)[
        : TimelineView.events_per_page
    ]
    response = client.get("/en/timeline/", {"kind": "exercise", "state": ["KZ", "RU"], "year": "2009"})
    shown = [event.record.key for _year, events in response.context["years"] for event in events]
    assert shown == list(first)  # in date order, each once, though half have two of the states
    assert texts(response, "p", role="status") == ["230 events"]


def test_the_state_page_counts_each_kind_and_links_the_filtered_lists(client, small_catalog):
    build(10, 990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    response = client.get("/en/states/KZ/")
    sections = response.context["sections"]
    by_title = {str(section.title): section for section in sections}
    assert by_title["Exercises hosted"].count == 200  # exercise n is hosted by state n % 5
    assert len(by_title["Exercises hosted"].latest) == 5
    assert by_title["Exercises hosted"].list_url == "/en/exercises/?host=KZ"
    listed = client.get(by_title["Exercises hosted"].list_url)
    assert listed.context["result_count"] == 200
    hosted_or_joined = client.get(by_title["Exercises hosted or joined"].list_url)
    assert hosted_or_joined.context["result_count"] == by_title["Exercises hosted or joined"].count
    assert by_title["Crises it was part of"].count == 200
    assert client.get(by_title["Crises it was part of"].list_url).context["result_count"] == 200
    assert response.context["membership_count"] == 200
    assert len(response.context["memberships"]) == 50


def test_a_series_page_shows_the_latest_exercises_and_links_the_list_of_all(client, small_catalog):
    build(10, 990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    response = client.get("/en/exercises/series/rubezh/")
    section = response.context["section"]
    assert (section.count, len(section.latest)) == (666, 20)  # exercise n is in the series when n % 3
    assert client.get(section.list_url).context["result_count"] == 666


def test_a_source_page_shows_its_citations_a_page_at_a_time(client, small_catalog):
    build(10, 990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    first = client.get("/en/sources/tass/")
    last = client.get("/en/sources/tass/", {"page": "10"})
    assert first.context["citation_count"] == 1001  # an exercise's each, and a state's
    assert len(elements(first, "tr")) == 101  # the header row and 100 citations
    assert len(elements(last, "tr")) == 101
    assert first.context["supported"][0].record != last.context["supported"][0].record


def test_the_sitemap_is_an_index_of_pages_of_at_most_1000_urls(client, small_catalog):
    build(10, 4490, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    index = client.get("/sitemap.xml").content.decode()
    exercise_pages = re.findall(r"<loc>http://testserver(/sitemap-exercise-en\.xml[^<]*)</loc>", index)
    assert exercise_pages == [
        "/sitemap-exercise-en.xml",
        "/sitemap-exercise-en.xml?p=2",
        "/sitemap-exercise-en.xml?p=3",
        "/sitemap-exercise-en.xml?p=4",
        "/sitemap-exercise-en.xml?p=5",
    ]
    last = client.get("/sitemap-exercise-en.xml", {"p": "5"}).content.decode()
    urls = re.findall(r"<loc>http://testserver(.*?)</loc>", last)
    assert len(urls) == 500
    assert all(url.startswith("/en/exercises/") for url in urls)


# --- Bad input ------------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("/en/exercises/", {"troops_min": "9223372036854775808"}, "troops_min"),
    ("/en/exercises/", {"troops_max": "99999999999999999999999999"}, "troops_max"),
    ("/en/exercises/", {"troops_min": "1e400"}, "troops_min"),
    ("/en/exercises/", {"troops_min": "-1"}, "troops_min"),
    ("/en/crises/", {"troops_min": "9223372036854775808"}, "troops_min"),
    ("/en/crises/", {"troops_max": "2147483648"}, "troops_max"),
    ("/en/exercises/", {"year_from": "99999"}, "year_from"),
    ("/en/memberships/", {"in_force": "2010-13"}, "in_force"),
    ("/en/memberships/", {"in_force": "2010-02-30"}, "in_force"),
    ("/en/summits/", {"state": "XX"}, "state"),
    ("/en/timeline/", {"year_to": "-5"}, "year_to"),
]


@pytest.mark.parametrize(("url", "query", "field"), OUT_OF_RANGE)
def test_an_out_of_range_filter_is_the_forms_error_not_a_500(client, db, url, query, field):
    make_exercise(troops=10)
    response = client.get(url, query)
    assert response.status_code == 200
    assert len(texts(response, "p", id=f"id_{field}_error")) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"page": "99999999999999999999999"},
        {"page": "-3"},
        {"sort": "no-such-column"},
        {"format": "csv", "troops_min": "9223372036854775808"},
    ],
)
def test_other_bad_list_parameters_never_answer_500(client, db, query):
    make_exercise(troops=10)
    response = client.get("/en/exercises/", query)
    assert response.status_code in (200, 400)


def test_a_bad_timeline_window_shows_the_first_one(client, db):
    make_exercise(date="2008", troops=10)
    response = client.get("/en/timeline/", {"year": "99999999999999999999999"})
    assert response.status_code == 200
    assert [text for text in texts(response, "h2") if text.isdigit()] == ["2008"]


@pytest.fixture
def kazakh_exercises_of_2008(db, monkeypatch):
    """Three of KZ's exercises in 2008, on a timeline of two events a page, and RU's in 2006 and 2010."""
    monkeypatch.setattr(TimelineView, "events_per_page", 2)
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    for n in range(3):
        make_exercise(key=f"rubezh-{n}", date=f"2008-0{n + 1}", hosts=[kazakhstan])
    make_exercise(key="zapad-2006", date="2006", hosts=[russia])
    make_exercise(key="zapad-2010", date="2010", hosts=[russia])


def hrefs(response):
    return {attrs.get("href") for attrs, _t in elements(response, "a")}


def test_a_year_past_the_page_links_the_lists_of_its_states(client, kazakh_exercises_of_2008):
    response = client.get("/en/timeline/", {"state": "KZ"})
    assert texts(response, "p", role="status") == ["3 events"]
    assert [attrs["datetime"] for attrs, _t in elements(response, "time")] == ["2008-01", "2008-02"]
    assert "/en/exercises/?year_from=2008&year_to=2008&state=KZ" in hrefs(response)


def test_a_timeline_too_slow_to_count_by_year_shows_one_year_at_a_time(
    client, kazakh_exercises_of_2008, settings
):
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 0
    response = client.get("/en/timeline/", {"state": "KZ", "year": "2008"})
    assert texts(response, "p", role="status") == ["Events of 2008"]
    assert len(texts(response, "p", **{"class": "facets-too-slow"})) == 1
    assert [attrs["datetime"] for attrs, _t in elements(response, "time")] == ["2008-01", "2008-02"]
    assert "/en/exercises/?year_from=2008&year_to=2008&state=KZ" in hrefs(response)
    # A window for each year between the first and the last of any state's exercises.
    assert [str(window) for window in response.context["windows"]] == ["2006", "2007", "2008", "2009", "2010"]
    assert not response.has_header("ETag")  # kept only until the counts are tried again

    quiet_year = client.get("/en/timeline/", {"state": "KZ", "year": "2009"})
    assert texts(quiet_year, "p", **{"class": "empty"}) == ["No events match these filters."]
    assert "?state=KZ&year=2010" in hrefs(quiet_year)


# --- Facets too slow to count -----------------------------------------------------------------


@sqlite_only
def test_facets_too_slow_to_count_are_said_on_the_page_and_the_results_still_show(client, db, settings):
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 0
    kazakhstan = make_state("KZ")
    make_exercise(key="rubezh-2008", hosts=[kazakhstan])
    response = client.get("/en/exercises/", {"host": "KZ"})
    assert response.status_code == 200
    assert response.context["facets"] == []
    assert response.context["result_count"] == 1
    assert len(texts(response, "p", **{"class": "facets-too-slow"})) == 1
    assert "/en/exercises/rubezh-2008/" in {attrs.get("href") for attrs, _t in elements(response, "a")}


@pytest.mark.parametrize("sort", ["", "-troops"])
def test_results_of_facets_too_slow_to_count_are_counted_only_as_far_as_they_are_paged(
    client, db, settings, monkeypatch, sort
):
    """Counting every result would take as long as the counts given up: the list names "more than"
    what it pages, reading the results' ids once, in the order of the sort, to count them."""
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 0
    monkeypatch.setattr(filters.CatalogFilterSet, "COUNTED_RESULTS", 3)
    kazakhstan = make_state("KZ")
    for n in range(5):
        make_exercise(key=f"rubezh-{n}", date=f"200{n}", troops=1000 * (n % 3 + 1), hosts=[kazakhstan])
    expected = list(filters.ExerciseFilter({"sort": sort}, queryset=Exercise.objects.all()).qs)[:3]

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/en/exercises/", {"host": "KZ", "sort": sort})

    assert texts(response, "h2", id="results-heading") == ["More than 3 exercises, hosted by Kazakhstan"]
    assert list(response.context["object_list"]) == expected
    assert texts(response, "p", **{"class": "results-note"}) == [
        "Only the first 3 results are paged. Narrow the filters to reach the others."
    ]
    assert not [query for query in queries if "COUNT(" in query["sql"].upper()]
    assert not elements(response, "a", rel="next")
    chinese = client.get("/exercises/", {"host": "KZ", "sort": sort})
    assert texts(chinese, "h2", id="results-heading") == ["超过 3 次演习，东道国：哈萨克斯坦"]


def test_results_too_slow_to_find_are_said_on_the_page_and_none_are_read(client, db, settings):
    """A word few records hold, searched for in a large catalog, is a walk through all of it: once
    the counts took too long, finding the results has a limit of its own."""
    settings.PUBLIC_FACET_TIME_LIMIT_MS = settings.PUBLIC_RESULTS_TIME_LIMIT_MS = 0
    make_exercise(key="rubezh-2008", name_en="Rubezh-2008")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/en/exercises/", {"q": "rubezh"})

    assert response.status_code == 200
    assert texts(response, "h2", id="results-heading") == ["These filters took too long to apply"]
    assert texts(response, "p", **{"class": "empty"}) == [
        "Finding the records that match these filters took too long, so none are shown. "
        "Narrow them, with a range of years or a state, to see them."
    ]
    assert list(response.context["object_list"]) == []
    assert not [query for query in queries if "LIKE" in query["sql"].upper()]
    chinese = client.get("/exercises/", {"q": "rubezh"})
    assert texts(chinese, "h2", id="results-heading") == ["应用这些筛选条件耗时过长"]


def test_results_of_facets_too_slow_to_count_are_counted_in_full_when_they_are_few(client, db, settings):
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 0
    kazakhstan = make_state("KZ")
    for n in range(3):
        make_exercise(key=f"rubezh-{n}", hosts=[kazakhstan])
    response = client.get("/en/exercises/", {"host": "KZ"})
    assert texts(response, "h2", id="results-heading") == ["3 exercises, hosted by Kazakhstan"]
    assert texts(response, "p", **{"class": "results-note"}) == []


@pytest.mark.parametrize("page_seconds", [600, 0], ids=["page stored", "page not stored"])
def test_counts_left_out_are_tried_again_after_the_retry_time(client, db, page_cache, settings, page_seconds):
    """A cold start (a new worker, a database not yet in memory) can make the first count slow:
    neither the answer nor the page and filter panel without counts outlive the retry time."""
    settings.PUBLIC_PAGE_CACHE_SECONDS = page_seconds
    settings.PUBLIC_FACET_RETRY_SECONDS = 1
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 0
    make_exercise(key="rubezh-2008", hosts=[make_state("KZ")])

    def too_slow_notices():
        response = client.get("/en/exercises/", {"host": "KZ"})
        return response, texts(response, "p", **{"class": "facets-too-slow"})

    slow, notices = too_slow_notices()
    assert len(notices) == 1
    assert not slow.has_header("ETag")  # never revalidated: the next visit is answered in full
    settings.PUBLIC_FACET_TIME_LIMIT_MS = 60_000  # the cold start is over
    assert len(too_slow_notices()[1]) == 1  # within the retry time: not counted again

    time.sleep(1.1)
    counted, notices = too_slow_notices()

    assert notices == []
    assert [value["count"] for value in {n: v for n, _l, v in counted.context["facets"]}["host"]] == [1]
    assert counted.has_header("ETag")


def test_facets_counted_in_time_show_without_the_notice(client, db):
    kazakhstan = make_state("KZ")
    make_exercise(key="rubezh-2008", hosts=[kazakhstan])
    response = client.get("/en/exercises/", {"host": "KZ"})
    assert texts(response, "p", **{"class": "facets-too-slow"}) == []
    assert [value["count"] for value in {n: v for n, _l, v in response.context["facets"]}["host"]] == [1]


def test_a_search_past_its_time_limit_names_the_kinds_it_did_not_search(client, db, settings):
    settings.PUBLIC_SEARCH_TIME_LIMIT_MS = 0
    make_exercise(key="rubezh-2008", name_en="Rubezh 2008")
    response = client.get("/en/search/", {"q": "rubezh"})
    assert response.status_code == 200
    assert texts(response, "h2") == []
    assert "Nothing matches" not in response.content.decode()
    (note,) = texts(response, "p", **{"class": "search-unfinished"})
    assert note.startswith("The search stopped before it had looked through these")
    offered = [attrs["href"] for attrs, _text in elements(response, "a") if "kind=" in attrs.get("href", "")]
    assert "?q=rubezh&kind=exercise" in offered and "?q=rubezh&kind=citation" in offered
    # One kind alone has a limit of its own, and finds the exercise.
    response = client.get("/en/search/", {"q": "rubezh", "kind": "exercise"})
    assert texts(response, "p", **{"class": "search-unfinished"}) == []
    assert "/en/exercises/rubezh-2008/" in {attrs.get("href") for attrs, _t in elements(response, "a")}


def test_a_search_of_one_kind_past_its_time_limit_says_so(client, db, settings):
    settings.PUBLIC_SEARCH_ONE_KIND_TIME_LIMIT_MS = 0
    make_exercise(key="rubezh-2008", name_en="Rubezh 2008")
    response = client.get("/en/search/", {"q": "rubezh", "kind": "exercise"})
    assert texts(response, "p", **{"class": "search-unfinished"}) == [
        "Searching the exercises took too long. Try more specific words."
    ]
    # The search of every kind has its own limit, and finds it.
    response = client.get("/en/search/", {"q": "rubezh"})
    assert texts(response, "h2") == ["Exercises"]


def test_the_time_limit_holds_for_the_queries_inside_together(db):
    with pytest.raises(filters.TooSlow), filters.time_limit(connection, 30) as before_query:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        time.sleep(0.05)
        before_query()  # the next query would start after the limit


@postgresql_only
def test_on_postgresql_a_query_past_the_time_limit_is_stopped(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()
    with pytest.raises(filters.TooSlow), filters.time_limit(connection, 20), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")
    with connection.cursor() as cursor:  # the limit ended with it, and the connection still works
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == before != ("20ms",)


@sqlite_only
def test_on_sqlite_a_query_past_the_time_limit_is_stopped(db):
    slow = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
        "SELECT count(*) FROM n"
    )
    with pytest.raises(filters.TooSlow), filters.time_limit(connection, 20), connection.cursor() as cursor:
        cursor.execute(slow)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


# --- SQLite as a web server's database ----------------------------------------------------------


@sqlite_only
def test_sqlite_runs_with_wal_a_busy_timeout_and_immediate_transactions(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert "PRAGMA journal_mode=WAL" in options["init_command"]
    assert (options["transaction_mode"], options["timeout"]) == ("IMMEDIATE", 20)


@sqlite_only
@pytest.mark.django_db
def test_a_read_during_a_long_write_transaction_in_another_connection_does_not_fail(tmp_path):
    """The import holds its write lock and, with a small page cache, spills its changes to the
    database file before it commits: with a rollback journal that takes the exclusive lock and a
    reader fails with "database is locked"; with WAL the reader sees the last committed data."""
    settings_dict = {**connection.settings_dict, "NAME": str(tmp_path / "site.sqlite3")}
    writer = DatabaseWrapper(settings_dict, alias="writer")
    reader = DatabaseWrapper({**settings_dict, "OPTIONS": {**settings_dict["OPTIONS"], "timeout": 0.2}})
    try:
        with writer.cursor() as cursor:
            cursor.execute("CREATE TABLE record (id INTEGER PRIMARY KEY, body TEXT)")
            cursor.execute("INSERT INTO record (body) VALUES ('committed')")
        with writer.cursor() as cursor, reader.cursor() as reading:
            cursor.execute("PRAGMA cache_size = 1")
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                "INSERT INTO record (body) SELECT printf('%0500d', i) FROM n"
            )
            reading.execute("SELECT count(*) FROM record")
            assert reading.fetchone() == (1,)
            cursor.execute("COMMIT")
            reading.execute("SELECT count(*) FROM record")
            assert reading.fetchone() == (20001,)
    finally:
        writer.close()
        reader.close()


def test_a_state_with_many_records_shows_the_latest_of_each_kind(client, small_catalog):
    build(10, 4990, small_catalog["states"], small_catalog["series"], small_catalog["source"])
    kazakhstan = small_catalog["states"][0]
    response = client.get("/en/states/KZ/")
    by_title = {str(section.title): section for section in response.context["sections"]}
    hosted_or_joined = by_title["Exercises hosted or joined"]
    involved = Exercise.objects.filter(Q(hosts=kazakhstan) | Q(participants=kazakhstan)).distinct()
    assert hosted_or_joined.count == involved.count() > 1000  # found by walking the date index
    assert hosted_or_joined.latest == list(involved.order_by("-date", "-pk")[:5])
    hosted = by_title["Exercises hosted"]
    assert hosted.count == 1000  # read by id
    assert hosted.latest == list(Exercise.objects.filter(hosts=kazakhstan).order_by("-date", "-pk")[:5])


@postgresql_only
@pytest.mark.parametrize(
    "filterset_class, sort, index",
    [
        (filters.ExerciseFilter, "troops", "exercise_troops_sort"),
        (filters.ExerciseFilter, "-troops", "exercise_troops_sort"),
        (filters.CrisisFilter, "-troops", "crisis_troops_deployed_sort"),
    ],
)
def test_a_page_sorted_by_a_column_that_may_be_null_is_read_along_its_index(db, filterset_class, sort, index):
    """Either way, NULLs included, the sort's index gives the rows in order: no sort of every row."""
    model = filterset_class._meta.model
    ids = filterset_class(QueryDict(f"sort={sort}"), queryset=model.objects.all()).qs.values("pk")[:50]
    sql, params = ids.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # a sort only where nothing else gives the order
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan and "Sort" not in plan, plan
