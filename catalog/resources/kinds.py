"""One resource per catalog kind. Columns are the model's field names; related records are
written by their natural keys: a state by its ISO code, anything else by its `key`."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets
from import_export.instance_loaders import ModelInstanceLoader

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
from ..spreadsheets import cell_text, unescape_formula
from .base import DELETE_COLUMN, CatalogResource
from .widgets import KeysWidget, KeyWidget, TextWidget, state_code

BILINGUAL = ("key", "name_zh", "name_en")
DESCRIBED = ("description_zh", "description_en", "note_zh", "note_en")
STATE_CODE = _("state code")


def state_field(column):
    return fields.Field(
        attribute=column, column_name=column, widget=KeyWidget(State, "code", STATE_CODE, state_code)
    )


def states_field(column):
    return fields.Field(
        attribute=column, column_name=column, widget=KeysWidget(State, "code", STATE_CODE, state_code)
    )


class SourceResource(CatalogResource):
    sheet = "sources"
    required_columns = ("key", "kind", "title", "language")

    class Meta(CatalogResource.Meta):
        model = Source
        fields = (
            "key", "kind", "title", "publisher", "published", "language", "url", "document", "note_zh",
            "note_en", DELETE_COLUMN,
        )  # fmt: skip


class StateResource(CatalogResource):
    sheet = "states"
    required_columns = ("code", "name_zh", "name_en")

    code = fields.Field(attribute="code", column_name="code", widget=TextWidget(normalize=state_code))

    class Meta(CatalogResource.Meta):
        model = State
        import_id_fields = ("code",)
        fields = (
            "code", "name_zh", "name_en", "description_zh", "description_en", "parliament_zh",
            "parliament_en", "armed_forces_zh", "armed_forces_en", "note_zh", "note_en", DELETE_COLUMN,
        )  # fmt: skip


class MembershipResource(CatalogResource):
    sheet = "memberships"
    required_columns = ("key", "state", "role")
    select_related = ("state",)

    state = state_field("state")

    class Meta(CatalogResource.Meta):
        model = Membership
        # A period is checked against the other periods of its state in the database
        # (Membership.clean), so each row is written before the next one is checked.
        use_bulk = False
        fields = (
            "key", "state", "role", "start", "end", "signed", "ratified", "charter_ratified",
            "withdrawal_announced", "withdrawal_effective", "note_zh", "note_en", DELETE_COLUMN,
        )  # fmt: skip


class ExerciseSeriesResource(CatalogResource):
    sheet = "exercise_series"
    required_columns = BILINGUAL

    class Meta(CatalogResource.Meta):
        model = ExerciseSeries
        fields = (*BILINGUAL, "first_year", "frequency_zh", "frequency_en", *DESCRIBED, DELETE_COLUMN)


class ExerciseResource(CatalogResource):
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

    class Meta(CatalogResource.Meta):
        model = Exercise
        fields = (
            *BILINGUAL, "series", "date", "end_date", "hosts", "participants", "troops", "aircraft",
            "purpose_zh", "purpose_en", *DESCRIBED, DELETE_COLUMN,
        )  # fmt: skip


class SummitResource(CatalogResource):
    sheet = "summits"
    required_columns = (*BILINGUAL, "date")
    select_related = ("host",)

    host = state_field("host")
    participants = states_field("participants")
    absentees = states_field("absentees")

    class Meta(CatalogResource.Meta):
        model = Summit
        fields = (
            "key", "kind", "name_zh", "name_en", "date", "end_date", "city_zh", "city_en", "host",
            "participants", "absentees", "decisions_zh", "decisions_en", *DESCRIBED, DELETE_COLUMN,
        )  # fmt: skip

    def check_related(self, related):
        """The admin form's rule: nobody both takes part in and stays away from a summit."""
        try:
            Summit.validate_attendance(
                related.get("participants"), related.get("absentees"), label=lambda state: str(state.code)
            )
        except ValidationError as error:
            return {"absentees": error}
        return {}


class CrisisResource(CatalogResource):
    sheet = "crises"
    required_columns = (*BILINGUAL, "start", "response")

    states = states_field("states")
    requested_by = states_field("requested_by")

    class Meta(CatalogResource.Meta):
        model = Crisis
        fields = (
            *BILINGUAL, "start", "end", "states", "requested_by", "requesters_zh", "requesters_en",
            "response", "troops_deployed", "outcome_zh", "outcome_en", *DESCRIBED, DELETE_COLUMN,
        )  # fmt: skip


