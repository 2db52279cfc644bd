"""Cell values in and out of spreadsheets: formula escaping and plain-text reading."""

import datetime
import re

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
