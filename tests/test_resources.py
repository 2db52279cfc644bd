import pytest
import tablib

from catalog.models import Exercise, Summit
from catalog.resources import ExerciseResource, SummitResource, escape_formula, unescape_formula
from tests.factories import make_state

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


def test_a_summit_state_both_present_and_absent_is_refused_like_in_the_admin_form():
    make_state("KZ")

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
