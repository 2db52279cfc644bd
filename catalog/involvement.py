"""`ExerciseInvolvement`, the states that hosted or took part in each exercise, kept by the database.

A state filter on exercises asks for "host or participant", and its facet counts each state once
per exercise. Read from the two link tables, that is two index reads joined, and every host looked
up among the participants so that a host that also took part counts once. The union kept as one
table turns both into one index read.

Triggers on both link tables write it in the same transaction as the link rows, so every way of
writing (the ORM, m2m `set()`/`remove()`, raw SQL, `loaddata`) keeps it right. A pair is removed
only when neither link table names it any more.

Each row also carries its exercise's date, so a state's exercises are read by date from one index.
Whoever writes a row (a link table's trigger, or `loaddata` of a dump that names the rows), the
date is taken from the exercise; and a change of an exercise's date is copied to its rows.

- SQLite: a row-level trigger for each of INSERT, UPDATE and DELETE on each link table.
- PostgreSQL: statement-level triggers reading the statement's transition tables, one set-based
  write per statement. Two transactions may remove the host and the participant link of one pair
  at once, each still seeing the other's link: so a removal first locks the pair's row (and an
  addition locks it too, through `ON CONFLICT DO UPDATE`), and only then, in a statement that sees
  what committed meanwhile, checks whether a link is left. A row's date is read from its exercise
  with a share lock, so an editor changing that date waits for the row's transaction and then
  copies the new date to it as well.

Like the version triggers (catalog/versioning.py), they are dropped before and made again after
every `migrate` of the catalog app (SQLite's table rebuilds drop a table's triggers, and SQLite will
not rename a rebuilt exercise table into place while the date triggers name it), and the table is
then brought in step with the link tables, in case links were written while they were off.
"""

from django.apps import apps as global_apps
from django.db import connections

from .versioning import drop_triggers

PREFIX = "catalog_involvement_"  # every trigger's name starts so, and the PostgreSQL functions'


def involvement_tables(apps):
    """The involvement table, the two link tables it is made from, and the exercise table when the
    involvement table copies its dates (from migration 0015 on; the earlier migrations install
    these triggers with the models of their time)."""
    Exercise = apps.get_model("catalog", "Exercise")
    Involvement = apps.get_model("catalog", "ExerciseInvolvement")
    links = [
        Exercise._meta.get_field(name).remote_field.through._meta.db_table
        for name in ("hosts", "participants")
    ]
    dated = any(field.name == "date" for field in Involvement._meta.concrete_fields)
    return Involvement._meta.db_table, links, Exercise._meta.db_table if dated else None


def drop_involvement_triggers(connection):
    drop_triggers(connection, PREFIX)


