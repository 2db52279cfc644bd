"""Public pages are cached and answer conditional requests, and a change to the catalog shows at once."""

import json
import os
import re
import subprocess
import sys

import pytest
import redis
import tablib
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from catalog import filters
from catalog.models import Exercise
from catalog.resources import ExerciseResource

from .factories import make_citation, make_exercise, make_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_test_with_the_page_cache(page_cache):
    return page_cache


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The page cache per process (locmem) and in Redis (CACHE_URL, as on several servers). CI
    starts a redis-server and sets CACHE_URL; there a missing Redis fails the tests."""
    if request.param == "redis":
        url = os.environ.get("CACHE_URL", "")
        reachable = False
        if url:
            try:
                reachable = redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            except redis.RedisError:
                reachable = False
        if not reachable:
            message = f"no Redis reachable at CACHE_URL={url!r}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-shared"}
    settings.CACHES = {**settings.CACHES, "pages": {**backend, "KEY_PREFIX": "cstosite-tests"}}
    caches["pages"].clear()
    yield caches["pages"]
    caches["pages"].clear()


@pytest.fixture
def exercise():
    kazakhstan = make_state("KZ")
    record = make_exercise(key="rubezh-2014", name_zh="防线-2014", troops=3000, hosts=[kazakhstan])
    make_citation(record, quote="3000名士兵", field="troops")
    return record


def queries_for(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def test_a_repeated_page_is_served_from_the_cache_with_one_query(client, exercise):
    first, first_queries = queries_for(client, exercise.get_absolute_url())
    again, again_queries = queries_for(client, exercise.get_absolute_url())

    assert first_queries > 1
    assert again_queries == 1  # the catalog version
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


def test_an_edit_shows_at_once_on_every_cached_page(client, exercise):
    detail, listing = exercise.get_absolute_url(), reverse("catalog:exercise_list")
    assert "3,000" in client.get(detail).content.decode()
    assert "3000" in client.get(listing).content.decode()

    exercise.troops = 4200
    exercise.save()

    assert "4,200" in client.get(detail).content.decode()
    assert "4200" in client.get(listing).content.decode()


def test_an_import_an_addition_and_a_deletion_each_change_the_version(client, exercise):
    listing = reverse("catalog:exercise_list")
    etags = [client.get(listing)["ETag"]]

    dataset = tablib.Dataset(headers=["key", "name_zh", "name_en", "date", "troops"])
    dataset.append(["rubezh-2014", "防线-2014", "Rubezh 2014", "2014", 3500])
    assert not ExerciseResource().import_data(dataset, dry_run=False, file_name="fix.csv").has_errors()
    etags.append(client.get(listing)["ETag"])
    make_exercise(key="kanal-2015")
    etags.append(client.get(listing)["ETag"])
    exercise.delete()
    response = client.get(listing)
    etags.append(response["ETag"])

    assert len(set(etags)) == 4
    assert "rubezh-2014" not in response.content.decode()


def test_a_current_copy_gets_304_without_a_body(client, exercise):
    first = client.get(exercise.get_absolute_url())

    by_etag = client.get(exercise.get_absolute_url(), headers={"if-none-match": first["ETag"]})

    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert "Last-Modified" not in first  # the version says that the catalog changed, not when
    assert set(first["Cache-Control"].split(", ")) == {"public", "max-age=0", "must-revalidate"}


def test_a_stale_copy_gets_the_new_page(client, exercise):
    first = client.get(exercise.get_absolute_url())
    exercise.troops = 5000
    exercise.save()

    response = client.get(exercise.get_absolute_url(), headers={"if-none-match": first["ETag"]})

    assert response.status_code == 200
    assert "5,000" in response.content.decode()


def test_each_language_and_query_string_is_its_own_page(client, exercise):
    chinese = client.get(reverse("catalog:exercise_list")).content.decode()
    with translation.override("en"):
        english = client.get(reverse("catalog:exercise_list")).content.decode()
    filtered = client.get(reverse("catalog:exercise_list"), {"troops_min": "5000"}).content.decode()

    assert 'lang="zh-Hans"' in chinese and 'lang="en"' in english
    assert "rubezh-2014" in chinese and "rubezh-2014" not in filtered


def test_errors_and_downloads_are_never_cached(client, exercise, page_cache):
    client.get(reverse("catalog:exercise_detail", kwargs={"key": "no-such-exercise"}))
    client.get(reverse("catalog:exercise_list"), {"format": "csv"})
    client.get(reverse("catalog:exercise_list"), {"year_from": "abc"})

    pages = [key for key in page_cache._cache if ":page:" in key]
    assert len(pages) == 1  # the list with its filter error is a complete page


def test_reloading_the_fixtures_changes_the_version(client, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    (tmp_path / "fixtures").mkdir()
    armenia = {"code": "AM", "name_zh": "亚美尼亚", "name_en": "Armenia"}
    fixture = json.dumps([{"model": "catalog.state", "pk": 1, "fields": armenia}], ensure_ascii=False)
    (tmp_path / "fixtures" / "states.json").write_text(fixture, encoding="utf-8")
    before = client.get(reverse("catalog:state_list"))
    call_command("load_catalog", verbosity=0)
    after = client.get(reverse("catalog:state_list"))

    assert before["ETag"] != after["ETag"]
    assert "亚美尼亚" in after.content.decode()


def queries_and_content(client, url):
    response, count = queries_for(client, url)
    assert response.status_code == 200, url
    return count, response.content


def test_unknown_parameters_share_one_cache_entry(client, shared_cache, exercise):
    timeline = reverse("catalog:timeline")
    first_count, first = queries_and_content(client, f"{timeline}?m=1")
    assert first_count > 1
    for n in range(2, 37):
        count, content = queries_and_content(client, f"{timeline}?m={n}")
        assert (count, content) == (1, first)


def test_order_empty_values_and_the_first_page_do_not_make_new_entries(client, shared_cache, exercise):
    make_state("RU")
    listing = reverse("catalog:exercise_list")
    _count, first = queries_and_content(client, f"{listing}?state=RU&state=KZ&troops_min=1")
    variants = (
        f"{listing}?state=KZ&state=RU&troops_min=1",
        f"{listing}?troops_min=1&state=KZ&state=RU&q=&page=1",
        f"{listing}?state=KZ&state=RU&state=KZ&troops_min=1&year_from=&utm_source=x",
    )
    for url in variants:
        assert queries_and_content(client, url) == (1, first), url
    assert "utm_source" not in first.decode()


def test_a_page_over_the_size_bound_is_served_but_not_stored(client, shared_cache, settings, exercise):
    settings.PUBLIC_PAGE_CACHE_MAX_BYTES = 1000
    first_count, first = queries_and_content(client, exercise.get_absolute_url())
    again_count, again = queries_and_content(client, exercise.get_absolute_url())
    assert len(first) > 1000
    assert again_count == first_count > 1


def test_facet_counts_are_read_once_per_filter_whatever_the_page_and_sort(client, shared_cache, exercise):
    listing = reverse("catalog:exercise_list")
    with CaptureQueriesContext(connection) as first:
        client.get(listing, {"host": "KZ"})
    with CaptureQueriesContext(connection) as resorted:
        response = client.get(listing, {"host": "KZ", "sort": "-troops", "page": "1"})

    def counted(queries):
        return [query for query in queries.captured_queries if "UNION ALL" in query["sql"]]

    assert len(counted(first)) == 1
    assert counted(resorted) == []
    assert response.context["result_count"] == 1
    assert [(name, [v["value"] for v in values]) for name, _l, values in response.context["facets"]] == [
        ("kind", []),
        ("host", ["KZ"]),
        ("state", ["KZ"]),
    ]


def test_after_a_change_the_facet_counts_are_read_again(client, shared_cache, exercise):
    listing = reverse("catalog:exercise_list")
    client.get(listing, {"year_from": "2000"})
    make_exercise(key="kanal-2015", date="2015", hosts=[exercise.hosts.get()])
    response = client.get(listing, {"year_from": "2000", "sort": "name"})
    facets = {name: values for name, _label, values in response.context["facets"]}
    host_counts = {value["value"]: value["count"] for value in facets["host"]}
    assert host_counts == {"KZ": 2}


# A query of every state or every series, as the panel's selects offer them.
READS_EVERY_OPTION = re.compile(r'FROM "catalog_(state|exerciseseries)"( ORDER BY [^()]*)?$')


def filter_panel(response):
    html = response.content.decode()
    return html[html.index('<aside class="filter-panel"') : html.index("</aside>")]


def test_the_filter_panel_is_kept_for_every_page_of_a_filter_and_follows_the_sort(
    client, shared_cache, exercise
):
    for year in range(2000, 2060):
        make_exercise(key=f"kanal-{year}", date=str(year), hosts=[exercise.hosts.get()])
    listing = reverse("catalog:exercise_list")
    first = client.get(listing, {"host": "KZ"})
    with CaptureQueriesContext(connection) as queries:
        second = client.get(listing, {"host": "KZ", "page": "2"})
    assert filter_panel(second) == filter_panel(first)
    assert '<span class="count">61</span>' in filter_panel(second)  # the exercise and 60 more
    # Neither the counts nor the options of the panel's selects (every state, every series) were
    # read again: the one state asked for is read to validate its code.
    assert not [query for query in queries.captured_queries if "UNION ALL" in query["sql"]]
    assert not [query for query in queries.captured_queries if READS_EVERY_OPTION.search(query["sql"])]
    resorted = client.get(listing, {"host": "KZ", "sort": "-troops", "page": "2"})
    assert "sort=-troops" in filter_panel(resorted) and "sort=-troops" not in filter_panel(first)


def test_after_a_change_the_filter_panel_counts_again(client, shared_cache, exercise):
    listing = reverse("catalog:exercise_list")
    before = client.get(listing, {"host": "KZ"})
    make_exercise(key="kanal-2015", date="2015", hosts=[exercise.hosts.get()])
    after = client.get(listing, {"host": "KZ", "page": "1"})
    assert '<span class="count">1</span>' in filter_panel(before)
    assert '<span class="count">2</span>' in filter_panel(after)


# A query for a page's ids, or every id, in the order of the sort.
IDS_IN_ORDER = re.compile(r'SELECT "catalog_exercise"."id"( AS "\w+")? FROM .* ORDER BY ', re.DOTALL)


def test_further_pages_of_a_seen_filter_are_slices_of_its_ids_in_order(
    client, shared_cache, exercise, monkeypatch
):
    kazakhstan = exercise.hosts.get()
    for n in range(120):
        make_exercise(key=f"kanal-{n:03d}", date=str(1990 + n % 30), troops=n % 7 * 100, hosts=[kazakhstan])
    expected = list(
        Exercise.objects.filter(hosts=kazakhstan).order_by("-troops", "-pk").values_list("key", flat=True)
    )
    listing = reverse("catalog:exercise_list")

    def page(number, sort="-troops"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(listing, {"host": "KZ", "sort": sort, "page": number})
        ids_read = [query for query in queries.captured_queries if IDS_IN_ORDER.match(query["sql"])]
        return [record.key for record in response.context["object_list"]], len(ids_read)

    assert page(1) == (expected[:50], 1)  # the filter is new: its first page alone
    assert page(2) == (expected[50:100], 1)  # seen: every id, in order, kept
    assert page(3) == (expected[100:], 0)
    # The first page of another sort reads only its own ids; paging on keeps them all.
    by_name = list(
        Exercise.objects.filter(hosts=kazakhstan).order_by("name_en", "pk").values_list("key", flat=True)
    )
    assert page(1, "name") == (by_name[:50], 1)
    assert page(2, "name") == (by_name[50:100], 1)
    assert page(3, "name") == (by_name[100:], 0)
    make_exercise(key="kanal-largest", date="2020", troops=5000, hosts=[kazakhstan])
    assert page(1) == (["kanal-largest", *expected[:49]], 1)
    # Past the bound, each page reads its own ids.
    monkeypatch.setattr(filters.CatalogFilterSet, "KEPT_IDS", 100)
    assert page(2) == (expected[49:99], 1)
    assert page(3) == (expected[99:], 1)


def test_a_change_shows_at_once_in_the_shared_cache(client, shared_cache, exercise):
    assert "3,000" in client.get(exercise.get_absolute_url()).content.decode()
    Exercise.objects.filter(pk=exercise.pk).update(troops=3300)
    assert "3,300" in client.get(exercise.get_absolute_url()).content.decode()


def settings_of(environment, expression):
    """`expression` evaluated in the settings module loaded with `environment` added."""
    result = subprocess.run(
        [sys.executable, "-c", f"import cstosite.settings as s; print({expression})"],
        env={**os.environ, "DJANGO_DEBUG": "1", **environment},
        capture_output=True,
        text=True,
    )
    return result.returncode, result.stdout.strip(), result.stderr


def test_cache_url_switches_the_page_cache_to_redis_and_locmem_is_the_default():
    _code, default, _err = settings_of({"CACHE_URL": ""}, "s.CACHES['pages']['BACKEND']")
    _code, shared, _err = settings_of(
        {"CACHE_URL": "redis://127.0.0.1:6399/1"},
        "s.CACHES['pages']['BACKEND'], s.CACHES['pages']['LOCATION']",
    )
    code, _out, error = settings_of({"CACHE_URL": "memcached://127.0.0.1"}, "1")
    assert default == "django.core.cache.backends.locmem.LocMemCache"
    assert shared == "django.core.cache.backends.redis.RedisCache redis://127.0.0.1:6399/1"
    assert code != 0 and "CACHE_URL must be a redis://" in error