class MilestoneResource(CatalogResource):
    sheet = "milestones"
    required_columns = ("key", "kind", "name_zh", "name_en", "date")

    states = states_field("states")

    class Meta(CatalogResource.Meta):
        model = Milestone
        fields = (
            "key", "kind", "name_zh", "name_en", "date", "end_date", "states", *DESCRIBED, DELETE_COLUMN,
        )  # fmt: skip


class OrganizationFactResource(CatalogResource):
    sheet = "organization_facts"
    required_columns = ("key", "topic", "name_zh", "name_en")

    class Meta(CatalogResource.Meta):
        model = OrganizationFact
        fields = ("key", "topic", "name_zh", "name_en", "date", *DESCRIBED, DELETE_COLUMN)


class RecordKindWidget(KeyWidget):
    """The kind of record a citation supports, by model name (`exercise`, `state` ...)."""

    def __init__(self):
        super().__init__(ContentType, "model", _("record kind"), normalize=lambda text: text.strip().lower())

    def get_queryset(self, value, row, *args, **kwargs):
        return ContentType.objects.filter(app_label="catalog", model__in=CITABLE_MODELS)


class RecordKeyWidget(widgets.Widget):
    """The record a citation supports, by its key (a state by its ISO code), read with the
    row's `record_kind`; each kind's keys are read once per import (or export)."""

    def __init__(self, kinds):
        super().__init__()
        self.kinds = kinds
        self.keys = {}  # {content type id: {key: pk}}
        self.records = {}  # {content type id: {pk: key}}

    def load(self, content_type):
        if content_type.pk not in self.keys:
            model = content_type.model_class()
            key = "code" if model is State else "key"  # a state's ISO code, anything else's key
            self.keys[content_type.pk] = dict(model.objects.values_list(key, "pk"))
            self.records[content_type.pk] = {pk: key for key, pk in self.keys[content_type.pk].items()}
        return content_type.pk

    def clean(self, value, row=None, **kwargs):
        key = cell_text(value).strip()
        try:
            content_type = self.kinds.clean(row.get("record_kind"))
        except ValueError:
            return None  # the record_kind cell reports it
        if not key or content_type is None:
            return None
        if content_type.model == "state":
            key = state_code(key)
        pk = self.keys[self.load(content_type)].get(key)
        if pk is None:
            raise ValueError(
                gettext("Unknown %(kind)s “%(key)s”")
                % {"kind": content_type.model_class()._meta.verbose_name, "key": key}
            )
        return pk

    def render(self, value, obj=None, **kwargs):
        """`value` is the citation (see RecordKeyField): its record's key, from the keys read per kind."""
        if value.content_type_id is None:  # a new citation, in the preview
            return ""
        content_type = ContentType.objects.get_for_id(value.content_type_id)
        return self.records[self.load(content_type)].get(value.object_id, "")


class RecordKeyField(fields.Field):
    """The citation's record id on import; on export and in the preview, the citation itself,
    which the widget renders as its record's key."""

    def get_value(self, instance):
        return instance


class CitationResource(CatalogResource):
    sheet = "citations"
    required_columns = ("record_kind", "record_key", "source", "quote")
    select_related = ("content_type", "source")

    record_kind = fields.Field(attribute="content_type", column_name="record_kind", widget=RecordKindWidget())
    record_key = RecordKeyField(attribute="object_id", column_name="record_key")
    source = fields.Field("source", "source", KeyWidget(Source, "key", _("source")))
    field = fields.Field("field", "field", TextWidget(normalize=str.strip))
    quote = fields.Field("quote", "quote", TextWidget(normalize=str.strip))

    class Meta(CatalogResource.Meta):
        model = Citation
        instance_loader_class = ModelInstanceLoader  # unused: get_instance() reads citations once
        import_id_fields = ("record_kind", "record_key", "source", "field", "quote")
        fields = (
            "record_kind", "record_key", "source", "field", "quote", "translation_en", "section", "note_zh",
            "note_en", DELETE_COLUMN,
        )  # fmt: skip

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields["record_key"].widget = RecordKeyWidget(self.fields["record_kind"].widget)
        self.existing = None

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
            kind, record, source, field, quote = (
                self.fields[name].clean(row) for name in self.get_import_id_fields()
            )
        except ValueError:
            return None  # the row's error is reported when its cells are read
        if self.existing is None:
            self.existing = {
                (c.content_type, c.object_id, c.source, c.field, c.quote): c for c in self.get_queryset()
            }
        return self.existing.get((kind, record, source, field, quote))


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
