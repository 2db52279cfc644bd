"""What makes imports fast must not change what they do: constraints evaluated in Python agree
with the database, batches keep history and relations, and the query count stays flat."""

import itertools

import pytest
import tablib
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CheckConstraint, Q, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from catalog.models import Citation, Crisis, Exercise, ExerciseSeries, Membership, Milestone, Source, Summit
from catalog.resources import CitationResource, ExerciseResource, inserts
from catalog.resources.base import READ_FROM_ROW, meets_limit
from catalog.resources.constraints import Unsupported, check_in_python, evaluate, instance_values
from catalog.resources.inserts import Unplanned, converter, insert_records, is_plain_text
from tests.factories import make_exercise, make_source, make_state

pytestmark = pytest.mark.django_db

DATES = ["", "2012", "2012-05", "2012-06", "2012-06-28", "2012-07-01", "2011", "2013"]
CHECKED = {
    Membership: {"start": DATES, "end": DATES, "role": ["member", "nonsense", ""]},
    Summit: {"date": DATES, "end_date": DATES, "kind": ["regular", "nonsense"]},
    Exercise: {"date": DATES, "end_date": DATES},
    Crisis: {
        "start": DATES[:4],
        "end": DATES[:4],
        "response": ["deployed", "statement", "nonsense"],
        "troops_deployed": [None, 0, 2030],
    },
    Milestone: {"date": DATES[:4], "end_date": DATES[:4], "kind": ["treaty", "nonsense"]},
    Source: {"kind": ["news", "nonsense", ""]},
}


def combinations(values_by_field):
    names = list(values_by_field)
    for values in itertools.product(*(values_by_field[name] for name in names)):
        yield dict(zip(names, values, strict=True))


@pytest.mark.parametrize("model", list(CHECKED), ids=lambda model: model.__name__)
def test_check_constraints_evaluated_in_python_agree_with_the_database(model):
    constraints = [c for c in model._meta.constraints if isinstance(c, CheckConstraint)]
    verdicts = set()
    for values in combinations(CHECKED[model]):
        instance = model(**values)
        for constraint in constraints:
            in_python = passes(check_in_python, constraint, instance_values(instance), set())
            in_database = passes(constraint.validate, model, instance)
            assert in_python == in_database, (constraint.name, values)
            verdicts.add(in_database)
    assert verdicts == {True, False}  # the values tried both pass and fail every model's rules


def passes(check, *args):
    try:
        check(*args)
    except ValidationError:
        return False
    return True


def test_a_condition_it_cannot_read_is_left_to_the_database():
    with pytest.raises(Unsupported):
        evaluate(Q(name_en__icontains="x"), {"name_en": "x"})


def import_rows(headers, *rows, **kwargs):
    return ExerciseResource().import_data(tablib.Dataset(*rows, headers=headers), **kwargs)


HEADERS = ["key", "name_zh", "name_en", "date", "end_date", "hosts", "participants", "troops"]


def test_a_batch_of_new_rows_is_written_with_history_and_relations_in_a_flat_number_of_queries():
    for code in ("AM", "KZ", "RU"):
        make_state(code)
    rows = [(f"e-{n}", "甲", f"A {n}", "2008", "", "AM", "KZ, RU", n) for n in range(60)]

    with CaptureQueriesContext(connection) as queries:
        result = import_rows(HEADERS, *rows, file_name="many.xlsx")

    assert not result.has_errors() and not result.has_validation_errors()
    assert len(queries) < 25  # was several per row
    assert Exercise.objects.count() == 60
    e59 = Exercise.objects.get(key="e-59")
    assert (e59.troops, sorted(s.code.code for s in e59.participants.all())) == (59, ["KZ", "RU"])
    assert Exercise.history.filter(history_type="+").count() == 60
    assert set(Exercise.history.values_list("history_change_reason", flat=True)) == {
        "Imported from many.xlsx"
    }


def test_an_updated_row_changes_only_its_record_its_relations_and_adds_one_history_row():
    am, kz, ru = make_state("AM"), make_state("KZ"), make_state("RU")
    make_exercise(
        key="a", name_zh="甲", name_en="A", date="2008", hosts=[am], participants=[am, kz], troops=1
    )
    make_exercise(key="b", name_zh="乙", name_en="B", date="2009", hosts=[kz], participants=[ru], troops=2)
    history = Exercise.history.count()

    result = import_rows(
        HEADERS,
        ("a", "甲", "A", "2008", "", "AM", "KZ, RU", "1"),
        ("b", "乙", "B", "2009", "", "KZ", "RU", "2"),
        file_name="edit.csv",
    )

    assert [row.import_type for row in result.rows] == ["update", "skip"]
    a = Exercise.objects.get(key="a")
    assert sorted(s.code.code for s in a.participants.all()) == ["KZ", "RU"]
    assert [s.code.code for s in a.hosts.all()] == ["AM"]
    assert [s.code.code for s in Exercise.objects.get(key="b").participants.all()] == ["RU"]
    assert Exercise.history.count() == history + 1
    latest = a.history.latest("history_date")
    assert (latest.history_type, latest.history_change_reason) == ("~", "Imported from edit.csv")


