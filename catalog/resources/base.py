"""What every catalog sheet adds to the library: checks of the file as a whole, the row cap,
formula escaping, history reason and user, and the delete permission of the importing user."""

from collections import Counter
from functools import cached_property

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..dates import PartialDateField
from ..spreadsheets import max_rows, too_many_rows, unescape_formula
from .widgets import DateWidget, KeysWidget, TextWidget, WholeNumberWidget

DELETE_COLUMN = "delete"
CHANGE_REASON_LENGTH = 100  # the longest reason simple-history keeps
IMPORT_LOCK = 4_172_019  # any fixed number: the PostgreSQL advisory lock every import takes


class FileProblem(Exception):
    """A problem with the whole file (columns, duplicate keys, size), reported before any row."""


def spreadsheet_row(number):
    """The row an editor sees in a spreadsheet program: data row 1 sits under the header."""
    return number + 1


def wait_for_other_imports(using="default"):
    """Serialise imports: on PostgreSQL a second import waits here until the first one's
    transaction ends, then finds its rows. (SQLite lets one writer in at a time anyway.)"""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


def may(user, action, model):
    """Whether `user` may `action` (add, change, delete) records of `model`; no user is the
    command line run without `--user`, which may do everything."""
    return user is None or user.has_perm(f"catalog.{get_permission_codename(action, model._meta)}")


class Diff(resources.Diff):
    """The library's preview of a row, an empty number shown empty rather than as "None";
    none on the command line, where nobody reads it and it would cost two renderings a row."""

    def __init__(self, resource, instance, new):
        self.left, self.right, self.new = self.values(resource, instance), [], new

    def compare_with(self, resource, instance):
        self.right = self.values(resource, instance)

    @staticmethod
    def values(resource, instance):
        if not resource.preview:
            return []
        values = (field.export(instance) for field in resource.get_import_fields())
        return ["" if value is None else value for value in values]


