"""What an xlsx package must pass before calamine reads it.

calamine reads a worksheet into one rectangle, from A1 to its farthest cell: one cell at
XFD1048576 makes it ask for hundreds of gigabytes, and the process aborts (a failed Rust
allocation is no Python exception). So every part of the package is inflated here first, a
chunk at a time, and the package is refused when it unpacks to too much, or when a worksheet
is taller than one import accepts, wider than a catalog sheet could be, or holds too many cells.

A worksheet's cells are placed as calamine places them: at their reference (`r="B7"`) when
they have one, else one column after the cell before them, in their row; a row is at its own
reference, else the one after the row before. Where that leaves a doubt (a cell outside any
row), the farther place is taken: the checks may only be stricter than calamine, never laxer.
"""

import io
import zipfile
import zlib
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext

#: Columns a worksheet may span; the widest catalog sheet has 16.
MAX_COLUMNS = 200
#: Cells a worksheet may hold, and texts the shared text table: 200,000 rows of 25 columns.
MAX_CELLS = 5_000_000
#: Bytes the whole package may unpack to.
DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
#: Bytes inflated at a time.
CHUNK = 1024 * 1024
#: Where other spreadsheet formats start; calamine would read those packages unchecked.
FOREIGN_PARTS = ("xl/workbook.bin", "content.xml")
#: calamine reads cells only inside this element: a part without it holds none.
SHEET_DATA = b"sheetData"
#: The shared text table, read whole by calamine.
SHARED_STRINGS = "xl/sharedStrings.xml"
DIGITS = "0123456789"
#: A row or column number past every limit, for a reference too long to be read as a number.
BEYOND = 10**9
#: What a damaged package raises while it is inflated (a Refused is a ValueError too).
BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError)


class Refused(ValueError):
    """A package we do not hand to calamine, with the reason in words."""