def test_a_changed_field_is_written_and_the_last_changed_time_moves():
    make_exercise(key="a", name_zh="甲", name_en="A", date="2008", troops=1)
    before = Exercise.objects.get(key="a").updated_at

    import_rows(["key", "name_zh", "name_en", "date", "troops"], ("a", "甲", "A renamed", "2008", "7"))

    a = Exercise.objects.get(key="a")
    assert (a.name_en, a.troops, a.date) == ("A renamed", 7, "2008")
    assert a.updated_at > before


def test_an_end_before_the_start_is_refused_with_the_models_message_and_nothing_is_written():
    with translation.override("en"):
        result = import_rows(
            ["key", "name_zh", "name_en", "date", "end_date"],
            ("ok", "甲", "A", "2010", ""),
            ("x", "乙", "B", "2010-06", "2010-05"),
            rollback_on_validation_errors=True,
        )

    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert [str(m) for m in invalid.non_field_specific_errors] == ["The end date is before the start date."]
    assert Exercise.objects.count() == 0


def test_a_key_already_in_the_database_updates_that_record_rather_than_adding_another():
    make_exercise(key="same", name_zh="甲", name_en="A", date="2008")

    result = import_rows(["key", "name_zh", "name_en", "date"], ("same", "甲", "A", "2009"))

    assert [row.import_type for row in result.rows] == ["update"]
    assert list(Exercise.objects.values_list("key", "date")) == [("same", "2009")]


# --- foreign keys read by their key ----------------------------------------------------------


def queries_on(queries, table):
    """The queries reading `table` itself (not only joining it)."""
    return [query["sql"] for query in queries.captured_queries if f'FROM "{table}"' in query["sql"]]


def test_a_series_read_by_its_key_is_not_looked_up_again_for_each_row():
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="边界", name_en="Rubezh")
    rows = [(f"e-{n}", "甲", f"A {n}", "2008", "rubezh") for n in range(5)]

    with CaptureQueriesContext(connection) as queries:
        result = import_rows(["key", "name_zh", "name_en", "date", "series"], *rows)

    assert not result.has_errors() and not result.has_validation_errors()
    assert len(queries_on(queries, "catalog_exerciseseries")) == 1  # the widget reads the series once
    assert list(Exercise.objects.values_list("series", flat=True)) == [rubezh.pk] * 5


def test_an_unknown_series_is_still_an_error_on_its_row():
    ExerciseSeries.objects.create(key="rubezh", name_zh="边界", name_en="Rubezh")

    result = import_rows(
        ["key", "name_zh", "name_en", "date", "series"],
        ("a", "甲", "A", "2008", "rubezh"),
        ("b", "乙", "B", "2009", "nope"),
    )

    (invalid,) = result.invalid_rows
    assert (invalid.number, invalid.field_specific_errors) == (
        2,
        {"series": ["未知的演习系列“nope”"]},  # the site's default language
    )


def test_only_foreign_keys_set_to_saved_records_from_the_row_skip_the_lookup():
    resource = ExerciseResource()
    saved = ExerciseSeries.objects.create(key="saved", name_zh="甲", name_en="A")
    from_row = Exercise(key="a", series=saved)
    setattr(from_row, READ_FROM_ROW, ["series"])
    unsaved = Exercise(key="b", series=ExerciseSeries(pk=saved.pk, key="saved"))
    setattr(unsaved, READ_FROM_ROW, ["series"])
    not_from_row = Exercise(key="c", series=saved)

    assert [resource.read_relations(e) for e in (from_row, unsaved, not_from_row)] == [
        {"series"},
        set(),
        set(),
    ]


def test_a_foreign_key_limited_to_some_records_skips_the_lookup_only_for_records_it_allows():
    field = Citation._meta.get_field("content_type")

    assert meets_limit(field, ContentType.objects.get_for_model(Exercise)) is True
    assert meets_limit(field, ContentType.objects.get_for_model(User)) is False


