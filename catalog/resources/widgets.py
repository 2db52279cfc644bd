"""Widgets that read related records by their natural keys, looked up once per import."""

from django.utils.translation import gettext
from import_export import widgets

from .cells import cell_text


class TextWidget(widgets.CharWidget):
    """Any cell read as text (an xlsx number or date becomes its plain text)."""

    def clean(self, value, row=None, **kwargs):
        return cell_text(value)

    def render(self, value, obj=None, **kwargs):
        """The text, '' for none: the library's rendering, without its per-cell checks."""
        return "" if value is None else str(value)


class PartialDateWidget(TextWidget):
    """A partial date cell: `1993`, `2010-06`, `2022-01-06`; the model validates the text."""

    def clean(self, value, row=None, **kwargs):
        return cell_text(value).strip()


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number, rendered as a number (typed in xlsx and json), read with a clear error."""

    def __init__(self, **kwargs):
        super().__init__(coerce_to_string=False, **kwargs)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip().replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(gettext("“%(value)s” is not a whole number") % {"value": value}) from None

    def render(self, value, obj=None, **kwargs):
        return value


class FlagWidget(widgets.BooleanWidget):
    """A yes/no cell: 1/0, true/false, yes/no, or empty for no."""

    YES = {"1", "true", "yes", "y", "x"}
    NO = {"", "0", "false", "no", "n"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip().lower()
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(gettext("“%(value)s” is not yes or no: use 1 or 0") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return 1 if value else 0


class _KeyLookup:
    """Records of one model by the text of one field, loaded on first use."""

    def __init__(self, model, field, label, normalize=str.strip):
        self.model = model
        self.field = field
        self.label = label
        self.normalize = normalize
        self.reset()

    def reset(self, store=None):
        """Forget loaded records; widgets given the same `store` share one lookup."""
        self._store = {} if store is None else store

    def records(self):
        key = (self.model, self.field)
        if key not in self._store:
            self._store[key] = {str(getattr(obj, self.field)): obj for obj in self.model.objects.all()}
        return self._store[key]

    def records_by_pk(self):
        key = (self.model, self.field, "pk")
        if key not in self._store:
            self._store[key] = {obj.pk: obj for obj in self.records().values()}
        return self._store[key]

    def key_of(self, obj):
        return str(getattr(obj, self.field))


class KeyWidget(widgets.ForeignKeyWidget, _KeyLookup):
    """A foreign key as the related record's natural key (`KZ`, `rubezh`)."""

    #: Its records are read from the database during the import (see `full_clean`).
    reads_saved_records = True

    def __init__(self, model, field, label, normalize=str.strip):
        widgets.ForeignKeyWidget.__init__(self, model, field=field)
        _KeyLookup.__init__(self, model, field, label, normalize)

    def clean(self, value, row=None, **kwargs):
        text = self.normalize(cell_text(value))
        if not text:
            return None
        try:
            return self.records()[text]
        except KeyError:
            raise ValueError(
                gettext("Unknown %(kind)s “%(key)s”") % {"kind": self.label, "key": text}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else self.key_of(value)

    def render_key(self, key):
        """The cell of a natural key read as a plain value (`values_list("state__code")`)."""
        return "" if key is None else str(key)


class KeysWidget(widgets.ManyToManyWidget, _KeyLookup):
    """Several related records in one cell, natural keys separated by commas (`AM, BY, KZ`)."""

    def __init__(self, model, field, label, normalize=str.strip):
        widgets.ManyToManyWidget.__init__(self, model, separator=",", field=field)
        _KeyLookup.__init__(self, model, field, label, normalize)

    def clean(self, value, row=None, **kwargs):
        keys = [self.normalize(part) for part in cell_text(value).split(self.separator)]
        keys = list(dict.fromkeys(key for key in keys if key))
        records = self.records()
        unknown = [key for key in keys if key not in records]
        if unknown:
            listed = ", ".join(f"“{key}”" for key in unknown)
            raise ValueError(gettext("Unknown %(kind)s %(keys)s") % {"kind": self.label, "keys": listed})
        return [records[key] for key in keys]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return self.render_records(value.all())

    def render_records(self, records):
        return self.render_keys(self.key_of(obj) for obj in records)

    def render_keys(self, keys):
        """The cell of natural keys read as plain values, sorted: `AM, KZ, RU`."""
        return ", ".join(sorted(map(str, keys)))


def state_code(text):
    return text.strip().upper()
