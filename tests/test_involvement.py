"""The states in each exercise, hosts and participants together, as the database keeps them: every
way of writing either link table leaves `ExerciseInvolvement` naming exactly the states of both."""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from catalog.involvement import drop_involvement_triggers
from catalog.models import Exercise, ExerciseInvolvement

from .factories import dumped_exercise, load_dump, make_exercise, make_state

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def involved(exercise):
    return set(ExerciseInvolvement.objects.filter(exercise=exercise).values_list("state__code", flat=True))


def both_link_tables(exercise):
    return {state.code.code for state in [*exercise.hosts.all(), *exercise.participants.all()]}


@pytest.fixture
def states(db):
    return {code: make_state(code) for code in ("KZ", "RU", "AM", "BY")}


@pytest.fixture
def exercise(states):
    return make_exercise(
        key="rubezh-2014", hosts=[states["KZ"]], participants=[states["KZ"], states["RU"], states["AM"]]
    )


def test_a_state_that_hosted_and_took_part_is_one_row(exercise):
    assert involved(exercise) == {"KZ", "RU", "AM"}
    assert ExerciseInvolvement.objects.filter(exercise=exercise).count() == 3


def test_removing_a_host_that_also_took_part_keeps_it_removing_both_drops_it(exercise, states):
    exercise.hosts.remove(states["KZ"])
    assert involved(exercise) == {"KZ", "RU", "AM"}

    exercise.participants.remove(states["KZ"])
    assert involved(exercise) == {"RU", "AM"}


def test_set_clear_and_add_through_the_orm(exercise, states):
    exercise.participants.set([states["BY"]])
    assert involved(exercise) == {"KZ", "BY"}

    exercise.hosts.clear()
    assert involved(exercise) == {"BY"}

    exercise.hosts.add(states["BY"], states["RU"])
    assert involved(exercise) == {"BY", "RU"} == both_link_tables(exercise)


def test_raw_sql_inserts_updates_and_deletes_of_link_rows(exercise, states):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_exercise_hosts (exercise_id, state_id) VALUES (%s, %s)",
            [exercise.pk, states["BY"].pk],
        )
        assert involved(exercise) == {"KZ", "RU", "AM", "BY"}
        cursor.execute(
            "UPDATE catalog_exercise_participants SET state_id = %s WHERE exercise_id = %s AND state_id = %s",
            [states["BY"].pk, exercise.pk, states["AM"].pk],
        )
        assert involved(exercise) == {"KZ", "RU", "BY"}
        cursor.execute("DELETE FROM catalog_exercise_participants WHERE exercise_id = %s", [exercise.pk])
    assert involved(exercise) == {"KZ", "BY"} == both_link_tables(exercise)


def test_deleting_an_exercise_removes_its_rows(exercise):
    exercise.delete()
    assert not ExerciseInvolvement.objects.exists()


def test_loading_an_older_dump_follows_its_links(exercise, states, tmp_path):
    load_dump(tmp_path, dumped_exercise(exercise, participants=[states["BY"].pk]))

    assert involved(exercise) == {"KZ", "BY"}


def test_a_dump_of_the_catalog_loads_again_over_itself(exercise, tmp_path):
    dump = tmp_path / "catalog.json"
    call_command("dumpdata", "catalog", natural_foreign=True, output=str(dump), verbosity=0)
    assert any(row["model"] == "catalog.exerciseinvolvement" for row in json.loads(dump.read_text()))

    call_command("loaddata", str(dump), verbosity=0)

    assert involved(exercise) == {"KZ", "RU", "AM"}


def test_the_host_or_participant_filter_and_its_counts_count_each_exercise_once(client, exercise, states):
    make_exercise(key="kanal-2015", hosts=[states["RU"]], participants=[states["RU"]])
    make_exercise(key="cobalt-2016", participants=[states["BY"]])

    response = client.get(reverse("catalog:exercise_list"), {"state": "RU"})

    assert {record.key for record in response.context["object_list"]} == {"rubezh-2014", "kanal-2015"}
    counts = dict(response.context["filter"].counts["state"])
    assert counts[str(states["RU"].pk)] == 2  # hosted and joined kanal-2015: counted once
    assert counts[str(states["KZ"].pk)] == 1
    assert str(states["BY"].pk) not in counts


def dates(exercise):
    return set(ExerciseInvolvement.objects.filter(exercise=exercise).values_list("date", flat=True))


