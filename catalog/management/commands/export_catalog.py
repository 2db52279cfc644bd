from django.core.management.base import BaseCommand, CommandError, no_translations

from catalog.resources.workbook import write_catalog
from catalog.spreadsheets import CellTooLong, SheetTooLong, UnreadableFile


class Command(BaseCommand):
    help = (
        "Write the whole catalog, sources and citations included, to PATH: an .xlsx workbook with a "
        "sheet per kind, one .json document keyed by sheet, or (a path without suffix or ending in /) "
        "a folder of one .csv per kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    @no_translations  # in English, like Django's own commands; the admin speaks the editor's language
    def handle(self, *args, path, **options):
        try:
            counts = write_catalog(path)
        except (UnreadableFile, CellTooLong, SheetTooLong) as error:
            raise CommandError(str(error)) from None
        for sheet, count in counts.items():
            self.stdout.write(f"{sheet}: {count}")
        self.stdout.write(self.style.SUCCESS(f"Wrote {sum(counts.values())} rows to {path}."))
