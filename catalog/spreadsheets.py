"""The file formats we read and write, xlsx, csv and json, each read within limits.

Every xlsx file, an upload in the admin or a workbook on the command line, is read by
openpyxl in read-only mode (its XML parsed by defusedxml) and written by openpyxl in
write-only mode: one reader and one writer. Before openpyxl opens a package, `check_xlsx`
refuses one declaring too many parts or unpacked bytes (a part is never inflated past the size it
declares), then reads its XML parts as a stream, refusing a document type, and counting rows,
cells and texts: a zip bomb, a crafted text table or a sheet reaching to its far corner is refused
with a sentence, and openpyxl reads at most the row cap of rows, each cut at the widest sheet.
A file that cannot be read raises `UnreadableFile`, never a parser's traceback.
"""

import csv
import datetime
import io
import json
import os
import re
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from xml.parsers import expat

import openpyxl
import tablib
from django.conf import settings
from django.utils.translation import gettext
from import_export.formats import base_formats
from openpyxl.cell import WriteOnlyCell

#: Columns a sheet may have; the widest catalog sheet has 16.
MAX_COLUMNS = 200
#: Cells of a sheet, and texts of the shared text table: 200,000 rows of 25 columns.
MAX_CELLS = 5_000_000
#: Parts of a package; a workbook written by a spreadsheet program has a few dozen.
MAX_MEMBERS = 1_000
#: Bytes a package may unpack to.
DEFAULT_MAX_UNPACKED_BYTES = 256 * 2**20
#: Bytes inflated at a time.
CHUNK = 1024 * 1024
#: The most characters a cell holds, counted as Excel counts them, in UTF-16 code units.
CELL_LIMIT = 32_767
#: The most rows an xlsx worksheet holds.
SHEET_ROWS = 1_048_576
BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError)


def max_rows():
    return settings.CATALOG_IMPORT_MAX_ROWS


def too_many_rows(limit):
    return gettext("The file has more than %(rows)s rows, the most one import accepts.") % {
        "rows": f"{limit:,}"
    }


# --- cells ------------------------------------------------------------------------------------

# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
#: A text can need escaping only when it starts with one of these.
MAY_NEED_ESCAPE = (*FORMULA_TRIGGERS, ESCAPE)


def needs_escape(text):
    """Whether `text` would be taken for a formula, or would lose its apostrophe on re-import."""
    if text.startswith(FORMULA_TRIGGERS):
        return True
    return text.startswith(ESCAPE) and needs_escape(text[1:])


def escape_formula(value):
    """Neutralise a text cell that a spreadsheet would run as a formula; other values pass."""
    if isinstance(value, str) and needs_escape(value):
        return ESCAPE + value
    return value


def escape_row(values):
    """`escape_formula` on every cell of a row, with the common case (no escape) tested inline:
    a whole-catalog export escapes a few million cells."""
    return [
        escape_formula(value) if isinstance(value, str) and value.startswith(MAY_NEED_ESCAPE) else value
        for value in values
    ]


def unescape_formula(value):
    """The inverse of `escape_formula`, so an exported file imports back unchanged."""
    if isinstance(value, str) and value.startswith(ESCAPE) and needs_escape(value[1:]):
        return value[1:]
    return value


def cell_text(value):
    """A cell as text: whole numbers without `.0`, dates as ISO, empty cells as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


# XML cannot carry most control characters: Excel writes them as `_xHHHH_`, and the
# underscore of a text that looks like such an escape as `_x005F_`.
XLSX_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
XLSX_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def to_xlsx_text(text):
    """A text as Excel writes it into a cell."""
    if text.isprintable() and "_x" not in text:
        return text
    return XLSX_ESCAPE.sub(
        lambda m: "_x005F" + m.group() if len(m.group()) > 1 else f"_x{ord(m.group()):04X}_", text
    )


def from_xlsx_text(value):
    """A text cell as Excel shows it, its `_xHHHH_` escapes decoded (openpyxl leaves them)."""
    if isinstance(value, str) and "_x" in value:
        return XLSX_ESCAPED.sub(xlsx_character, value)
    return value


def xlsx_character(match):
    code = int(match.group(1), 16)
    return match.group() if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)


class UnreadableFile(ValueError):
    """A file we refuse to read, with the reason in words."""


class CellTooLong(ValueError):
    """A text longer than an xlsx cell holds: it would be cut short."""


class SheetTooLong(ValueError):
    """More rows than an xlsx worksheet holds: the rest would be lost."""


def max_unpacked_bytes():
    return getattr(settings, "CATALOG_IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)


def check_size(length):
    """Refuse a file over the import's size limit before it is read."""
    if length > settings.CATALOG_IMPORT_MAX_BYTES:
        raise UnreadableFile(
            gettext("The file is %(size)s bytes; the largest file an import accepts is %(limit)s bytes.")
            % {"size": f"{length:,}", "limit": f"{settings.CATALOG_IMPORT_MAX_BYTES:,}"}
        )


