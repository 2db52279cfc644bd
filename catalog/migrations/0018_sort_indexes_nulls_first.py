from django.db import migrations

# The sort indexes of the columns that may be NULL, with the columns their rows are read by.
NULLABLE_SORTS = {
    "exercise_troops_sort": ("catalog_exercise", "troops"),
    "crisis_troops_deployed_sort": ("catalog_crisis", "troops_deployed"),
}


def remake(nulls):
    """On PostgreSQL, each index made again with its NULLs placed by `nulls` ("FIRST" or "LAST").

    The lists sort NULLs before every value (catalog.filters.nulls_smallest), as SQLite's indexes
    hold them; PostgreSQL's hold them last unless told, and a descending page, NULLs last, could not
    then be read backwards along the index. SQLite refuses the clause in an index, and needs none."""

    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for name, (table, column) in NULLABLE_SORTS.items():
            schema_editor.execute(f"DROP INDEX {quote(name)}")
            schema_editor.execute(
                f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)} NULLS {nulls}, {quote('id')})"
            )

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0017_involvement_exercise_index"),
    ]

    operations = [migrations.RunPython(remake("FIRST"), remake("LAST"))]
