"""The only file formats we read and write: xlsx, csv and json, each read with limits.

A file that cannot be read raises `UnreadableFile` with a sentence an editor understands;
no parser exception or traceback reaches the page.
"""

import io
import json
import re
import warnings
import zipfile

import tablib
from django.conf import settings
from import_export.formats import base_formats

from .cells import escape_row

DEFAULT_MAX_ROWS = 200_000


class UnreadableFile(ValueError):
    """A file we refuse to read, with the reason in words."""


def max_rows():
    return getattr(settings, "CATALOG_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_bytes():
    return settings.CATALOG_IMPORT_MAX_BYTES


def check_row_count(count):
    if count > max_rows():
        raise UnreadableFile(f"The file has more than {max_rows():,} rows, the most one import accepts.")


# Excel writes a character XML cannot carry (a control character) as `_xHHHH_`, and the
# underscore of a text that looks like such an escape as `_x005F_`.
OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_character(match):
    code = int(match.group(1), 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF:  # no NUL, no lone surrogates: kept as written
        return match.group()
    return chr(code)


def unescape_cell(value):
    """A text cell as Excel shows it, its `_xHHHH_` escapes decoded (openpyxl leaves them)."""
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
    """Every worksheet of an xlsx file as {title: Dataset}, rows capped as they stream in."""
    import openpyxl  # uses defusedxml when installed, so entity tricks in the XML do not expand

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnreadableFile("This file is not an xlsx spreadsheet (it is not a zip-packed workbook).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise UnreadableFile("This file is not an xlsx spreadsheet that can be read.") from None
    sheets = {}
    try:
        worksheets = book.worksheets[:1] if only_first else book.worksheets
        for sheet in worksheets:
            dataset = tablib.Dataset(title=sheet.title)
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is not None:
                while header and header[-1] is None:
                    header = header[:-1]
                dataset.headers = ["" if cell is None else str(unescape_cell(cell)) for cell in header]
                width = len(dataset.headers)
                for count, row in enumerate(rows, 1):
                    check_row_count(count)
                    row = [unescape_cell(value) for value in (list(row) + [None] * width)[:width]]
                    if not is_blank(row):
                        dataset.append(row)
            sheets[sheet.title] = dataset
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile("This xlsx file is damaged and cannot be read.") from None
    finally:
        book.close()
    return sheets


def decode_text(data):
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("This file is not UTF-8 text, so it is not a csv or json file.") from None


def read_csv(data):
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("This file is not a csv file (it holds binary data).")
    try:
        dataset = tablib.import_set(text, format="csv")
    except Exception:
        raise UnreadableFile("This file is not a csv file that can be read.") from None
    check_row_count(len(dataset))
    return drop_blank_rows(dataset)


def rows_to_dataset(rows, title=""):
    """A json list of objects as a Dataset; the header is every key, in first-seen order."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UnreadableFile("This json file is not a list of records ([{...}, {...}]).")
    check_row_count(len(rows))
    headers = list(dict.fromkeys(key for row in rows for key in row))
    dataset = tablib.Dataset(headers=headers, title=title)
    for row in rows:
        values = [row.get(key) for key in headers]
        if any(isinstance(value, dict | list) for value in values):
            raise UnreadableFile("This json file has nested values where plain cells are expected.")
        dataset.append(values)
    return drop_blank_rows(dataset)


def load_json(data):
    try:
        return json.loads(decode_text(data))
    except json.JSONDecodeError:
        raise UnreadableFile("This file is not valid json.") from None


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