class CatalogResource(resources.ModelResource):
    """Base of every sheet. Subclasses set `Meta.model`, `Meta.fields`, `required_columns`, `sheet`."""

    #: Sheet name in the whole-catalog workbook, and the file name of its csv.
    sheet = ""
    #: Columns a file must have; any other known column may be left out.
    required_columns = ("key",)
    #: Foreign keys a row names, joined when its records are read.
    select_related = ()

    delete = fields.Field(column_name=DELETE_COLUMN, widget=widgets.BooleanWidget(), readonly=True)

    class Meta:
        abstract = True
        import_id_fields = ("key",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        chunk_size = 2000  # records read at a time by an export
        # Rows are validated one by one and written in batches, with their history rows
        # (simple-history's bulk helpers) and their many-to-many rows.
        use_bulk = True
        batch_size = 1000

    def __init__(self, preview=True, **kwargs):
        super().__init__(**kwargs)
        self.preview = preview
        self.related = {}  # {id(instance): {attribute: [records]}} of the rows not yet written
        store = {}
        for field in self.fields.values():
            if isinstance(field.widget, KeysWidget):
                field.widget.store = store

    @classmethod
    def get_diff_class(cls):
        return Diff

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        """Widgets that read a spreadsheet's typed cells (a number, a date) as the text or
        the number the model holds."""
        if isinstance(f, PartialDateField):
            return DateWidget
        if isinstance(f, models.IntegerField) and not f.primary_key:
            return WholeNumberWidget
        if isinstance(f, models.CharField | models.TextField):
            return TextWidget
        return super().widget_from_django_field(f, default)

    @classmethod
    def get_display_name(cls):
        return cls._meta.model._meta.verbose_name_plural.capitalize()

    def get_export_fields(self, selected_fields=None):
        fields = super().get_export_fields(selected_fields)
        return [field for field in fields if field.column_name != DELETE_COLUMN]

    def get_queryset(self):
        return super().get_queryset().select_related(*self.select_related)

    def filter_export(self, queryset, **kwargs):
        """Any queryset exported (a list page's results, the admin's selection) is read in its
        own order made total by the primary key, its foreign keys joined."""
        ordering = queryset.query.order_by or self._meta.model._meta.ordering
        return queryset.select_related(*self.select_related).prefetch_related(None).order_by(*ordering, "pk")

    def iter_queryset(self, queryset):
        """The records a chunk at a time, each chunk's many-to-many keys read by their widgets
        in one query per column (cheaper than a prefetch, which builds a record per link)."""
        chunk = []
        for record in queryset.iterator(chunk_size=self.get_chunk_size()):
            chunk.append(record)
            if len(chunk) == self.get_chunk_size():
                yield from self.with_keys(chunk)
                chunk = []
        yield from self.with_keys(chunk)

    def with_keys(self, records):
        for field in self.fields.values():
            if isinstance(field.widget, KeysWidget):
                model_field = self._meta.model._meta.get_field(field.attribute)
                field.widget.preload(model_field, [record.pk for record in records])
        return records

    # --- the file as a whole ------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        wait_for_other_imports(self.get_db_connection_name())
        problems = self.file_problems(dataset, kwargs.get("user"))
        if problems:
            dataset.wipe()
            raise FileProblem(" ".join(problems))
        dataset.headers = [str(header).strip() for header in dataset.headers]
        for index, row in enumerate(dataset):
            dataset[index] = [unescape_formula(value) for value in row]

    def file_problems(self, dataset, user):
        model = self._meta.model
        if not (may(user, "add", model) and may(user, "change", model)):
            return [gettext("You may not import %(kind)s.") % {"kind": model._meta.verbose_name_plural}]
        headers = [str(header or "").strip() for header in dataset.headers or ()]
        if not headers or not len(dataset):
            return [gettext("The file is empty: it has no rows under the header.")]
        if len(dataset) > max_rows():
            return [too_many_rows(max_rows())]
        expected = [field.column_name for field in self.get_import_fields()]
        listed = {"expected": ", ".join(expected)}
        problems = []
        missing = [column for column in self.required_columns if column not in headers]
        if missing:
            problems.append(
                gettext("Missing required column %(columns)s. Expected columns: %(expected)s.")
                % {"columns": ", ".join(f"`{c}`" for c in missing), **listed}
            )
        unknown = [header for header in headers if header not in expected]
        if unknown:
            problems.append(
                gettext("Unknown column %(columns)s. Expected columns: %(expected)s.")
                % {"columns": ", ".join(f"`{h}`" for h in unknown), **listed}
            )
        repeated = sorted(header for header, count in Counter(headers).items() if count > 1)
        if repeated:
            problems.append(
                gettext("Column %(columns)s appears more than once.")
                % {"columns": ", ".join(f"`{h}`" for h in repeated)}
            )
        return problems or self.duplicate_key_problems(dataset, headers)

    def natural_key_of_row(self, row):
        """The text naming the record a row describes, for the duplicate check."""
        field = self.fields[self.get_import_id_fields()[0]]
        return field.widget.clean(unescape_formula(row.get(field.column_name))).strip()

    def duplicate_key_problems(self, dataset, headers):
        rows_by_key = {}
        for number, values in enumerate(dataset, 1):
            key = self.natural_key_of_row(dict(zip(headers, values, strict=False)))
            if key:
                rows_by_key.setdefault(key, []).append(spreadsheet_row(number))
        return [
            gettext("Duplicate key `%(key)s` in rows %(rows)s and %(last)s.")
            % {"key": key, "rows": ", ".join(map(str, rows[:-1])), "last": rows[-1]}
            for key, rows in rows_by_key.items()
            if len(rows) > 1
        ]

    # --- one row --------------------------------------------------------------------------------

    def import_instance(self, instance, row, **kwargs):
        """The library's, plus the many-to-many cells read now, so that an unknown key there
        is an error of its row (the library reads them only after saving the record)."""
        errors, related = {}, {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self.get_import_fields():
            if isinstance(field.widget, KeysWidget) and field.column_name in row:
                try:
                    related[field.attribute] = field.clean(row)
                except ValueError as error:
                    errors[field.attribute] = ValidationError(str(error), code="invalid")
        errors.update(self.check_related(related))
        if errors:
            raise ValidationError(errors)
        self.related[id(instance)] = related

    def check_related(self, related):
        """Rules between the many-to-many cells of one row; returns {attribute: ValidationError}."""
        return {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Django's `full_clean()`, its messages keyed by column. Rows' match keys are left out
        of the uniqueness check (the loader looked them all up; repeats are refused before any
        row); constraints are checked with only the fields they read, not the whole row."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(exclude=set(errors), validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance.validate_constraints(exclude=set(errors) | self.unconstrained_fields)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if validate_unique:
            matched = {self.fields[name].attribute for name in self.get_import_id_fields()}
            try:
                instance.validate_unique(exclude=matched | set(errors))
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            columns = {field.attribute: field.column_name for field in self.fields.values()}
            raise ValidationError({columns.get(name, name): value for name, value in errors.items()})

    @cached_property
    def unconstrained_fields(self):
        """The model's fields that none of its constraints (check or unique) reads."""
        opts = self._meta.model._meta
        read = [getattr(c, "fields", None) or Q(c.condition).referenced_base_fields for c in opts.constraints]
        return {field.name for field in opts.concrete_fields} - set().union(*read)

    def for_delete(self, row, instance):
        return DELETE_COLUMN in row and bool(self.fields[DELETE_COLUMN].clean(row))

    def delete_instance(self, instance, row, **kwargs):
        """Deleted at once, so that a record still in use is reported on its row; only by a
        user who may delete records of this kind."""
        kind = self._meta.model._meta.verbose_name_plural
        if not may(kwargs.get("user"), "delete", self._meta.model):
            raise ValidationError({DELETE_COLUMN: gettext("You may not delete %(kind)s.") % {"kind": kind}})
        self.set_history(instance, kwargs)
        try:
            instance.delete()
        except models.ProtectedError as error:
            users = "; ".join(sorted({str(obj) for obj in error.protected_objects})[:5])
            message = gettext("Cannot delete: still used by %(users)s.") % {"users": users}
            raise ValidationError({DELETE_COLUMN: message}) from None

    def before_save_instance(self, instance, row, **kwargs):
        self.set_history(instance, kwargs)
        if self._meta.use_bulk:  # bulk_update() leaves `auto_now` alone
            instance.updated_at = timezone.now()

    def set_history(self, instance, kwargs):
        """Every version an import writes names the file, and the user where there is one."""
        file_name = kwargs.get("file_name") or "a spreadsheet"
        instance._change_reason = f"Imported from {file_name}"[:CHANGE_REASON_LENGTH]
        user = kwargs.get("user")
        if user is not None and user.is_authenticated:
            instance._history_user = user

    # --- batches: records with their history rows, then their many-to-many rows ---------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.create_instances and (using_transactions or not dry_run):
            try:
                bulk_create_with_history(self.create_instances, self._meta.model, batch_size=batch_size)
                self.save_related(self.create_instances, created=True)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.update_instances and (using_transactions or not dry_run):
            try:
                fields = self.get_bulk_update_fields()
                bulk_update_with_history(
                    self.update_instances, self._meta.model, fields, batch_size=batch_size
                )
                self.save_related(self.update_instances, created=False)
            except Exception as error:
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def save_related(self, instances, created):
        """The many-to-many cells of saved records: for new records every pair in one insert
        per field, for changed ones through Django's `set()`, which writes only the difference."""
        pairs = {}
        for instance in instances:
            for attribute, records in self.related.pop(id(instance), {}).items():
                if not created:
                    getattr(instance, attribute).set(records)
                    continue
                field = self._meta.model._meta.get_field(attribute)
                through = field.remote_field.through
                owner, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
                pairs.setdefault(through, []).extend(
                    through(**{owner: instance.pk, target: record.pk}) for record in records
                )
        for through, rows in pairs.items():
            through.objects.bulk_create(rows)

    def get_bulk_update_fields(self):
        names = {field.attribute for field in self.get_import_fields() if not field.readonly} | {"updated_at"}
        return [
            f.name for f in self._meta.model._meta.concrete_fields if f.name in names and not f.primary_key
        ]

    def after_import_row(self, row, row_result, **kwargs):
        if kwargs.get("progress") is not None:
            kwargs["progress"]()
