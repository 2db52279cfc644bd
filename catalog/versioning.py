"""The catalog's version: one counter row (`CatalogVersion`) that the database itself raises.

A trigger on every catalog table, every many-to-many link table and every history table adds one
to the counter in the transaction that writes, so every way of writing counts (the ORM, `update()`,
`bulk_create()`, m2m changes, raw SQL, `loaddata`) and a change is seen exactly when it commits,
however long its transaction took. PostgreSQL runs one statement-level trigger per table; SQLite,
which has none, a row-level trigger for each of INSERT, UPDATE and DELETE.

The price on PostgreSQL: a writing transaction holds the counter row's lock until it ends, so two
transactions that both write the catalog take turns (SQLite lets one writer at a time anyway).

Django's SQLite schema editor rebuilds a table for many changes (new table, copy, drop, rename),
which silently drops that table's triggers, and later migrations add tables. So the triggers are
installed by one idempotent function, from the models as they are when it runs: by migration 0009,
and again after every `migrate` (and `flush`) of the catalog app. Before a `migrate` they are
dropped, so that a rebuild of the counter's own table never meets triggers that name it.
"""

import secrets

from django.apps import apps as global_apps
from django.db import connections

VERSION_TABLE = "catalog_catalogversion"
TRIGGER_PREFIX = "catalog_version_"  # every version trigger's name starts so
SQLITE_PREFIX = f"{TRIGGER_PREFIX}_"
PG_TRIGGER = f"{TRIGGER_PREFIX}bump"
PG_GUARD = f"{TRIGGER_PREFIX}guard"
DERIVED_TABLES = ("catalog_exerciseinvolvement",)  # catalog/involvement.py


def versioned_tables(apps, connection):
    """The tables of the catalog app that exist in the database, except the counter's own and
    the tables the database writes from the link tables (whose own triggers count those writes)."""
    existing = set(connection.introspection.table_names())
    tables = {
        model._meta.db_table
        for model in apps.get_app_config("catalog").get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    return sorted(tables & existing - {VERSION_TABLE, *DERIVED_TABLES})


def drop_triggers(connection, prefix):
    """Removes every trigger whose name starts with `prefix`, including those on tables the models
    no longer name."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE substr(t.tgname, 1, %s) = %s AND NOT t.tgisinternal AND pg_table_is_visible(c.oid)",
                [len(prefix), prefix],
            )
            for table, name in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER IF EXISTS {quote(name)} ON {quote(table)}")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, %s) = %s",
                [len(prefix), prefix],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")


def drop_version_triggers(connection):
    drop_triggers(connection, TRIGGER_PREFIX)


def install_version_triggers(connection, apps):
    """Drops and creates the version triggers for every catalog table that exists now, makes the
    counter row if it is missing, and raises it once (writes made while the triggers were off)."""
    if VERSION_TABLE not in connection.introspection.table_names():
        return
    drop_version_triggers(connection)
    quote = connection.ops.quote_name
    bump = f"UPDATE {VERSION_TABLE} SET number = number + 1 WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {VERSION_TABLE} (id, number, epoch) SELECT 1, 0, %s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE} WHERE id = 1)",
            [secrets.token_hex(8)],
        )
        cursor.execute(bump)
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {PG_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {bump}; RETURN NULL; END $$"
            )
            # The counter never goes back and its epoch never changes, whatever a dump loads.
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {PG_GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN NEW.epoch := OLD.epoch; "
                "IF NEW.number <= OLD.number THEN NEW.number := OLD.number + 1; END IF; "
                "RETURN NEW; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {PG_GUARD} BEFORE UPDATE ON {VERSION_TABLE} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_GUARD}()"
            )
            for table in versioned_tables(apps, connection):
                cursor.execute(
                    f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {PG_TRIGGER}()"
                )
        else:
            cursor.execute(
                f"CREATE TRIGGER {SQLITE_PREFIX}guard AFTER UPDATE ON {VERSION_TABLE} "
                "WHEN NEW.number <= OLD.number OR NEW.epoch <> OLD.epoch BEGIN "
                f"UPDATE {VERSION_TABLE} SET number = max(OLD.number, NEW.number) + 1, epoch = OLD.epoch "
                "WHERE id = OLD.id; END"
            )
            for table in versioned_tables(apps, connection):
                for operation in ("INSERT", "UPDATE", "DELETE"):
                    name = quote(f"{SQLITE_PREFIX}{table}__{operation.lower()}")
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {operation} ON {quote(table)} BEGIN {bump}; END"
                    )


def current_version(using="default"):
    """The version as text (`epoch-number`), or None while the counter row is missing."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT epoch, number FROM {VERSION_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return f"{row[0]}-{row[1]}" if row else None


def before_migrate(sender, using, **kwargs):
    drop_version_triggers(connections[using])


def after_migrate(sender, using, apps=None, **kwargs):
    # `flush` sends the signal without the migration state: the current models are the state.
    install_version_triggers(connections[using], apps or global_apps)
