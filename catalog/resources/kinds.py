"""One resource per catalog kind. Columns are the model's field names; related records are
written by their natural keys: a state by its ISO code, anything else by its `key`."""

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields
from import_export.instance_loaders import ModelInstanceLoader

from ..dates import PartialDateField
from ..models import (
    CITABLE_MODELS,
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    OrganizationFact,
    Source,
    State,
    Summit,
)
from .base import DELETE_COLUMN, CatalogResource
from .cells import cell_text, unescape_formula
from .widgets import (
    FlagWidget,
    KeysWidget,
    KeyWidget,
    PartialDateWidget,
    TextWidget,
    WholeNumberWidget,
    state_code,
)

BILINGUAL = ("key", "name_zh", "name_en")
DESCRIBED = ("description_zh", "description_en", "note_zh", "note_en")
TAIL = ("is_synthetic", DELETE_COLUMN)


def plain_widget(django_field):
    if isinstance(django_field, PartialDateField):
        return PartialDateWidget()
    if isinstance(django_field, models.BooleanField):
        return FlagWidget()
    if isinstance(django_field, models.IntegerField):
        return WholeNumberWidget()
    if isinstance(django_field, models.CharField | models.TextField):
        return TextWidget()
    return None


STATE_CODE = _("state code")


def state_field(column):
    return fields.Field(
        attribute=column, column_name=column, widget=KeyWidget(State, "code", STATE_CODE, state_code)
    )


def states_field(column):
    return fields.Field(
        attribute=column, column_name=column, widget=KeysWidget(State, "code", STATE_CODE, state_code)
    )


class KindResource(CatalogResource):
    class Meta(CatalogResource.Meta):
        abstract = True

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        widget = plain_widget(django_field)
        if widget is None:
            return super().field_from_django_field(field_name, django_field, readonly)
        return fields.Field(attribute=field_name, column_name=field_name, widget=widget, readonly=readonly)


class SourceResource(KindResource):
    sheet = "sources"
    required_columns = ("key", "kind", "title", "language")

    class Meta(KindResource.Meta):
        model = Source
        fields = (
            "key",
            "kind",
            "title",
            "publisher",
            "published",
            "language",
            "url",
            "document",
            "note_zh",
            "note_en",
            *TAIL,
        )


class StateResource(KindResource):
    sheet = "states"
    required_columns = ("code", "name_zh", "name_en")

    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())

    class Meta(KindResource.Meta):
        model = State
        import_id_fields = ("code",)
        fields = (
            "code",
            "name_zh",
            "name_en",
            "description_zh",
            "description_en",
            "parliament_zh",
            "parliament_en",
            "armed_forces_zh",
            "armed_forces_en",
            "note_zh",
            "note_en",
            *TAIL,
        )

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        if dataset.headers and "code" in dataset.headers:
            column = dataset.headers.index("code")
            for index, row in enumerate(dataset):
                row = list(row)
                row[column] = state_code(cell_text(row[column]))
                dataset[index] = row


class MembershipResource(KindResource):
    sheet = "memberships"
    required_columns = ("key", "state", "role")
    select_related = ("state",)

    state = state_field("state")

    class Meta(KindResource.Meta):
        model = Membership
        # A period is checked against the other periods of its state in the database
        # (Membership.clean), so each row is written before the next one is checked.
        use_bulk = False
        fields = (
            "key",
            "state",
            "role",
            "start",
            "end",
            "signed",
            "ratified",
            "charter_ratified",
            "withdrawal_announced",
            "withdrawal_effective",
            "note_zh",
            "note_en",
            *TAIL,
        )


class ExerciseSeriesResource(KindResource):
    sheet = "exercise_series"
    required_columns = BILINGUAL

    class Meta(KindResource.Meta):
        model = ExerciseSeries
        fields = (*BILINGUAL, "first_year", "frequency_zh", "frequency_en", *DESCRIBED, *TAIL)


class ExerciseResource(KindResource):
    sheet = "exercises"
    required_columns = (*BILINGUAL, "date")
    select_related = ("series",)

    series = fields.Field(
        attribute="series",
        column_name="series",
        widget=KeyWidget(ExerciseSeries, "key", _("exercise series")),
    )
    hosts = states_field("hosts")
    participants = states_field("participants")

    class Meta(KindResource.Meta):
        model = Exercise
        fields = (
            *BILINGUAL,
            "series",
            "date",
            "end_date",
            "hosts",
            "participants",
            "troops",
            "aircraft",
            "purpose_zh",
            "purpose_en",
            *DESCRIBED,
            *TAIL,
        )


