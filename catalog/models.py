"""The catalog: states, their memberships, summits, exercises, crises and milestones,
each tied by citations to the sources that state it."""

import datetime
import re

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Left, Length, Now
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .dates import PartialDate, PartialDateField


def reading_english():
    """Whether the reader's language is English; the site's other language is Chinese."""
    return (translation.get_language() or "zh-hans").startswith("en")


LANGUAGE_TAGS = {"en": "en", "zh": "zh-Hans"}


def reader_language_text(instance, field):
    """(text, language tag): `field` in the active language with tag "", or, when only the other
    language has it, that text with its language tag, so a page can mark it as such."""
    first, second = ("en", "zh") if reading_english() else ("zh", "en")
    own = getattr(instance, f"{field}_{first}")
    if own:
        return own, ""
    other = getattr(instance, f"{field}_{second}")
    return (other, LANGUAGE_TAGS[second]) if other else ("", "")


def localized(instance, field):
    """`field` in the active language (`name` -> `name_en` or `name_zh`), else the other one."""
    return reader_language_text(instance, field)[0]


def end_not_before_start(start, end, name):
    """A constraint: `end` is empty, or not earlier than `start` at the coarser precision.

    Comparing `end` with `start` cut to `end`'s length makes `2012` a valid end for a
    period that starts `2012-06-28`, and `2012-05` an invalid one.
    """
    return models.CheckConstraint(
        condition=Q(**{end: ""}) | Q(**{f"{end}__gte": Left(start, Length(end))}),
        name=name,
        violation_error_message=_("The end date is before the start date."),
    )


def sort_indexes(model_name, *fields):
    """An index on each field the list sorts by, with the primary key that ends every ordering:
    a deep page is a walk along it (PostgreSQL otherwise sorts the whole table); its first column
    serves the filters on that field too. On PostgreSQL, the index of a column that may be NULL
    holds the NULLs first, as the lists sort them and as SQLite's indexes always do: migration 0018
    remakes them so, and a sort added on such a column needs the same."""
    return [models.Index(fields=[field, "id"], name=f"{model_name}_{field}_sort") for field in fields]


