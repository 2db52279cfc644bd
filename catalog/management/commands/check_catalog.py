from django.core.management.base import BaseCommand, CommandError

from catalog.checks import check_catalog


class Command(BaseCommand):
    help = (
        "Check the catalog: every record has a citation, no quote is empty, every date and number on a "
        "record and in its descriptions appears in one of its quotes, no membership's role contradicts a "
        "prose citation, and every citation points at an existing record. See catalog/checks.py for what "
        "'appears' means and how a table citation is told from a prose one."
    )

    def handle(self, *args, **options):
        report = check_catalog()
        for problem in report.problems:
            self.stderr.write(str(problem))
        if report.disagreements:
            self.stdout.write(
                f"{len(report.disagreements)} disagreement"
                f"{'' if len(report.disagreements) == 1 else 's'} shown on purpose "
                "(the record follows the prose; a table citation says otherwise):"
            )
            for disagreement in report.disagreements:
                self.stdout.write(f"  {disagreement}")
        summary = (
            f"Checked {report.records} records and {report.citations} citations: "
            f"{len(report.problems)} problem{'' if len(report.problems) == 1 else 's'}."
        )
        if report.problems:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