# --- xlsx ---------------------------------------------------------------------------------------


def not_xlsx():
    return UnreadableFile(gettext("This file is not an xlsx spreadsheet (it is not a zip-packed workbook)."))


def damaged():
    return UnreadableFile(gettext("This xlsx file is damaged and cannot be read."))


def refuse_declarations(*args):
    raise damaged()  # no document type in a spreadsheet part, so no entities to expand


class Counter:
    """Rows and cells of a worksheet part, and texts of the shared text table, counted as
    expat finds their elements; refused as soon as a count passes its limit."""

    def __init__(self):
        self.rows = self.cells = self.in_row = self.texts = 0

    def start(self, name, attributes):
        name = name.rpartition(":")[2]
        if name == "c":
            self.cells += 1
            self.in_row += 1
            if self.in_row > MAX_COLUMNS:
                raise UnreadableFile(
                    gettext(
                        "This xlsx file has a row of more than %(columns)s cells, "
                        "far wider than a catalog sheet."
                    )
                    % {"columns": MAX_COLUMNS}
                )
        elif name == "row":
            self.rows, self.in_row = self.rows + 1, 0
            if self.rows - 1 > max_rows():
                raise UnreadableFile(too_many_rows(max_rows()))
        elif name == "si":
            self.texts += 1
        elif name == "dimension":
            self.check_dimension(attributes.get("ref", ""))
        if self.cells > MAX_CELLS or self.texts > MAX_CELLS:
            raise UnreadableFile(
                gettext("This xlsx file has more than %(cells)s cells, more than one import reads.")
                % {"cells": f"{MAX_CELLS:,}"}
            )

    def check_dimension(self, reference):
        """The sheet's own declaration of its size (`A1:P10001`), which openpyxl trusts."""
        last = reference.rpartition(":")[2]
        letters = last.rstrip("0123456789")
        try:
            columns = openpyxl.utils.column_index_from_string(letters) if letters else 1
            rows = int(last[len(letters) :] or 1)
        except ValueError:
            raise damaged() from None
        if columns > MAX_COLUMNS:
            raise UnreadableFile(
                gettext(
                    "This xlsx file has a sheet wider than %(columns)s columns, "
                    "far wider than a catalog sheet."
                )
                % {"columns": MAX_COLUMNS}
            )
        if rows - 1 > max_rows():
            raise UnreadableFile(too_many_rows(max_rows()))


def check_xlsx(data):
    """Refuse (UnreadableFile) a package openpyxl should not open: not a zip, too many parts,
    unpacking past the byte budget, a sheet declaring or holding too many rows or cells."""
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except BROKEN:
        raise not_xlsx() from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS or "xl/workbook.xml" not in archive.namelist():
            raise UnreadableFile(gettext("This file is not an xlsx spreadsheet that can be read."))
        budget = max_unpacked_bytes()
        if sum(member.file_size for member in members) > budget:  # each part stops at its declared size
            raise UnreadableFile(
                gettext("This xlsx file unpacks to more than %(megabytes)s MB, more than one import reads.")
                % {"megabytes": f"{budget // 2**20:,}"}
            )
        try:
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    count(archive, member)
        except BROKEN as error:
            if isinstance(error, UnreadableFile):
                raise
            raise damaged() from None


def count(archive, member):
    counter = Counter()
    parser = expat.ParserCreate()
    parser.StartElementHandler = counter.start
    parser.StartDoctypeDeclHandler = refuse_declarations
    parser.EntityDeclHandler = refuse_declarations
    with archive.open(member) as part:
        try:
            while chunk := part.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise damaged() from None


def read_xlsx(data, only_first=False):
    """Every worksheet of an xlsx file as {title: Dataset}; only the first with `only_first`."""
    check_xlsx(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise UnreadableFile(gettext("This file is not an xlsx spreadsheet that can be read.")) from None
    try:
        sheets = {}
        for sheet in book.worksheets[:1] if only_first else book.worksheets:
            # Bounded whatever the sheet declares: at most the row cap (and one more, to tell
            # a sheet over it), each row cut at the widest a sheet may be.
            rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS, max_row=max_rows() + 2)
            sheets[sheet.title] = rows_to_dataset(sheet.title, rows)
        return sheets
    except UnreadableFile:
        raise
    except Exception:
        raise damaged() from None
    finally:
        book.close()


