"""What every catalog sheet shares: natural keys, readable errors, history, escaping."""

from collections import defaultdict

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import ForeignKey, ProtectedError, Q
from django.utils.translation import gettext
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader
from simple_history.utils import bulk_create_with_history

from .cells import cell_text, unescape_formula
from .constraints import Unsupported, evaluate, instance_values, validate_constraints
from .formats import max_rows
from .inserts import Unplanned, insert_history, insert_records
from .rows import Plan
from .widgets import FlagWidget, KeysWidget, _KeyLookup
from .xlsx_guard import too_many_rows

DELETE_COLUMN = "delete"
CHANGE_REASON_LENGTH = 100
#: Records per batch of inserts and updates (with their history and many-to-many rows).
BATCH_SIZE = 500
#: Ids per `IN (...)` query, well under every database's limit on query parameters.
CHUNK = 500
#: Attribute on an instance holding the many-to-many records its row gives, until written.
RELATED_FROM_ROW = "_import_related"
#: Attribute on an instance naming the foreign keys its row set to records read from the
#: database during this import.
READ_FROM_ROW = "_import_read_relations"


class FileProblem(Exception):
    """A problem with the whole file (columns, duplicates, size), reported before any row."""


def spreadsheet_row(number):
    """The row an editor sees in a spreadsheet program: data row 1 sits under the header."""
    return number + 1


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def meets_limit(field, record):
    """Whether `record` is one the foreign key's `limit_choices_to` allows, evaluated in
    Python; False when the condition cannot be read (then Django's query checks it)."""
    limit = field.get_limit_choices_to()
    if not limit:
        return True
    condition = limit if isinstance(limit, Q) else Q(**limit)
    try:
        return evaluate(condition, instance_values(record)) is True
    except Unsupported:
        return False


