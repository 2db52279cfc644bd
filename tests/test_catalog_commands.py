import io
import json
import threading
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection, connections

from catalog.models import Citation, Exercise, Membership, Source, State
from tests.factories import make_exercise, make_source, make_state
from tests.sheets import (  # noqa: F401 (any_catalog is a fixture)
    AWKWARD_TEXTS,
    any_catalog,
    build_catalog,
    empty_catalog,
    snapshot,
)

pytestmark = pytest.mark.django_db


def run(*args):
    call_command(*args, verbosity=1)


@pytest.mark.usefixtures("any_catalog")
@pytest.mark.parametrize("name", ["catalog.xlsx", "catalog.json", "catalog/"])
def test_catalog_exported_and_imported_into_an_empty_database_holds_the_same_records(tmp_path, name):
    before = snapshot()
    path = str(tmp_path / name)
    run("export_catalog", path)
    empty_catalog()
    assert State.objects.count() == 0

    run("import_catalog", path)

    assert snapshot() == before


def test_a_catalog_with_empty_kinds_round_trips(tmp_path, capsys):
    make_state("KZ")
    before = snapshot()
    run("export_catalog", str(tmp_path / "catalog.xlsx"))
    empty_catalog()

    run("import_catalog", str(tmp_path / "catalog.xlsx"))

    assert "exercises: 0 created, 0 updated, 0 unchanged, 0 deleted, 0 errors" in capsys.readouterr().out
    assert snapshot() == before


def test_xlsx_export_has_one_sheet_per_kind_in_dependency_order(tmp_path):
    build_catalog()
    run("export_catalog", str(tmp_path / "catalog.xlsx"))

    book = openpyxl.load_workbook(tmp_path / "catalog.xlsx")

    assert book.sheetnames == [
        "sources",
        "states",
        "memberships",
        "exercise_series",
        "exercises",
        "summits",
        "crises",
        "milestones",
        "organization_facts",
        "citations",
    ]
    exercises = list(book["exercises"].values)
    assert exercises[0][:9] == (
        "key",
        "name_zh",
        "name_en",
        "series",
        "date",
        "end_date",
        "hosts",
        "participants",
        "troops",
    )
    assert exercises[1][3:9] == ("rubezh", "2008-07", "2008-08", "AM", "AM, KZ, RU", 4000)


def test_csv_export_is_a_folder_of_one_file_per_kind(tmp_path):
    build_catalog()
    run("export_catalog", str(tmp_path / "out"))

    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "citations.csv",
        "crises.csv",
        "exercise_series.csv",
        "exercises.csv",
        "memberships.csv",
        "milestones.csv",
        "organization_facts.csv",
        "sources.csv",
        "states.csv",
        "summits.csv",
    ]


def test_export_escapes_formulas_and_import_restores_the_text(tmp_path):
    build_catalog()
    run("export_catalog", str(tmp_path / "catalog.json"))
    document = json.loads((tmp_path / "catalog.json").read_text())

    russia = next(row for row in document["states"] if row["code"] == "RU")
    assert russia["parliament_en"] == '\'=HYPERLINK("http://example.com")'
    assert next(row for row in document["sources"] if row["key"] == "tass-2008")["title"] == "'+7 headline"
    assert document["exercises"][0]["troops"] == 4000

    empty_catalog()
    run("import_catalog", str(tmp_path / "catalog.json"))
    assert State.objects.get(code="RU").parliament_en == '=HYPERLINK("http://example.com")'


def test_importing_the_same_workbook_twice_changes_nothing_the_second_time(tmp_path, capsys):
    build_catalog()
    path = str(tmp_path / "catalog.xlsx")
    run("export_catalog", path)
    history_before = Exercise.history.count()
    capsys.readouterr()

    run("import_catalog", path)

    out = capsys.readouterr().out
    assert "exercises: 0 created, 0 updated, 1 unchanged, 0 deleted, 0 errors" in out
    assert "organization_facts: 0 created, 0 updated, 1 unchanged, 0 deleted, 0 errors" in out
    assert "citations: 0 created, 0 updated, 7 unchanged, 0 deleted, 0 errors" in out
    assert Exercise.history.count() == history_before