class SummitResource(KindResource):
    sheet = "summits"
    required_columns = (*BILINGUAL, "date")
    select_related = ("host",)

    host = state_field("host")
    participants = states_field("participants")
    absentees = states_field("absentees")

    class Meta(KindResource.Meta):
        model = Summit
        fields = (
            "key",
            "kind",
            "name_zh",
            "name_en",
            "date",
            "end_date",
            "city_zh",
            "city_en",
            "host",
            "participants",
            "absentees",
            "decisions_zh",
            "decisions_en",
            *DESCRIBED,
            *TAIL,
        )

    def check_related(self, instance, related):
        """The admin form's rule: nobody both takes part in and stays away from a summit."""
        try:
            Summit.validate_attendance(
                related.get("participants"), related.get("absentees"), label=lambda state: str(state.code)
            )
        except ValidationError as error:
            return {"absentees": error}
        return {}


class CrisisResource(KindResource):
    sheet = "crises"
    required_columns = (*BILINGUAL, "start", "response")

    states = states_field("states")
    requested_by = states_field("requested_by")

    class Meta(KindResource.Meta):
        model = Crisis
        fields = (
            *BILINGUAL,
            "start",
            "end",
            "states",
            "requested_by",
            "requesters_zh",
            "requesters_en",
            "response",
            "troops_deployed",
            "outcome_zh",
            "outcome_en",
            *DESCRIBED,
            *TAIL,
        )


class MilestoneResource(KindResource):
    sheet = "milestones"
    required_columns = ("key", "kind", "name_zh", "name_en", "date")

    states = states_field("states")

    class Meta(KindResource.Meta):
        model = Milestone
        fields = ("key", "kind", "name_zh", "name_en", "date", "end_date", "states", *DESCRIBED, *TAIL)


class OrganizationFactResource(KindResource):
    sheet = "organization_facts"
    required_columns = ("key", "topic", "name_zh", "name_en")

    class Meta(KindResource.Meta):
        model = OrganizationFact
        fields = ("key", "topic", "name_zh", "name_en", "date", *DESCRIBED, *TAIL)


