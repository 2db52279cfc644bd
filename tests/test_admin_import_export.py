import csv
import html
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import translation

from catalog.models import Citation, Exercise, Membership, Source, State
from tests.factories import make_citation, make_exercise, make_membership, make_source, make_state

pytestmark = pytest.mark.django_db

XLSX, CSV, JSON = "0", "1", "2"
EXERCISE_HEADER = ["key", "name_zh", "name_en", "date", "end_date", "hosts", "troops"]


def csv_bytes(header, *rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(header, *rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, model, content, name="exercises.csv", format=CSV):
    return client.post(
        reverse(f"admin:catalog_{model}_import"),
        {"import_file": SimpleUploadedFile(name, content), "format": format, "resource": "0"},
    )


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:catalog_{model}_process_import"), form.initial, follow=True)


def errors_text(response):
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+([:.,])", r"\1", " ".join(text.split()))


def export(client, model, format, query=""):
    """Post the admin export form with every column ticked, as its default is; `query` is the
    changelist's filters and search, which the export follows."""
    url = reverse(f"admin:catalog_{model}_export") + query
    form = client.get(url).context["form"]
    data = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    return client.post(url, {**data, "format": format, "resource": "0"})


@pytest.fixture(autouse=True)
def english_admin():
    """Messages are compared in English: the admin answers under /en/admin/ too."""
    with translation.override("en"):
        yield


@pytest.fixture
def states(db):
    return {code: make_state(code) for code in ("AM", "KZ", "RU")}


@pytest.mark.usefixtures("states")
def test_preview_writes_nothing_and_confirming_writes_every_row_with_history(admin_client, admin_user):
    content = csv_bytes(
        EXERCISE_HEADER,
        ["rubezh-2008", "防线-2008", "Rubezh 2008", "2008-07", "", "AM, KZ", "4000"],
        ["kanal-2009", "通道-2009", "Kanal 2009", "2009", "", "", ""],
    )

    preview = upload(admin_client, "exercise", content)

    assert preview.status_code == 200
    assert preview.context["confirm_form"] is not None
    assert [row.import_type for row in preview.context["result"].valid_rows()] == ["new", "new"]
    assert Exercise.objects.count() == 0

    done = confirm(admin_client, "exercise", preview)

    assert "Import finished: 2 new, 0 updated, 0 deleted and 0 skipped exercises." in errors_text(done)
    rubezh = Exercise.objects.get(key="rubezh-2008")
    assert rubezh.troops == 4000
    assert sorted(state.code.code for state in rubezh.hosts.all()) == ["AM", "KZ"]
    record = rubezh.history.latest("history_date")
    assert record.history_change_reason == "Imported from exercises.csv"
    assert record.history_user == admin_user


@pytest.mark.usefixtures("states")
def test_an_admin_import_on_postgresql_gives_the_planner_statistics_of_what_it_wrote(admin_client):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite keeps none that a write leaves stale")
    rows = [[f"e-{n}", "甲", "A", "2008", "", "KZ", ""] for n in range(137)]

    confirm(admin_client, "exercise", upload(admin_client, "exercise", csv_bytes(EXERCISE_HEADER, *rows)))

    # Without the ANALYZE after the import the table's estimate stays as before it (-1: never analyzed).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'catalog_exercise'::regclass")
        assert cursor.fetchone()[0] == Exercise.objects.count() == 137


@pytest.mark.usefixtures("states")
def test_importing_the_same_file_twice_skips_every_row_the_second_time(admin_client):
    content = csv_bytes(EXERCISE_HEADER, ["rubezh-2008", "防线", "Rubezh", "2008-07", "", "AM", "4000"])
    confirm(admin_client, "exercise", upload(admin_client, "exercise", content))
    history = Exercise.history.count()

    again = upload(admin_client, "exercise", content)

    assert [row.import_type for row in again.context["result"].valid_rows()] == ["skip"]
    done = confirm(admin_client, "exercise", again)
    assert "0 new, 0 updated, 0 deleted and 1 skipped" in errors_text(done)
    assert Exercise.history.count() == history


def test_one_edited_cell_updates_that_record_alone(admin_client, states):
    make_exercise(key="a", name_zh="甲", name_en="A", date="2008", troops=10)
    make_exercise(key="b", name_zh="乙", name_en="B", date="2009", troops=20)
    content = csv_bytes(
        ["key", "name_zh", "name_en", "date", "troops"],
        ["a", "甲", "A", "2008", "10"],
        ["b", "乙", "B", "2009", "25"],
    )

    preview = upload(admin_client, "exercise", content)

    assert [row.import_type for row in preview.context["result"].valid_rows()] == ["skip", "update"]
    assert "<ins" in preview.content.decode()  # the changed cell is marked in the preview
    confirm(admin_client, "exercise", preview)
    assert dict(Exercise.objects.values_list("key", "troops")) == {"a": 10, "b": 25}


def test_a_row_marked_delete_is_previewed_then_deleted(admin_client):
    make_exercise(key="gone", name_zh="甲", name_en="A", date="2008")
    content = csv_bytes(["key", "name_zh", "name_en", "date", "delete"], ["gone", "甲", "A", "2008", "1"])

    preview = upload(admin_client, "exercise", content)

    assert [row.import_type for row in preview.context["result"].valid_rows()] == ["delete"]
    assert Exercise.objects.filter(key="gone").exists()
    confirm(admin_client, "exercise", preview)
    assert not Exercise.objects.filter(key="gone").exists()


def test_xlsx_with_typed_numbers_and_dates_imports(admin_client, states):
    import datetime

    content = xlsx_bytes(
        ["key", "name_zh", "name_en", "date", "end_date", "troops"],
        ["rubezh-2008", "防线", "Rubezh", 2008, datetime.datetime(2008, 8, 2), 4000],
    )

    preview = upload(admin_client, "exercise", content, name="x.xlsx", format=XLSX)
    confirm(admin_client, "exercise", preview)

    assert Exercise.objects.values_list("date", "end_date", "troops").get() == ("2008", "2008-08-02", 4000)


def test_citations_import_by_record_kind_and_key(admin_client):
    exercise = make_exercise(key="rubezh-2008")
    make_source(key="tass")
    kz = make_state("KZ")
    content = csv_bytes(
        ["record_kind", "record_key", "source", "field", "quote", "section", "note_en"],
        ["exercise", "rubezh-2008", "tass", "troops", "4,000 troops", "§1", ""],
        ["state", "kz", "tass", "", "Kazakhstan", "", ""],
    )

    preview = upload(admin_client, "citation", content, name="citations.csv")
    confirm(admin_client, "citation", preview)
    again = upload(admin_client, "citation", content, name="citations.csv")

    assert [(c.record, c.field, c.quote) for c in Citation.objects.order_by("quote")] == [
        (exercise, "troops", "4,000 troops"),
        (kz, "", "Kazakhstan"),
    ]
    assert [row.import_type for row in again.context["result"].valid_rows()] == ["skip", "skip"]


# --- bad input: a clear message, and nothing written -------------------------------------


def assert_refused(response, message, model=Exercise, count=0):
    text = errors_text(response)
    assert message in text
    assert "Traceback" not in text
    assert response.context["confirm_form"] is None if "confirm_form" in response.context else True
    assert model.objects.count() == count


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["x", "甲", "A", "2008", "", "AM, XX", ""], "hosts: Unknown state code “XX”"),
        (["x", "甲", "A", "2010-13", "", "", ""], "date: “2010-13” is not a date: there is no month 13"),
        (["x", "甲", "A", "2010-06", "2010-05", "", ""], "The end date is before the start date."),
        (["x", "甲", "A", "2010", "", "", "many"], "troops: “many” is not a whole number"),
        (["x", "", "A", "2010", "", "", ""], "name_zh: This field cannot be blank."),
    ],
    ids=["unknown-state", "bad-date", "end-before-start", "bad-number", "blank-name"],
)
@pytest.mark.usefixtures("states")
def test_an_invalid_row_is_reported_with_row_column_and_reason(admin_client, row, message):
    good = ["fine", "乙", "B", "2009", "", "", ""]

    response = upload(admin_client, "exercise", csv_bytes(EXERCISE_HEADER, good, row))

    text = errors_text(response)
    assert "Nothing was imported: some rows are not valid" in text
    assert message in text
    row_numbers = [cell.text for cell in _cells(response, "row-number")]
    assert row_numbers == ["3"]
    assert Exercise.objects.count() == 0


