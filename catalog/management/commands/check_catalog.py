from django.core.management.base import BaseCommand, CommandError

from catalog.checks import check_catalog


class Command(BaseCommand):
    help = (
        "Check the catalog: every record has a citation, no quote is empty, every date and number on a "
        "record appears in one of its quotes, and every citation points at an existing record. "
        "See catalog/checks.py for what 'appears' means."
    )

    def handle(self, *args, **options):
        report = check_catalog()
        for problem in report.problems:
            self.stderr.write(str(problem))
        summary = (
            f"Checked {report.records} records and {report.citations} citations: "
            f"{len(report.problems)} problem{'' if len(report.problems) == 1 else 's'}."
        )
        if report.problems:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