def test_one_edited_cell_updates_that_record_alone_with_a_history_reason_naming_the_file(tmp_path, capsys):
    build_catalog()
    make_exercise(key="kanal-2009", troops=100)
    path = tmp_path / "catalog.xlsx"
    run("export_catalog", str(path))
    book = openpyxl.load_workbook(path)
    sheet = book["exercises"]
    troops = [cell.value for cell in sheet[1]].index("troops") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "kanal-2009")
    sheet.cell(row, troops).value = 250
    book.save(path)
    capsys.readouterr()

    run("import_catalog", str(path))

    assert "exercises: 0 created, 1 updated, 1 unchanged, 0 deleted, 0 errors" in capsys.readouterr().out
    assert Exercise.objects.get(key="kanal-2009").troops == 250
    assert Exercise.objects.get(key="rubezh-2008").troops == 4000
    latest = Exercise.history.filter(key="kanal-2009").latest("history_date")
    assert latest.history_change_reason == "Imported from catalog.xlsx"
    assert latest.history_user is None


def test_dry_run_reports_but_writes_nothing(tmp_path, capsys):
    build_catalog()
    path = str(tmp_path / "catalog.json")
    run("export_catalog", path)
    empty_catalog()
    capsys.readouterr()

    run("import_catalog", path, "--dry-run")

    out = capsys.readouterr().out
    assert "states: 4 created, 0 updated, 0 unchanged, 0 deleted, 0 errors" in out
    assert "organization_facts: 1 created" in out
    assert "citations: 7 created" in out
    assert "Dry run: nothing was written." in out
    assert State.objects.count() == 0
    assert Citation.objects.count() == 0


def test_an_error_in_a_late_sheet_writes_nothing_from_any_sheet_and_lists_the_errors(tmp_path, capsys):
    document = {
        "states": [{"code": "am", "name_zh": "亚美尼亚", "name_en": "Armenia"}],
        "memberships": [
            {"key": "am-1", "state": "AM", "role": "member", "start": "1994"},
            {"key": "xx-1", "state": "XX", "role": "member", "start": "2010-13"},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))

    with pytest.raises(CommandError, match="2 errors; nothing was written."):
        run("import_catalog", str(path))

    captured = capsys.readouterr()
    assert "states: 1 created, 0 updated, 0 unchanged, 0 deleted, 0 errors" in captured.out
    assert "memberships, row 3, state: Unknown state code “XX”" in captured.err
    assert "memberships, row 3, start: “2010-13” is not a date: there is no month 13" in captured.err
    assert State.objects.count() == 0
    assert Membership.objects.count() == 0


def test_an_unknown_sheet_is_refused(tmp_path):
    make_state("KZ")
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"people": []}))

    with pytest.raises(CommandError, match="Unknown sheet people; the sheets are: sources, states"):
        run("import_catalog", str(path))
    assert State.objects.count() == 1


def test_a_file_that_is_not_a_workbook_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "picture.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))

    with pytest.raises(CommandError, match="This file is not an xlsx spreadsheet"):
        run("import_catalog", str(path))


def test_an_unsupported_suffix_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Unsupported file type “.ods”"):
        run("export_catalog", str(tmp_path / "catalog.ods"))


def test_xlsx_text_cells_stay_text_never_formulas_links_or_numbers(tmp_path):
    make_exercise(key="e", name_en="0123", note_en="http://example.com", purpose_en="1+1", troops=7)
    run("export_catalog", str(tmp_path / "catalog.xlsx"))

    sheet = openpyxl.load_workbook(tmp_path / "catalog.xlsx")["exercises"]

    header = [cell.value for cell in sheet[1]]
    cells = {
        name: sheet.cell(2, header.index(name) + 1) for name in ("name_en", "note_en", "purpose_en", "troops")
    }
    assert {name: (cell.value, cell.data_type) for name, cell in cells.items()} == {
        "name_en": ("0123", "s"),
        "note_en": ("http://example.com", "s"),
        "purpose_en": ("1+1", "s"),
        "troops": (7, "n"),
    }
    assert all(cell.hyperlink is None for cell in cells.values())


