"""Writing xlsx workbooks, row by row, in constant memory.

XlsxWriter in `constant_memory` mode writes each row out as soon as the next one starts, and
about twice as fast as openpyxl's write-only workbook. Its guessing is off: a text cell is
written as text, never turned into a formula, a link or a number. Numbers stay typed.
"""

import xlsxwriter

OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
#: What `write_string` answers when it had to cut a text longer than a cell holds.
TRUNCATED = -2


class CellTooLong(ValueError):
    """A text longer than an xlsx cell holds (32,767 characters): it would be cut short."""


def write_workbook(target, sheets):
    """Write `sheets`, an iterable of (title, headers, rows), to `target` (a path or a binary
    file object); returns {title: row count}. Empty cells (None, '') are left out."""
    counts = {}
    book = xlsxwriter.Workbook(target, OPTIONS)
    try:
        for title, headers, rows in sheets:
            sheet = book.add_worksheet(title)
            counts[title] = write_sheet(sheet, headers, rows)
    finally:
        book.close()
    return counts


def write_sheet(sheet, headers, rows):
    write_string, write_number, write_boolean = sheet.write_string, sheet.write_number, sheet.write_boolean
    for column, header in enumerate(headers):
        write_string(0, column, header)
    number = 0
    for number, row in enumerate(rows, 1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                write_boolean(number, column, value)
            elif isinstance(value, int | float):
                write_number(number, column, value)
            elif write_string(number, column, str(value)) == TRUNCATED:
                raise CellTooLong(
                    f"Sheet {sheet.name}, row {number + 1}, column {headers[column]}: the text is longer "
                    "than an xlsx cell holds (32,767 characters). Export as json or csv instead."
                )
    return number