def _cells(response, css_class):
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self._open = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "td" and dict(attrs).get("class") == css_class:
                self._open = type("Cell", (), {"text": ""})()
                self.found.append(self._open)

        def handle_endtag(self, tag):
            self._open = None

        def handle_data(self, data):
            if self._open is not None:
                self._open.text += data.strip()

    parser = Cells()
    parser.feed(response.content.decode())
    return parser.found


def test_overlapping_memberships_are_refused(admin_client):
    am = make_state("AM")
    make_membership(state=am, key="am-1", start="1994", end="2000")
    content = csv_bytes(["key", "state", "role", "start", "end"], ["am-2", "AM", "member", "1999", ""])

    response = upload(admin_client, "membership", content, name="memberships.csv")

    assert "This period overlaps another member period of the same state" in errors_text(response)
    assert Membership.objects.count() == 1


def test_duplicate_keys_are_refused_naming_both_rows(admin_client):
    content = csv_bytes(
        EXERCISE_HEADER,
        ["rubezh-2008", "甲", "A", "2008", "", "", ""],
        ["other", "乙", "B", "2009", "", "", ""],
        ["rubezh-2008", "丙", "C", "2010", "", "", ""],
    )

    response = upload(admin_client, "exercise", content)

    assert_refused(response, "Duplicate key `rubezh-2008` in rows 2 and 4.")


