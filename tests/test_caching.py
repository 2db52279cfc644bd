"""Public pages are cached and answer conditional requests, and a change to the catalog shows at once."""

import json

import pytest
import tablib
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from catalog.resources import ExerciseResource

from .factories import make_citation, make_exercise, make_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-pages"},
    }
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

    assert len(page_cache._cache) == 1  # the list with its filter error is a complete page


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