def test_each_row_carries_its_exercises_date_however_the_date_is_changed(exercise, states):
    assert dates(exercise) == {"2008-07"}

    exercise.date = "2014-09-12"
    exercise.save()
    assert dates(exercise) == {"2014-09-12"}

    Exercise.objects.filter(pk=exercise.pk).update(date="2015")
    assert dates(exercise) == {"2015"}

    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_exercise SET date = %s WHERE id = %s", ["2016-05", exercise.pk])
    assert dates(exercise) == {"2016-05"}

    exercise.refresh_from_db()
    exercise.participants.add(states["BY"])
    assert dates(exercise) == {"2016-05"}
    assert len(involved(exercise)) == 4


def test_a_dump_naming_rows_with_another_date_or_none_gets_the_exercises_date(exercise, states, tmp_path):
    rows = [
        {
            "model": "catalog.exerciseinvolvement",
            "fields": {"state": states["KZ"].pk, "exercise": exercise.pk},
        },
        {
            "model": "catalog.exerciseinvolvement",
            "fields": {"state": states["RU"].pk, "exercise": exercise.pk, "date": "1999"},
        },
    ]
    load_dump(tmp_path, dumped_exercise(exercise, date="2011-03"), *rows)

    assert dates(exercise) == {"2011-03"}


def test_the_timeline_of_a_state_follows_a_changed_date(client, exercise, states):
    Exercise.objects.filter(pk=exercise.pk).update(date="2019-06")

    timeline = client.get(reverse("catalog:timeline"), {"state": "RU", "year": "2019"})
    assert [event.record.key for _year, events in timeline.context["years"] for event in events] == [
        "rubezh-2014"
    ]
    assert [year for year, _events in timeline.context["years"]] == ["2019"]


@pytest.mark.django_db(transaction=True)
def test_links_written_while_the_triggers_were_off_are_taken_in_after_a_migrate():
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    record = make_exercise(key="rubezh-2020", hosts=[kazakhstan])
    drop_involvement_triggers(connection)  # as during a migrate, or after a table rebuild
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_exercise_hosts WHERE exercise_id = %s", [record.pk])
        cursor.execute(
            "INSERT INTO catalog_exercise_participants (exercise_id, state_id) VALUES (%s, %s)",
            [record.pk, russia.pk],
        )
    assert involved(record) == {"KZ"}  # the trap itself

    call_command("migrate", verbosity=0)  # nothing to apply; the install after it runs all the same

    assert involved(record) == {"RU"}
    record.participants.add(kazakhstan)  # and the triggers are back
    assert involved(record) == {"RU", "KZ"}


def second_waits_for_first(first_write, second_write):
    """Runs `first_write` in a transaction held open, then `second_write` from another connection.
    True when the second waited for the first to commit and then finished."""
    written, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                first_write()
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second():
        try:
            second_write()
            second_done.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert written.wait(10)
    threads[1].start()
    try:
        waited = not second_done.wait(0.5)
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    return waited and second_done.is_set()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_removing_the_host_and_the_participant_link_at_once_leaves_no_row():
    """Two editors at once: one takes KZ out of the hosts, the other out of the participants. Each
    transaction, alone, still sees the other link; the second waits for the first on the pair's row
    and then sees that no link is left."""
    kazakhstan = make_state("KZ")
    record = make_exercise(key="rubezh-2021", hosts=[kazakhstan], participants=[kazakhstan])

    assert second_waits_for_first(
        lambda: Exercise.objects.get(pk=record.pk).hosts.remove(kazakhstan),
        lambda: Exercise.objects.get(pk=record.pk).participants.remove(kazakhstan),
    )
    assert involved(record) == set()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_date_changed_while_a_link_is_being_added_reaches_the_new_row():
    """An editor adds a state to an exercise while another changes its date: the second waits for
    the first (on the exercise's row), and then copies the new date to the row the first added,
    which it could not see."""
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    record = make_exercise(key="rubezh-2022", date="2022-05", hosts=[kazakhstan])

    assert second_waits_for_first(
        lambda: Exercise.objects.get(pk=record.pk).participants.add(russia),
        lambda: Exercise.objects.filter(pk=record.pk).update(date="2023-09"),
    )
    assert involved(record) == {"KZ", "RU"}
    assert dates(record) == {"2023-09"}