def is_blank(values):
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def rows_to_dataset(title, rows):
    """A sheet's rows (the header first) as a Dataset: trailing empty header cells dropped,
    each row cut to the header, blank rows left out, rows capped."""
    dataset = tablib.Dataset(title=title)
    header = list(next(rows, None) or ())
    while header and header[-1] is None:
        header.pop()
    if header:
        dataset.headers = ["" if cell is None else str(cell) for cell in header]
        width = len(header)
        for number, row in enumerate(rows, 1):
            if number > max_rows():
                raise UnreadableFile(too_many_rows(max_rows()))
            row = [from_xlsx_text(value) for value in row[:width]]
            if not is_blank(row):
                dataset.append(row + [None] * (width - len(row)))
    return dataset


def write_xlsx(target, sheets):
    """Write `sheets`, an iterable of (title, headers, rows), to `target` (a path or a binary
    file), each sheet streamed by openpyxl's write-only mode; returns {title: row count}."""
    book = openpyxl.Workbook(write_only=True)
    counts = {}
    try:
        for title, headers, rows in sheets:
            sheet = book.create_sheet(title)
            sheet.append(headers)
            counts[title] = 0
            for counts[title], row in enumerate(rows, 1):
                if counts[title] >= SHEET_ROWS:
                    raise SheetTooLong(
                        gettext(
                            "Sheet %(sheet)s: more rows than an xlsx sheet holds (%(rows)s). "
                            "Export as json or csv instead."
                        )
                        % {"sheet": title, "rows": f"{SHEET_ROWS:,}"}
                    )
                number = counts[title] + 1
                sheet.append(
                    [
                        xlsx_cell(sheet, value, title, number, column)
                        for value, column in zip(row, headers, strict=False)
                    ]
                )
    except Exception:
        book.save(os.devnull)  # closes the sheets begun and removes their temporary files
        raise
    book.save(target)
    return counts


def xlsx_cell(sheet, value, title, row, column):
    """A cell's value as openpyxl should write it: a text always as a text (openpyxl would
    write one starting with `=` as a formula), escaped as Excel escapes it."""
    if not isinstance(value, str):
        return value
    if not value:
        return None  # an empty cell, as a spreadsheet program leaves it
    if len(value) > CELL_LIMIT // 2 and len(value.encode("utf-16-le")) > 2 * CELL_LIMIT:
        raise CellTooLong(
            gettext(
                "Sheet %(sheet)s, row %(row)s, column %(column)s: the text is longer than an xlsx cell "
                "holds (32,767 characters). Export as json or csv instead."
            )
            % {"sheet": title, "row": row, "column": column}
        )
    if value.startswith("="):
        cell = WriteOnlyCell(sheet, to_xlsx_text(value))
        cell.data_type = "s"
        return cell
    return to_xlsx_text(value)


# --- csv and json -------------------------------------------------------------------------------


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
    if len(dataset) > max_rows():
        raise UnreadableFile(too_many_rows(max_rows()))
    return without_blank_rows(dataset)


def load_json(data):
    try:
        return json.loads(decode_text(data))
    except (json.JSONDecodeError, RecursionError):
        raise UnreadableFile(gettext("This file is not valid json.")) from None


def records_to_dataset(records, title=""):
    """A json list of objects as a Dataset; the header is every key, in first-seen order."""
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise UnreadableFile(gettext("This json file is not a list of records ([{...}, {...}])."))
    if len(records) > max_rows():
        raise UnreadableFile(too_many_rows(max_rows()))
    headers = list(dict.fromkeys(key for record in records for key in record))
    dataset = tablib.Dataset(headers=headers, title=title)
    for record in records:
        values = [record.get(key) for key in headers]
        if any(isinstance(value, dict | list) for value in values):
            raise UnreadableFile(gettext("This json file has nested values where plain cells are expected."))
        dataset.append(values)
    return without_blank_rows(dataset)


def without_blank_rows(dataset):
    kept = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        if not is_blank(row):
            kept.append(row)
    return kept


# --- several sheets: an xlsx workbook, a json document keyed by sheet, a folder of csv files ----------


