"""New records and their history rows, written with one plain INSERT statement per table.

Django's `bulk_create()` compiles a multi-row INSERT through its query compiler, asking every
field of every record how to write itself; simple-history's bulk helper first builds a model
instance per history row and then does the same. For a few thousand imported rows that costs
more than validating them. Here each value is converted by its own field, exactly as Django
converts it (`pre_save`, then `get_db_prep_save`), and the rows of a batch go to the database
in one `executemany`. A new record's id is read back by its unique key.

Anything this module does not plan for (an expression or a database default as a value, a
record that already has an id, a model without a unique key, a history model with extra
fields) is left to Django's and simple-history's own bulk helpers.
"""

from django.conf import settings
from django.db import connections
from django.db.models import CharField, ForeignKey, TextField
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object, get_history_manager_for_model

#: Keys per `IN (...)` query, well under every database's limit on query parameters.
CHUNK = 500
#: The history fields whose values come from the import, not from the record.
HISTORY_VALUES = ("history_type", "history_change_reason", "history_date", "history_user_id")
WRITTEN, HISTORY, RECORD = "written", "history", "record"
#: What a plain text field is: these methods are CharField's or TextField's own.
TEXT_FIELDS = (CharField, TextField)
TEXT_METHODS = ("get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")
#: The fields simple-history adds to a model's own in its history model.
HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}


class Unplanned(Exception):
    """Records or a model this module does not write; the library helpers do instead."""


def insert_statement(connection, model, fields):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def is_plain_text(field):
    """Whether `field` writes a text (str) value as it is, as CharField and TextField do."""
    kind = type(field)
    return any(
        all(getattr(kind, name) is getattr(base, name) for name in TEXT_METHODS) for base in TEXT_FIELDS
    )


def converter(field, connection):
    """A function converting a value for `field` as `field.get_db_prep_save()` does, with a
    shortcut for the text of plain text fields (most of a catalog record)."""
    prepare = field.get_db_prep_save
    if is_plain_text(field):
        return lambda value: value if type(value) is str else prepare(value, connection)
    return lambda value: prepare(value, connection)


def insert_records(model, instances, key, using):
    """Insert new `instances` of `model`, then give each its id, read back by `key`, a
    unique field. Raises Unplanned, having written nothing, where Django's `bulk_create()`
    should write them instead. Returns the fields written and each instance's row of values."""
    opts = model._meta
    if key is None or not key.unique or opts.all_parents or not isinstance(opts.pk, AutoFieldMixin):
        raise Unplanned(model)
    connection = connections[using]
    fields = [field for field in opts.concrete_fields if not field.generated and field is not opts.pk]
    plan = [(field, field.pre_save, converter(field, connection)) for field in fields]
    rows = []
    for instance in instances:
        if instance.pk is not None:
            raise Unplanned(instance)
        instance._prepare_related_fields_for_save(operation_name="bulk_create")
        row = []
        for field, pre_save, convert in plan:
            value = pre_save(instance, True)
            if hasattr(value, "resolve_expression"):  # a database default, an expression
                raise Unplanned(field)
            row.append(convert(value))
        rows.append(row)
    if not rows:
        return fields, rows
    with connection.cursor() as cursor:
        cursor.executemany(insert_statement(connection, model, fields), rows)
    ids = {}
    keys = [getattr(instance, key.attname) for instance in instances]
    manager = model._base_manager.using(using)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        ids.update(manager.filter(**{f"{key.attname}__in": chunk}).values_list(key.attname, "pk"))
    for instance, value in zip(instances, keys, strict=True):
        instance.pk = ids[value]
        instance._state.adding = False
        instance._state.db = using
    return fields, rows


def history_plan(model):
    """The history model of `model` and its fields to write, or None where simple-history's
    own helper should write its rows (a history model with fields we do not know)."""
    history = get_history_manager_for_model(model).model
    tracked = {field.attname for field in history.tracked_fields}
    fields = [field for field in history._meta.concrete_fields if not field.primary_key]
    extra = {field.name for field in fields if field.attname not in tracked}
    user = history._meta.get_field("history_user") if "history_user" in extra else None
    if (
        extra | {"history_id"} != HISTORY_FIELDS
        or not isinstance(user, ForeignKey)
        or user.attname != "history_user_id"
        or not user.target_field.primary_key
    ):
        return None
    return history, fields


def insert_history(model, instances, history_type, using, default_change_reason=None, written=None):
    """History rows of `instances`, as simple-history's `bulk_history_create()` writes them:
    the record's values, the time, the user and the reason each instance carries (else the
    defaults), and `history_type` (`+` created, `~` changed). `written`, what
    `insert_records()` returned for the same instances, saves converting their values again."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not instances:
        return
    plan = history_plan(model)
    if plan is None:
        manager = get_history_manager_for_model(model)
        manager.bulk_history_create(
            instances, update=history_type == "~", default_change_reason=default_change_reason
        )
        return
    history, fields = plan
    connection = connections[using]
    written_fields, written_rows = written or ([], [None] * len(instances))
    known = {field.attname: index for index, field in enumerate(written_fields)}
    # Each column's value: as written to the record's own table, one of the history values,
    # or read from the record.
    columns = []
    for field in fields:
        index = known.get(field.attname)
        if index is not None and type(written_fields[index]) is type(field):
            columns.append((WRITTEN, index, None))
        else:
            source = HISTORY if field.attname in HISTORY_VALUES else RECORD
            columns.append((source, field.attname, converter(field, connection)))
    rows = []
    for instance, row in zip(instances, written_rows, strict=True):
        user = (
            instance._history_user
            if hasattr(instance, "_history_user")
            else history.get_default_history_user(instance)
        )
        values = {
            "history_type": history_type,
            "history_change_reason": get_change_reason_from_object(instance) or default_change_reason,
            "history_date": getattr(instance, "_history_date", None) or timezone.now(),
            "history_user_id": None if user is None else user.pk,
        }
        cells = []
        for source, key, convert in columns:
            if source is WRITTEN:
                cells.append(row[key])
            elif source is HISTORY:
                cells.append(convert(values[key]))
            else:
                cells.append(convert(getattr(instance, key)))
        rows.append(cells)
    with connection.cursor() as cursor:
        cursor.executemany(insert_statement(connection, history, fields), rows)