class KeyedInstanceLoader(BaseInstanceLoader):
    """Existing records for every key in the file, with their foreign keys and their
    many-to-many relations, fetched in a few queries up front."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.field = resource.fields[resource.get_import_id_fields()[0]]
        self.records = {}
        resource.existing_related = {}
        resource.loaded_values = {}
        if dataset is None or not dataset.headers or self.field.column_name not in dataset.headers:
            return
        keys = sorted({self.field.clean(row) for row in dataset.dict} - {"", None})
        queryset = resource.get_queryset()
        if resource.select_related:
            queryset = queryset.select_related(*resource.select_related)
        for chunk in chunks(keys):
            for record in queryset.filter(**{f"{self.field.attribute}__in": chunk}):
                self.records[str(self.field.get_value(record))] = record
        resource.existing_related = resource.load_related(record.pk for record in self.records.values())
        resource.loaded_values = {
            record.pk: resource.stored_values(record) for record in self.records.values()
        }

    def get_instance(self, row):
        return self.records.get(str(self.field.clean(row)))


class KeyedDiff(resources.Diff):
    """The library's diff (what the admin preview shows), reading many-to-many cells from the
    row and from the relations loaded up front instead of a query per field per row."""

    def __init__(self, resource, instance, new):
        # Not super().__init__(): the library's reads `Diff._read_field_values` by name.
        self.left = self._read_field_values(resource, instance)
        self.right = []
        self.new = new

    def compare_with(self, resource, instance):
        self.right = self._read_field_values(resource, instance)

    @classmethod
    def _read_field_values(cls, resource, instance):
        # An empty number is None, typed for the files; the preview shows it empty, not "None".
        values = (resource.diff_value(field, instance) for field in resource.get_import_fields())
        return ["" if value is None else value for value in values]


class CatalogResource(resources.ModelResource):
    """Base of every sheet. Subclasses set `Meta.fields`, `required_columns` and `sheet`."""

    #: Sheet name in the whole-catalog workbook, and the file name of its csv.
    sheet = ""
    #: Columns a file must have; other known columns may be left out.
    required_columns = ("key",)
    #: Relations to join when reading the records an import names.
    select_related = ()

    delete = fields.Field(column_name=DELETE_COLUMN, widget=FlagWidget(), readonly=True)

    class Meta:
        abstract = True
        import_id_fields = ("key",)
        instance_loader_class = KeyedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        # Rows are validated one by one, then written in batches: records and their history
        # rows with simple-history's bulk helpers, many-to-many rows through their tables.
        use_bulk = True
        batch_size = BATCH_SIZE

    @classmethod
    def get_display_name(cls):
        return cls._meta.model._meta.verbose_name_plural.capitalize()

    @classmethod
    def get_diff_class(cls):
        return KeyedDiff

    def get_export_order(self):
        return tuple(name for name in super().get_export_order() if name != DELETE_COLUMN)

    # --- reading the file -------------------------------------------------------------------

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.loaded_values = {}  # {pk: {attname: value}} of the records the file names
        self.existing_related = {}  # {attribute: {pk: [records]}} of those records
        self._import_fields = None

    def get_import_fields(self):
        """The library's list, computed once: it is asked for several times per row."""
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def column_names(self):
        return [field.column_name for field in self.get_import_fields()]

    def before_import(self, dataset, **kwargs):
        """Check the file as a whole; on a problem, report it and import no row at all."""
        self._import_fields = None
        store = {}  # related records, read once per import and shared by every column
        for field in self.fields.values():
            if isinstance(field.widget, _KeyLookup):
                field.widget.reset(store)
        problems = self.file_problems(dataset)
        if problems:
            dataset.wipe()
            raise FileProblem(" ".join(problems))
        dataset.headers = [str(header).strip() for header in dataset.headers]
        for index, row in enumerate(dataset):
            dataset[index] = [unescape_formula(value) for value in row]

    def file_problems(self, dataset):
        headers = [str(header or "").strip() for header in dataset.headers or ()]
        if not headers or not len(dataset):
            return [gettext("The file is empty: it has no rows under the header.")]
        if len(dataset) > max_rows():
            return [too_many_rows(max_rows())]
        expected = self.column_names()
        problems = []
        missing = [column for column in self.required_columns if column not in headers]
        if missing:
            problems.append(
                gettext("Missing required column %(columns)s. Expected columns: %(expected)s.")
                % {"columns": ", ".join(f"`{c}`" for c in missing), "expected": ", ".join(expected)}
            )
        unknown = [header for header in headers if header not in expected]
        if unknown:
            problems.append(
                gettext("Unknown column %(columns)s. Expected columns: %(expected)s.")
                % {"columns": ", ".join(f"`{h}`" for h in unknown), "expected": ", ".join(expected)}
            )
        repeated = sorted({header for header in headers if headers.count(header) > 1})
        if repeated:
            problems.append(
                gettext("Column %(columns)s appears more than once.")
                % {"columns": ", ".join(f"`{h}`" for h in repeated)}
            )
        if not problems:
            problems += self.duplicate_key_problems(dataset, headers)
        return problems

    def natural_key_of_row(self, row):
        """The text identifying the record a row describes, for the duplicate check."""
        column = self.fields[self.get_import_id_fields()[0]].column_name
        text = cell_text(unescape_formula(row.get(column))).strip()
        return text.upper() if column == "code" else text

    def duplicate_key_problems(self, dataset, headers):
        rows_by_key = defaultdict(list)
        for number, values in enumerate(dataset, 1):
            key = self.natural_key_of_row(dict(zip(headers, values, strict=False)))
            if key:
                rows_by_key[key].append(spreadsheet_row(number))
        problems = []
        for key, rows in rows_by_key.items():
            if len(rows) > 1:
                problems.append(
                    gettext("Duplicate key `%(key)s` in rows %(rows)s and %(last)s.")
                    % {"key": key, "rows": ", ".join(str(row) for row in rows[:-1]), "last": rows[-1]}
                )
        return problems

    # --- one row ----------------------------------------------------------------------------

    def import_instance(self, instance, row, **kwargs):
        """Import the plain fields, then check the many-to-many cells so that an unknown key
        there is a row error too (the library only reads them after saving)."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        read = [
            field.attribute
            for field in self.get_import_fields()
            if getattr(field.widget, "reads_saved_records", False)
            and field.column_name in row
            and field.attribute not in errors
        ]
        setattr(instance, READ_FROM_ROW, read)
        related = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, KeysWidget) and field.column_name in row:
                try:
                    related[field.attribute] = field.clean(row)
                except ValueError as error:
                    errors[field.attribute] = ValidationError(str(error), code="invalid")
        errors.update(self.check_related(instance, related))
        setattr(instance, RELATED_FROM_ROW, related)
        if errors:
            raise ValidationError(errors)

    def check_related(self, instance, related):
        """Rules between many-to-many cells of one row; returns {column: ValidationError}."""
        return {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if self._meta.clean_model_instances:
            try:
                self.full_clean(instance, exclude=set(errors), validate_unique=validate_unique)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(self.by_column(ValidationError(errors).message_dict))

    def full_clean(self, instance, exclude, validate_unique=True):
        """`instance.full_clean()`, step by step and with the same messages, with three checks
        that cost a query per row made cheaper:

        - that a foreign key's record exists, for the foreign keys the row's widgets set to a
          record they read from the database during this import (`read_relations`);
        - uniqueness of the fields rows are matched on: the instance loader looked every key
          of the file up, so a new row's key is in no record and a record keeps its own key
          (keys repeated within the file are refused before any row, in `file_problems`);
        - check constraints: evaluated in Python from the model's own conditions.
        """
        errors = {}
        try:
            instance.full_clean(
                exclude=exclude | self.read_relations(instance),
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if validate_unique:
            exclude = exclude | {name for name in errors if name != NON_FIELD_ERRORS}
            try:
                instance.validate_unique(exclude=exclude | self.matched_fields())
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        exclude = exclude | {name for name in errors if name != NON_FIELD_ERRORS}
        try:
            validate_constraints(instance, exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def read_relations(self, instance):
        """The foreign keys of `instance` that its row's widgets set to a record read from the
        database during this import, and that Django's field check would only look up again:
        the record is saved, the key is its own, and it meets the field's `limit_choices_to`.
        (Nothing else checks a foreign key: it has no choices or validators, and is not empty.)
        """
        names = set()
        for name in getattr(instance, READ_FROM_ROW, ()):
            field = instance._meta.get_field(name)
            if not isinstance(field, ForeignKey) or field.remote_field.parent_link:
                continue
            record = field.get_cached_value(instance, default=None)
            if record is None or record._state.adding or record.pk is None:
                continue
            if getattr(record, field.target_field.attname) != getattr(instance, field.attname):
                continue
            if meets_limit(field, record):
                names.add(name)
        return names

    def matched_fields(self):
        """The model fields rows are matched on (the import id fields)."""
        return {self.fields[name].attribute for name in self.get_import_id_fields()}

    def by_column(self, errors):
        columns = {field.attribute: field.column_name for field in self.fields.values() if field.attribute}
        return {columns.get(name, name): messages for name, messages in errors.items()}

    def for_delete(self, row, instance):
        return DELETE_COLUMN in row and FlagWidget().clean(row[DELETE_COLUMN])

    def delete_instance(self, instance, row, **kwargs):
        """Deleted at once, not in a batch, so that a record still in use is reported on its
        row and the history row keeps the file's name."""
        self.set_history(instance, kwargs)
        self.before_delete_instance(instance, row, **kwargs)
        if self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs):
            try:
                instance.delete()
            except ProtectedError as error:
                users = sorted({str(obj) for obj in error.protected_objects})[:5]
                raise ValidationError(
                    {
                        DELETE_COLUMN: gettext("Cannot delete: still used by %(users)s.")
                        % {"users": "; ".join(users)}
                    }
                ) from None
        self.after_delete_instance(instance, row, **kwargs)

    # --- many-to-many relations ---------------------------------------------------------------

    def related_fields(self):
        return [field for field in self.get_import_fields() if isinstance(field.widget, KeysWidget)]

    def load_related(self, pks):
        """{attribute: {pk: [related records]}} of the records with these pks, a query per
        many-to-many field per chunk of records."""
        pks = list(pks)
        related = {}
        for field in self.related_fields():
            m2m = self._meta.model._meta.get_field(field.attribute)
            through = m2m.remote_field.through
            owner, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
            by_pk = field.widget.records_by_pk()
            values = related[field.attribute] = defaultdict(list)
            for chunk in chunks(pks):
                pairs = through.objects.filter(**{f"{owner}__in": chunk}).values_list(owner, target)
                for owner_pk, target_pk in pairs:
                    values[owner_pk].append(by_pk[target_pk])
        return related

    def related_of(self, instance, attribute):
        """The records a many-to-many field of `instance` holds, once its row is imported:
        those its row gives, else those it has."""
        from_row = getattr(instance, RELATED_FROM_ROW, None) or {}
        if attribute in from_row:
            return from_row[attribute]
        if instance.pk is None:
            return []
        if attribute in self.existing_related:
            return self.existing_related[attribute].get(instance.pk, [])
        return list(getattr(instance, attribute).all())

    def diff_value(self, field, instance):
        if instance is not None and isinstance(field.widget, KeysWidget):
            return field.widget.render_records(self.related_of(instance, field.attribute))
        return field.export(instance)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """The library's rule, skip a row that changes nothing, read from the values and the
        relations loaded up front: it needs no `original` (the copy of every record the
        library takes for its diff, which `import_catalog` goes without)."""
        if not self._meta.skip_unchanged or import_validation_errors or instance.pk is None:
            return False
        loaded = self.loaded_values.get(instance.pk)
        if loaded is None:
            return False
        for field in self._meta.model._meta.concrete_fields:
            if getattr(field, "auto_now", False):
                continue
            if getattr(instance, field.attname) != loaded[field.attname]:
                return False
        for field in self.related_fields():
            if field.column_name not in row:
                continue
            if field.attribute not in self.existing_related:
                return False
            new = {record.pk for record in self.related_of(instance, field.attribute)}
            old = {record.pk for record in self.existing_related[field.attribute].get(instance.pk, ())}
            if new != old:
                return False
        return True

    def save_m2m(self, instance, row, **kwargs):
        if self._meta.use_bulk:
            return  # written with the batch, in write_related()
        if not self._is_using_transactions(kwargs) and self._is_dry_run(kwargs):
            return
        for attribute, records in (getattr(instance, RELATED_FROM_ROW, None) or {}).items():
            getattr(instance, attribute).set(records)

    def write_related(self, instances, created):
        """Write the many-to-many cells of a batch of saved records through their tables: for
        records just created every pair, for updated ones only the relations that changed."""
        for field in self.related_fields():
            m2m = self._meta.model._meta.get_field(field.attribute)
            through = m2m.remote_field.through
            owner, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
            existing = self.existing_related.setdefault(field.attribute, {})
            changed = {}
            for instance in instances:
                from_row = getattr(instance, RELATED_FROM_ROW, None) or {}
                if field.attribute not in from_row:
                    continue
                records = from_row[field.attribute]
                if created or {r.pk for r in records} != {r.pk for r in existing.get(instance.pk, ())}:
                    changed[instance.pk] = records
            if not created:
                for chunk in chunks(changed):
                    through.objects.filter(**{f"{owner}__in": chunk}).delete()
            self.insert_pairs(through, owner, target, changed)
            for pk, records in changed.items():
                existing[pk] = records

    def insert_pairs(self, through, owner, target, related):
        """Rows of a many-to-many table in one `executemany` INSERT. The table has two ids
        and no behaviour; a model instance per row would cost more than the insert itself."""
        connection = connections[self.get_db_connection_name()]
        quote = connection.ops.quote_name
        table = quote(through._meta.db_table)
        columns = ", ".join(quote(through._meta.get_field(name).column) for name in (owner, target))
        rows = [(pk, record.pk) for pk, records in related.items() for record in records]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s)", rows)

    # --- writing in batches ----------------------------------------------------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """New records, their history rows (the reason and user set per record by
        `set_history`) and their many-to-many rows."""
        if self.create_instances and (using_transactions or not dry_run):
            try:
                model, using = self._meta.model, self.get_db_connection_name()
                try:
                    written = insert_records(model, self.create_instances, self.unique_key(), using)
                except Unplanned:  # nothing written: the library helper writes them instead
                    bulk_create_with_history(self.create_instances, model, batch_size=batch_size)
                else:
                    insert_history(model, self.create_instances, "+", using, written=written)
                self.write_related(self.create_instances, created=True)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Changed records, their history rows and their many-to-many rows."""
        if self.update_instances and (using_transactions or not dry_run):
            try:
                self.write_changes(self.update_instances)
                using = self.get_db_connection_name()
                insert_history(self._meta.model, self.update_instances, "~", using, default_change_reason="")
                self.write_related(self.update_instances, created=False)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def unique_key(self):
        """The model field rows are matched on, when it is one unique field (a `key`)."""
        names = self.get_import_id_fields()
        if len(names) != 1:
            return None
        attribute = self.fields[names[0]].attribute
        try:
            field = self._meta.model._meta.get_field(attribute)
        except FieldDoesNotExist:
            return None
        return field if getattr(field, "unique", False) and field.concrete else None

    def stored_values(self, record):
        return {
            field.attname: getattr(record, field.attname) for field in self._meta.model._meta.concrete_fields
        }

    def write_changes(self, instances):
        """An UPDATE per record of the columns its row changed, and of `auto_now` columns as
        `save()` would. (Django's `bulk_update()` builds a CASE per column per record: for a
        few hundred records it is slower than one plain UPDATE each.)"""
        fields = [field for field in self._meta.model._meta.concrete_fields if not field.primary_key]
        manager = self._meta.model._base_manager.using(self.get_db_connection_name())
        for instance in instances:
            loaded = self.loaded_values.get(instance.pk) or {}
            changes = {}
            for field in fields:
                if getattr(field, "auto_now", False):
                    changes[field.attname] = field.pre_save(instance, False)
                elif field.attname not in loaded or getattr(instance, field.attname) != loaded[field.attname]:
                    changes[field.attname] = getattr(instance, field.attname)
            manager.filter(pk=instance.pk).update(**changes)
            self.loaded_values[instance.pk] = self.stored_values(instance)

    def after_import_row(self, row, row_result, **kwargs):
        progress = kwargs.get("progress")
        if progress is not None:
            progress()

    def before_save_instance(self, instance, row, **kwargs):
        self.set_history(instance, kwargs)

    def set_history(self, instance, kwargs):
        """Every version an import writes names the file, and the user where there is one."""
        file_name = kwargs.get("file_name") or "a spreadsheet"
        instance._change_reason = f"Imported from {file_name}"[:CHANGE_REASON_LENGTH]
        user = kwargs.get("user")
        if user is not None and getattr(user, "is_authenticated", False):
            instance._history_user = user

    # --- export -----------------------------------------------------------------------------

    def get_queryset(self):
        return self._meta.model._default_manager.all()

    def export_plan(self, selected_fields=None, **render_kwargs):
        """How the export columns (all, or those chosen in the admin's export form) are read
        and rendered from plain values."""
        return Plan(self, self.get_export_fields(selected_fields), render_kwargs)

    def export_rows(self, queryset=None, selected_fields=None, escape=False):
        """The rendered rows of `queryset` (every record by default), in its order, read a
        chunk at a time from plain values; with `escape`, formula-like text is neutralised."""
        if queryset is None:
            queryset = self.get_queryset()
        queryset = self.filter_export(queryset)
        return self.export_plan(selected_fields).rows(queryset, escape=escape)

    def export_cell(self, plan, field):
        """A function rendering `field`'s cell from a values tuple, for a column that is not a
        plain field, a foreign key or a many-to-many one; None for those."""
        return None

    def export(self, queryset=None, **kwargs):
        """The library's export (what the admin writes), its rows built like every other
        export's; the file format escapes formulas."""
        self.before_export(queryset, **kwargs)
        if queryset is None:
            queryset = self.get_queryset()
        queryset = self.filter_export(queryset, **kwargs)
        selected = kwargs.get("export_fields")
        render_kwargs = {"force_native_type": True} if kwargs.get("force_native_type") else {}
        plan = self.export_plan(selected, **render_kwargs)
        dataset = tablib.Dataset(headers=plan.headers)
        for row in plan.rows(queryset):
            dataset.append(row)
        self.after_export(queryset, dataset, **kwargs)
        return dataset
