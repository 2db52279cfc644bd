"""The whole catalog as one workbook: xlsx (a sheet per kind), json (one document keyed by
sheet) or a folder of csv files (one per kind). Sheets come in dependency order, so a
record's relations are in the database before the record itself is read."""

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.utils.translation import gettext
from import_export.results import RowResult

from ..spreadsheets import UnreadableFile, escape_row, read_sheets, write_sheets
from .base import spreadsheet_row
from .kinds import RESOURCES

SHEETS = tuple(resource.sheet for resource in RESOURCES)
IMPORT_TYPES = tuple(
    getattr(RowResult, f"IMPORT_TYPE_{name}") for name in ("NEW", "UPDATE", "SKIP", "DELETE")
)


def export_rows(resource, queryset=None):
    """(headers, rows) of `queryset` (every record by default): the library's rendering of
    each record, read a chunk at a time and formula-escaped."""
    queryset = resource.filter_export(
        resource.get_queryset().order_by("pk") if queryset is None else queryset
    )
    fields = resource.get_export_fields()  # once, not once a record as export_resource() would
    rows = (
        [resource.export_field(field, record) for field in fields]
        for record in resource.iter_queryset(queryset)
    )
    return resource.get_export_headers(), map(escape_row, rows)


def export_sheets():
    """(sheet name, headers, rows) for every kind, in dependency order, the rows streamed."""
    for resource_class in RESOURCES:
        yield (resource_class.sheet, *export_rows(resource_class()))


def write_catalog(path):
    """Write the catalog to `path`, streaming each sheet; returns {sheet: row count}."""
    return write_sheets(path, export_sheets())


def read_catalog(path):
    """The sheets found at `path`, as {sheet: Dataset}; unknown sheets are an error."""
    sheets = read_sheets(path)
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
    totals: dict = field(default_factory=dict)  # {RowResult.IMPORT_TYPE_NEW: count, ...}
    errors: list = field(default_factory=list)  # (sheet, row, column, reason)

    def summary(self):
        created, updated, unchanged, deleted = (self.totals.get(kind, 0) for kind in IMPORT_TYPES)
        return (
            f"{self.sheet}: {created} created, {updated} updated, {unchanged} unchanged, "
            f"{deleted} deleted, {len(self.errors)} errors"
        )


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


def analyze_catalog_tables():
    """On PostgreSQL, fresh planner statistics for every catalog table, link and history table.

    Until autovacuum analyzes them, about a minute after the commit, queries are planned on the
    statistics from before the import: after 10,000 exercises went into an empty catalog, the
    list filtered by a state and years took 1.2 s instead of 80 ms. ANALYZE reads a sample of
    each table, so it costs about a second at 100,000 exercises, whatever was imported."""
    if connection.vendor != "postgresql":
        return  # SQLite plans without statistics here (nothing runs its ANALYZE): none go stale
    models = apps.get_app_config("catalog").get_models(include_auto_created=True)
    tables = dict.fromkeys(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


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
            errors = errors_of(resource_class.sheet, result)
            reports.append(SheetReport(resource_class.sheet, dict(result.totals), errors))
        if dry_run or any(report.errors for report in reports):
            transaction.set_rollback(True)
    return reports
