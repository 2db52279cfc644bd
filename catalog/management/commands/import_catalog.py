import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations
from tqdm import tqdm

from catalog.resources import UnreadableFile
from catalog.resources.workbook import import_catalog, read_catalog


class Command(BaseCommand):
    help = (
        "Read a catalog workbook written by export_catalog (.xlsx, .json or a folder of .csv), "
        "validate every row, and write it all in one transaction, or nothing if any row has an "
        "error. Rows are matched by natural keys; unchanged rows are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")

    @no_translations  # in English, like Django's own commands; the admin speaks the editor's language
    def handle(self, *args, path, dry_run=False, **options):
        try:
            sheets = read_catalog(path)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        total = sum(len(dataset) for dataset in sheets.values())
        quiet = not getattr(self.stdout, "isatty", lambda: False)() or options["verbosity"] == 0
        with tqdm(total=total, unit="row", disable=quiet, file=sys.stderr) as bar:
            reports = import_catalog(
                sheets, file_name=Path(path.rstrip("/\\")).name, dry_run=dry_run, progress=bar.update
            )
        for report in reports:
            self.stdout.write(
                f"{report.sheet}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.deleted} deleted, {len(report.errors)} errors"
            )
        errors = [error for report in reports for error in report.errors]
        if errors:
            for sheet, row, column, reason in errors:
                where = ", ".join(part for part in (sheet, f"row {row}" if row else "", column) if part)
                self.stderr.write(f"{where}: {reason}")
            raise CommandError(f"{len(errors)} errors; nothing was written.")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {total} rows from {path}."))