def layout(path):
    """`xlsx`, `json` or `csv` (a folder), from the path's form."""
    text = str(path)
    suffix = Path(text).suffix.lower()
    if text.endswith(("/", "\\")) or not suffix:
        return "csv"
    if suffix in (".xlsx", ".json"):
        return suffix[1:]
    raise UnreadableFile(
        gettext("Unsupported file type “%(suffix)s”: use .xlsx, .json, or a folder for csv files.")
        % {"suffix": suffix}
    )


def write_json(out, sheets):
    """One document keyed by sheet, a record per line; returns {sheet: row count}."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    counts = {}
    out.write("{")
    for number, (title, headers, rows) in enumerate(sheets):
        out.write(f"{',' if number else ''}\n {encode(title)}: [")
        count = 0
        for count, row in enumerate(rows, 1):
            out.write(f"{',' if count > 1 else ''}\n  {encode(dict(zip(headers, row, strict=True)))}")
        out.write("\n ]" if count else "]")
        counts[title] = count
    out.write("\n}\n")
    return counts


def write_csv(out, headers, rows):
    """A header and the rows; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


@contextmanager
def replacing(path):
    """A temporary path beside `path` that replaces it once the block succeeds: a failed
    export leaves no half-written file behind, nor loses the file it would have replaced."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_sheets(path, sheets):
    """Write `sheets`, (title, headers, rows) each, to `path`: an xlsx workbook, a json
    document keyed by sheet, or a folder of csv files; returns {sheet: row count}."""
    kind = layout(path)
    path = Path(path)
    if kind == "xlsx":
        with replacing(path) as partial:
            return write_xlsx(partial, sheets)
    if kind == "json":
        with replacing(path) as partial, partial.open("w", encoding="utf-8") as out:
            return write_json(out, sheets)
    path.mkdir(parents=True, exist_ok=True)
    counts = {}
    for title, headers, rows in sheets:
        with (
            replacing(path / f"{title}.csv") as partial,
            partial.open("w", encoding="utf-8", newline="") as out,
        ):
            counts[title] = write_csv(out, headers, rows)
    return counts


def read_sheets(path):
    """The sheets found at `path` (as `write_sheets` writes them) as {sheet: Dataset}; the
    size limit of an import is checked before anything is read."""
    kind = layout(path)
    path = Path(path)
    if kind == "csv":
        if not path.is_dir():
            raise UnreadableFile(gettext("No folder “%(path)s”.") % {"path": path})
        files = sorted(path.glob("*.csv"))
        check_size(sum(file.stat().st_size for file in files))
        sheets = {file.stem: read_csv(file.read_bytes()) for file in files}
    elif not path.is_file():
        raise UnreadableFile(gettext("No file “%(path)s”.") % {"path": path})
    else:
        check_size(path.stat().st_size)
        if kind == "xlsx":
            sheets = read_xlsx(path.read_bytes())
        else:
            document = load_json(path.read_bytes())
            if not isinstance(document, dict):
                raise UnreadableFile(
                    gettext("This json file is not a catalog: expected an object keyed by sheet name.")
                )
            sheets = {name: records_to_dataset(rows, title=name) for name, rows in document.items()}
    return sheets


# --- the admin's formats: the library's, reading and writing through the functions above ----------


def escaped(dataset):
    """A copy of `dataset` with formula-like text neutralised."""
    copy = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        copy.append(escape_row(row))
    return copy


class XLSX(base_formats.XLSX):
    def create_dataset(self, in_stream):
        return next(iter(read_xlsx(in_stream, only_first=True).values()), tablib.Dataset())

    def export_data(self, dataset, **kwargs):
        return self.export_sheets([dataset])

    def export_sheets(self, datasets):
        """One workbook of several datasets, a sheet each, named by their titles."""
        buffer = io.BytesIO()
        write_xlsx(
            buffer,
            [
                ((dataset.title or "data")[:31], dataset.headers, map(escape_row, dataset))
                for dataset in datasets
            ],
        )
        return buffer.getvalue()


class CSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs):
        return read_csv(in_stream)

    def export_data(self, dataset, **kwargs):
        return super().export_data(escaped(dataset), **kwargs)


class JSON(base_formats.JSON):
    def create_dataset(self, in_stream, **kwargs):
        return records_to_dataset(load_json(in_stream))

    def export_data(self, dataset, **kwargs):
        return super().export_data(escaped(dataset), **kwargs)


FORMATS = [XLSX, CSV, JSON]
