"""The only file formats we read and write: xlsx, csv and json, each read with limits.

A file that cannot be read raises `UnreadableFile` with a sentence an editor understands;
no parser exception or traceback reaches the page.
"""

import datetime
import io
import json
import re
import warnings

import tablib
from django.conf import settings
from django.utils.translation import gettext
from import_export.formats import base_formats

from .cells import escape_row
from .xlsx_guard import Refused, check_package, too_many_rows

DEFAULT_MAX_ROWS = 200_000
#: Whole numbers a float holds exactly.
EXACT_INTEGERS = 2**53


class UnreadableFile(ValueError):
    """A file we refuse to read, with the reason in words."""


def max_rows():
    return getattr(settings, "CATALOG_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_bytes():
    return settings.CATALOG_IMPORT_MAX_BYTES


def check_row_count(count):
    if count > max_rows():
        raise UnreadableFile(too_many_rows(max_rows()))


# Excel writes a character XML cannot carry (a control character) as `_xHHHH_`, and the
# underscore of a text that looks like such an escape as `_x005F_`.
OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_character(match):
    code = int(match.group(1), 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF:  # no NUL, no lone surrogates: kept as written
        return match.group()
    return chr(code)


def unescape_cell(value):
    """A text cell as Excel shows it, its `_xHHHH_` escapes decoded: openpyxl leaves them,
    calamine decodes them itself."""
    if isinstance(value, str) and "_x" in value:
        return OOXML_ESCAPE.sub(ooxml_character, value)
    return value


def escape_dataset(dataset):
    """A copy of `dataset` with every formula-like text cell neutralised."""
    escaped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        escaped.append(escape_row(row))
    return escaped


def is_blank(values):
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def read_xlsx_sheets(data, only_first=False):
    """Every worksheet of an xlsx file as {title: Dataset}; only the first with `only_first`.

    The package is checked first (`xlsx_guard`), then read by calamine, a Rust reader about
    ten times faster than openpyxl. A workbook with error cells (`#N/A`) is read by openpyxl,
    as calamine reads those cells as empty ones.
    """
    try:
        extents = check_package(data, max_rows())
    except Refused as error:
        raise UnreadableFile(str(error)) from None  # already in the reader's language
    if any(extent.has_errors for extent in extents.values()):
        return read_xlsx_sheets_openpyxl(data, only_first)
    return read_xlsx_sheets_calamine(data, only_first)


def read_xlsx_sheets_calamine(data, only_first=False):
    """Every worksheet read by calamine: only ever a package `check_package` let through."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as error:
        if not is_failure(error):
            raise
        raise UnreadableFile(gettext("This file is not an xlsx spreadsheet that can be read.")) from None
    sheets = {}
    try:
        titles = [sheet.name for sheet in book.sheets_metadata if sheet.typ == SheetTypeEnum.WorkSheet]
        for title in titles[:1] if only_first else titles:
            rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
            sheets[title] = rows_to_sheet(title, ([calamine_value(value) for value in row] for row in rows))
    except UnreadableFile:
        raise
    except BaseException as error:
        if not is_failure(error):
            raise
        raise UnreadableFile(gettext("This xlsx file is damaged and cannot be read.")) from None
    finally:
        book.close()
    return sheets


def is_failure(error):
    """An exception, or a panic of a Rust library (pyo3 derives those from BaseException)."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def calamine_value(value):
    """A cell as openpyxl reads it: whole numbers as int (so that a year typed as a number
    reads `2010`, not `2010.0`), dates as datetimes, empty as None. calamine reads every
    number as a float; a whole one past 2**53, no longer exact, stays one, as in openpyxl."""
    if value == "":
        return None
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and -EXACT_INTEGERS <= value <= EXACT_INTEGERS else value
    if kind is datetime.date:
        return datetime.datetime(value.year, value.month, value.day)
    return value


def rows_to_sheet(title, rows):
    """A sheet's rows (the header first) as a Dataset: trailing empty header cells dropped,
    each row cut or padded to the header, blank rows left out, rows capped."""
    dataset = tablib.Dataset(title=title)
    header = next(rows, None)
    if header is not None:
        header = list(header)
        while header and header[-1] is None:
            header.pop()
        dataset.headers = ["" if cell is None else str(cell) for cell in header]
        width = len(dataset.headers)
        for count, row in enumerate(rows, 1):
            check_row_count(count)
            row = (list(row) + [None] * width)[:width]
            if not is_blank(row):
                dataset.append(row)
    return dataset


def read_xlsx_sheets_openpyxl(data, only_first=False):
    """Every worksheet read by openpyxl, streaming (the package is checked already)."""
    import openpyxl  # uses defusedxml when installed, so entity tricks in the XML do not expand

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise UnreadableFile(gettext("This file is not an xlsx spreadsheet that can be read.")) from None
    sheets = {}
    try:
        worksheets = book.worksheets[:1] if only_first else book.worksheets
        for sheet in worksheets:
            rows = ([unescape_cell(value) for value in row] for row in sheet.iter_rows(values_only=True))
            sheets[sheet.title] = rows_to_sheet(sheet.title, rows)
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile(gettext("This xlsx file is damaged and cannot be read.")) from None
    finally:
        book.close()
    return sheets


def decode_text(data):
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(
            gettext("This file is not UTF-8 text, so it is not a csv or json file.")
        ) from None


def read_csv(data):
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile(gettext("This file is not a csv file (it holds binary data)."))
    try:
        dataset = tablib.import_set(text, format="csv")
    except Exception:
        raise UnreadableFile(gettext("This file is not a csv file that can be read.")) from None
    check_row_count(len(dataset))
    return drop_blank_rows(dataset)


def rows_to_dataset(rows, title=""):
    """A json list of objects as a Dataset; the header is every key, in first-seen order."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UnreadableFile(gettext("This json file is not a list of records ([{...}, {...}])."))
    check_row_count(len(rows))
    headers = list(dict.fromkeys(key for row in rows for key in row))
    dataset = tablib.Dataset(headers=headers, title=title)
    for row in rows:
        values = [row.get(key) for key in headers]
        if any(isinstance(value, dict | list) for value in values):
            raise UnreadableFile(gettext("This json file has nested values where plain cells are expected."))
        dataset.append(values)
    return drop_blank_rows(dataset)


def load_json(data):
    try:
        return json.loads(decode_text(data))
    except json.JSONDecodeError:
        raise UnreadableFile(gettext("This file is not valid json.")) from None


def drop_blank_rows(dataset):
    kept = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        if not is_blank(row):
            kept.append(row)
    return kept


class XLSX(base_formats.XLSX):
    def create_dataset(self, in_stream):
        return next(iter(read_xlsx_sheets(in_stream, only_first=True).values()))

    def export_data(self, dataset, **kwargs):
        return super().export_data(escape_dataset(dataset), **kwargs)


class CSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs):
        return read_csv(in_stream)

    def export_data(self, dataset, **kwargs):
        return super().export_data(escape_dataset(dataset), **kwargs)


class JSON(base_formats.JSON):
    def create_dataset(self, in_stream, **kwargs):
        return rows_to_dataset(load_json(in_stream))

    def export_data(self, dataset, **kwargs):
        return super().export_data(escape_dataset(dataset), **kwargs)


FORMATS = [XLSX, CSV, JSON]
