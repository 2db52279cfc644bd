"""The whole catalog as one workbook: xlsx (a sheet per kind), json (one document keyed by
sheet) or a folder of csv files (one per kind). Sheets come in dependency order, so a
record's relations are in the database before the record itself is read."""

import csv
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext
from import_export.results import RowResult

from .base import spreadsheet_row
from .cells import escape_row
from .files import UnreadableFile, check_size, load_json, read_csv, read_xlsx, records_to_dataset, write_xlsx
from .kinds import RESOURCES

SHEETS = tuple(resource.sheet for resource in RESOURCES)


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


def export_rows(resource, queryset=None):
    """(headers, rows) of `queryset` (every record by default): the library's rendering of
    each record, read a chunk at a time and formula-escaped."""
    queryset = resource.filter_export(
        resource.get_queryset().order_by("pk") if queryset is None else queryset
    )
    records = resource.iter_queryset(queryset)
    return resource.get_export_headers(), (escape_row(resource.export_resource(record)) for record in records)


def export_sheets():
    """(sheet name, headers, rows) for every kind, in dependency order, the rows streamed."""
    for resource_class in RESOURCES:
        yield (resource_class.sheet, *export_rows(resource_class()))


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


def write_catalog(path):
    """Write the catalog to `path`, streaming each sheet; returns {sheet: row count}."""
    kind = layout(path)
    path = Path(path)
    if kind == "xlsx":
        with replacing(path) as partial:
            return write_xlsx(partial, export_sheets())
    if kind == "json":
        with replacing(path) as partial, partial.open("w", encoding="utf-8") as out:
            return write_json(out, export_sheets())
    path.mkdir(parents=True, exist_ok=True)
    counts = {}
    for title, headers, rows in export_sheets():
        with (
            replacing(path / f"{title}.csv") as partial,
            partial.open("w", encoding="utf-8", newline="") as out,
        ):
            counts[title] = write_csv(out, headers, rows)
    return counts


def read_catalog(path):
    """The sheets found at `path`, as {sheet: Dataset}; the size limit of an import is
    checked before anything is read, and unknown sheets are an error."""
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
    unknown = sorted(set(sheets) - set(SHEETS))
    if unknown:
        raise UnreadableFile(
            gettext("Unknown sheet %(sheets)s; the sheets are: %(known)s.")
            % {"sheets": ", ".join(unknown), "known": ", ".join(SHEETS)}
        )
    if not sheets:
        raise UnreadableFile(
            gettext("No sheets found; the sheets are: %(known)s.") % {"known": ", ".join(SHEETS)}
        )
    return sheets


@dataclass
class SheetReport:
    sheet: str
    totals: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # (sheet, row, column, reason)

    @property
    def created(self):
        return self.totals.get(RowResult.IMPORT_TYPE_NEW, 0)

    @property
    def updated(self):
        return self.totals.get(RowResult.IMPORT_TYPE_UPDATE, 0)

    @property
    def unchanged(self):
        return self.totals.get(RowResult.IMPORT_TYPE_SKIP, 0)

    @property
    def deleted(self):
        return self.totals.get(RowResult.IMPORT_TYPE_DELETE, 0)


def errors_of(sheet, result):
    """Every problem in an import result as (sheet, row, column, reason)."""
    errors = [(sheet, "", "", str(error.error)) for error in result.base_errors]
    for number, row_errors in result.row_errors():
        errors += [(sheet, spreadsheet_row(number), "", str(error.error)) for error in row_errors]
    for invalid in result.invalid_rows:
        for column, messages in invalid.field_specific_errors.items():
            errors += [(sheet, spreadsheet_row(invalid.number), column, str(m)) for m in messages]
        errors += [
            (sheet, spreadsheet_row(invalid.number), "", str(m)) for m in invalid.non_field_specific_errors
        ]
    return errors


def import_catalog(sheets, *, file_name, dry_run=False, user=None, progress=None):
    """Import every sheet in dependency order, all in one transaction: written only when no
    sheet has an error and this is not a dry run. Returns a SheetReport per sheet read."""
    reports = []
    with transaction.atomic():
        for resource_class in RESOURCES:
            dataset = sheets.get(resource_class.sheet)
            if dataset is None:
                continue
            if not len(dataset):  # a kind with no records exports as a header alone
                reports.append(SheetReport(resource_class.sheet))
                continue
            result = resource_class(preview=False).import_data(
                dataset,
                dry_run=False,
                raise_errors=False,
                use_transactions=True,
                file_name=file_name,
                user=user,
                progress=progress,
            )
            reports.append(
                SheetReport(
                    resource_class.sheet, dict(result.totals), errors_of(resource_class.sheet, result)
                )
            )
        if dry_run or any(report.errors for report in reports):
            transaction.set_rollback(True)
    return reports
