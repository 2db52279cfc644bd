"""Admin forms: import and export (a size limit on uploads, no inline script under the CSP), and
the citation form whose "supports field" is a choice of the record's fields."""

from django import forms
from django.apps import apps
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm, SelectableFieldsExportForm

from .models import CITABLE_MODELS, Citation, citable_fields


class CatalogImportForm(ImportForm):
    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["import_file"].help_text = _(
            "An xlsx, csv or json file of at most %(size)s. Row numbers in messages count the "
            "header as row 1, as spreadsheet programs do."
        ) % {"size": filesizeformat(settings.CATALOG_IMPORT_MAX_BYTES)}

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.CATALOG_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file an import accepts is %(limit)s."),
                code="too_large",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload


class CatalogExportForm(SelectableFieldsExportForm):
    """The library's form, with the "select all" toggle wired from a static file: the
    template's inline `onchange` is blocked by our Content Security Policy."""

    @property
    def media(self):
        return super().media + forms.Media(js=("js/export_select_all.js",))


class CitationForm(forms.ModelForm):
    """A citation whose "supports field" is chosen from the fields of its record's kind, named in
    the editor's language. A stored value no longer among them stays selectable, so an old
    citation can still be saved unchanged."""

    field = forms.ChoiceField(label=_("supports field"), required=False)

    class Meta:
        model = Citation
        fields = ("source", "field", "section", "quote", "translation_en", "note_zh", "note_en")

    record_model = None  # set by `citation_form_for`; None offers the fields of every kind

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["field"]
        field.help_text = Citation._meta.get_field("field").help_text
        whole = [("", _("(the record as a whole)"))]
        if self.record_model is not None:
            choices = whole + citable_fields(self.record_model)
            known = {name for name, _label in choices}
        else:
            groups = [
                (capfirst(model._meta.verbose_name), citable_fields(model))
                for model in (apps.get_model("catalog", name) for name in CITABLE_MODELS)
            ]
            choices = whole + groups
            known = {"", *(name for _group, fields in groups for name, _label in fields)}
        current = self.instance.field if self.instance.pk else ""
        if current not in known:
            choices.append((current, current))
        field.choices = choices

    def clean(self):
        cleaned = super().clean()
        content_type = cleaned.get("content_type")
        name = cleaned.get("field")
        if self.record_model is None and content_type is not None and name:
            allowed = {field for field, _label in citable_fields(content_type.model_class())}
            if name not in allowed and name != self.instance.field:
                self.add_error(
                    "field",
                    _("A %(kind)s has no field “%(field)s”.")
                    % {"kind": content_type.model_class()._meta.verbose_name, "field": name},
                )
        return cleaned


def citation_form_for(model):
    """The citation form of the inline on the admin page of a record of `model`."""
    return type(f"{model.__name__}CitationForm", (CitationForm,), {"record_model": model})