def test_a_missing_required_column_is_named_with_the_expected_columns(admin_client):
    content = csv_bytes(["key", "name_zh", "date"], ["x", "甲", "2008"])

    response = upload(admin_client, "exercise", content)

    assert_refused(
        response,
        "Missing required column `name_en`. Expected columns: key, name_zh, name_en, series, date, end_date, "
        "hosts, participants, troops, aircraft, purpose_zh, purpose_en, description_zh, description_en, "
        "note_zh, note_en, delete.",
    )


def test_an_unknown_column_is_refused(admin_client):
    content = csv_bytes(["key", "name_zh", "name_en", "date", "trops"], ["x", "甲", "A", "2008", "5"])

    assert_refused(upload(admin_client, "exercise", content), "Unknown column `trops`.")


def test_an_empty_file_is_refused(admin_client):
    assert_refused(upload(admin_client, "exercise", b""), "The submitted file is empty.")


def test_a_file_with_only_a_header_is_refused(admin_client):
    response = upload(admin_client, "exercise", csv_bytes(EXERCISE_HEADER))

    assert_refused(response, "No valid data to import.")


@pytest.mark.parametrize(
    ("name", "format", "message"),
    [
        ("photo.xlsx", XLSX, "This file is not an xlsx spreadsheet"),
        ("photo.csv", CSV, "This file is not UTF-8 text, so it is not a csv or json file."),
        ("photo.json", JSON, "This file is not UTF-8 text, so it is not a csv or json file."),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_without_a_traceback(admin_client, name, format, message):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))

    assert_refused(upload(admin_client, "exercise", png, name=name, format=format), message)


def test_json_that_is_not_a_list_of_records_is_refused(admin_client):
    response = upload(admin_client, "exercise", b'{"key": "x"}', name="x.json", format=JSON)

    assert_refused(response, "This json file is not a list of records")


