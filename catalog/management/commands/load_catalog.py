from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    OrganizationFact,
    Source,
    State,
    Summit,
)

# Dependents first, so deleting never trips a protected foreign key.
CATALOG_MODELS = (
    Citation,
    Membership,
    Summit,
    Exercise,
    ExerciseSeries,
    Crisis,
    Milestone,
    OrganizationFact,
    State,
    Source,
)


def record_initial_history():
    """One "created" version per loaded record, as simple-history writes on a save: a fixture load
    saves raw and writes none, and a record without one could not be reverted to its loaded state."""
    for model in CATALOG_MODELS:
        model.history.bulk_history_create(model.objects.all(), batch_size=500)


class Command(BaseCommand):
    help = (
        "Load every fixture in fixtures/ into an empty catalog. Refuses to load over records that are "
        "already there, so editors' changes are never overwritten; --replace starts over."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete every catalog record first, then load the fixtures.",
        )

    def handle(self, *args, replace=False, **options):
        fixtures = sorted(Path(settings.BASE_DIR, "fixtures").glob("*.json"))
        if not fixtures:
            raise CommandError("No fixtures found in fixtures/.")
        existing = sum(model.objects.count() for model in CATALOG_MODELS)
        if existing and not replace:
            self.stdout.write(
                f"The catalog already holds {existing} records; fixtures not loaded "
                "(make reset-catalog starts over)."
            )
            return
        with transaction.atomic():
            if replace:
                for model in CATALOG_MODELS:
                    model.objects.all().delete()
            call_command("loaddata", *[str(path) for path in fixtures], verbosity=0)
            record_initial_history()
        loaded = sum(model.objects.count() for model in CATALOG_MODELS)
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {loaded} catalog records from {len(fixtures)} fixtures.")
        )
