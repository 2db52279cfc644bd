import os
import re
import tempfile
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.admin import GenericStackedInline
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.results import RowResult
from import_export.tmp_storages import TempFolderStorage
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from .forms import CatalogExportForm, CatalogImportForm, CitationForm, citation_form_for
from .images import DISPLAY_SIZE, EMBLEM_SIZE, THUMBNAIL_SIZE, CleanImageField
from .models import (
    CITABLE_MODELS,
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    OrganizationFact,
    Photo,
    Source,
    State,
    Summit,
    related_count,
)
from .resources import RESOURCE_FOR_MODEL, CitationResource
from .resources.workbook import analyze_catalog_tables
from .spreadsheets import FORMATS, XLSX, UnreadableFile

admin.site.site_header = _("CSTO catalog administration")
admin.site.site_title = _("CSTO catalog")
admin.site.index_title = _("Catalog")

# Long enough for any text a catalog field holds, so no change is cut in the history.
FULL_DIFF_CHARS = 1_000_000

BILINGUAL_SEARCH = ("key", "name_zh", "name_en", "description_zh", "description_en")

# The kinds of import row that write to the database.
WRITTEN = (RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_DELETE)


class StaleImport(Exception):
    """A confirmation naming no upload waiting for it: confirmed already, or a name made up."""


class ImportFileStorage(TempFolderStorage):
    """Uploads waiting for their confirmation, each under a name we make (32 hex digits).
    A confirmation claims its file by renaming it, so that a second confirmation of the same
    upload, or one posting a name that is not ours, finds nothing: StaleImport."""

    NAME = re.compile(r"[0-9a-f]{32}")

    def get_full_path(self):
        if not self.NAME.fullmatch(self.name or ""):
            raise StaleImport(self.name)
        return os.path.join(tempfile.gettempdir(), f"cstosite-import-{self.name}")

    def save(self, data):
        self.name = uuid.uuid4().hex
        with open(os.open(self.get_full_path(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            file.write(data)
        self.saved = True

    def read(self):
        path = self.get_full_path()
        if not getattr(self, "saved", False):  # the confirmation: claim the file first
            try:
                os.rename(path, f"{path}.claimed")
            except FileNotFoundError:
                raise StaleImport(self.name) from None
            path = f"{path}.claimed"
        with open(path, self.read_mode, encoding=self.encoding) as file:
            return file.read()

    def remove(self):
        for path in (self.get_full_path(), f"{self.get_full_path()}.claimed"):
            if os.path.exists(path):
                os.remove(path)


class SpreadsheetMixin(ImportExportMixin):
    """Import and export on the changelist, in xlsx, csv and json only, by natural keys.

    Importing needs the add and change permissions of the kind, exporting the view one; a
    file with any invalid row writes nothing, at the preview or at the confirm step.
    """

    import_form_class = CatalogImportForm
    export_form_class = CatalogExportForm
    import_error_display = ("message",)
    formats = FORMATS
    import_formats = FORMATS
    export_formats = FORMATS
    tmp_storage_class = ImportFileStorage

    def get_resource_classes(self, request):
        return [RESOURCE_FOR_MODEL[self.model]]

    def has_import_permission(self, request):
        change = f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}"
        return super().has_import_permission(request) and request.user.has_perm(change)

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, error):
        if isinstance(error, UnreadableFile):
            message = str(error)
        elif isinstance(error, UnicodeDecodeError):
            message = _("This file is not UTF-8 text, so it is not a csv or json file.")
        else:
            message = _("This file cannot be read in the format chosen: it is not an xlsx, csv or json file.")
        form.add_error("import_file", message)

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        data.title = RESOURCE_FOR_MODEL[self.model].sheet
        return data

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """An xlsx export carries the exported records' citations in a second sheet, as the
        whole-catalog workbook does, so `import_catalog` reads it back whole; csv and json hold
        the one sheet."""
        citable = self.opts.model_name in CITABLE_MODELS and request.user.has_perm("catalog.view_citation")
        if not isinstance(file_format, XLSX) or not citable:
            return super().get_export_data(file_format, request, queryset, **kwargs)
        if not self.has_export_permission(request):
            raise PermissionDenied
        records = self.get_data_for_export(request, queryset, force_native_type=True, **kwargs)
        citations = CitationResource().export(
            queryset=Citation.objects.filter(
                content_type=ContentType.objects.get_for_model(self.model),
                object_id__in=queryset.order_by().values("pk"),
            ),
            force_native_type=True,
        )
        citations.title = CitationResource.sheet
        return file_format.export_sheets([records, citations])

    def process_import(self, request, **kwargs):
        """The library's confirmation step, answering a stale or altered confirmation with a
        message on the list instead of an error page."""
        if request.POST.get("format", "") not in {
            str(index) for index in range(len(self.get_import_formats()))
        }:
            return self.stale_import(request)
        try:
            return super().process_import(request, **kwargs)
        except StaleImport:
            return self.stale_import(request)

    def stale_import(self, request):
        messages.error(
            request,
            _(
                "This import was confirmed already, or its file is gone: nothing was imported. "
                "Upload the file again."
            ),
        )
        return self.changelist_redirect()

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request, _("Nothing was imported: the file has errors. Upload it again to see them.")
            )
            return self.changelist_redirect()
        if any(result.totals[kind] for kind in WRITTEN):
            # The import has committed: fresh planner statistics of what it wrote, as after
            # `import_catalog`, rather than a minute of plans made for the catalog before it.
            analyze_catalog_tables()
        return super().process_result(result, request)

    def changelist_redirect(self):
        return HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            )
        )