class RecordKindWidget(TextWidget):
    """The kind of record a citation supports, by model name (`exercise`, `state` ...)."""

    #: Its content types are read from the database during the import (see `full_clean`).
    reads_saved_records = True

    def __init__(self):
        super().__init__()
        self._types = None

    def types(self):
        if self._types is None:
            self._types = {
                content_type.model: content_type
                for content_type in ContentType.objects.filter(app_label="catalog", model__in=CITABLE_MODELS)
            }
            for model in CITABLE_MODELS:  # a fresh database may not have created them yet
                if model not in self._types:
                    self._types[model] = ContentType.objects.get_by_natural_key("catalog", model)
        return self._types

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip().lower()
        if not text:
            return None
        try:
            return self.types()[text]
        except KeyError:
            raise ValueError(
                gettext("Unknown record kind “%(kind)s” (use one of: %(kinds)s)")
                % {"kind": text, "kinds": ", ".join(CITABLE_MODELS)}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.model


class RecordKeyWidget(TextWidget):
    """The record a citation supports, by its key (a state by its ISO code), read with the
    row's `record_kind`. Records are looked up once per kind per import."""

    def __init__(self, kinds):
        super().__init__()
        self.kinds = kinds
        self._records = {}

    def reset(self):
        self._records = {}

    @staticmethod
    def key_field(model):
        """The field naming a record of `model`: a state's ISO code, anything else's key."""
        return "code" if model is State else "key"

    def records(self, content_type):
        if content_type.model not in self._records:
            model = content_type.model_class()
            field = self.key_field(model)
            self._records[content_type.model] = {
                str(getattr(record, field)): record for record in model.objects.all()
            }
        return self._records[content_type.model]

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip()
        if not text:
            return None
        try:
            content_type = self.kinds.clean(row.get("record_kind"))
        except ValueError:
            return None  # the record_kind cell reports the problem
        if content_type is None:
            return None
        if content_type.model == "state":
            text = state_code(text)
        try:
            return self.records(content_type)[text]
        except KeyError:
            raise ValueError(
                gettext("Unknown %(kind)s “%(key)s”")
                % {"kind": content_type.model_class()._meta.verbose_name, "key": text}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.natural_key()[0]

    def render_key(self, key):
        """The cell of a record's key read as a plain value."""
        return "" if key is None else str(key)

    def keys_loader(self, related):
        """A loader for export rows: fills `related` with {citation pk: record key} for a
        chunk of (pk, content type id, object id), one query per kind of record."""
        models = {}

        def load(chunk):
            ids = defaultdict(list)
            for pk, content_type_id, object_id in chunk:
                ids[content_type_id].append((pk, object_id))
            keys = {}
            for content_type_id, pairs in ids.items():
                if content_type_id not in models:
                    models[content_type_id] = ContentType.objects.get_for_id(content_type_id).model_class()
                model = models[content_type_id]
                names = dict(
                    model._base_manager.filter(pk__in={object_id for _, object_id in pairs}).values_list(
                        "pk", self.key_field(model)
                    )
                )
                for pk, object_id in pairs:
                    keys[pk] = names.get(object_id)
            related.clear()
            related.update(keys)

        return load


class CitationResource(CatalogResource):
    sheet = "citations"
    required_columns = ("record_kind", "record_key", "source", "quote")
    select_related = ("content_type", "source")

    record_kind = fields.Field(attribute="content_type", column_name="record_kind", widget=RecordKindWidget())
    record_key = fields.Field(attribute="record", column_name="record_key")
    source = fields.Field(
        attribute="source", column_name="source", widget=KeyWidget(Source, "key", _("source"))
    )
    field = fields.Field(attribute="field", column_name="field", widget=TextWidget())
    quote = fields.Field(attribute="quote", column_name="quote", widget=TextWidget())
    section = fields.Field(attribute="section", column_name="section", widget=TextWidget())
    translation_en = fields.Field(
        attribute="translation_en", column_name="translation_en", widget=TextWidget()
    )
    note_zh = fields.Field(attribute="note_zh", column_name="note_zh", widget=TextWidget())
    note_en = fields.Field(attribute="note_en", column_name="note_en", widget=TextWidget())
    is_synthetic = fields.Field(attribute="is_synthetic", column_name="is_synthetic", widget=FlagWidget())

    class Meta(CatalogResource.Meta):
        model = Citation
        import_id_fields = ("record_kind", "record_key", "source", "field", "quote")
        instance_loader_class = ModelInstanceLoader  # unused: get_instance() looks citations up
        fields = (
            "record_kind",
            "record_key",
            "source",
            "field",
            "quote",
            "translation_en",
            "section",
            "note_zh",
            "note_en",
            *TAIL,
        )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields["record_key"].widget = RecordKeyWidget(self.fields["record_kind"].widget)

    def before_import(self, dataset, **kwargs):
        self.fields["record_key"].widget.reset()
        self.fields["record_kind"].widget._types = None
        super().before_import(dataset, **kwargs)
        self.existing = None

    def export_cell(self, plan, field):
        """The record's kind by its model name, and its key read per kind in bulk."""
        if field.column_name == "record_kind":
            index = plan.index_of("content_type__model")
            return lambda row: "" if row[index] is None else row[index]
        if field.column_name == "record_key":
            kind, object_id = plan.index_of("content_type_id"), plan.index_of("object_id")
            keys = {}
            load = self.fields["record_key"].widget.keys_loader(keys)
            plan.loaders.append(lambda chunk: load([(row[0], row[kind], row[object_id]) for row in chunk]))
            render_key = self.fields["record_key"].widget.render_key
            return lambda row: render_key(keys.get(row[0]))
        return None

    def natural_key_of_row(self, row):
        parts = [
            cell_text(unescape_formula(row.get(column))).strip() for column in self.get_import_id_fields()
        ]
        parts[0] = parts[0].lower()
        if parts[0] == "state":
            parts[1] = parts[1].upper()
        return " / ".join(parts) if parts[1] else ""

    def get_instance(self, instance_loader, row):
        """The citation with this row's natural key, if the database has it."""
        try:
            record = self.fields["record_key"].clean(row)
            source = self.fields["source"].clean(row)
        except ValueError:
            return None
        if record is None or source is None:
            return None
        if self.existing is None:
            self.existing = {
                (c.content_type_id, c.object_id, c.source_id, c.field, c.quote): c
                for c in Citation.objects.all()
            }
            self.loaded_values = {c.pk: self.stored_values(c) for c in self.existing.values()}
        content_type = self.fields["record_kind"].clean(row)
        key = (
            content_type.pk,
            record.pk,
            source.pk,
            self.fields["field"].clean(row).strip(),
            self.fields["quote"].clean(row).strip(),
        )
        return self.existing.get(key)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        instance.field = instance.field.strip()
        instance.quote = instance.quote.strip()


RESOURCES = (
    SourceResource,
    StateResource,
    MembershipResource,
    ExerciseSeriesResource,
    ExerciseResource,
    SummitResource,
    CrisisResource,
    MilestoneResource,
    OrganizationFactResource,
    CitationResource,
)
