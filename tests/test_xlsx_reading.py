"""Reading xlsx imports: calamine reads what openpyxl read, value for value, and a package
that would make calamine allocate without bound is refused before calamine sees it."""

import datetime
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from django.core.management import CommandError, call_command
from django.utils import translation

from catalog.resources import UnreadableFile, formats, xlsx_guard
from catalog.resources.formats import read_xlsx_sheets, read_xlsx_sheets_openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="exercises" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet"/></Relationships>'
    ),
}


@pytest.fixture(autouse=True)
def in_english():
    """Messages are compared in English; the admin tests read them in Chinese too."""
    with translation.override("en"):
        yield


def raw_workbook(sheet_data, prefix="", **parts):
    """An xlsx package whose one sheet has exactly this XML inside `sheetData`."""
    tag = f"{prefix}:" if prefix else ""
    namespace = f"xmlns:{prefix}" if prefix else "xmlns"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><{tag}worksheet {namespace}="{MAIN}">'
        f"<{tag}sheetData>{sheet_data}</{tag}sheetData></{tag}worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**PARTS, "xl/worksheets/sheet1.xml": sheet, **parts}.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def workbook(*rows, cells=None):
    """An xlsx package written by openpyxl: `rows` appended, then `cells` ({"B7": value})."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "exercises"
    for row in rows:
        sheet.append(row)
    for reference, value in (cells or {}).items():
        sheet[reference] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows_of(data):
    (dataset,) = read_xlsx_sheets(data).values()
    return dataset.headers, [list(row) for row in dataset]


def typed(rows):
    return [[(type(value), value) for value in row] for row in rows]


@pytest.fixture
def calamine_forbidden(monkeypatch):
    """calamine must not be handed the package: reading it could abort the process."""

    def refuse(*args, **kwargs):
        pytest.fail("calamine was given a package the guard should have refused")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", refuse)
    monkeypatch.setattr(formats, "read_xlsx_sheets_openpyxl", refuse)


# --- values, as openpyxl read them --------------------------------------------------------


VARIED = workbook(
    ["key", "date", "troops", "share", "when", "at", "time", "flag", "note", None, None],
    ["a", 2010, 3940, 0.5, datetime.datetime(2010, 6, 1), datetime.datetime(2010, 6, 1, 12, 30)],
    [None, None, None, None, None, None, None, None, None],
    ["b", "2011-02", -0.0, 1e20, datetime.date(2011, 2, 3), None, datetime.time(13, 45), True, "  x  "],
    ["c", None, None, None, None, None, None, False, None, "beyond the header", None],
)


def test_cells_read_as_openpyxl_reads_them_whole_numbers_as_int_dates_as_datetimes():
    headers, rows = rows_of(VARIED)

    assert headers == ["key", "date", "troops", "share", "when", "at", "time", "flag", "note"]
    assert typed(rows) == typed(
        [
            ["a", 2010, 3940, 0.5, datetime.datetime(2010, 6, 1), datetime.datetime(2010, 6, 1, 12, 30)]
            + [None, None, None],
            [
                "b",
                "2011-02",
                0,
                1e20,
                datetime.datetime(2011, 2, 3),
                None,
                datetime.time(13, 45),
                True,
                "  x  ",
            ],
            ["c", None, None, None, None, None, None, False, None],
        ]
    )
    (by_openpyxl,) = read_xlsx_sheets_openpyxl(VARIED).values()
    assert typed(rows) == typed([list(row) for row in by_openpyxl])


@pytest.mark.django_db
def test_a_year_typed_as_a_number_in_a_date_column_imports_as_the_year(tmp_path):
    from catalog.models import Exercise

    path = tmp_path / "catalog.xlsx"
    path.write_bytes(
        workbook(
            ["key", "name_zh", "name_en", "date", "end_date", "troops"],
            ["r", "甲", "A", 2010, 2011.0, 3940.0],
        )
    )

    call_command("import_catalog", str(path), verbosity=0)

    assert Exercise.objects.values_list("date", "end_date", "troops").get() == ("2010", "2011", 3940)


def test_error_cells_read_as_their_error_text_as_before():
    data = workbook(["key", "note"], ["a", "#N/A"], ["b", "#DIV/0!"])  # openpyxl writes them as errors

    assert rows_of(data) == (["key", "note"], [["a", "#N/A"], ["b", "#DIV/0!"]])


def test_escaped_characters_read_the_same_whichever_reader_reads_the_workbook():
    sheet_data = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>note</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>line_x000D_\nnext</t></is></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>typed _x005F_x000D_ as text</t></is></c></row>'
    )
    data = raw_workbook(sheet_data)
    expected = [["line\r\nnext"], ["typed _x000D_ as text"]]

    assert rows_of(data) == (["note"], expected)
    assert [list(row) for row in read_xlsx_sheets_openpyxl(data)["exercises"]] == expected


def test_only_the_first_worksheet_is_read_for_a_single_sheet_import():
    book = openpyxl.Workbook()
    book.active.title = "first"
    book.active.append(["key"])
    book.active.append(["a"])
    book.create_sheet("second").append(["other"])
    buffer = io.BytesIO()
    book.save(buffer)

    sheets = read_xlsx_sheets(buffer.getvalue(), only_first=True)

    assert list(sheets) == ["first"]
    assert (sheets["first"].headers, list(sheets["first"])) == (["key"], [("a",)])
    assert list(read_xlsx_sheets(buffer.getvalue())) == ["first", "second"]


def test_cells_and_rows_without_references_count_up_from_the_one_before():
    data = raw_workbook(
        '<row><c t="inlineStr"><is><t>key</t></is></c><c t="inlineStr"><is><t>note</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>a</t></is></c><c r="B2"><v>7</v></c></row>'
        '<row r="4"><c r="B4"><v>1</v></c><c><v>2</v></c></row>'
        "<row><c><v>3</v></c></row>"
    )

    assert rows_of(data) == (["key", "note"], [["a", 7], [None, 1], [3, None]])


def test_a_prefixed_worksheet_reads_like_a_plain_one():
    data = raw_workbook(
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>key</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>',
        prefix="x",
    )

    assert rows_of(data) == (["key"], [["a"]])


# --- limits ------------------------------------------------------------------------------


def test_a_cell_at_the_far_corner_of_a_sheet_is_refused_before_calamine_reads_it(calamine_forbidden):
    data = workbook(["key"], ["a"], cells={"XFD1048576": "far away"})

    with pytest.raises(UnreadableFile, match="more than 200,000 rows"):
        read_xlsx_sheets(data)


def test_a_cell_far_to_the_right_is_refused_before_calamine_reads_it(calamine_forbidden):
    with pytest.raises(UnreadableFile, match="wider than 200 columns"):
        read_xlsx_sheets(workbook(["key"], ["a"], cells={"XFD1": "far right"}))


def test_a_sheet_of_two_hundred_columns_is_read():
    headers, rows = rows_of(workbook([f"c{n}" for n in range(200)], ["a"] * 200))

    assert (len(headers), [len(row) for row in rows]) == (200, [200])


def test_a_sheet_of_two_hundred_and_one_columns_is_refused(calamine_forbidden):
    with pytest.raises(UnreadableFile, match="wider than 200 columns"):
        read_xlsx_sheets(workbook([f"c{n}" for n in range(201)]))


def test_rows_are_capped_counting_blank_rows_and_the_rows_of_empty_row_tags(settings, calamine_forbidden):
    settings.CATALOG_IMPORT_MAX_ROWS = 3
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>key</t></is></c></row>'
    data_row = '<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>k{0}</t></is></c></row>'

    with pytest.raises(UnreadableFile, match="more than 3 rows"):
        read_xlsx_sheets(raw_workbook(header + data_row.format(2) + '<row r="5"/>'))
    with pytest.raises(UnreadableFile, match="more than 3 rows"):
        read_xlsx_sheets(raw_workbook(header + "".join(data_row.format(n) for n in (2, 3, 4, 5))))
    with pytest.raises(UnreadableFile, match="more than 3 rows"):
        read_xlsx_sheets(raw_workbook(header + "<row><c><v>1</v></c></row>" * 4))


def test_a_sheet_at_the_row_cap_is_read_with_its_blank_rows_dropped(settings):
    settings.CATALOG_IMPORT_MAX_ROWS = 3

    assert rows_of(workbook(["key"], ["a"], [None], ["b"])) == (["key"], [["a"], ["b"]])


def test_a_far_reference_split_across_inflated_chunks_is_still_found(calamine_forbidden, monkeypatch):
    monkeypatch.setattr(xlsx_guard, "CHUNK", 7)  # every tag and `sheetData` itself cut in pieces
    data = raw_workbook('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>')

    with pytest.raises(UnreadableFile, match="wider than 200 columns"):
        read_xlsx_sheets(data)


def test_a_sheet_checked_in_small_chunks_reads_the_same(monkeypatch):
    whole = rows_of(VARIED)
    monkeypatch.setattr(xlsx_guard, "CHUNK", 7)

    assert rows_of(VARIED) == whole


def test_a_prefixed_far_cell_is_refused(calamine_forbidden):
    data = raw_workbook('<x:row r="1"><x:c r="A1048576"><x:v>1</x:v></x:c></x:row>', prefix="x")

    with pytest.raises(UnreadableFile, match="more than 200,000 rows"):
        read_xlsx_sheets(data)


def test_a_sheet_of_too_many_cells_is_refused(calamine_forbidden, monkeypatch):
    monkeypatch.setattr(xlsx_guard, "MAX_CELLS", 5)

    with pytest.raises(UnreadableFile, match="more than 5 cells"):
        read_xlsx_sheets(workbook(["a", "b", "c"], [1, 2, 3]))


def test_a_sheet_whose_few_cells_span_too_large_a_rectangle_is_refused(calamine_forbidden):
    # Two cells, but calamine would allocate 200,000 rows by 200 columns for them.
    data = raw_workbook(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>key</t></is></c></row>'
        '<row r="200000"><c r="GR200000"><v>1</v></c></row>'
    )

    with pytest.raises(UnreadableFile, match="more than 5,000,000 cells"):
        read_xlsx_sheets(data)


def test_a_shared_text_table_of_too_many_texts_is_refused(calamine_forbidden, monkeypatch):
    monkeypatch.setattr(xlsx_guard, "MAX_CELLS", 5)
    table = f'<sst xmlns="{MAIN}">' + "<si><t>x</t></si>" * 6 + "</sst>"

    with pytest.raises(UnreadableFile, match="more than 5 texts"):
        read_xlsx_sheets(
            raw_workbook('<row r="1"><c r="A1"><v>1</v></c></row>', **{"xl/sharedStrings.xml": table})
        )


def test_a_package_unpacking_past_the_byte_cap_is_refused(settings, calamine_forbidden):
    settings.CATALOG_IMPORT_MAX_UNPACKED_BYTES = 5000
    padding = "<!--" + "x" * 10_000 + "-->"

    with pytest.raises(UnreadableFile, match="unpacks to more than"):
        read_xlsx_sheets(raw_workbook('<row r="1"><c r="A1"><v>1</v></c></row>' + padding))


@pytest.mark.parametrize(
    "sheet_data",
    [
        '<row r="1"><c r="1A"><v>1</v></c></row>',
        '<row r="1"><c r="A0"><v>1</v></c></row>',
        '<row r="0"><c><v>1</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></row>',
    ],
    ids=["reference backwards", "row zero", "row tag zero", "not well formed"],
)
def test_a_damaged_worksheet_is_refused(sheet_data, calamine_forbidden):
    with pytest.raises(UnreadableFile, match="This xlsx file is damaged"):
        read_xlsx_sheets(raw_workbook(sheet_data))


def test_a_worksheet_declaring_entities_is_refused(calamine_forbidden):
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY far "XFD1048576">]>'
        f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="&far;"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    )

    with pytest.raises(UnreadableFile, match="This xlsx file is damaged"):
        read_xlsx_sheets(raw_workbook("", **{"xl/worksheets/sheet1.xml": sheet}))


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # an old binary workbook
        raw_workbook("", **{"xl/workbook.bin": "binary"}),  # a binary (xlsb) workbook inside
        raw_workbook("", **{"content.xml": "<office:document-content/>"}),  # an OpenDocument one
    ],
    ids=["xls", "xlsb", "ods"],
)
def test_other_spreadsheet_formats_are_refused_before_calamine_reads_them(data, calamine_forbidden):
    with pytest.raises(UnreadableFile, match="not an xlsx spreadsheet"):
        read_xlsx_sheets(data)


@pytest.mark.django_db
def test_import_catalog_reports_a_refused_package_and_writes_nothing(tmp_path, calamine_forbidden):
    from catalog.models import Exercise

    path = tmp_path / "catalog.xlsx"
    path.write_bytes(
        workbook(["key", "name_zh", "name_en", "date"], ["r", "甲", "A", "2010"], cells={"XFD9": 1})
    )

    with pytest.raises(CommandError, match="wider than 200 columns"):
        call_command("import_catalog", str(path), verbosity=0)
    assert not Exercise.objects.exists()


def test_the_far_corner_workbook_ends_import_catalog_with_a_message_not_an_abort(tmp_path):
    """In a process of its own: were calamine given this file, it would abort that process."""
    path = tmp_path / "far.xlsx"
    path.write_bytes(workbook(["key"], ["a"], cells={"XFD1048576": "far away"}))
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "cstosite.settings_test"}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.sqlite3'}"

    done = subprocess.run(
        [sys.executable, "manage.py", "import_catalog", str(path)],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert (
        done.stderr.strip()
        == "CommandError: The file has more than 200,000 rows, the most one import accepts."
    )
