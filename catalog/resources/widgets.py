"""The library's widgets, subclassed only for readable errors and for cells typed by spreadsheets."""

from django.utils.translation import gettext
from import_export import widgets

from ..spreadsheets import cell_text


class TextWidget(widgets.CharWidget):
    """Any cell read as text: a date typed by a spreadsheet as ISO, a whole number without `.0`."""

    def __init__(self, normalize=None, **kwargs):
        super().__init__(**kwargs)
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        return self.normalize(text) if self.normalize else text


class DateWidget(TextWidget):
    """A partial date (`1993`, `2010-06`, `2022-01-06`); the model validates the text."""

    def __init__(self, **kwargs):
        super().__init__(normalize=str.strip, **kwargs)


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number, typed in xlsx and json, read with an error an editor understands."""

    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip().replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(gettext("“%(value)s” is not a whole number") % {"value": value}) from None


def state_code(text):
    return text.strip().upper()


class KeyWidget(widgets.CachedForeignKeyWidget):
    """A foreign key by the related record's natural key (`KZ`, `rubezh`), the records read once
    per import by the library's cached lookup; an unknown key is a row error, not a traceback."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, field=field)
        self.label = label
        self.normalize = normalize

    def clean(self, value, row=None, **kwargs):
        key = self.normalize(cell_text(value))
        if not key:
            return None
        try:
            return super().clean(key, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                gettext("Unknown %(kind)s “%(key)s”") % {"kind": self.label, "key": key}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(getattr(value, self.field))


class KeysWidget(widgets.ManyToManyWidget):
    """Several records in one cell by their natural keys, `AM, BY, KZ`, looked up in a map read
    once per import; unknown keys are a row error."""

    def __init__(self, model, field, label, normalize=str.strip):
        super().__init__(model, separator=",", field=field)
        self.label = label
        self.normalize = normalize
        self.store = {}  # {model: {key: record}}, shared by the widgets of one resource

    def clean(self, value, row=None, **kwargs):
        if self.model not in self.store:
            self.store[self.model] = {str(getattr(obj, self.field)): obj for obj in self.model.objects.all()}
        records = self.store[self.model]
        keys = dict.fromkeys(filter(None, (self.normalize(part) for part in cell_text(value).split(","))))
        unknown = [key for key in keys if key not in records]
        if unknown:
            listed = ", ".join(f"“{key}”" for key in unknown)
            raise ValueError(gettext("Unknown %(kind)s %(keys)s") % {"kind": self.label, "keys": listed})
        return [records[key] for key in keys]

    def preload(self, manager_field, pks):
        """Read the keys of the records with these pks once, for `render` (an export's chunk)."""
        owner, target = manager_field.m2m_field_name(), manager_field.m2m_reverse_field_name()
        pairs = manager_field.remote_field.through.objects.filter(**{f"{owner}__in": pks})
        self.keys = {pk: [] for pk in pks}
        for pk, key in pairs.values_list(f"{owner}_id", f"{target}__{self.field}"):
            self.keys[pk].append(key)

    def render(self, value, obj=None, **kwargs):
        """The keys sorted, so that a file does not change when the database's order does."""
        if value is None:
            return ""
        keys = getattr(self, "keys", {}).get(value.instance.pk)
        if keys is None:
            keys = [getattr(record, self.field) for record in value.all()]
        return ", ".join(sorted(map(str, keys)))