def test_a_file_over_the_size_limit_is_refused(admin_client, settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 100
    content = csv_bytes(EXERCISE_HEADER, *[[f"k{n}", "甲", "A", "2008", "", "", ""] for n in range(10)])

    assert_refused(
        upload(admin_client, "exercise", content), "the largest file an import accepts is 100 bytes."
    )


def test_a_file_over_the_row_limit_is_refused(admin_client, settings):
    settings.CATALOG_IMPORT_MAX_ROWS = 2
    content = csv_bytes(EXERCISE_HEADER, *[[f"k{n}", "甲", "A", "2008", "", "", ""] for n in range(3)])

    assert_refused(upload(admin_client, "exercise", content), "The file has more than 2 rows")


def test_a_state_import_with_an_unknown_code_is_refused(admin_client):
    content = csv_bytes(["code", "name_zh", "name_en"], ["XX", "某国", "Nowhere"])

    response = upload(admin_client, "state", content, name="states.csv")

    assert_refused(response, "code: Value 'XX' is not a valid choice.", model=State)


def test_html_in_a_cell_is_escaped_in_the_preview(admin_client):
    content = csv_bytes(EXERCISE_HEADER, ["x", "<script>alert(1)</script>", "A", "2008", "", "", ""])

    response = upload(admin_client, "exercise", content)

    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_html_in_an_invalid_row_is_escaped(admin_client):
    content = csv_bytes(EXERCISE_HEADER, ["x", "<b>bold</b>", "A", "not a date", "", "", ""])

    html = upload(admin_client, "exercise", content).content.decode()

    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold</b>" not in html


# --- export ------------------------------------------------------------------------------


def test_export_offers_only_xlsx_csv_and_json(admin_client):
    response = admin_client.get(reverse("admin:catalog_exercise_export"))

    assert [label for _, label in response.context["form"].fields["format"].choices] == [
        "---",
        "xlsx",
        "csv",
        "json",
    ]


def test_export_form_wires_select_all_from_a_static_file_without_inline_script(admin_client):
    html = admin_client.get(reverse("admin:catalog_exercise_export")).content.decode()

    assert "js/export_select_all.js" in html
    assert "onchange=" not in html
    assert 'id="select-all-toggle"' in html


def test_export_writes_natural_keys_and_escapes_formulas(admin_client):
    kz = make_state("KZ")
    make_exercise(key="rubezh-2008", name_en="=1+1", hosts=[kz], troops=4000, note_en="-3 degrees")

    response = export(admin_client, "exercise", CSV)

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["key"], r["name_en"], r["hosts"], r["troops"], r["note_en"]) for r in rows] == [
        ("rubezh-2008", "'=1+1", "KZ", "4000", "'-3 degrees")
    ]
    assert "delete" not in rows[0]


def test_exported_xlsx_keeps_numbers_typed(admin_client):
    make_exercise(key="rubezh-2008", troops=4000, name_en="+plus")

    response = export(admin_client, "exercise", XLSX)

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["troops"] == 4000
    assert values["name_en"] == "'+plus"
    assert values["date"] == "2008-07"


def test_xlsx_export_names_its_sheet_and_carries_the_records_citations(admin_client, tmp_path):
    tass = make_source(key="tass")
    kept = make_exercise(key="rubezh-2008", troops=4000)
    other = make_exercise(key="kanal-2009")
    make_citation(kept, tass, field="troops", quote="4000 servicemen", translation_en="4,000 soldiers")
    make_citation(other, tass, quote="通道-2009")
    make_citation(make_state("KZ"), tass, quote="哈萨克斯坦")

    response = export(admin_client, "exercise", XLSX, query="?q=rubezh")  # the list searched

    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["exercises", "citations"]
    citations = list(book["citations"].iter_rows(values_only=True))
    assert [(row[0], row[1], row[4]) for row in citations[1:]] == [
        ("exercise", "rubezh-2008", "4000 servicemen")
    ]

    path = tmp_path / "export.xlsx"
    path.write_bytes(response.content)
    Citation.objects.all().delete()
    call_command("import_catalog", str(path), stdout=io.StringIO())
    assert [(c.record, c.quote, c.translation_en) for c in Citation.objects.all()] == [
        (kept, "4000 servicemen", "4,000 soldiers")
    ]