def valid_choice(field, choices, name, message):
    """A constraint: `field` holds one of `choices` (choices alone do not constrain the database)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=name, violation_error_message=message
    )


def record_kind_field(kinds):
    """The content type half of a link to a record of one of `kinds` (citations, photos)."""
    return models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        limit_choices_to={"app_label": "catalog", "model__in": kinds},
        verbose_name=_("record kind"),
    )


class KeyedQuerySet(models.QuerySet):
    def get_by_natural_key(self, key):
        return self.get(key=key)


class KeyedManager(models.Manager.from_queryset(KeyedQuerySet)):
    pass


class PublicQuerySet(KeyedQuerySet):
    """What the public pages read: `public()` owns the joins a list row needs,
    `with_citations()` adds the citations and their sources a detail page shows."""

    list_select = ()
    list_prefetch = ()

    def public(self):
        queryset = self.select_related(*self.list_select) if self.list_select else self.all()
        return queryset.prefetch_related(*self.list_prefetch).fetch_mode(settings.PUBLIC_FETCH_MODE)

    def with_citations(self):
        return self.prefetch_related(
            models.Prefetch("citations", queryset=Citation.objects.select_related("source"))
        )


class MembershipQuerySet(PublicQuerySet):
    list_select = ("state",)


class SummitQuerySet(PublicQuerySet):
    list_select = ("host",)
    list_prefetch = ("absentees",)


class SeriesQuerySet(PublicQuerySet):
    pass


class ExerciseQuerySet(PublicQuerySet):
    list_select = ("series",)
    list_prefetch = ("hosts",)  # a list row names the hosts; the participants are on the detail page


class CrisisQuerySet(PublicQuerySet):
    list_prefetch = ("states",)


class MilestoneQuerySet(PublicQuerySet):
    list_prefetch = ("states",)


class BilingualRecord(models.Model):
    """Fields every dated catalog record shares: a stable key, names and descriptions in
    both languages, a note for editors and readers, and its citations."""

    key = models.SlugField(
        _("key"),
        max_length=100,
        unique=True,
        help_text=_("Stable identifier used in URLs and spreadsheets, e.g. rubezh-2008."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    note_zh = models.TextField(
        _("note (Chinese)"),
        blank=True,
        help_text=_("Disagreements between sources, inferences we made, caveats."),
    )
    note_en = models.TextField(_("note (English)"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_default=Now(), db_index=True)
    citations = GenericRelation("catalog.Citation")

    objects = KeyedManager()

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.key,)

    @property
    def name(self):
        return localized(self, "name")

    @property
    def description(self):
        return localized(self, "description")

    @property
    def note(self):
        return localized(self, "note")


class SourceKind(models.TextChoices):
    NEWS = "news", _("news article")
    ENCYCLOPEDIA = "encyclopedia", _("encyclopedia entry")
    OFFICIAL = "official", _("official text")


class SourceLanguage(models.TextChoices):
    CHINESE_SIMPLIFIED = "zh-hans", _("Chinese (simplified)")
    CHINESE_TRADITIONAL = "zh-hant", _("Chinese (traditional)")
    ENGLISH = "en", _("English")
    RUSSIAN = "ru", _("Russian")


class Source(models.Model):
    key = models.SlugField(_("key"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind)
    title = models.CharField(_("title"), max_length=300)
    publisher = models.CharField(_("publisher or author"), max_length=200, blank=True)
    published = PartialDateField(_("published"), blank=True)
    language = models.CharField(_("language"), max_length=10, choices=SourceLanguage)
    url = models.URLField(_("URL"), blank=True, help_text=_("Only where really known."))
    document = models.CharField(
        _("document"),
        max_length=200,
        blank=True,
        help_text=_("File name of the stored copy."),
    )
    note_zh = models.TextField(_("note (Chinese)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_default=Now(), db_index=True)

    objects = KeyedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["published", "key"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            valid_choice("kind", SourceKind, "source_kind_valid", _("Unknown source kind.")),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:source_detail", kwargs={"key": self.key})

    @property
    def lang_tag(self):
        """The source's language as an HTML `lang` value (`zh-Hans`, `en`)."""
        language, _sep, script = self.language.partition("-")
        return f"{language}-{script.title()}" if script else language

    def natural_key(self):
        return (self.key,)

    @property
    def note(self):
        return localized(self, "note")


def newest_source_date():
    """The last day of the newest source's date of publication: what the catalog says holds "as of"
    that day, since no source tells of anything later. Today when no source is dated."""
    newest = (
        Source.objects.exclude(published="")
        .order_by("-published")
        .values_list("published", flat=True)
        .first()
    )
    if newest:
        try:
            return PartialDate.parse(newest).last_day()
        except ValueError:
            pass
    return datetime.date.today()


class StateQuerySet(PublicQuerySet):
    list_prefetch = ("memberships",)

    def get_by_natural_key(self, code):
        return self.get(code=code)