def test_a_text_too_long_for_an_xlsx_cell_is_refused_and_the_previous_file_is_kept(tmp_path):
    make_exercise(key="e", description_en="x" * 40_000)
    path = tmp_path / "catalog.xlsx"
    path.write_bytes(b"previous export")

    with pytest.raises(
        CommandError, match="Sheet exercises, row 2, column description_en: the text is longer"
    ):
        run("export_catalog", str(path))

    assert path.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.xlsx"]

    run("export_catalog", str(tmp_path / "catalog.json"))
    document = json.loads((tmp_path / "catalog.json").read_text())
    assert document["exercises"][0]["description_en"] == "x" * 40_000


def test_a_failed_xlsx_export_leaves_no_file_behind(tmp_path):
    make_exercise(key="e", note_en="x" * 40_000)

    with pytest.raises(CommandError, match="Sheet exercises, row 2, column note_en: the text is longer"):
        run("export_catalog", str(tmp_path / "catalog.xlsx"))

    assert list(tmp_path.iterdir()) == []


def test_awkward_text_survives_an_xlsx_export_and_import_unchanged(tmp_path):
    kz = make_state("KZ")
    for number, text in enumerate(AWKWARD_TEXTS):
        make_exercise(
            key=f"e-{number}",
            hosts=[kz],
            note_en=text,
            purpose_en=text,
            description_zh=f"{text}\n第二段",
            description_en=f"  {text}  ",
            troops=number,
        )
    before = snapshot()
    run("export_catalog", str(tmp_path / "catalog.xlsx"))
    empty_catalog()

    run("import_catalog", str(tmp_path / "catalog.xlsx"))

    assert snapshot() == before
    assert sorted(Exercise.objects.values_list("note_en", flat=True)) == sorted(AWKWARD_TEXTS)


# --- who imports: --user and its permissions -------------------------------------------------


def editor(name="editor"):
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def catalog_file(tmp_path, document):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document))
    return str(path)


SOURCE_ROW = {"key": "tass", "kind": "news", "title": "TASS", "language": "ru", "delete": 1}


def test_an_editor_may_not_delete_sources_from_the_command_line_and_nothing_is_written(tmp_path, capsys):
    editor()
    make_source(key="tass", title="TASS")
    make_exercise(key="gone")
    path = catalog_file(
        tmp_path,
        {
            "sources": [SOURCE_ROW],
            "exercises": [{"key": "gone", "name_zh": "甲", "name_en": "A", "date": "2008", "delete": 1}],
        },
    )

    with pytest.raises(CommandError, match="1 errors; nothing was written."):
        run("import_catalog", path, "--user", "editor")

    assert "sources, row 2, delete: You may not delete sources." in capsys.readouterr().err
    assert Source.objects.filter(key="tass").exists()
    assert Exercise.objects.filter(key="gone").exists()


def test_an_editor_deletes_an_exercise_from_the_command_line_named_in_its_history(tmp_path):
    user = editor()
    make_exercise(key="gone")
    path = catalog_file(
        tmp_path,
        {"exercises": [{"key": "gone", "name_zh": "甲", "name_en": "A", "date": "2008", "delete": 1}]},
    )

    run("import_catalog", path, "--user", "editor")

    assert not Exercise.objects.filter(key="gone").exists()
    deleted = Exercise.history.get(key="gone", history_type="-")
    assert (deleted.history_user, deleted.history_change_reason) == (user, "Imported from catalog.json")


