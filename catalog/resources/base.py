"""What every catalog sheet shares: natural keys, readable errors, history, escaping."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from import_export import fields, resources
from import_export.instance_loaders import BaseInstanceLoader

from .cells import cell_text, unescape_formula
from .formats import max_rows
from .widgets import FlagWidget, KeysWidget, _KeyLookup

DELETE_COLUMN = "delete"
CHANGE_REASON_LENGTH = 100


class FileProblem(Exception):
    """A problem with the whole file (columns, duplicates, size), reported before any row."""


def spreadsheet_row(number):
    """The row an editor sees in a spreadsheet program: data row 1 sits under the header."""
    return number + 1


class KeyedInstanceLoader(BaseInstanceLoader):
    """Existing records for every key in the file, fetched in a few queries up front."""

    CHUNK = 500

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.field = resource.fields[resource.get_import_id_fields()[0]]
        self.records = {}
        if dataset is None or not dataset.headers or self.field.column_name not in dataset.headers:
            return
        keys = sorted({self.field.clean(row) for row in dataset.dict} - {"", None})
        queryset = resource.get_queryset()
        for start in range(0, len(keys), self.CHUNK):
            lookup = {f"{self.field.attribute}__in": keys[start : start + self.CHUNK]}
            for record in queryset.filter(**lookup):
                self.records[str(self.field.get_value(record))] = record

    def get_instance(self, row):
        return self.records.get(str(self.field.clean(row)))


class CatalogResource(resources.ModelResource):
    """Base of every sheet. Subclasses set `Meta.fields`, `required_columns` and `sheet`."""

    #: Sheet name in the whole-catalog workbook, and the file name of its csv.
    sheet = ""
    #: Columns a file must have; other known columns may be left out.
    required_columns = ("key",)
    #: Relations to join when exporting.
    select_related = ()
    prefetch_related = ()

    delete = fields.Field(column_name=DELETE_COLUMN, widget=FlagWidget(), readonly=True)

    class Meta:
        abstract = True
        import_id_fields = ("key",)
        instance_loader_class = KeyedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    @classmethod
    def get_display_name(cls):
        return cls._meta.model._meta.verbose_name_plural.capitalize()

    def get_export_order(self):
        return tuple(name for name in super().get_export_order() if name != DELETE_COLUMN)

    # --- reading the file -------------------------------------------------------------------

    def column_names(self):
        return [field.column_name for field in self.get_import_fields()]

    def before_import(self, dataset, **kwargs):
        """Check the file as a whole; on a problem, report it and import no row at all."""
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
            return ["The file is empty: it has no rows under the header."]
        if len(dataset) > max_rows():
            return [f"The file has more than {max_rows():,} rows, the most one import accepts."]
        expected = self.column_names()
        problems = []
        missing = [column for column in self.required_columns if column not in headers]
        if missing:
            problems.append(
                f"Missing required column {', '.join(f'`{c}`' for c in missing)}. "
                f"Expected columns: {', '.join(expected)}."
            )
        unknown = [header for header in headers if header not in expected]
        if unknown:
            problems.append(
                f"Unknown column {', '.join(f'`{h}`' for h in unknown)}. "
                f"Expected columns: {', '.join(expected)}."
            )
        repeated = sorted({header for header in headers if headers.count(header) > 1})
        if repeated:
            problems.append(f"Column {', '.join(f'`{h}`' for h in repeated)} appears more than once.")
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
                listed = ", ".join(str(row) for row in rows[:-1]) + f" and {rows[-1]}"
                problems.append(f"Duplicate key `{key}` in rows {listed}.")
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
        related = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, KeysWidget) and field.column_name in row:
                try:
                    related[field.attribute] = field.clean(row)
                except ValueError as error:
                    errors[field.attribute] = ValidationError(str(error), code="invalid")
        errors.update(self.check_related(instance, related))
        if errors:
            raise ValidationError(errors)

    def check_related(self, instance, related):
        """Rules between many-to-many cells of one row; returns {column: ValidationError}."""
        return {}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as error:
            raise ValidationError(self.by_column(error.message_dict)) from None

    def by_column(self, errors):
        columns = {field.attribute: field.column_name for field in self.fields.values() if field.attribute}
        return {columns.get(name, name): messages for name, messages in errors.items()}

    def for_delete(self, row, instance):
        return DELETE_COLUMN in row and FlagWidget().clean(row[DELETE_COLUMN])

    def delete_instance(self, instance, row, **kwargs):
        self.set_history(instance, kwargs)
        try:
            super().delete_instance(instance, row, **kwargs)
        except ProtectedError as error:
            users = sorted({str(obj) for obj in error.protected_objects})[:5]
            raise ValidationError(
                {DELETE_COLUMN: f"Cannot delete: still used by {'; '.join(users)}."}
            ) from None

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

    def filter_export(self, queryset, **kwargs):
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def get_queryset(self):
        return self._meta.model._default_manager.all()