class State(models.Model):
    code = CountryField(_("ISO 3166 code"), unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    parliament_zh = models.CharField(_("ratifying parliament (Chinese)"), max_length=200, blank=True)
    parliament_en = models.CharField(_("ratifying parliament (English)"), max_length=200, blank=True)
    armed_forces_zh = models.CharField(_("armed forces (Chinese)"), max_length=200, blank=True)
    armed_forces_en = models.CharField(_("armed forces (English)"), max_length=200, blank=True)
    note_zh = models.TextField(_("note (Chinese)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    emblem = models.ImageField(
        _("emblem or flag"),
        upload_to="emblems/",
        blank=True,
        help_text=_("Shown instead of the standard flag of the ISO code."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_default=Now(), db_index=True)
    citations = GenericRelation("catalog.Citation")

    objects = StateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("state")
        verbose_name_plural = _("states")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:state_detail", kwargs={"code": self.code.code})

    def natural_key(self):
        return (self.code.code,)

    @property
    def name(self):
        return localized(self, "name")

    @property
    def description(self):
        return localized(self, "description")

    @property
    def note(self):
        return localized(self, "note")


class Role(models.TextChoices):
    FOUNDING_SIGNATORY = "founding_signatory", _("founding signatory")
    MEMBER = "member", _("member")
    OBSERVER = "observer", _("observer")
    CANDIDATE = "candidate", _("candidate")
    SUSPENDED = "suspended", _("suspended")


class Membership(models.Model):
    key = models.SlugField(_("key"), max_length=100, unique=True, help_text=_("e.g. uz-member-2006."))
    state = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("state"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role)
    start = PartialDateField(_("start"), blank=True, db_index=True)
    end = PartialDateField(_("end"), blank=True, help_text=_("Empty while the period lasts."))
    signed = PartialDateField(_("signed"), blank=True)
    ratified = PartialDateField(_("ratified"), blank=True)
    charter_ratified = PartialDateField(_("charter ratified"), blank=True)
    withdrawal_announced = PartialDateField(_("withdrawal announced"), blank=True)
    withdrawal_effective = PartialDateField(_("withdrawal effective"), blank=True)
    note_zh = models.TextField(_("note (Chinese)"), blank=True)
    note_en = models.TextField(_("note (English)"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_default=Now(), db_index=True)
    citations = GenericRelation("catalog.Citation")

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["state__name_en", "start", "key"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            valid_choice("role", Role, "membership_role_valid", _("Unknown membership role.")),
            end_not_before_start("start", "end", "membership_end_not_before_start"),
        ]

    def __str__(self):
        span = f"{self.start or '?'}–{self.end}" if self.end else f"{self.start or '?'}–"
        return f"{self.state} · {self.get_role_display()} · {span}"

    def get_absolute_url(self):
        return reverse("catalog:membership_detail", kwargs={"key": self.key})

    def natural_key(self):
        return (self.key,)

    @property
    def note(self):
        return localized(self, "note")

    def overlaps(self, other):
        """Whether two periods share a day, reading each partial date as widely as it allows."""
        if not self.start or not other.start:
            return False
        mine_start = PartialDate.parse(self.start).first_day()
        theirs_start = PartialDate.parse(other.start).first_day()
        mine_end = PartialDate.parse(self.end).last_day() if self.end else None
        theirs_end = PartialDate.parse(other.end).last_day() if other.end else None
        starts_before_their_end = theirs_end is None or mine_start <= theirs_end
        ends_after_their_start = mine_end is None or theirs_start <= mine_end
        return starts_before_their_end and ends_after_their_start

    def clean(self):
        super().clean()
        if not self.state_id or not self.role or not self.start:
            return
        try:
            PartialDate.parse(self.start)
            if self.end:
                PartialDate.parse(self.end)
        except ValueError:
            return  # the field validators report the bad date itself
        siblings = Membership.objects.filter(state_id=self.state_id, role=self.role).exclude(pk=self.pk)
        for other in siblings:
            if self.overlaps(other):
                raise ValidationError(
                    _("This period overlaps another %(role)s period of the same state (%(other)s).")
                    % {"role": self.get_role_display(), "other": other}
                )


class SummitKind(models.TextChoices):
    REGULAR = "regular", _("regular")
    EXTRAORDINARY = "extraordinary", _("extraordinary")
    INFORMAL = "informal", _("informal")
    UNSTATED = "unstated", _("kind not stated")


class Summit(BilingualRecord):
    kind = models.CharField(_("kind"), max_length=20, choices=SummitKind, default=SummitKind.REGULAR)
    date = PartialDateField(_("date"))
    end_date = PartialDateField(_("last day"), blank=True)
    city_zh = models.CharField(_("city (Chinese)"), max_length=100, blank=True)
    city_en = models.CharField(_("city (English)"), max_length=100, blank=True)
    host = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="summits_hosted",
        verbose_name=_("host state"),
    )
    participants = models.ManyToManyField(
        State,
        blank=True,
        related_name="summits_attended",
        verbose_name=_("participants"),
    )
    absentees = models.ManyToManyField(
        State,
        blank=True,
        related_name="summits_skipped",
        verbose_name=_("stayed away"),
        help_text=_("States that boycotted or stayed away."),
    )
    decisions_zh = models.TextField(_("decisions (Chinese)"), blank=True)
    decisions_en = models.TextField(_("decisions (English)"), blank=True)
    photos = GenericRelation("catalog.Photo")

    objects = SummitQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "key"]
        indexes = [
            *sort_indexes("summit", "name_en"),
            # The date sort's index, carrying the host too: a state's summits in date order (its
            # timeline) are found from here instead of reading each summit's row for its host.
            models.Index(fields=["date", "id", "host"], name="summit_date_sort"),
        ]
        verbose_name = _("summit")
        verbose_name_plural = _("summits")
        constraints = [
            valid_choice("kind", SummitKind, "summit_kind_valid", _("Unknown summit kind.")),
            end_not_before_start("date", "end_date", "summit_end_not_before_start"),
        ]

    def get_absolute_url(self):
        return reverse("catalog:summit_detail", kwargs={"key": self.key})

    @staticmethod
    def validate_attendance(participants, absentees, label=str):
        """No state both takes part in and stays away from a summit. The states come in as
        arguments because the admin form and an import know them before they are saved."""
        both = set(participants or ()) & set(absentees or ())
        if both:
            names = ", ".join(sorted(label(state) for state in both))
            raise ValidationError(
                _("A state cannot both take part in and stay away from a summit: %(names)s.")
                % {"names": names}
            )

    @property
    def city(self):
        return localized(self, "city")

    @property
    def decisions(self):
        return localized(self, "decisions")


class ExerciseSeries(BilingualRecord):
    """An exercise that recurs under one name, such as Kanal (通道) or Rubezh (防线)."""

    first_year = models.PositiveSmallIntegerField(_("first year"), null=True, blank=True)
    frequency_zh = models.CharField(_("frequency (Chinese)"), max_length=100, blank=True)
    frequency_en = models.CharField(_("frequency (English)"), max_length=100, blank=True)

    objects = SeriesQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name_en", "key"]
        verbose_name = _("exercise series")
        verbose_name_plural = _("exercise series")

    def get_absolute_url(self):
        return reverse("catalog:series_detail", kwargs={"key": self.key})


class Exercise(BilingualRecord):
    series = models.ForeignKey(
        ExerciseSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exercises",
        verbose_name=_("series"),
    )
    date = PartialDateField(_("date"))
    end_date = PartialDateField(_("last day"), blank=True)
    hosts = models.ManyToManyField(
        State,
        blank=True,
        related_name="exercises_hosted",
        verbose_name=_("host states"),
    )
    participants = models.ManyToManyField(
        State,
        blank=True,
        related_name="exercises_joined",
        verbose_name=_("participating states"),
    )
    # Hosts and participants together, as the database keeps them (ExerciseInvolvement): read
    # by the "host or participant" filter and its counts; written only through the two above.
    states_involved = models.ManyToManyField(
        State,
        through="ExerciseInvolvement",
        related_name="+",
        editable=False,
        verbose_name=_("host or participating states"),
    )
    troops = models.PositiveIntegerField(_("troops"), null=True, blank=True)
    aircraft = models.PositiveIntegerField(_("aircraft"), null=True, blank=True)
    purpose_zh = models.TextField(_("trained for (Chinese)"), blank=True)
    purpose_en = models.TextField(_("trained for (English)"), blank=True)
    photos = GenericRelation("catalog.Photo")

    objects = ExerciseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "key"]
        indexes = [
            *sort_indexes("exercise", "troops", "name_en"),
            # The date sort's index, carrying the series too: a range of years counts its results'
            # series from here instead of reading each row.
            models.Index(fields=["date", "id", "series"], name="exercise_date_sort"),
            # A range of years sorted by troops or by name reads both from here, not from each row.
            models.Index(fields=["date", "troops", "name_en", "id"], name="exercise_years_by_sorts"),
        ]
        verbose_name = _("exercise")
        verbose_name_plural = _("exercises")
        constraints = [
            end_not_before_start("date", "end_date", "exercise_end_not_before_start"),
        ]

    def get_absolute_url(self):
        return reverse("catalog:exercise_detail", kwargs={"key": self.key})

    @property
    def purpose(self):
        return localized(self, "purpose")


class ExerciseInvolvement(models.Model):
    """A state that hosted or took part in an exercise: one row per (state, exercise), whichever
    of the two link tables names it, or both. Written by the database only (catalog/involvement.py):
    triggers on `Exercise.hosts`, `Exercise.participants` and the exercise's date keep it in step in
    the writing transaction, so the "host or participant" filter and its counts read one index
    instead of joining both link tables and leaving out the hosts that also took part."""

    pk = models.CompositePrimaryKey("state", "exercise")
    # No index of its own: the primary key starts with it (on PostgreSQL, a second index on the
    # state alone was read instead, row by row, where the key's index alone answers).
    state = models.ForeignKey(State, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index of its own either: `involvement_by_exercise` starts with it.
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The exercise's date, copied by the database whoever writes either table, so that a state's
    # exercises are read in date order, or within some years, from one index: the timeline of a
    # state would otherwise look up each of the state's exercises to learn its date.
    date = models.CharField(_("date"), max_length=10, db_default="", editable=False)

    class Meta:
        # The primary key serves "the exercises of a state"; these, "the states of these exercises"
        # and "a state's exercises by date".
        indexes = [
            models.Index(fields=["exercise", "state"], name="involvement_by_exercise"),
            models.Index(fields=["state", "date", "exercise"], name="involvement_by_state_date"),
        ]
        verbose_name = _("state in an exercise")
        default_permissions = ()  # written by the database only: nobody is given rights to it

    def __str__(self):
        return f"{self.state_id} in {self.exercise_id}"


class Response(models.TextChoices):
    DEPLOYED = "deployed", _("forces deployed")
    COLLECTIVE_MEASURES = "collective_measures", _("collective measures, no deployment named")
    DECLINED = "declined", _("request declined")
    STATEMENT = "statement", _("statement only")
    OFFERED = "offered", _("offered help")
    NO_RESPONSE = "no_response", _("no response")
    NOT_ASKED = "not_asked", _("not asked")


class Crisis(BilingualRecord):
    start = PartialDateField(_("start"))
    end = PartialDateField(_("end"), blank=True)
    states = models.ManyToManyField(
        State, blank=True, related_name="crises", verbose_name=_("states involved")
    )
    requested_by = models.ManyToManyField(
        State,
        blank=True,
        related_name="crises_requested",
        verbose_name=_("help requested by"),
        help_text=_("States whose governments asked the organization for help."),
    )
    requesters_zh = models.CharField(
        _("who asked (Chinese)"),
        max_length=300,
        blank=True,
        help_text=_("The people or bodies that asked, where the documents name them."),
    )
    requesters_en = models.CharField(_("who asked (English)"), max_length=300, blank=True)
    response = models.CharField(_("response"), max_length=20, choices=Response)
    troops_deployed = models.PositiveIntegerField(_("troops deployed"), null=True, blank=True)
    outcome_zh = models.TextField(_("what happened (Chinese)"), blank=True)
    outcome_en = models.TextField(_("what happened (English)"), blank=True)
    photos = GenericRelation("catalog.Photo")

    objects = CrisisQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "key"]
        indexes = sort_indexes("crisis", "start", "troops_deployed", "name_en")
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")
        constraints = [
            valid_choice("response", Response, "crisis_response_valid", _("Unknown response.")),
            end_not_before_start("start", "end", "crisis_end_not_before_start"),
            models.CheckConstraint(
                condition=Q(troops_deployed__isnull=True) | Q(response="deployed"),
                name="crisis_troops_only_when_deployed",
                violation_error_message=_("Troops deployed needs the response 'forces deployed'."),
            ),
        ]

    def get_absolute_url(self):
        return reverse("catalog:crisis_detail", kwargs={"key": self.key})

    @property
    def requesters(self):
        return localized(self, "requesters")

    @property
    def outcome(self):
        return localized(self, "outcome")


class MilestoneKind(models.TextChoices):
    TREATY = "treaty", _("treaty")
    CHARTER = "charter", _("charter and organization")
    UNITED_NATIONS = "united_nations", _("United Nations")
    CHAIRMANSHIP = "chairmanship", _("chairmanship")
    SECRETARY_GENERAL = "secretary_general", _("secretary-general")
    COLLECTIVE_FORCES = "collective_forces", _("collective forces")
    AGREEMENT = "agreement", _("agreement")
    STATEMENT = "statement", _("statement, proposal or offer")
    INSTITUTION = "institution", _("institution")
    OTHER = "other", _("other")


class Milestone(BilingualRecord):
    """A dated event in the organization's own history that is none of the other kinds."""

    kind = models.CharField(_("kind"), max_length=20, choices=MilestoneKind)
    date = PartialDateField(_("date"))
    end_date = PartialDateField(_("last day"), blank=True)
    states = models.ManyToManyField(
        State, blank=True, related_name="milestones", verbose_name=_("states involved")
    )

    objects = MilestoneQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "key"]
        indexes = sort_indexes("milestone", "date")
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            valid_choice("kind", MilestoneKind, "milestone_kind_valid", _("Unknown milestone kind.")),
            end_not_before_start("date", "end_date", "milestone_end_not_before_start"),
        ]

    def get_absolute_url(self):
        return reverse("catalog:milestone_detail", kwargs={"key": self.key})


