import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations
from tqdm import tqdm

from catalog.resources.workbook import analyze_catalog_tables, import_catalog, read_catalog
from catalog.spreadsheets import UnreadableFile


class Command(BaseCommand):
    help = (
        "Read a catalog workbook written by export_catalog (.xlsx, .json or a folder of .csv), "
        "validate every row, and write it all in one transaction, or nothing if any row has an "
        "error. Rows are matched by natural keys; unchanged rows are left alone. The size limits "
        "of an import in the admin apply. Without --user the command may do everything, as the "
        "operator of the server may; with --user NAME it may do what that user may (a `delete` "
        "column needs the user's delete permission of each kind), and history names that user."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument(
            "--user", metavar="NAME", help="Import as this user, with this user's permissions."
        )

    @no_translations  # in English, like Django's own commands; the admin speaks the editor's language
    def handle(self, *args, path, dry_run=False, user=None, **options):
        if user is not None:
            try:
                user = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named “{user}”.") from None
            if not user.is_active:
                raise CommandError(f"The user “{user}” is not active.")
        try:
            sheets = read_catalog(path)
        except UnreadableFile as error:
            raise CommandError(str(error)) from None
        total = sum(len(dataset) for dataset in sheets.values())
        quiet = not getattr(self.stdout, "isatty", lambda: False)() or options["verbosity"] == 0
        with tqdm(total=total, unit="row", disable=quiet, file=sys.stderr) as bar:
            reports = import_catalog(
                sheets,
                file_name=Path(path.rstrip("/\\")).name,
                dry_run=dry_run,
                user=user,
                progress=bar.update,
            )
        for report in reports:
            self.stdout.write(report.summary())
        errors = [error for report in reports for error in report.errors]
        if errors:
            for sheet, row, column, reason in errors:
                where = ", ".join(part for part in (sheet, f"row {row}" if row else "", column) if part)
                self.stderr.write(f"{where}: {reason}")
            raise CommandError(f"{len(errors)} errors; nothing was written.")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        else:
            analyze_catalog_tables()
            self.stdout.write(self.style.SUCCESS(f"Imported {total} rows from {path}."))