def test_csv_export_holds_only_its_own_kind(admin_client):
    make_citation(make_exercise(key="rubezh-2008"), quote="4000 servicemen")

    rows = list(
        csv.DictReader(io.StringIO(export(admin_client, "exercise", CSV).content.decode("utf-8-sig")))
    )

    assert [row["key"] for row in rows] == ["rubezh-2008"]
    assert "quote" not in rows[0]


def test_citation_export_names_records_by_kind_and_key(admin_client):
    make_citation(make_state("KZ"), make_source(key="tass"), quote="joined", field="start")

    response = export(admin_client, "citation", JSON)

    assert response.json() == [
        {
            "record_kind": "state",
            "record_key": "KZ",
            "source": "tass",
            "field": "start",
            "quote": "joined",
            "translation_en": "",
            "section": "",
            "note_zh": "",
            "note_en": "",
        }
    ]


# --- permissions -------------------------------------------------------------------------


def staff_with(*codenames):
    user = User.objects.create_user("editor", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    )
    return user


def test_staff_without_permissions_can_neither_import_nor_export(client):
    client.force_login(staff_with())

    assert client.get(reverse("admin:catalog_exercise_import")).status_code == 403
    assert client.get(reverse("admin:catalog_exercise_export")).status_code == 403


def test_view_permission_exports_but_does_not_import(client):
    client.force_login(staff_with("view_exercise"))
    make_exercise(key="a")

    changelist = client.get(reverse("admin:catalog_exercise_changelist")).content.decode()
    assert reverse("admin:catalog_exercise_export") in changelist
    assert reverse("admin:catalog_exercise_import") not in changelist
    assert client.get(reverse("admin:catalog_exercise_export")).status_code == 200
    assert client.get(reverse("admin:catalog_exercise_import")).status_code == 403
    content = csv_bytes(["key", "name_zh", "name_en", "date"], ["b", "乙", "B", "2009"])
    assert upload(client, "exercise", content).status_code == 403
    assert Exercise.objects.count() == 1


def test_add_without_change_permission_cannot_import(client):
    client.force_login(staff_with("view_exercise", "add_exercise"))

    assert client.get(reverse("admin:catalog_exercise_import")).status_code == 403


def test_add_and_change_permissions_import(client):
    client.force_login(staff_with("view_exercise", "add_exercise", "change_exercise"))
    content = csv_bytes(["key", "name_zh", "name_en", "date"], ["b", "乙", "B", "2009"])

    changelist = client.get(reverse("admin:catalog_exercise_changelist")).content.decode()
    assert reverse("admin:catalog_exercise_import") in changelist
    confirm(client, "exercise", upload(client, "exercise", content))

    assert list(Exercise.objects.values_list("key", flat=True)) == ["b"]


def test_permission_for_one_kind_does_not_open_another(client):
    client.force_login(staff_with("view_exercise", "add_exercise", "change_exercise"))

    assert client.get(reverse("admin:catalog_state_import")).status_code == 403
    assert client.get(reverse("admin:catalog_state_export")).status_code == 403


def test_the_preview_shows_an_empty_number_as_an_empty_cell(admin_client):
    content = csv_bytes(EXERCISE_HEADER, ["kanal-2009", "通道-2009", "Kanal 2009", "2009", "", "", ""])

    response = upload(admin_client, "exercise", content)

    cells = re.findall(r"<td[^>]*>(.*?)</td>", response.content.decode(), re.S)
    assert cells, "the preview shows the row"
    assert not any(">None<" in f">{cell.strip()}<" for cell in cells)