class FactTopic(models.TextChoices):
    """The headings of the organization page, in the order it shows them."""

    NATURE = "nature", _("what it is")
    AIMS = "aims", _("aims")
    CHARTER = "charter", _("treaty and charter provisions")
    BODIES = "bodies", _("bodies, seat and secretariat")
    COOPERATION = "cooperation", _("military cooperation")
    POSITIONS = "positions", _("positions on international questions")
    RELATIONS = "relations", _("relations with other organizations")
    ASSESSMENTS = "assessments", _("how it is judged")


class OrganizationFactQuerySet(PublicQuerySet):
    pass


class OrganizationFact(BilingualRecord):
    """A fact about the organization itself (its aims, charter, bodies, positions, relations),
    as opposed to a dated event of its history, which is a milestone."""

    topic = models.CharField(_("topic"), max_length=20, choices=FactTopic)
    date = PartialDateField(
        _("date"), blank=True, help_text=_("Only where the sources date the fact; most facts are not dated.")
    )

    objects = OrganizationFactQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["topic", "date", "key"]
        verbose_name = _("fact about the organization")
        verbose_name_plural = _("facts about the organization")
        constraints = [
            valid_choice("topic", FactTopic, "organizationfact_topic_valid", _("Unknown topic.")),
        ]

    def get_absolute_url(self):
        return reverse("catalog:organization") + f"#{self.key}"


