"""The xlsx writer: what a workbook holds, read back by openpyxl (through our own reader, as an
import reads it) and by calamine, a second reader; and what it refuses to write."""

import io
import zipfile

import openpyxl
import pytest
from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from catalog.resources import xlsx
from catalog.resources.formats import read_xlsx_sheets
from catalog.resources.xlsx import CellTooLong, SheetTooLong, write_workbook
from tests.sheets import AWKWARD_TEXTS


def workbook(*sheets):
    buffer = io.BytesIO()
    counts = write_workbook(buffer, sheets)
    return buffer.getvalue(), counts


def calamine_rows(data, title):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(title).to_python()


def test_text_cells_read_back_exactly_as_written_by_our_reader_and_by_calamine():
    rows = [[number, text] for number, text in enumerate(AWKWARD_TEXTS)]
    data, counts = workbook(("texts", ["number", "text"], rows))

    assert counts == {"texts": len(AWKWARD_TEXTS)}
    dataset = read_xlsx_sheets(data)["texts"]
    assert dataset.headers == ["number", "text"]
    assert [list(row) for row in dataset] == rows
    assert [row[1] for row in calamine_rows(data, "texts")[1:]] == AWKWARD_TEXTS


def test_text_cells_are_inline_strings_never_formulas_numbers_or_links():
    data, _ = workbook(("texts", ["text"], [[text] for text in AWKWARD_TEXTS]))

    sheet = openpyxl.load_workbook(io.BytesIO(data))["texts"]

    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.data_type for cell in cells] == ["s"] * len(AWKWARD_TEXTS)
    assert [cell.hyperlink for cell in cells] == [None] * len(AWKWARD_TEXTS)
    assert cells[3].value == "=SUM(A1:A2)"
    assert cells[5].value == "<r><t>markup</t></r>"


def test_leading_and_trailing_spaces_are_marked_to_be_preserved():
    data, _ = workbook(("s", ["a", "b", "c", "d"], [["  lead", "trail ", "in side", "\u3000wide"]]))

    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()

    assert '<c r="A2" t="inlineStr"><is><t xml:space="preserve">  lead</t></is></c>' in xml
    assert '<c r="B2" t="inlineStr"><is><t xml:space="preserve">trail </t></is></c>' in xml
    assert '<c r="C2" t="inlineStr"><is><t>in side</t></is></c>' in xml
    assert '<c r="D2" t="inlineStr"><is><t xml:space="preserve">\u3000wide</t></is></c>' in xml


def test_control_characters_and_escape_lookalikes_are_written_as_excel_escapes_them():
    data, _ = workbook(("s", ["a", "b", "c"], [["x\r\ny", "\x01\x1f", "_x0041_ & <b>"]]))

    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()

    assert "<t>x_x000D_\ny</t>" in xml
    assert "<t>_x0001__x001F_</t>" in xml
    assert "<t>_x005F_x0041_ &amp; &lt;b&gt;</t>" in xml


def test_numbers_and_booleans_are_typed_and_empty_cells_are_left_out():
    row = [7, 2.5, True, False, None, "", 0, -3, 10**15]
    data, _ = workbook(("s", list("abcdefghi"), [row]))

    sheet = openpyxl.load_workbook(io.BytesIO(data))["s"]
    cells = next(sheet.iter_rows(min_row=2))

    assert [(cell.value, cell.data_type) for cell in cells] == [
        (7, "n"),
        (2.5, "n"),
        (True, "b"),
        (False, "b"),
        (None, "n"),
        (None, "n"),
        (0, "n"),
        (-3, "n"),
        (10**15, "n"),
    ]
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert 'r="E2"' not in xml
    assert 'r="F2"' not in xml
    assert calamine_rows(data, "s")[1] == [7.0, 2.5, True, False, "", "", 0.0, -3.0, 1e15]


def test_a_value_of_another_type_is_written_as_its_text():
    class Code:
        def __str__(self):
            return "=KZ"

    data, _ = workbook(("s", ["a"], [[Code()]]))

    cell = openpyxl.load_workbook(io.BytesIO(data))["s"]["A2"]
    assert (cell.value, cell.data_type) == ("=KZ", "s")


