import csv
import io
import json

import openpyxl
import pytest
import tablib
from django.http import StreamingHttpResponse

from catalog.downloads import download
from catalog.models import Exercise
from catalog.resources import ExerciseResource
from tests.factories import make_exercise, make_state

pytestmark = pytest.mark.django_db


def body(response):
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def exercises():
    kz, ru = make_state("KZ"), make_state("RU")
    make_exercise(
        key="rubezh-2008", name_en="=cmd|' /C calc'!A0", hosts=[kz, ru], troops=4000, date="2008-07"
    )
    make_exercise(key="kanal-2009", name_en="Kanal", date="2009", note_en="@SUM(1)")
    make_exercise(key="other-2010", name_en="Other", date="2010")


def test_csv_download_streams_the_filtered_rows_with_formulas_escaped(exercises):
    response = download(Exercise.objects.filter(date__lt="2010"), Exercise, "csv", "exercises")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="exercises.csv"'
    rows = list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert [(r["key"], r["name_en"], r["hosts"], r["note_en"]) for r in rows] == [
        ("rubezh-2008", "'=cmd|' /C calc'!A0", "KZ, RU", ""),
        ("kanal-2009", "Kanal", "", "'@SUM(1)"),
    ]


def test_json_download_keeps_numbers_typed(exercises):
    response = download(Exercise.objects.filter(key="rubezh-2008"), ExerciseResource, "json", "x")

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    (row,) = json.loads(body(response))
    assert row["troops"] == 4000
    assert row["aircraft"] is None
    assert row["date"] == "2008-07"
    assert row["name_en"] == "'=cmd|' /C calc'!A0"


def test_json_download_of_nothing_is_an_empty_list():
    assert json.loads(body(download(Exercise.objects.none(), Exercise, "json", "x"))) == []


def test_xlsx_download_is_a_workbook_with_typed_numbers(exercises):
    response = download(Exercise.objects.order_by("date"), Exercise, "xlsx", "exercises 2008")

    assert response["Content-Disposition"] == 'attachment; filename="exercises-2008.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("key", "name_zh", "name_en")
    assert [row[0] for row in rows[1:]] == ["rubezh-2008", "kanal-2009", "other-2010"]
    assert rows[1][rows[0].index("troops")] == 4000
    assert rows[1][2] == "'=cmd|' /C calc'!A0"


def test_a_download_imports_back_through_the_resource_unchanged(exercises):
    before = list(Exercise.objects.order_by("key").values("key", "name_en", "note_en", "troops", "date"))
    data = body(download(Exercise.objects.all(), Exercise, "csv", "x")).decode("utf-8-sig")

    result = ExerciseResource().import_data(tablib.Dataset().load(data, format="csv"), dry_run=False)

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 3
    assert (
        list(Exercise.objects.order_by("key").values("key", "name_en", "note_en", "troops", "date")) == before
    )


def test_download_queries_do_not_grow_with_rows(exercises, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        body(download(Exercise.objects.all(), Exercise, "csv", "x"))


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="Unknown download format 'html'"):
        download(Exercise.objects.all(), Exercise, "html", "x")


def test_a_list_page_downloads_its_current_results_with_filters_and_sort(client, exercises):
    response = client.get("/exercises/", {"year_from": "2009", "sort": "-date", "format": "csv", "page": "2"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="exercises-')
    rows = list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert [row["key"] for row in rows] == ["other-2010", "kanal-2009"]


@pytest.mark.parametrize("format", ["csv", "xlsx", "json"])
def test_every_list_page_offers_each_format(client, exercises, format):
    for path in ("/states/", "/memberships/", "/summits/", "/exercises/", "/crises/", "/sources/"):
        response = client.get(path, {"format": format})
        assert response.status_code == 200, path
        assert response["Content-Disposition"].endswith(f'.{format}"'), path


def test_the_list_page_links_its_downloads_with_the_filters_kept(client, exercises):
    html = client.get("/exercises/", {"host": "KZ", "page": "1"}).content.decode()
    assert 'href="?host=KZ&amp;format=csv"' in html
    assert 'href="?host=KZ&amp;format=xlsx"' in html


def test_a_download_with_an_invalid_filter_is_a_400_naming_the_filter(client, exercises):
    response = client.get("/en/exercises/", {"year_from": "abc", "format": "csv"})
    assert response.status_code == 400
    assert "year_from" in response.content.decode()


def test_an_unknown_download_format_is_a_400(client, exercises):
    response = client.get("/en/exercises/", {"format": "pdf"})
    assert response.status_code == 400
    assert response.content.decode() == "Unknown download format “pdf”: use csv, xlsx or json."


def test_results_too_big_for_an_xlsx_sheet_are_a_400_offering_csv_and_json(client, exercises):
    make_exercise(key="long-2011", name_en="Long", date="2011", description_en="x" * 40_000)

    response = client.get("/en/exercises/", {"format": "xlsx"})
    assert response.status_code == 400
    assert response.content.decode() == (
        "These results do not fit in an xlsx sheet (it holds 1,048,576 rows and 32,767 characters a "
        "cell). Download them as csv or json instead."
    )
    csv_response = client.get("/en/exercises/", {"format": "csv"})
    assert csv_response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(body(csv_response).decode("utf-8-sig"))))
    assert [row["description_en"] for row in rows if row["key"] == "long-2011"] == ["x" * 40_000]