# The kinds a citation may point at, by model name; spreadsheets name them this way too.
CITABLE_MODELS = (
    "state",
    "membership",
    "summit",
    "exerciseseries",
    "exercise",
    "crisis",
    "milestone",
    "organizationfact",
)


# Fields a citation never supports: identifiers and pictures, not facts.
UNCITED_FIELDS = ("key", "emblem")


def citable_fields(model):
    """(name, label) of the fields of `model` a citation may support, labels in the active language."""
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return [
        (field.name, capfirst(field.verbose_name))
        for field in fields
        if field.editable and not field.primary_key and field.name not in UNCITED_FIELDS
    ]


def citable_field_label(model, name):
    """The label of the field `name` of `model` in the active language; the name itself if unknown."""
    return dict(citable_fields(model)).get(name, name)


# The stored encyclopedia copies carry wiki link syntax, `[text](../Page/x.md "wikilink")`, and a verbatim
# quote may start or end inside a link: a reader sees only the text.
WIKI_LINK_TARGET_RE = re.compile(r'\]\([^)\s]*(?:\s+"[^"]*")?\)')


def related_count(rows, field):
    """The number of `rows` (a queryset of another model) whose `field` names the row: counted for
    each row in that field's index, so only for the rows read. A join grouped on the rows reads
    every related row instead (on PostgreSQL, every citation in the table, to count those of a
    page of 50 sources; in the admin, 1.5 s for a page of 100,000 exercises)."""
    related = rows.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(related.annotate(n=Count("*")).values("n")), 0)


