"""An index on (state, record) for each link table a state filter reads.

The filters find a state's records in the link tables ("the exercises KZ hosted or took part
in"); with the record's id in the same index, that list is read from the index alone. Django
creates the (record, state) unique index of an automatic through table, but none in this order,
and such a table has no Meta to declare one on, hence plain SQL (the same on SQLite and
PostgreSQL)."""

from django.db import migrations

LINK_TABLES = (
    ("catalog_exercise_hosts", "exercise_id"),
    ("catalog_exercise_participants", "exercise_id"),
    ("catalog_summit_participants", "summit_id"),
    ("catalog_crisis_states", "crisis_id"),
    ("catalog_milestone_states", "milestone_id"),
)


def index_name(table):
    return f"{table}_by_state"


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_index_last_changed"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX {index_name(table)} ON {table} (state_id, {record})",
            reverse_sql=f"DROP INDEX {index_name(table)}",
        )
        for table, record in LINK_TABLES
    ]
