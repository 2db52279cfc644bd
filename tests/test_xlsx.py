"""xlsx in and out through openpyxl: what a written workbook holds, read back; and the hostile
packages an import refuses with a sentence before openpyxl reads them, the process alive."""

import datetime
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from catalog import spreadsheets as files
from catalog.spreadsheets import CellTooLong, SheetTooLong, UnreadableFile, read_xlsx, write_xlsx
from tests.sheets import AWKWARD_TEXTS

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEETML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEETML}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEETML}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Target="xl/workbook.xml" Type="{OFFICE}/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}">'
        '<sheets><sheet name="exercises" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{OFFICE}/worksheet"/>'
        f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{OFFICE}/sharedStrings"/>'
        "</Relationships>"
    ),
    "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>key</t></si></sst>',
}
HEADER_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>7</v></c></row>'


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def raw_workbook(sheet_data=HEADER_ROW, dimension="", **parts):
    """An xlsx package whose one sheet has exactly this XML inside `sheetData`."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dimension}'
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**PARTS, "xl/worksheets/sheet1.xml": sheet, **parts}.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def workbook(*sheets):
    buffer = io.BytesIO()
    counts = write_xlsx(buffer, sheets)
    return buffer.getvalue(), counts


# --- what the writer writes, as the reader reads it ---------------------------------------


def test_text_cells_read_back_exactly_as_written():
    rows = [[number, text] for number, text in enumerate(AWKWARD_TEXTS)]
    data, counts = workbook(("texts", ["number", "text"], rows))

    assert counts == {"texts": len(AWKWARD_TEXTS)}
    dataset = read_xlsx(data)["texts"]
    assert dataset.headers == ["number", "text"]
    assert [list(row) for row in dataset] == rows


def test_text_cells_are_strings_never_formulas_numbers_or_links():
    texts = ["0123", "1+1", "http://example.com", "'=SUM(A1:A2)", "TRUE"]
    data, _ = workbook(("texts", ["text"], [[text] for text in texts]))

    sheet = openpyxl.load_workbook(io.BytesIO(data))["texts"]

    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(cell.value, cell.data_type, cell.hyperlink) for cell in cells] == [
        (text, "s", None) for text in texts
    ]


def test_numbers_and_booleans_are_typed_and_empty_cells_stay_empty():
    data, _ = workbook(("s", list("abcdefg"), [[7, 2.5, True, None, 0, -3, 10**15]]))

    cells = next(openpyxl.load_workbook(io.BytesIO(data))["s"].iter_rows(min_row=2))

    assert [(cell.value, cell.data_type) for cell in cells] == [
        (7, "n"),
        (2.5, "n"),
        (True, "b"),
        (None, "n"),
        (0, "n"),
        (-3, "n"),
        (10**15, "n"),
    ]


def test_typed_cells_of_a_spreadsheet_program_read_as_values():
    book = openpyxl.Workbook()
    book.active.append(["key", "date", "when", "troops", None])
    book.active.append(["a", 2010, datetime.datetime(2010, 6, 1), 3940])
    book.active.append([None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)

    dataset = read_xlsx(buffer.getvalue())["Sheet"]

    assert dataset.headers == ["key", "date", "when", "troops"]
    assert [list(row) for row in dataset] == [["a", 2010, datetime.datetime(2010, 6, 1), 3940]]


def test_sheets_keep_their_titles_order_and_row_counts():
    data, counts = workbook(
        ("sources", ["key"], [["a"], ["b"]]), ("empty", ["key"], []), ("x", ["k"], [["c"]])
    )

    assert counts == {"sources": 2, "empty": 0, "x": 1}
    assert list(read_xlsx(data)) == ["sources", "empty", "x"]
    assert list(read_xlsx(data, only_first=True)) == ["sources"]


# Excel counts a cell's length in UTF-16 code units: an emoji counts two.
@pytest.mark.parametrize("text", ["x" * 32_767, "😀" * 16_383], ids=["32767 letters", "16383 emoji"])
def test_a_text_as_long_as_a_cell_holds_is_written_whole(text):
    data, _ = workbook(("exercises", ["key", "description_en"], [["a", text]]))

    assert read_xlsx(data)["exercises"][0] == ("a", text)


@pytest.mark.parametrize("text", ["x" * 32_768, "😀" * 16_384], ids=["32768 letters", "16384 emoji"])
def test_a_text_longer_than_a_cell_holds_is_refused_naming_its_cell(text):
    with pytest.raises(CellTooLong, match="Sheet exercises, row 3, column description_en: the text is"):
        workbook(("exercises", ["key", "description_en"], [["a", "short"], ["b", text]]))


def test_more_rows_than_a_sheet_holds_are_refused(monkeypatch):
    monkeypatch.setattr(files, "SHEET_ROWS", 3)
    assert workbook(("s", ["a"], [[1], [2]]))[1] == {"s": 2}

    with pytest.raises(SheetTooLong, match="Sheet s: more rows than an xlsx sheet holds"):
        workbook(("s", ["a"], [[1], [2], [3]]))


# --- hostile packages: each refused with a sentence, or read safely ---------------------------


def test_a_crafted_shared_text_count_is_read_safely():
    """5 KB declaring four billion texts: openpyxl reads the texts there are, not the count."""
    table = f'<sst xmlns="{MAIN}" count="4000000000" uniqueCount="4000000000"><si><t>key</t></si></sst>'
    data = raw_workbook(**{"xl/sharedStrings.xml": table})
    assert len(data) < 5_000

    dataset = read_xlsx(data)["exercises"]

    assert (dataset.headers, [list(row) for row in dataset]) == (["key"], [[7]])


def test_a_shared_text_table_of_too_many_texts_is_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_CELLS", 5)
    table = f'<sst xmlns="{MAIN}">' + "<si><t>x</t></si>" * 6 + "</sst>"

    with pytest.raises(UnreadableFile, match="more than 5 cells"):
        read_xlsx(raw_workbook(**{"xl/sharedStrings.xml": table}))


def test_a_zip_bomb_is_refused_before_it_is_inflated(settings):
    settings.CATALOG_IMPORT_MAX_UNPACKED_BYTES = 10 * 2**20
    padding = "<!--" + "x" * (20 * 2**20) + "-->"  # 20 MB of the same letter: a few KB packed
    data = raw_workbook(HEADER_ROW + padding)
    assert len(data) < 100_000

    with pytest.raises(UnreadableFile, match="This xlsx file unpacks to more than 10 MB"):
        read_xlsx(data)


def test_a_package_of_too_many_parts_is_refused():
    parts = {f"xl/media/image{n}.xml": "<x/>" for n in range(files.MAX_MEMBERS)}

    with pytest.raises(UnreadableFile, match="not an xlsx spreadsheet that can be read"):
        read_xlsx(raw_workbook(**parts))


def test_a_cell_at_the_far_corner_is_refused():
    far = HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'

    with pytest.raises(UnreadableFile, match="The file has more than 200,000 rows"):
        read_xlsx(raw_workbook(far))


def test_a_far_cell_in_a_row_is_read_within_the_widest_sheet():
    row = HEADER_ROW + '<row r="3"><c r="A3"><v>8</v></c><c r="XFD3"><v>1</v></c></row>'

    dataset = read_xlsx(raw_workbook(row))["exercises"]

    assert [list(values) for values in dataset] == [[7], [8]]


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ('<dimension ref="A1:XFD1048576"/>', "a sheet wider than 200 columns"),
        ('<dimension ref="A1:P1048576"/>', "more than 200,000 rows"),
    ],
)
def test_a_huge_declared_dimension_is_refused(dimension, message):
    with pytest.raises(UnreadableFile, match=message):
        read_xlsx(raw_workbook(dimension=dimension))


def test_a_row_of_more_cells_than_a_sheet_may_have_is_refused():
    cells = "".join(f"<c><v>{n}</v></c>" for n in range(201))

    with pytest.raises(UnreadableFile, match="a row of more than 200 cells"):
        read_xlsx(raw_workbook(f"<row>{cells}</row>"))


def test_rows_past_the_cap_are_refused_counting_blank_ones(settings):
    settings.CATALOG_IMPORT_MAX_ROWS = 2
    rows = HEADER_ROW + "<row/>" * 2

    with pytest.raises(UnreadableFile, match="more than 2 rows"):
        read_xlsx(raw_workbook(rows))


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "_rels/.rels"])
def test_a_part_declaring_entities_is_refused(part):
    declared = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    text = PARTS.get(part) or f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}</sheetData></worksheet>'
    text = declared + text.removeprefix('<?xml version="1.0" encoding="UTF-8"?>')

    with pytest.raises(UnreadableFile, match="This xlsx file is damaged"):
        read_xlsx(raw_workbook(**{part: text}))


@pytest.mark.parametrize(
    "data",
    [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, b"PK\x03\x04 not really a zip"],
    ids=["xls", "broken zip"],
)
def test_a_file_that_is_not_an_xlsx_package_is_refused(data):
    with pytest.raises(UnreadableFile, match="not an xlsx spreadsheet"):
        read_xlsx(data)


@pytest.mark.django_db
def test_the_far_corner_ends_import_catalog_with_a_sentence_in_a_process_of_its_own(tmp_path):
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(raw_workbook(HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))
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


@pytest.mark.django_db
def test_import_catalog_reports_a_refused_package_and_writes_nothing(tmp_path):
    from catalog.models import Exercise

    path = tmp_path / "catalog.xlsx"
    path.write_bytes(raw_workbook(dimension='<dimension ref="A1:XFD9"/>'))

    with pytest.raises(CommandError, match="wider than 200 columns"):
        call_command("import_catalog", str(path), verbosity=0)
    assert not Exercise.objects.exists()