class CitationQuerySet(models.QuerySet):
    def for_record(self, record):
        return self.filter(
            content_type=ContentType.objects.get_for_model(record), object_id=record.pk
        ).select_related("source")

    def with_records(self):
        """Each citation's record, read in one query per kind of record, whatever the kind."""
        return self.prefetch_related(
            GenericPrefetch(
                "record",
                [
                    apps.get_model("catalog", name).objects.select_related("state")
                    if name == "membership"
                    else apps.get_model("catalog", name).objects.all()
                    for name in CITABLE_MODELS
                ],
            )
        )


class Citation(models.Model):
    """One source's support for one record, with the passage quoted exactly."""

    content_type = record_kind_field(CITABLE_MODELS)
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="citations",
        verbose_name=_("source"),
    )
    quote = models.TextField(
        _("quoted passage"),
        help_text=_("The exact words of the source, copied verbatim."),
    )
    field = models.CharField(
        _("supports field"),
        max_length=50,
        blank=True,
        help_text=_("The field this passage supports (troops, start, ...); empty for the record as a whole."),
    )
    section = models.CharField(
        _("section"),
        max_length=200,
        blank=True,
        help_text=_("Section heading in the source."),
    )
    translation_en = models.TextField(
        _("English translation"),
        blank=True,
        help_text=_(
            "Our English rendering of the quoted passage, shown to English readers as a translation."
        ),
    )
    note_zh = models.TextField(
        _("note (Chinese)"),
        blank=True,
        help_text=_("E.g. where this source disagrees with another."),
    )
    note_en = models.TextField(_("note (English)"), blank=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_default=Now(), db_index=True)

    objects = CitationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["content_type", "object_id", "source__published", "pk"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        indexes = [models.Index(fields=["content_type", "object_id"], name="citation_record_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(quote=""),
                name="citation_quote_not_empty",
                violation_error_message=_("A citation needs the quoted passage."),
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "source", "quote", "field"],
                name="citation_unique_per_record",
                violation_error_message=_("This record already cites this passage for this field."),
            ),
        ]

    def __str__(self):
        excerpt = self.quote if len(self.quote) <= 40 else self.quote[:39] + "…"
        return f"{self.source} — “{excerpt}”"

    @property
    def note(self):
        return localized(self, "note")

    @property
    def readable_quote(self):
        """The quote as a reader sees it: wiki link markup, kept verbatim in `quote`, reduced to its text."""
        return WIKI_LINK_TARGET_RE.sub("", self.quote).replace("[", "")

    def clean(self):
        super().clean()
        self.quote = (self.quote or "").strip()
        if not self.quote:
            raise ValidationError({"quote": _("A citation needs the quoted passage.")})