@pytest.mark.usefixtures("states")
def test_an_editor_in_chinese_reads_file_and_row_errors_in_chinese(admin_client):
    not_a_workbook = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    bad_row = ["x", "甲", "A", "2010-13", "", "AM, XX", "many"]
    with translation.override("zh-hans"):  # the admin at /admin/, the site's default language
        refused = upload(admin_client, "exercise", not_a_workbook, name="photo.xlsx", format=XLSX)
        reported = upload(admin_client, "exercise", csv_bytes(EXERCISE_HEADER, bad_row))

    assert_refused(refused, "此文件不是 xlsx 电子表格（它不是 zip 打包的工作簿）。")
    text = errors_text(reported)
    assert "“2010-13”不是日期：没有 13 月" in text
    assert "未知的国家代码“XX”" in text
    assert "“many”不是整数" in text
    assert Exercise.objects.count() == 0


# --- deletion by import follows the user's delete permission ----------------------------------


def editor():
    user = User.objects.create_user("editor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def test_an_editor_deleting_a_source_by_import_is_refused_on_its_row(client):
    client.force_login(editor())
    make_source(key="tass", title="TASS")
    content = csv_bytes(["key", "kind", "title", "language", "delete"], ["tass", "news", "TASS", "ru", "1"])

    response = upload(client, "source", content, name="sources.csv")

    assert "delete: You may not delete sources." in errors_text(response)
    assert "confirm_form" not in response.context
    assert Source.objects.filter(key="tass").exists()


def test_an_editor_deletes_an_exercise_by_import_and_the_history_keeps_who_and_why(client):
    user = editor()
    client.force_login(user)
    make_exercise(key="gone", name_zh="甲", name_en="A", date="2008")
    content = csv_bytes(["key", "name_zh", "name_en", "date", "delete"], ["gone", "甲", "A", "2008", "1"])

    confirm(client, "exercise", upload(client, "exercise", content))

    assert not Exercise.objects.filter(key="gone").exists()
    deleted = Exercise.history.get(key="gone", history_type="-")
    assert (deleted.history_user, deleted.history_change_reason) == (user, "Imported from exercises.csv")


# --- confirmations that name no waiting upload --------------------------------------------------

STALE = "This import was confirmed already, or its file is gone: nothing was imported."


@pytest.mark.usefixtures("states")
def test_confirming_the_same_import_twice_imports_once_and_then_says_so(admin_client):
    content = csv_bytes(EXERCISE_HEADER, ["rubezh-2008", "防线", "Rubezh", "2008", "", "AM", "4000"])
    preview = upload(admin_client, "exercise", content)
    data = preview.context["confirm_form"].initial
    url = reverse("admin:catalog_exercise_process_import")

    first = admin_client.post(url, data, follow=True)
    second = admin_client.post(url, data, follow=True)

    assert "Import finished: 1 new" in errors_text(first)
    assert second.status_code == 200
    assert "This import was confirmed already, or its file is gone: nothing was imported." in errors_text(
        second
    )
    assert Exercise.objects.count() == 1
    assert Exercise.history.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"import_file_name": "../../etc/passwd"}, STALE),
        ({"import_file_name": "0123456789abcdef0123456789abcdef"}, STALE),
        ({"import_file_name": ""}, "This field is required."),
        ({"format": "7"}, STALE),
        ({"format": "x"}, STALE),
    ],
    ids=["a path", "a name of no upload", "no name", "a format out of range", "a format not a number"],
)
@pytest.mark.usefixtures("states")
def test_an_altered_confirmation_is_answered_with_a_message(admin_client, change, message):
    content = csv_bytes(EXERCISE_HEADER, ["rubezh-2008", "防线", "Rubezh", "2008", "", "AM", "4000"])
    preview = upload(admin_client, "exercise", content)

    response = admin_client.post(
        reverse("admin:catalog_exercise_process_import"),
        {**preview.context["confirm_form"].initial, **change},
        follow=True,
    )

    assert response.status_code == 200
    assert message in errors_text(response)
    assert Exercise.objects.count() == 0
