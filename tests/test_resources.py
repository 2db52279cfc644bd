import pytest
import tablib
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.safestring import SafeString

from catalog.models import Citation, Exercise, Summit
from catalog.resources import CitationResource, ExerciseResource, SummitResource
from catalog.resources.kinds import CrisisResource
from catalog.resources.workbook import export_rows
from catalog.spreadsheets import escape_formula, escape_row, unescape_formula
from tests.factories import make_exercise, make_state
from tests.sheets import build_catalog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+7", "'+7"),
        ("-3 degrees", "'-3 degrees"),
        ("@home", "'@home"),
        ("\tindented", "'\tindented"),
        ("\rreturn", "'\rreturn"),
        ("'=already", "''=already"),
        ("plain", "plain"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_formula_like_text_is_escaped_and_unescapes_back(text, escaped):
    assert escape_formula(text) == escaped
    assert unescape_formula(escaped) == text
    assert escape_row([text, 4000, None]) == [escaped, 4000, None]
    assert escape_row([SafeString(text)]) == [escaped]


@pytest.mark.parametrize("value", [4000, 2.5, None, True])
def test_non_text_values_are_not_escaped(value):
    assert escape_formula(value) is value


def import_rows(resource, headers, *rows, dry_run=False):
    return resource.import_data(tablib.Dataset(*rows, headers=headers), dry_run=dry_run)


def test_states_are_looked_up_once_per_import_not_per_row(django_assert_max_num_queries):
    for code in ("AM", "KZ", "RU"):
        make_state(code)
    rows = [(f"e-{n}", "甲", "A", "2008", "AM, KZ", "RU") for n in range(30)]
    headers = ["key", "name_zh", "name_en", "date", "hosts", "participants"]

    result = import_rows(ExerciseResource(), headers, *rows, dry_run=True)
    assert not result.has_validation_errors()

    # per row: insert, history, m2m reads and writes; the state table is read once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        import_rows(ExerciseResource(), headers, *[(f"f-{n}", *row[1:]) for n, row in enumerate(rows)])
    state_reads = [q for q in queries if 'FROM "catalog_state"' in q["sql"] and "INNER JOIN" not in q["sql"]]
    assert len(state_reads) == 1
    assert Exercise.objects.filter(key__startswith="f-").count() == 30


@pytest.mark.parametrize(
    ("response", "troops", "errors"),
    [
        ("declined", "2030", {"__all__": ["Troops deployed needs the response 'forces deployed'."]}),
        ("deployed", "2030", {}),
    ],
)
def test_a_rule_between_two_columns_is_checked_by_the_database_constraint(response, troops, errors):
    with translation.override("en"):
        result = import_rows(
            CrisisResource(),
            ["key", "name_zh", "name_en", "start", "end", "response", "troops_deployed"],
            ("kz-2022", "哈萨克斯坦", "Kazakhstan", "2022-01", "2021-12", response, troops),
            dry_run=True,
        )

    found = {
        column: sorted(str(message) for message in messages)
        for row in result.invalid_rows
        for column, messages in row.error_dict.items()
    }
    assert found == {
        "__all__": sorted([*errors.get("__all__", []), "The end date is before the start date."])
    }


def test_a_summit_state_both_present_and_absent_is_refused_like_in_the_admin_form():
    make_state("KZ")

    with translation.override("en"):
        result = import_rows(
            SummitResource(),
            ["key", "name_zh", "name_en", "date", "participants", "absentees"],
            ("s-1", "峰会", "Summit", "2009", "KZ", "kz"),
        )

    (invalid,) = result.invalid_rows
    assert invalid.field_specific_errors == {
        "absentees": ["A state cannot both take part in and stay away from a summit: KZ."]
    }
    assert Summit.objects.count() == 0


def test_state_codes_in_cells_are_read_case_insensitively():
    make_state("KZ")
    make_state("AM")

    import_rows(
        ExerciseResource(),
        ["key", "name_zh", "name_en", "date", "hosts"],
        ("e", "甲", "A", "2008", " kz ,am,"),
    )

    assert sorted(s.code.code for s in Exercise.objects.get(key="e").hosts.all()) == ["AM", "KZ"]


# --- export rows: the library's rendering, relations read a chunk at a time ---------------------


def rows_of(resource, queryset=None):
    headers, rows = export_rows(resource, queryset)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def test_exercise_rows_name_relations_by_natural_key_and_keep_numbers_typed():
    build_catalog()

    (values,) = rows_of(ExerciseResource())

    assert values["series"] == "rubezh"
    assert values["hosts"] == "AM"
    assert values["participants"] == "AM, KZ, RU"
    assert values["troops"] == 4000
    assert values["aircraft"] == 0
    assert values["end_date"] == "2008-08"
    assert "delete" not in values
    assert "is_synthetic" not in values


def test_exported_rows_neutralise_formulas_the_library_rendering_does_not():
    make_exercise(key="e", name_en="=1+1", note_en="-3 degrees", troops=5)
    resource = ExerciseResource()
    plain = dict(
        zip(resource.get_export_headers(), resource.export_resource(Exercise.objects.get()), strict=True)
    )

    (escaped,) = rows_of(resource)

    assert [plain[name] for name in ("name_en", "note_en", "troops")] == ["=1+1", "-3 degrees", 5]
    assert [escaped[name] for name in ("name_en", "note_en", "troops")] == ["'=1+1", "'-3 degrees", 5]


def test_export_rows_keep_the_querysets_order():
    for key, date in (("b", "2001"), ("a", "2003"), ("c", "2002")):
        make_exercise(key=key, date=date)

    rows = rows_of(ExerciseResource(), Exercise.objects.order_by("-date"))

    assert [row["key"] for row in rows] == ["a", "c", "b"]


def test_exercise_rows_take_a_fixed_number_of_queries_whatever_their_number(django_assert_num_queries):
    states = [make_state(code) for code in ("AM", "KZ", "RU")]
    for n in range(12):
        make_exercise(key=f"e-{n}", hosts=states[: n % 3], participants=states)

    with django_assert_num_queries(3):  # the rows with their series, their hosts, their participants
        rows = rows_of(ExerciseResource())

    assert len(rows) == 12
    assert [row["hosts"] for row in rows[:3]] == ["", "AM", "AM, KZ"]


def test_citation_rows_read_their_records_keys_in_one_query_per_kind(django_assert_num_queries):
    build_catalog()
    kinds = Citation.objects.values("content_type").distinct().count()
    assert kinds == 6
    ContentType.objects.clear_cache()
    for citation in Citation.objects.select_related("content_type"):  # the content types, cached
        ContentType.objects.get_for_id(citation.content_type_id)

    with django_assert_num_queries(1 + kinds):
        rows = rows_of(CitationResource())

    cited = sorted((row["record_kind"], row["record_key"]) for row in rows)
    assert cited == [
        ("crisis", "kz-2022"),
        ("exercise", "rubezh-2008"),
        ("exercise", "rubezh-2008"),
        ("milestone", "treaty"),
        ("organizationfact", "headquarters"),
        ("state", "KZ"),
        ("summit", "dushanbe-2008"),
    ]


def test_a_citation_of_a_record_that_no_longer_exists_has_an_empty_record_key():
    build_catalog()
    citation = Citation.objects.get(quote="Summit held")
    Citation.objects.filter(pk=citation.pk).update(object_id=999_999)

    rows = rows_of(CitationResource(), Citation.objects.filter(pk=citation.pk))

    assert [(row["record_kind"], row["record_key"]) for row in rows] == [("summit", "")]