def max_unpacked_bytes():
    return getattr(settings, "CATALOG_IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES)


def too_many_rows(limit):
    """Said of any file over the import's row cap, whatever its format."""
    return gettext("The file has more than %(rows)s rows, the most one import accepts.") % {
        "rows": f"{limit:,}"
    }


def damaged():
    return Refused(gettext("This xlsx file is damaged and cannot be read."))


def row_number(digits):
    """A row reference (`7`) as its number, from 1."""
    if not (digits.isascii() and digits.isdigit()):
        raise damaged()
    number = BEYOND if len(digits) > 9 else int(digits)
    if number < 1:
        raise damaged()
    return number


def column_number(letters, known={}):  # noqa: B006 (a cache shared by every call)
    """Column letters (`AB`) as the column's number, from 1."""
    number = known.get(letters)
    if number is None:
        if not (letters.isascii() and letters.isalpha()):
            raise damaged()
        if len(letters) > 3:  # past XFD, the last column a spreadsheet has
            return BEYOND
        number = 0
        for letter in letters.upper():
            number = number * 26 + ord(letter) - ord("A") + 1
        known[letters] = number
    return number


class Extent:
    """How far the cells of one worksheet part reach, checked as they are found."""

    def __init__(self, max_data_rows):
        self.max_data_rows = max_data_rows
        self.rows = 0  # the farthest row, from 1 (the header is row 1)
        self.columns = 0  # the farthest column, from 1
        self.cells = 0
        self.has_errors = False  # a cell holds an error value (#N/A, #DIV/0! ...)
        self.row = -1  # the current row, from 0; none yet
        self.column = 0  # the column of the next cell without a reference, from 0

    def __repr__(self):
        return f"Extent(rows={self.rows}, columns={self.columns}, cells={self.cells})"

    def reach_row(self, row):
        if row > self.rows:
            if row - 1 > self.max_data_rows:
                raise Refused(too_many_rows(self.max_data_rows))
            self.rows = row
            self.check_area()

    def reach_column(self, column):
        if column > self.columns:
            if column > MAX_COLUMNS:
                raise Refused(
                    gettext(
                        "This xlsx file has a sheet wider than %(columns)s columns, far wider than a "
                        "catalog sheet: remove the cells to the right of the table."
                    )
                    % {"columns": MAX_COLUMNS}
                )
            self.columns = column
            self.check_area()

    def check_area(self):
        """calamine allocates the whole rectangle from A1 to the farthest row and column, however
        few cells are filled: that rectangle is what must stay under the cap."""
        if self.rows * self.columns > MAX_CELLS:
            raise Refused(
                gettext(
                    "This xlsx file has a sheet of more than %(cells)s cells, more than one import reads."
                )
                % {"cells": f"{MAX_CELLS:,}"}
            )

    def start(self, name, attributes):
        """expat's handler for the start of every element (the limits are checked only when a
        cell or row reaches past the farthest so far: this runs for every element)."""
        if name != "c" and name != "row":
            if ":" not in name:  # most elements: values, texts, formulas
                return
            name = name.rpartition(":")[2]  # a prefixed name (`x:c`) is the same element
            if name != "c" and name != "row":
                return
        reference = attributes.get("r")
        if name == "row":
            # The row before has ended (calamine counts on at its end), or this row is at
            # its reference.
            self.row = self.row + 1 if reference is None else row_number(reference) - 1
            self.column = 0
            if self.row >= self.rows:
                self.reach_row(self.row + 1)
            return
        if reference is None:
            row = self.row + 2  # in its row, or after it if the row has ended: take the later
        else:
            letters = reference.rstrip(DIGITS)
            row = row_number(reference[len(letters) :])
            self.column = column_number(letters) - 1
        if row > self.rows:
            self.reach_row(row)
        self.column += 1
        if self.column > self.columns:
            self.reach_column(self.column)
        self.cells += 1
        if attributes.get("t") == "e":
            self.has_errors = True


def refuse_declarations(*args):
    raise damaged()  # no document type in a worksheet, so no entities to expand


def scan_sheet(chunks, extent):
    """Parse one worksheet part, a chunk at a time, placing its cells in `extent`."""
    parser = expat.ParserCreate()
    parser.StartElementHandler = extent.start
    parser.StartDoctypeDeclHandler = refuse_declarations
    parser.EntityDeclHandler = refuse_declarations
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        raise damaged() from None


class Budget:
    """The bytes left to inflate, shared by every part of one package."""

    def __init__(self, limit):
        self.limit = limit
        self.left = limit

    def chunks(self, archive, info):
        with archive.open(info) as part:
            while chunk := part.read(CHUNK):
                self.left -= len(chunk)
                if self.left < 0:
                    raise Refused(
                        gettext(
                            "This xlsx file unpacks to more than %(megabytes)s MB, "
                            "more than one import reads."
                        )
                        % {"megabytes": f"{self.limit // (1024 * 1024):,}"}
                    )
                yield chunk


def check_package(data, max_rows):
    """Refuse (`Refused`) an xlsx package calamine should not read. `max_rows` is the most
    rows a sheet may have under its header. Returns the `Extent` of each part with cells, by
    part name."""
    if not data.startswith(b"PK\x03\x04"):
        raise Refused(gettext("This file is not an xlsx spreadsheet (it is not a zip-packed workbook)."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except BROKEN:
        raise Refused(
            gettext("This file is not an xlsx spreadsheet (it is not a zip-packed workbook).")
        ) from None
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names or names & set(FOREIGN_PARTS):
            raise Refused(gettext("This file is not an xlsx spreadsheet that can be read."))
        budget = Budget(max_unpacked_bytes())
        extents = {}
        try:
            for info in archive.infolist():
                extent = scan_part(archive, info, budget, max_rows)
                if extent is not None:
                    extents[info.filename] = extent
        except Refused:
            raise
        except BROKEN:  # a damaged stream, an encrypted part, an unknown compression
            raise damaged() from None
    return extents


def scan_part(archive, info, budget, max_rows):
    """Inflate one part within the budget. A part calamine could read cells from is parsed
    and its `Extent` returned; the shared text table has its texts counted."""
    chunks = budget.chunks(archive, info)
    if info.filename == SHARED_STRINGS:
        texts = 0
        for chunk in chunks:  # an overcount (`<sig`, a split tag) only makes this stricter
            texts += chunk.count(b"<si") + chunk.count(b":si")
        if texts > MAX_CELLS:
            raise Refused(
                gettext("This xlsx file has more than %(texts)s texts, more than one import reads.")
                % {"texts": f"{MAX_CELLS:,}"}
            )
        return None
    first = next(chunks, b"")
    if SHEET_DATA not in first:
        tail = first[-len(SHEET_DATA) :]
        for chunk in chunks:  # looked through, not kept
            if SHEET_DATA in tail + chunk:
                break
            tail = chunk[-len(SHEET_DATA) :]
        else:
            return None
        chunks = budget.chunks(archive, info)  # it has cells after all: inflate it again
        first = next(chunks, b"")
    extent = Extent(max_rows)
    scan_sheet(resume(first, chunks), extent)
    return extent


def resume(first, chunks):
    yield first
    yield from chunks
