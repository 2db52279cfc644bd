import json

import pytest
from django.core.management import call_command

from catalog.models import (
    Citation,
    Exercise,
    ExerciseSeries,
    State,
)

from .factories import (
    make_citation,
    make_crisis,
    make_exercise,
    make_membership,
    make_milestone,
    make_source,
    make_state,
    make_summit,
)
from .sheets import snapshot as catalog_by_natural_keys

# Restoring into an empty database: every table is emptied by the flush, so this test runs
# outside a transaction (and pytest-django runs it after the transactional ones).
pytestmark = pytest.mark.django_db(transaction=True)


def snapshot():
    """The catalog by natural keys (independent of ids), and how many versions its history holds."""
    return {
        "catalog": catalog_by_natural_keys(),
        "history": sorted((model.__name__, model.history.count()) for model in (State, Exercise, Citation)),
    }


def test_catalog_dump_restores_into_an_empty_database(tmp_path):
    kazakhstan, armenia = make_state("KZ"), make_state("AM")
    make_membership(state=kazakhstan, key="kz-member-1994", start="1994-04-20")
    make_membership(state=armenia, key="am-member-1994", start="1994-04-20", end="2026")
    series = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    exercise = make_exercise(key="rubezh-2008", series=series, hosts=[armenia], troops=4000)
    summit = make_summit(key="minsk-2008", host=kazakhstan, participants=[kazakhstan, armenia])
    crisis = make_crisis(key="kazakhstan-2022", states=[kazakhstan], troops_deployed=2030)
    make_milestone(key="treaty-1992")
    source = make_source(key="tass-2022")
    make_citation(exercise, source=source, quote="4000名士兵")
    make_citation(crisis, source=source, quote="2030人")
    make_citation(summit, quote="明斯克")
    make_citation(kazakhstan, quote="哈萨克斯坦")
    exercise.troops = 4500
    exercise.save()
    before = snapshot()
    dump = tmp_path / "catalog.json"

    call_command("dumpdata", "catalog", natural_foreign=True, indent=1, output=str(dump), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    assert State.objects.count() == Citation.objects.count() == Exercise.history.count() == 0
    call_command("loaddata", str(dump), verbosity=0)

    assert snapshot() == before
    # Content types are written by natural key, so the dump does not depend on their ids.
    assert {
        row["fields"]["content_type"][0]
        for row in json.loads(dump.read_text())
        if row["model"] == "catalog.citation"
    } == {"catalog"}
    # Sequences follow the restored keys: new records still get fresh ids.
    make_exercise(key="after-restore")
    make_citation(make_state("BY"))
