"""The catalog version the database keeps: every way of writing changes the page at once."""

import threading

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, connections, models, transaction

from catalog.involvement import drop_involvement_triggers
from catalog.models import CatalogVersion, Exercise, HistoricalExercise
from catalog.versioning import current_version, versioned_tables

from .factories import dumped_exercise, load_dump, make_exercise, make_state
from .test_views import texts

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


@pytest.fixture
def exercise(db):
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    return make_exercise(
        key="rubezh-2014", name_zh="防线-2014", troops=3000, hosts=[kazakhstan], participants=[russia]
    )


def page(client, record):
    return client.get(record.get_absolute_url()).content.decode()


def troops(client, record):
    return texts(client.get(record.get_absolute_url()), "dd")


def test_every_catalog_link_and_history_table_has_version_triggers(db):
    tables = versioned_tables(apps, connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = 'catalog_version_bump'"
            )
            triggered = {table for (table,) in cursor.fetchall()}
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            triggered = {table for (table,) in cursor.fetchall()}
    assert {"catalog_exercise", "catalog_exercise_participants", "catalog_historicalexercise"} <= set(tables)
    assert {"catalog_citation", "catalog_photo", "catalog_summit_absentees"} <= set(tables)
    assert set(tables) <= triggered
    assert "catalog_catalogversion" not in tables


def test_a_many_to_many_change_through_the_orm_changes_the_page_at_once(client, page_cache, exercise):
    russia = exercise.participants.get()
    assert "俄罗斯" in page(client, exercise)

    exercise.participants.remove(russia)

    assert "俄罗斯" not in page(client, exercise)


def test_a_queryset_update_changes_the_page_at_once(client, page_cache, exercise):
    assert "3,000" in page(client, exercise)

    Exercise.objects.filter(pk=exercise.pk).update(troops=4500)

    assert "4,500" in page(client, exercise)


def test_a_raw_sql_update_changes_the_page_at_once(client, page_cache, exercise):
    assert "3,000" in page(client, exercise)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_exercise SET troops = 7100 WHERE id = %s", [exercise.pk])

    assert "7,100" in page(client, exercise)


def test_loading_an_older_dump_changes_the_page_at_once(client, page_cache, exercise, tmp_path):
    assert "3,000" in page(client, exercise)

    load_dump(tmp_path, dumped_exercise(exercise, troops=1200))

    assert "1,200" in page(client, exercise)


def test_a_bulk_insert_and_a_history_row_each_raise_the_version(exercise):
    versions = [current_version()]
    Exercise.objects.bulk_create([Exercise(key="kanal-2015", name_zh="通道-2015", date="2015")])
    versions.append(current_version())
    HistoricalExercise.objects.filter(key="rubezh-2014").update(history_change_reason="checked")
    versions.append(current_version())
    assert len(set(versions)) == 3


def test_the_version_never_goes_back_when_a_dump_loads_an_older_counter(exercise, tmp_path):
    before = CatalogVersion.objects.get()
    old = {"model": "catalog.catalogversion", "pk": 1, "fields": {"number": 0, "epoch": "0000"}}

    load_dump(tmp_path, old)

    after = CatalogVersion.objects.get()
    assert after.epoch == before.epoch
    assert after.number > before.number


def rebuild_exercise_table():
    """What a later migration that alters a column does: on SQLite the schema editor rebuilds the
    table (new table, copy, drop, rename), which drops the table's triggers. Here the aircraft
    column is made NOT NULL and back, two rebuilds that leave the schema as it was."""
    nullable = Exercise._meta.get_field("aircraft")
    required = models.PositiveIntegerField(default=0)
    required.set_attributes_from_name("aircraft")
    required.model = Exercise
    # As `migrate` does first: SQLite will not rename the rebuilt table into place while the
    # involvement table's triggers name it.
    drop_involvement_triggers(connection)
    with connection.schema_editor() as editor:
        editor.alter_field(Exercise, nullable, required)
        editor.alter_field(Exercise, required, nullable)


def raw_update_changes_the_version(record, troops):
    before = current_version()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_exercise SET troops = %s WHERE id = %s", [troops, record.pk])
    return current_version() != before


@pytest.mark.django_db(transaction=True)
def test_triggers_still_fire_after_a_later_migration_rebuilds_a_table():
    record = make_exercise(key="rubezh-2020")
    rebuild_exercise_table()
    if connection.vendor == "sqlite":
        assert not raw_update_changes_the_version(record, 10)  # the trap itself

    call_command("migrate", verbosity=0)  # nothing to apply; the install after it runs all the same

    assert raw_update_changes_the_version(record, 11)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_is_seen_when_it_commits_even_after_a_later_one(client, page_cache):
    """An import opens a transaction and writes; an editor saves another record meanwhile. The
    editor's write waits for the import's hold on the counter, so both are counted in commit order,
    and the import's change shows the moment it commits."""
    imported, edited = make_exercise(key="import-me", troops=100), make_exercise(key="edit-me", troops=200)
    assert "100" in troops(client, imported)
    written, release, editor_done = threading.Event(), threading.Event(), threading.Event()

    def long_import():
        try:
            with transaction.atomic():
                Exercise.objects.filter(pk=imported.pk).update(troops=111)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    def editor_save():
        try:
            Exercise.objects.filter(pk=edited.pk).update(troops=222)
            editor_done.set()
        finally:
            connections.close_all()

    importer = threading.Thread(target=long_import)
    importer.start()
    assert written.wait(10)
    editor = threading.Thread(target=editor_save)
    editor.start()
    try:
        assert not editor_done.wait(0.5)  # queued behind the open import
        assert "100" in troops(client, imported)  # the uncommitted change is not shown
    finally:
        release.set()
        importer.join(10)
        editor.join(10)
    assert editor_done.is_set()
    assert "111" in troops(client, imported)
    assert "222" in troops(client, edited)


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_its_counter_back_with_a_new_epoch():
    before = CatalogVersion.objects.get().epoch
    call_command("flush", interactive=False, verbosity=0)
    after = CatalogVersion.objects.get()
    assert after.epoch != before
