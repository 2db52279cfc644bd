"""Admin import and export forms: a size limit on uploads, and no inline script (CSP)."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm, SelectableFieldsExportForm


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