def install_involvement_triggers(connection, apps):
    """Creates the triggers anew, then brings the table in step with the link tables."""
    involvement, links, exercises = involvement_tables(apps)
    existing = set(connection.introspection.table_names())
    if involvement not in existing or not set(links) <= existing:
        return
    drop_involvement_triggers(connection)
    quote = connection.ops.quote_name
    table = quote(involvement)

    def linked(pair):
        """The link tables still name the (state_id, exercise_id) pair `pair`."""
        return " OR ".join(
            f"EXISTS (SELECT 1 FROM {quote(link)} l "
            f"WHERE l.exercise_id = {pair}.exercise_id AND l.state_id = {pair}.state_id)"
            for link in links
        )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            add = (
                f"INSERT INTO {table} (state_id, exercise_id) "
                "SELECT DISTINCT state_id, exercise_id FROM added ORDER BY state_id, exercise_id "
                "ON CONFLICT (state_id, exercise_id) DO UPDATE SET state_id = EXCLUDED.state_id;"
            )
            remove = (
                f"PERFORM 1 FROM {table} i JOIN removed r USING (state_id, exercise_id) "
                "ORDER BY i.state_id, i.exercise_id FOR UPDATE OF i; "
                f"DELETE FROM {table} i USING removed r "
                "WHERE i.state_id = r.state_id AND i.exercise_id = r.exercise_id "
                f"AND NOT ({linked('i')});"
            )
            bodies = {
                "add": add,
                "remove": remove,
                "change": remove + " " + add,
                "truncate": f"DELETE FROM {table} i WHERE NOT ({linked('i')});",
            }
            for name, body in bodies.items():
                cursor.execute(
                    f"CREATE OR REPLACE FUNCTION {PREFIX}{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN {body} RETURN NULL; END $$"
                )
            events = {
                "add": "INSERT ON {table} REFERENCING NEW TABLE AS added",
                "remove": "DELETE ON {table} REFERENCING OLD TABLE AS removed",
                "change": "UPDATE ON {table} REFERENCING OLD TABLE AS removed NEW TABLE AS added",
                "truncate": "TRUNCATE ON {table}",
            }
            for link in links:
                for name, event in events.items():
                    cursor.execute(
                        f"CREATE TRIGGER {PREFIX}{name} AFTER {event.format(table=quote(link))} "
                        f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}{name}()"
                    )
        else:
            add = (
                f"INSERT OR IGNORE INTO {table} (state_id, exercise_id) "
                "VALUES (NEW.state_id, NEW.exercise_id);"
            )
            remove = (
                f"DELETE FROM {table} WHERE state_id = OLD.state_id AND exercise_id = OLD.exercise_id "
                f"AND NOT ({linked('OLD')});"
            )
            for link in links:
                for operation, body in (("insert", add), ("delete", remove), ("update", remove + " " + add)):
                    name = quote(f"{PREFIX}_{link}__{operation}")
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {quote(link)} BEGIN {body} END"
                    )
        union = " UNION ".join(f"SELECT state_id, exercise_id FROM {quote(link)}" for link in links)
        cursor.execute(f"DELETE FROM {table} WHERE NOT ({linked(table)})")
        cursor.execute(
            f"INSERT INTO {table} (state_id, exercise_id) SELECT state_id, exercise_id FROM ({union}) l "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} i "
            "WHERE i.state_id = l.state_id AND i.exercise_id = l.exercise_id)"
        )
        if exercises:
            install_date_triggers(connection, cursor, table, quote(exercises))


def install_date_triggers(connection, cursor, table, exercise_table):
    """The triggers that copy each exercise's date into its rows; then the dates brought in step."""

    def date_of(row):
        """The date of the exercise of the row `row`; blank while the exercise is not written yet
        (`loaddata` checks foreign keys only at the end), its own trigger then fills it in."""
        return f"COALESCE((SELECT e.date FROM {exercise_table} e WHERE e.id = {row}.exercise_id), '')"

    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {PREFIX}date() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN SELECT e.date INTO NEW.date FROM {exercise_table} e "
            "WHERE e.id = NEW.exercise_id FOR SHARE; "
            "NEW.date := COALESCE(NEW.date, ''); RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER {PREFIX}date BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PREFIX}date()"
        )
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {PREFIX}redate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE {table} i SET date = c.date FROM changed c "
            "WHERE i.exercise_id = c.id AND i.date IS DISTINCT FROM c.date; RETURN NULL; END $$"
        )
        # One trigger a kind of statement: PostgreSQL gives a transition table to one only.
        for operation in ("insert", "update"):
            cursor.execute(
                f"CREATE TRIGGER {PREFIX}redate_{operation} AFTER {operation.upper()} "
                f"ON {exercise_table} REFERENCING NEW TABLE AS changed "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}redate()"
            )
    else:
        quote = connection.ops.quote_name
        redate = (
            f"UPDATE {table} SET date = {date_of('NEW')} "
            "WHERE state_id = NEW.state_id AND exercise_id = NEW.exercise_id;"
        )
        for operation in ("insert", "update"):
            cursor.execute(
                f"CREATE TRIGGER {quote(f'{PREFIX}_date__{operation}')} AFTER {operation.upper()} "
                f"ON {table} WHEN NEW.date IS NOT {date_of('NEW')} BEGIN {redate} END"
            )
            cursor.execute(
                f"CREATE TRIGGER {quote(f'{PREFIX}_redate__{operation}')} AFTER {operation.upper()} "
                f"ON {exercise_table} BEGIN UPDATE {table} SET date = NEW.date "
                "WHERE exercise_id = NEW.id AND date IS NOT NEW.date; END"
            )
    cursor.execute(f"UPDATE {table} SET date = {date_of(table)} WHERE date <> {date_of(table)}")


def before_migrate(sender, using, **kwargs):
    drop_involvement_triggers(connections[using])


def after_migrate(sender, using, apps=None, **kwargs):
    # `flush` sends the signal without the migration state: the current models are the state.
    install_involvement_triggers(connections[using], apps or global_apps)