class CitationInline(GenericStackedInline):
    """Stacked, one citation under another: its passages and notes are long texts that a table
    row would push out of the page."""

    model = Citation
    extra = 0
    fields = ("source", "field", "section", "quote", "translation_en", ("note_zh", "note_en"))
    autocomplete_fields = ("source",)

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = citation_form_for(self.parent_model)
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin, made safe for view-only users and the CSP.

    Its revert view saves whatever form is posted to it after checking only the *view*
    permission, so a reviewer could change a record by posting to it: a revert needs the
    change permission here. Its list of versions is rendered without its inline style, and a
    revert records which version it restored as the new version's change reason.
    """

    object_history_list_template = "admin/catalog/object_history_list.html"

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            request.reverted_version = obj.history.filter(pk=unquote(version_id)).first() if obj else None
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        version = getattr(request, "reverted_version", None)
        if version is not None:
            # In the editor's language: the request's, active while the admin view runs.
            obj._change_reason = gettext("Reverted to the version of %(date)s UTC") % {
                "date": f"{version.history_date:%Y-%m-%d %H:%M:%S}"
            }
        super().save_model(request, obj, form, change)

    def get_historical_record_context_helper(self, request, historical_record):
        """Changes shown whole: the library cuts long values to "Meeti[17 chars]ation"."""
        return HistoricalRecordContextHelper(
            self.model, historical_record, max_displayed_delta_change_chars=FULL_DIFF_CHARS
        )


class PhotoForm(forms.ModelForm):
    image = CleanImageField(
        label=_("image"), renditions={"display": DISPLAY_SIZE, "thumbnail": THUMBNAIL_SIZE}
    )

    class Meta:
        model = Photo
        fields = ("image", "alt_zh", "alt_en", "caption_zh", "caption_en", "credit", "position")

    def save(self, commit=True):
        if "image" in self.changed_data:
            renditions = self.cleaned_data["image"].renditions
            self.instance.display = renditions["display"]
            self.instance.thumbnail = renditions["thumbnail"]
        return super().save(commit)


class PhotoPreview:
    PHOTO_FIELDS = ("image", ("alt_zh", "alt_en"), ("caption_zh", "caption_en"), "credit", "position")

    @admin.display(description=_("thumbnail"))
    def preview(self, obj):
        if not obj.thumbnail:
            return "—"
        return format_html('<img src="{}" alt="{}">', obj.thumbnail.url, obj.alt)


class PhotoInline(PhotoPreview, GenericStackedInline):
    model = Photo
    form = PhotoForm
    extra = 0
    fields = ("preview", *PhotoPreview.PHOTO_FIELDS)
    readonly_fields = ("preview",)


class CatalogAdmin(SpreadsheetMixin, HistoryAdmin):
    """Shared by every catalog kind: citations inline, and a count of them in the list."""

    inlines = (CitationInline,)
    save_on_top = True

    def get_queryset(self, request):
        citations = Citation.objects.filter(content_type=ContentType.objects.get_for_model(self.model))
        return super().get_queryset(request).annotate(citation_count=related_count(citations, "object_id"))

    @admin.display(description=_("citations"), ordering="citation_count")
    def citation_count(self, obj):
        return obj.citation_count


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("key", "role", "start", "end", "signed", "ratified", "charter_ratified", "withdrawal_effective")
    show_change_link = True


@admin.register(Source)
class SourceAdmin(SpreadsheetMixin, HistoryAdmin):
    list_display = ("title", "kind", "publisher", "published", "language", "key")
    list_filter = ("kind", "language")
    search_fields = ("key", "title", "publisher", "document")
    prepopulated_fields = {"key": ("title",)}


class StateForm(forms.ModelForm):
    emblem = CleanImageField(label=_("emblem or flag"), required=False, max_size=EMBLEM_SIZE)

    class Meta:
        model = State
        fields = ("emblem",)


@admin.register(State)
class StateAdmin(CatalogAdmin):
    form = StateForm
    list_display = ("name_zh", "name_en", "code", "membership_count", "citation_count")
    search_fields = ("code", "name_zh", "name_en", "description_zh", "description_en")
    inlines = (MembershipInline, CitationInline)
    fieldsets = (
        (None, {"fields": ("code", "name_zh", "name_en", "emblem")}),
        (_("Description"), {"fields": ("description_zh", "description_en")}),
        (
            _("Further facts"),
            {
                "fields": (
                    "parliament_zh",
                    "parliament_en",
                    "armed_forces_zh",
                    "armed_forces_en",
                    "note_zh",
                    "note_en",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(membership_count=related_count(Membership.objects.all(), "state"))
        )

    @admin.display(description=_("membership periods"), ordering="membership_count")
    def membership_count(self, obj):
        return obj.membership_count


@admin.register(Membership)
class MembershipAdmin(CatalogAdmin):
    list_display = ("state", "role", "start", "end", "key", "citation_count")
    list_filter = ("role", "state")
    list_select_related = ("state",)
    search_fields = ("key", "state__name_zh", "state__name_en", "state__code", "note_zh", "note_en")
    autocomplete_fields = ("state",)
    fieldsets = (
        (None, {"fields": ("key", "state", "role", "start", "end")}),
        (
            _("Steps"),
            {
                "fields": (
                    "signed",
                    "ratified",
                    "charter_ratified",
                    "withdrawal_announced",
                    "withdrawal_effective",
                )
            },
        ),
        (_("Note"), {"fields": ("note_zh", "note_en")}),
    )


class SummitForm(forms.ModelForm):
    class Meta:
        model = Summit
        fields = ("participants", "absentees")

    def clean(self):
        cleaned = super().clean()
        Summit.validate_attendance(cleaned.get("participants"), cleaned.get("absentees"))
        return cleaned


@admin.register(Summit)
class SummitAdmin(CatalogAdmin):
    inlines = (CitationInline, PhotoInline)
    form = SummitForm
    list_display = ("name_zh", "name_en", "date", "kind", "city_zh", "host", "citation_count")
    list_filter = ("kind", "host")
    list_select_related = ("host",)
    search_fields = BILINGUAL_SEARCH + ("city_zh", "city_en", "decisions_zh", "decisions_en")
    autocomplete_fields = ("host", "participants", "absentees")
    fields = (
        "key",
        "kind",
        ("name_zh", "name_en"),
        ("date", "end_date"),
        ("city_zh", "city_en"),
        "host",
        "participants",
        "absentees",
        "decisions_zh",
        "decisions_en",
        "description_zh",
        "description_en",
        ("note_zh", "note_en"),
    )


@admin.register(ExerciseSeries)
class ExerciseSeriesAdmin(CatalogAdmin):
    list_display = ("name_zh", "name_en", "first_year", "exercise_count", "citation_count")
    search_fields = BILINGUAL_SEARCH

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(exercise_count=related_count(Exercise.objects.all(), "series"))
        )

    @admin.display(description=_("exercises"), ordering="exercise_count")
    def exercise_count(self, obj):
        return obj.exercise_count


@admin.register(Exercise)
class ExerciseAdmin(CatalogAdmin):
    inlines = (CitationInline, PhotoInline)
    list_display = ("name_zh", "name_en", "date", "series", "troops", "aircraft", "citation_count")
    list_filter = ("series", "hosts")
    list_select_related = ("series",)
    search_fields = BILINGUAL_SEARCH + ("purpose_zh", "purpose_en")
    autocomplete_fields = ("series", "hosts", "participants")
    fields = (
        "key",
        ("name_zh", "name_en"),
        "series",
        ("date", "end_date"),
        "hosts",
        "participants",
        ("troops", "aircraft"),
        "purpose_zh",
        "purpose_en",
        "description_zh",
        "description_en",
        ("note_zh", "note_en"),
    )


@admin.register(Crisis)
class CrisisAdmin(CatalogAdmin):
    inlines = (CitationInline, PhotoInline)
    list_display = ("name_zh", "name_en", "start", "end", "response", "troops_deployed", "citation_count")
    list_filter = ("response", "states")
    search_fields = BILINGUAL_SEARCH + ("outcome_zh", "outcome_en", "requesters_zh", "requesters_en")
    autocomplete_fields = ("states", "requested_by")
    fields = (
        "key",
        ("name_zh", "name_en"),
        ("start", "end"),
        "states",
        "requested_by",
        ("requesters_zh", "requesters_en"),
        ("response", "troops_deployed"),
        "outcome_zh",
        "outcome_en",
        "description_zh",
        "description_en",
        ("note_zh", "note_en"),
    )


@admin.register(Milestone)
class MilestoneAdmin(CatalogAdmin):
    list_display = ("name_zh", "name_en", "date", "kind", "citation_count")
    list_filter = ("kind", "states")
    search_fields = BILINGUAL_SEARCH
    autocomplete_fields = ("states",)
    fields = (
        "key",
        "kind",
        ("name_zh", "name_en"),
        ("date", "end_date"),
        "states",
        "description_zh",
        "description_en",
        ("note_zh", "note_en"),
    )


@admin.register(OrganizationFact)
class OrganizationFactAdmin(CatalogAdmin):
    list_display = ("name_zh", "name_en", "topic", "date", "citation_count")
    list_filter = ("topic",)
    search_fields = BILINGUAL_SEARCH
    fields = (
        "key",
        "topic",
        ("name_zh", "name_en"),
        "date",
        "description_zh",
        "description_en",
        ("note_zh", "note_en"),
    )


class RecordColumn:
    """For a model that points at its record through a generic relation (citations, photos)."""

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("record")

    @admin.display(description=_("record"))
    def record_label(self, obj):
        return obj.record if obj.record is not None else _("(missing record #%(id)s)") % {"id": obj.object_id}


@admin.register(Citation)
class CitationAdmin(RecordColumn, SpreadsheetMixin, HistoryAdmin):
    form = CitationForm
    list_display = ("record_label", "content_type", "source", "field", "section", "short_quote")
    list_filter = ("content_type", "source", "field")
    list_select_related = ("source", "content_type")
    search_fields = ("quote", "translation_en", "section", "note_zh", "note_en", "source__title")
    autocomplete_fields = ("source",)
    fields = (
        "content_type",
        "object_id",
        "source",
        "field",
        "section",
        "quote",
        "translation_en",
        "note_zh",
        "note_en",
    )

    @admin.display(description=_("quoted passage"))
    def short_quote(self, obj):
        return obj.quote if len(obj.quote) <= 60 else obj.quote[:59] + "…"


@admin.register(Photo)
class PhotoAdmin(RecordColumn, PhotoPreview, HistoryAdmin):
    """Photos are added on their record's page; here they are found, corrected and audited."""

    form = PhotoForm
    list_display = ("preview", "alt_en", "record_label", "content_type", "credit", "updated_at")
    list_filter = ("content_type",)
    list_select_related = ("content_type",)
    search_fields = ("alt_zh", "alt_en", "caption_zh", "caption_en", "credit")
    fields = ("preview", "record_label", *PhotoPreview.PHOTO_FIELDS)
    readonly_fields = ("preview", "record_label")

    def has_add_permission(self, request):
        return False