def test_without_a_user_the_command_line_may_delete_a_source(tmp_path):
    make_source(key="tass", title="TASS")

    run("import_catalog", catalog_file(tmp_path, {"sources": [SOURCE_ROW]}))

    assert not Source.objects.exists()


def test_a_user_without_import_permissions_imports_nothing(tmp_path, capsys):
    User.objects.create_user("reader", password="pw", is_staff=True)
    path = catalog_file(
        tmp_path, {"states": [{"code": "KZ", "name_zh": "哈萨克斯坦", "name_en": "Kazakhstan"}]}
    )

    with pytest.raises(CommandError, match="1 errors; nothing was written."):
        run("import_catalog", path, "--user", "reader")

    assert "states: You may not import states." in capsys.readouterr().err
    assert not State.objects.exists()


def test_an_unknown_user_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No user named “nobody”."):
        run("import_catalog", catalog_file(tmp_path, {}), "--user", "nobody")


# --- the admin's size limits, checked before the file is read ------------------------------------


@pytest.mark.parametrize("name", ["catalog.xlsx", "catalog.json", "catalog/"])
def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path, settings, monkeypatch, name):
    build_catalog()
    path = str(tmp_path / name)
    run("export_catalog", path)
    settings.CATALOG_IMPORT_MAX_BYTES = 1000

    def not_read(*args, **kwargs):
        pytest.fail("the file was read")

    monkeypatch.setattr(Path, "read_bytes", not_read)
    with pytest.raises(CommandError, match=r"the largest file an import accepts is 1,000 bytes\."):
        run("import_catalog", path)


@pytest.mark.parametrize("name", ["catalog.xlsx", "catalog.json", "catalog/"])
def test_a_sheet_over_the_row_limit_is_refused(tmp_path, settings, name):
    build_catalog()
    path = str(tmp_path / name)
    run("export_catalog", path)
    settings.CATALOG_IMPORT_MAX_ROWS = 3  # the citations sheet has 6 rows

    with pytest.raises(CommandError, match="The file has more than 3 rows, the most one import accepts."):
        run("import_catalog", path)


def exercises_hosted_by_kazakhstan(tmp_path, count):
    """A catalog file of Kazakhstan and `count` new exercises it hosted."""
    return catalog_file(
        tmp_path,
        {
            "states": [{"code": "KZ", "name_zh": "哈萨克斯坦", "name_en": "Kazakhstan"}],
            "exercises": [
                {"key": f"e-{n}", "name_zh": "甲", "name_en": "A", "date": "2008", "hosts": "KZ"}
                for n in range(count)
            ],
        },
    )


def test_an_import_on_postgresql_gives_the_planner_statistics_of_what_it_wrote(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite keeps none that a write leaves stale")
    path = exercises_hosted_by_kazakhstan(tmp_path, 137)

    run("import_catalog", path)

    # Without the import's ANALYZE the table's estimate stays as before it (-1: never analyzed).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'catalog_exercise'::regclass")
        assert cursor.fetchone()[0] == Exercise.objects.count() == 137


# --- two imports at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_new_keys_at_once_one_waits_for_the_other(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; the advisory lock is PostgreSQL's")
    path = exercises_hosted_by_kazakhstan(tmp_path, 200)
    start, outcomes = threading.Barrier(2), []

    def import_once():
        out = io.StringIO()
        try:
            start.wait()
            call_command("import_catalog", path, stdout=out, stderr=out)
            outcomes.append(out.getvalue())
        except Exception as error:  # noqa: BLE001 (the outcome is what is compared)
            outcomes.append(f"{type(error).__name__}: {error}\n{out.getvalue()}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcome.splitlines()[1] for outcome in outcomes) == [
        "exercises: 0 created, 0 updated, 200 unchanged, 0 deleted, 0 errors",
        "exercises: 200 created, 0 updated, 0 unchanged, 0 deleted, 0 errors",
    ]
    assert Exercise.objects.count() == 200
    assert Exercise.history.count() == 200