def test_citations_read_their_record_kinds_once_not_once_per_row():
    exercises = [make_exercise(key=f"e-{n}") for n in range(4)]
    source = make_source(key="tass")
    rows = [("exercise", exercise.key, "tass", "", f"quote {n}") for n, exercise in enumerate(exercises)]

    with CaptureQueriesContext(connection) as queries:
        result = CitationResource().import_data(
            tablib.Dataset(*rows, headers=["record_kind", "record_key", "source", "field", "quote"])
        )

    assert not result.has_errors() and not result.has_validation_errors()
    assert len(queries_on(queries, "django_content_type")) == 1
    assert len(queries_on(queries, "catalog_source")) == 1
    assert sorted(Citation.objects.values_list("quote", "source")) == [
        (f"quote {n}", source.pk) for n in range(4)
    ]
    assert Citation.history.filter(history_type="+").count() == 4


# --- plain inserts ---------------------------------------------------------------------------


def test_new_records_and_their_history_rows_hold_exactly_the_imported_values(django_user_model):
    editor = django_user_model.objects.create(username="editor")
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="边界", name_en="Rubezh")
    make_state("KZ")
    headers = [
        "key",
        "name_zh",
        "name_en",
        "series",
        "date",
        "end_date",
        "hosts",
        "troops",
        "aircraft",
        "note_en",
    ]

    result = ExerciseResource().import_data(
        tablib.Dataset(
            ("a", "甲", "A", "rubezh", "2008-07", "2008-07-05", "KZ", "4000", "", "  spaced  "),
            ("b", "乙", "B", "", "2009", "", "", "", "12", ""),
            headers=headers,
        ),
        file_name="two.xlsx",
        user=editor,
    )

    assert not result.has_errors() and not result.has_validation_errors()
    a, b = Exercise.objects.order_by("key")
    assert [(e.key, e.series_id, e.date, e.end_date, e.troops, e.aircraft, e.note_en) for e in (a, b)] == [
        ("a", rubezh.pk, "2008-07", "2008-07-05", 4000, None, "  spaced  "),
        ("b", None, "2009", "", None, 12, ""),
    ]
    for record in (a, b):
        (version,) = record.history.all()
        tracked = [field.attname for field in Exercise.history.model.tracked_fields]
        assert [getattr(version, name) for name in tracked] == [getattr(record, name) for name in tracked]
        assert (version.history_type, version.history_change_reason, version.history_user) == (
            "+",
            "Imported from two.xlsx",
            editor,
        )
    assert a.history.get().history_date <= b.history.get().history_date
    assert [state.code.code for state in a.hosts.all()] == ["KZ"]


def test_values_are_converted_for_the_database_as_django_converts_them():
    values = ["", "text", "  2008  ", None, 0, 7, True, False, timezone.now(), 2.5]
    models = (Exercise, Exercise.history.model, Citation, Citation.history.model)
    fields = [field for model in models for field in model._meta.concrete_fields]
    checked = 0

    for field in fields:
        convert = converter(field, connection)
        for value in values:
            try:
                expected = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError):
                continue
            assert (type(convert(value)), convert(value)) == (type(expected), expected), (field, value)
            checked += 1

    assert checked > 200
    assert is_plain_text(Exercise._meta.get_field("name_en"))
    assert not is_plain_text(Exercise._meta.get_field("date"))  # a partial date strips its text


def test_a_value_that_is_an_expression_leaves_the_batch_to_django_having_written_nothing():
    exercise = Exercise(key="x", name_zh="甲", name_en=Value("A"), date="2008")

    with pytest.raises(Unplanned):
        insert_records(Exercise, [exercise], Exercise._meta.get_field("key"), "default")

    assert not Exercise.objects.exists()
    assert exercise.pk is None


def test_history_rows_written_by_simple_historys_own_helper_read_the_same(monkeypatch):
    """Where a history model has fields this module does not know, simple-history writes the
    rows: the same reason and type as ours."""
    headers = ["key", "name_zh", "name_en", "date", "troops"]
    import_rows(headers, ("ours", "甲", "A", "2008", "1"), file_name="one.xlsx")
    monkeypatch.setattr(inserts, "history_plan", lambda model: None)
    import_rows(headers, ("theirs", "乙", "B", "2009", "2"), file_name="one.xlsx")

    versions = Exercise.history.order_by("key").values_list(
        "key", "troops", "history_type", "history_change_reason", "history_user"
    )
    assert list(versions) == [
        ("ours", 1, "+", "Imported from one.xlsx", None),
        ("theirs", 2, "+", "Imported from one.xlsx", None),
    ]