# The kinds a photo may show, by model name.
PHOTOGRAPHED_MODELS = ("summit", "exercise", "crisis")


class Photo(models.Model):
    """A photo of a summit, an exercise or a crisis, re-encoded on upload (catalog/images.py).

    Like a citation it points at its record through a generic relation: one table and one
    admin inline for all three kinds, and a record's photos go when the record goes.
    """

    content_type = record_kind_field(PHOTOGRAPHED_MODELS)
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    image = models.ImageField(_("image"), upload_to="photos/")
    display = models.ImageField(_("display size"), upload_to="photos/", editable=False)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="photos/", editable=False)
    alt_zh = models.CharField(
        _("alt text (Chinese)"), max_length=300, help_text=_("What the photo shows, for screen readers.")
    )
    alt_en = models.CharField(_("alt text (English)"), max_length=300)
    caption_zh = models.CharField(_("caption (Chinese)"), max_length=300, blank=True)
    caption_en = models.CharField(_("caption (English)"), max_length=300, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True, help_text=_("Photographer, agency."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_index=True)
    # A replaced image's files stay in storage, so every version here still shows its image.
    history = HistoricalRecords()

    class Meta:
        ordering = ["content_type", "object_id", "position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        indexes = [models.Index(fields=["content_type", "object_id"], name="photo_record_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(alt_zh="") & ~Q(alt_en=""),
                name="photo_alt_text_both_languages",
                violation_error_message=_("A photo needs alt text in Chinese and in English."),
            ),
        ]

    def __str__(self):
        return self.alt

    @property
    def alt(self):
        return localized(self, "alt")

    @property
    def caption(self):
        return localized(self, "caption")


class CatalogVersion(models.Model):
    """One row the database raises on every write to the catalog (catalog/versioning.py).

    Database triggers on every catalog, link and history table add one to `number` in the
    writing transaction, so a change made by any means (the admin, an import, `update()`, raw
    SQL, `loaddata`) is seen at its commit. `epoch` is drawn anew whenever the row is made, so
    a database made again from scratch never repeats the versions of the one before."""

    number = models.BigIntegerField(default=0)
    epoch = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("catalog version")
        default_permissions = ()  # written by the database only: nobody is given rights to it
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="catalog_version_single_row")]

    def __str__(self):
        return f"{self.epoch}-{self.number}"