def test_a_number_that_is_not_finite_is_refused():
    with pytest.raises(ValueError, match="Sheet s, cell A2: nan is not a number a sheet holds"):
        workbook(("s", ["a"], [[float("nan")]]))


def test_sheets_keep_their_titles_order_and_row_counts():
    data, counts = workbook(
        ("sources", ["key"], [["a"], ["b"]]),
        ("A & B <x>", ["key"], []),
        ("exercises", ["key", "troops"], [["c", 1]]),
    )

    assert counts == {"sources": 2, "A & B <x>": 0, "exercises": 1}
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["sources", "A & B <x>", "exercises"]
    assert list(book["A & B <x>"].values) == [("key",)]
    assert list(book["exercises"].values) == [("key", "troops"), ("c", 1)]
    second = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert second.sheet_names == ["sources", "A & B <x>", "exercises"]


def test_the_package_holds_the_parts_a_workbook_needs_each_well_formed_and_listed():
    data, _ = workbook(("one", ["a"], [["x"]]), ("two", ["a"], []))

    package = zipfile.ZipFile(io.BytesIO(data))

    assert package.namelist() == [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
    ]
    parts = {name: ElementTree.fromstring(package.read(name)) for name in package.namelist()}
    types = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    overrides = {o.get("PartName") for o in parts["[Content_Types].xml"].iter(f"{types}Override")}
    assert overrides == {
        "/xl/workbook.xml",
        "/xl/styles.xml",
        "/xl/worksheets/sheet1.xml",
        "/xl/worksheets/sheet2.xml",
    }
    rels = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    targets = {r.get("Target") for r in parts["xl/_rels/workbook.xml.rels"].iter(f"{rels}Relationship")}
    assert targets == {"worksheets/sheet1.xml", "worksheets/sheet2.xml", "styles.xml"}


# Excel counts a cell's length in UTF-16 code units: an emoji counts two.
@pytest.mark.parametrize("text", ["x" * 32_767, "😀" * 16_383], ids=["32767 letters", "16383 emoji"])
def test_a_text_as_long_as_a_cell_holds_is_written_whole(text):
    data, _ = workbook(("exercises", ["key", "description_en"], [["a", text]]))

    assert read_xlsx_sheets(data)["exercises"][0] == ("a", text)


@pytest.mark.parametrize("text", ["x" * 32_768, "😀" * 16_384], ids=["32768 letters", "16384 emoji"])
def test_a_text_longer_than_a_cell_holds_is_refused_naming_its_cell(text):
    rows = [["a", "short"], ["b", text]]

    with pytest.raises(CellTooLong, match="Sheet exercises, row 3, column description_en: the text is"):
        workbook(("exercises", ["key", "description_en"], rows))


def test_more_rows_than_a_sheet_holds_are_refused(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    data, counts = workbook(("s", ["a"], [[1], [2]]))
    assert counts == {"s": 2}

    with pytest.raises(SheetTooLong, match="Sheet s: more rows than an xlsx sheet holds"):
        workbook(("s", ["a"], [[1], [2], [3]]))


@pytest.mark.parametrize(
    ("titles", "message"),
    [
        ([], "A workbook needs at least one sheet"),
        ([""], "'' cannot name a sheet"),
        (["x" * 32], "cannot name a sheet: 1 to 31 characters"),
        (["a/b"], "'a/b' cannot name a sheet"),
        (["a:b"], "'a:b' cannot name a sheet"),
        (["'quoted'"], "cannot name a sheet"),
        (["tab\there"], "cannot name a sheet"),
        (["Data", "data"], "Two sheets are named 'data'"),
    ],
)
def test_a_sheet_title_excel_would_refuse_is_refused_before_anything_is_written(tmp_path, titles, message):
    path = tmp_path / "book.xlsx"

    with pytest.raises(ValueError, match=message):
        write_workbook(path, [(title, ["a"], [["x"]]) for title in titles])

    assert not path.exists()
