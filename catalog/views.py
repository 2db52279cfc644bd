"""Public pages: home, one filtered list and one detail page per kind, the timeline, errors.

Every view starts from the model's `public()` queryset, so each page costs a fixed number of
queries whatever the number of records."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote

from django import forms
from django.conf import settings
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Case, Count, F, Prefetch, Q, When
from django.db.models.lookups import In
from django.http import Http404, HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView, TemplateView
from django_countries.fields import Country
from django_filters import MultipleChoiceFilter

from . import downloads, filters, search
from .checks import quote_agrees
from .dates import PartialDateField, format_partial_date, within_years
from .map import periods_by_state, role_on
from .models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseInvolvement,
    ExerciseSeries,
    FactTopic,
    Membership,
    Milestone,
    OrganizationFact,
    Role,
    Source,
    State,
    Summit,
    citable_field_label,
    newest_source_date,
    related_count,
)
from .templatetags.catalog_tags import list_separator, reader_text_html

# Labels of the bilingual fields shown once, in the active language.
LOCALIZED_LABELS = {
    "description": _("description"),
    "decisions": _("decisions"),
    "purpose": _("trained for"),
    "outcome": _("what happened"),
    "city": _("city"),
    "requesters": _("who asked"),
    "frequency": _("frequency"),
    "parliament": _("ratifying parliament"),
    "armed_forces": _("armed forces"),
    "note": _("note"),
}
MEMBER_ROLES = (Role.MEMBER, Role.FOUNDING_SIGNATORY)


def language():
    return translation.get_language() or "zh-hans"


# --- References -----------------------------------------------------------------------------


def base_field(name):
    """`description_en` and `description_zh` are both `description` for citation markers."""
    for suffix in ("_zh", "_en"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def sources_differ(record, field, group):
    """Whether the citations in `group` give different values for `field` of `record`.

    A date or a number is compared with what each quote states (catalog/checks.py reads them):
    the sources differ when one of them states another value than the record's. Other fields
    cannot be read from a quote; there the curator's note on a citation says they differ."""
    if len({citation.source_id for citation in group}) < 2:
        return False
    try:
        model_field = type(record)._meta.get_field(field)
    except FieldDoesNotExist:
        model_field = None
    value = getattr(record, field, None) if model_field is not None else None
    if isinstance(model_field, PartialDateField) and value:
        return any(quote_agrees(citation.quote, value) is False for citation in group)
    if isinstance(model_field, models.IntegerField) and value is not None:
        return any(quote_agrees(citation.quote, int(value)) is False for citation in group)
    return any(citation.note for citation in group)


@dataclass
class References:
    citations: list  # numbered in reading order
    by_field: dict  # field -> [citation]
    disputes: list  # [(field label, [citation])]: sources that disagree on one field

    @classmethod
    def of(cls, record, labels):
        citations = list(record.citations.all())
        by_field = defaultdict(list)
        raw_fields = {}
        for number, citation in enumerate(citations, start=1):
            citation.number = number
            base = base_field(citation.field)
            citation.field_label = labels.get(base) or citable_field_label(type(record), citation.field)
            by_field[base].append(citation)
            raw_fields.setdefault(base, citation.field)
        disputes = [
            (group[0].field_label, group)
            for field, group in by_field.items()
            if field and sources_differ(record, raw_fields[field], group)
        ]
        return cls(citations, dict(by_field), disputes)


# --- Field rows on detail pages ---------------------------------------------------------------


def link(record):
    return format_html('<a href="{}">{}</a>', record.get_absolute_url(), record)


def render_value(record, name):
    """The field's value as safe HTML, or "" when empty."""
    if name in LOCALIZED_LABELS:
        if hasattr(record, f"{name}_en"):
            return reader_text_html(record, name, paragraphs=True)
        value = getattr(record, name)
        return mark_safe(linebreaks(value, autoescape=True)) if value else ""
    field = record._meta.get_field(name)
    if field.many_to_many:
        related = list(getattr(record, name).all())
        return (
            format_html_join(list_separator(), "{}", ((link(item),) for item in related)) if related else ""
        )
    value = getattr(record, name)
    if value in (None, ""):
        return ""
    if isinstance(value, Country):
        return value.code
    if isinstance(field, PartialDateField):
        return format_partial_date(value, language())
    if field.is_relation:
        return link(value)
    if field.choices:
        return getattr(record, f"get_{name}_display")()
    if isinstance(field, models.URLField):
        return format_html('<a href="{}" rel="noopener">{}</a>', value, unquote(value))
    if isinstance(field, models.PositiveIntegerField):
        return f"{value:,}"
    return str(value)


def field_label(model, name):
    if name in LOCALIZED_LABELS:
        return LOCALIZED_LABELS[name]
    return model._meta.get_field(name).verbose_name


def field_rows(record, names, references):
    rows = []
    for name in names:
        value = render_value(record, name)
        cited = references.by_field.get(name, []) if references else []
        if value or cited:
            rows.append(
                {"name": name, "label": field_label(type(record), name), "value": value, "refs": cited}
            )
    return rows


# --- Lists ------------------------------------------------------------------------------------


class IdFirstPaginator(Paginator):
    """Reads a page's ids first, then only those rows with their joins and prefetches.

    The ids of a deep page come from a walk along the index of the sort; skipping 100,000 rows
    of the full query would also join every skipped row. The rows are read from `rows` (the
    list's queryset before its filters, with its joins and prefetches): the ids already passed
    the filters, and a filter on linked states would otherwise be worked out again. With `ids`,
    the ids of every result in order, a page is a slice of them."""

    ids = None

    def __init__(self, object_list, per_page, rows, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self.ids is not None:
            ids = self.ids[bottom:top]
        else:
            ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.rows.order_by().filter(pk__in=ids)}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)


class CatalogListView(ListView):
    """A filtered, sorted, paginated list; the filters live in the query string."""

    filterset_class = None
    paginate_by = 50
    columns = ()  # (sort name or None, label)
    description = ""
    extra_query_parameters = ()  # read by the page beside its filters (the map's `year`)

    def __init_subclass__(cls, **kwargs):
        """The query parameters the page cache keys on (catalog/caching.py): the filters and the page."""
        super().__init_subclass__(**kwargs)
        if cls.filterset_class is not None:
            declared = cls.filterset_class.base_filters
            cls.query_parameters = (*declared, "page", *cls.extra_query_parameters)
            cls.query_lists = tuple(
                name for name, filter_ in declared.items() if isinstance(filter_, MultipleChoiceFilter)
            )
            cls.query_defaults = {"page": "1"}

    def get_template_names(self):
        return [f"catalog/{self.model._meta.model_name}_list.html"]

    def shown_rows(self):
        """The rows of a page as shown, read by id once the page's ids are known: their related
        records and any counts beside them are read for those rows alone, not for every result
        the filter and sort go through."""
        return self.model.objects.public()

    def get(self, request, *args, **kwargs):
        if "format" in request.GET:
            return self.download(request.GET["format"])
        return super().get(request, *args, **kwargs)

    def download(self, format):
        """The current results, filters and sort applied, as a spreadsheet (every page at once)."""
        if format not in downloads.FORMATS:
            return HttpResponseBadRequest(
                gettext("Unknown download format “%(format)s”: use csv, xlsx or json.") % {"format": format},
                content_type="text/plain; charset=utf-8",
            )
        filterset = self.filterset_class(self.request.GET, queryset=self.model.objects.all())
        if not filterset.is_valid():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            return HttpResponseBadRequest(
                gettext("These filters could not be applied: %(problems)s") % {"problems": problems},
                content_type="text/plain; charset=utf-8",
            )
        with translation.override("en"):
            name = slugify(str(self.model._meta.verbose_name_plural))
        filename = f"{name}-{datetime.date.today():%Y-%m-%d}"
        return downloads.download(filterset.qs, self.model, format, filename)

    def get_queryset(self):
        self.filterset = self.filterset_class(
            self.request.GET, queryset=self.model.objects.all(), request=self.request
        )
        if not self.filterset.is_valid():
            # Never show unfiltered results for a filter we could not apply.
            return self.model.objects.none()
        return self.filterset.qs

    def paginate_queryset(self, queryset, page_size):
        paginator = IdFirstPaginator(queryset, page_size, rows=self.shown_rows())
        if self.filterset.is_valid():
            paginator.count = self.filterset.total()  # counted with the facets, in the same query
            paginator.ids = self.filterset.counted_ids  # read to count them, when the facets took too long
            # Past the first page (the normalised query drops page=1).
            if paginator.ids is None and self.request.GET.get("page"):
                paginator.ids = self.filterset.ordered_ids()
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        count = context["paginator"].count
        valid = self.filterset.is_valid()
        if not valid:
            heading = _("Some filters could not be applied")
        elif self.filterset.results_too_slow:
            heading = _("These filters took too long to apply")
        else:
            heading = self.filterset.heading(count)
        context.update(
            filter=self.filterset,
            heading=heading,
            # Read only when the filter panel is rendered, not when it comes from the cache.
            facets=SimpleLazyObject(self.filterset.facets)
            if valid and not self.filterset.facets_too_slow
            else [],
            facets_too_slow=self.filterset.facets_too_slow,
            results_too_slow=self.filterset.results_too_slow,
            result_count=count,
            more_results=valid and self.filterset.more_results,
            columns=self.columns,
            current_sort=self.request.GET.get("sort", ""),
            verbose_name_plural=self.model._meta.verbose_name_plural,
            page_description=self.description,
            chips=self.chips() if valid else [],
        )
        # The filter panel (the form and the facet counts) is the same on every page of a filter
        # and sort, so it is kept as HTML beside the counts; the path names the language.
        key = self.filterset.results_key("filter-panel", self.request.path, self.request.GET.getlist("sort"))
        context.update(filter_panel_key=key, filter_panel_seconds=self.filterset.counts_seconds if key else 0)
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["facets_too_slow"]:  # kept only until the counts are tried again (catalog/caching.py)
            response.cache_seconds = self.filterset.counts_seconds
        return response

    def chips(self):
        """The active filters, one chip per value: its label, and the query change that drops it
        (the others stay; the page goes back to the first)."""
        form = self.filterset.form
        chips = []
        for name, field in form.fields.items():
            values = [value for value in self.request.GET.getlist(name) if value]
            if name == "sort" or not values:
                continue
            if isinstance(self.filterset.filters[name], filters.StateCodeFilter):
                # The states asked for, as the form read them to validate the codes.
                names = {state.code.code: state.name for state in form.cleaned_data.get(name) or ()}
            else:
                names = dict(getattr(field, "choices", ()))
            for value in values:
                remaining = [other for other in values if other != value]
                chips.append(
                    {
                        "label": field.label,
                        "value": names.get(value, value),
                        "change": {name: remaining or None, "page": None},
                    }
                )
        return chips


class StateListView(CatalogListView):
    model = State
    filterset_class = filters.StateFilter
    columns = (("name", _("name")), ("code", _("code")), (None, _("current role")), (None, _("since")))
    description = _("Every state that has been a member, observer or candidate of the organization.")
    extra_query_parameters = ("year",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["as_of"] = newest_source_date()
        context["map_memberships"] = Membership.objects.public()
        return context


class MembershipListView(CatalogListView):
    model = Membership
    filterset_class = filters.MembershipFilter
    columns = (("state", _("state")), ("role", _("role")), ("start", _("start")), ("end", _("end")))
    description = _("Every period a state spent as a signatory, member or observer, with its dates.")


class SummitListView(CatalogListView):
    model = Summit
    filterset_class = filters.SummitFilter
    columns = (
        ("date", _("date")),
        ("name", _("name")),
        ("kind", _("kind")),
        ("host", _("host")),
        (None, _("stayed away")),
    )
    description = _("Sessions of the Collective Security Council, with host city and absentees.")


class ExerciseListView(CatalogListView):
    model = Exercise
    filterset_class = filters.ExerciseFilter
    columns = (
        ("date", _("date")),
        ("name", _("name")),
        ("series", _("series")),
        (None, _("host states")),
        ("troops", _("troops")),
    )
    description = _("Joint military exercises: dates, hosts, participants and troop numbers.")


class CrisisListView(CatalogListView):
    model = Crisis
    filterset_class = filters.CrisisFilter
    columns = (
        ("start", _("start")),
        ("name", _("name")),
        (None, _("states involved")),
        ("response", _("response")),
        ("troops", _("troops")),
    )
    description = _("Crises in member states and how the organization responded.")


class MilestoneListView(CatalogListView):
    model = Milestone
    filterset_class = filters.MilestoneFilter
    columns = (("date", _("date")), ("name", _("name")), ("kind", _("kind")), (None, _("states involved")))
    description = _("The organization's own history: treaty, charter, forces, chairmanships and agreements.")


class SeriesListView(CatalogListView):
    model = ExerciseSeries
    filterset_class = filters.SeriesFilter
    columns = (
        ("name", _("name")),
        ("first_year", _("first year")),
        (None, _("frequency")),
        (None, _("exercises")),
    )
    description = _("Exercises that recur under one name, such as Kanal or Rubezh.")

    def shown_rows(self):
        return ExerciseSeries.objects.annotate(exercise_count=related_count(Exercise.objects.all(), "series"))


class SourceListView(CatalogListView):
    model = Source
    filterset_class = filters.SourceFilter
    columns = (
        ("title", _("title")),
        ("publisher", _("publisher")),
        ("kind", _("kind")),
        ("published", _("published")),
        (None, _("citations")),
    )
    description = _("The documents every fact on this site is quoted from.")

    def shown_rows(self):
        return Source.objects.annotate(citation_count=related_count(Citation.objects.all(), "source"))


# --- Details ----------------------------------------------------------------------------------

# Not part of a record's public JSON: internal flags, pictures, and our stored copy's file name.
JSON_SKIPPED_FIELDS = ("emblem", "document")


def record_fields(record):
    """The record's own fields, relations by natural key (states by ISO code), as JSON values."""
    names = [
        field.name
        for field in (*record._meta.concrete_fields, *record._meta.many_to_many)
        if not field.primary_key and field.name not in JSON_SKIPPED_FIELDS
    ]
    (serialized,) = serializers.serialize("python", [record], fields=names, use_natural_foreign_keys=True)
    return serialized["fields"]


def citation_json(citation, **extra):
    return {
        **extra,
        "field": citation.field,
        "section": citation.section,
        "quote": citation.readable_quote,
        "translation_en": citation.translation_en,
        "note_zh": citation.note_zh,
        "note_en": citation.note_en,
    }


class JsonDetailMixin:
    """`?format=json`: the record and its citations as JSON, beside the HTML page."""

    def get(self, request, *args, **kwargs):
        format = request.GET.get("format")
        if format is None:
            return super().get(request, *args, **kwargs)
        if format != "json":
            return HttpResponseBadRequest(
                gettext("Unknown format “%(format)s”: a record is offered as json.") % {"format": format},
                content_type="text/plain; charset=utf-8",
            )
        self.object = self.get_object()
        record = self.object
        data = {
            "record_kind": record._meta.model_name,
            "page": request.build_absolute_uri(record.get_absolute_url()),
            **record_fields(record),
            "citations": self.json_citations(record),
        }
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def json_citations(self, record):
        return [
            citation_json(
                citation,
                source=citation.source.key,
                source_url=self.request.build_absolute_uri(citation.source.get_absolute_url()),
            )
            for citation in record.citations.all()
        ]


class CatalogDetailView(JsonDetailMixin, DetailView):
    """A record with every field, its related records and its numbered references."""

    slug_field = "key"
    slug_url_kwarg = "key"
    fields = ()
    detail_prefetch = ()

    def get_template_names(self):
        return [f"catalog/{self.model._meta.model_name}_detail.html", "catalog/record_detail.html"]

    def get_queryset(self):
        queryset = self.model.objects.public().with_citations().prefetch_related(*self.detail_prefetch)
        if self.has_photos():
            queryset = queryset.prefetch_related("photos")
        return queryset

    def has_photos(self):
        return hasattr(self.model, "photos")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["photos"] = list(self.object.photos.all()) if self.has_photos() else []
        labels = {name: field_label(self.model, name) for name in self.fields}
        references = References.of(self.object, labels)
        context.update(
            references=references,
            rows=field_rows(self.object, self.fields, references),
            whole_record_refs=references.by_field.get("", []),
            verbose_name=self.model._meta.verbose_name,
            list_url_name=f"catalog:{self.model._meta.model_name}_list",
        )
        return context


def count_all(querysets):
    """The number of rows of each queryset (of ids: `values("pk")`, a union of them), in one query."""
    selects, params = [], []
    for queryset in querysets:
        sql, query_params = queryset.order_by().query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) counted_{len(selects)})")
        params += query_params
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        return list(cursor.fetchone())


def filtered_list_url(route, query):
    return f"{reverse(route)}?{urlencode(query, doseq=True)}"


@dataclass
class RelatedSection:
    """A kind of record linked to a state on its page: how many, the latest few, and the list
    filtered to exactly those records where the lists have that filter."""

    title: str
    count: int
    latest: list
    list_url: str = ""


class StateDetailView(CatalogDetailView):
    """A state with its counts and the latest few records of each kind: the page costs the same
    whatever the state took part in, and each full list is one link away."""

    model = State
    fields = ("code", "description", "parliament", "armed_forces", "note")
    latest_shown = 5
    memberships_shown = 50
    read_by_id = 1000

    def get_object(self, queryset=None):
        code = self.kwargs["code"].upper()
        try:
            return self.get_queryset().get(code=code)
        except State.DoesNotExist:
            raise Http404(_("No state with the code %(code)s.") % {"code": code}) from None

    def sections(self):
        """(title, model, ids, date field, list route, list query) of every kind linked to the
        state. The ids are read from the link tables' (state, record) indexes, and each set is the
        one the linked list's filter selects."""
        state, code = self.object, self.object.code.code

        def linked(*relations, hosted_by=None):
            ids = [filters.linked_ids([state], relation) for relation in relations]
            if hosted_by is not None:
                ids.append(hosted_by.objects.filter(host=state).order_by().values("pk"))
            return ids[0].union(*ids[1:]) if len(ids) > 1 else ids[0]

        return (
            (
                _("Summits hosted or attended"),
                Summit,
                linked(Summit.participants, hosted_by=Summit),
                "date",
                "catalog:summit_list",
                {"state": code},
            ),
            (_("Summits it stayed away from"), Summit, linked(Summit.absentees), "date", None, None),
            (
                _("Exercises hosted"),
                Exercise,
                linked(Exercise.hosts),
                "date",
                "catalog:exercise_list",
                {"host": code},
            ),
            (
                _("Exercises hosted or joined"),
                Exercise,
                linked(Exercise.states_involved),
                "date",
                "catalog:exercise_list",
                {"state": code},
            ),
            (
                _("Crises it was part of"),
                Crisis,
                linked(Crisis.states),
                "start",
                "catalog:crisis_list",
                {"state": code},
            ),
            (
                _("Crises in which it asked for help"),
                Crisis,
                linked(Crisis.requested_by),
                "start",
                None,
                None,
            ),
            (_("Milestones"), Milestone, linked(Milestone.states), "date", None, None),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sections = []
        definitions = self.sections()
        memberships = self.object.memberships.order_by("-start", "-pk")
        membership_count, *counts = count_all(
            [memberships.values("pk")] + [ids for _t, _m, ids, *_r in definitions]
        )
        for (title, model, ids, date_field, route, query), count in zip(definitions, counts, strict=True):
            # A few linked records are read by id and sorted; many are found by walking the date
            # index from the latest, comparing ids without an index (filters.py), which stops
            # after a few matches instead of reading them all to sort them.
            linked = Q(pk__in=ids) if count <= self.read_by_id else Q(In(filters.unindexed("pk"), ids))
            records = model.objects.filter(linked).order_by(f"-{date_field}", "-pk")
            latest = list(records[: self.latest_shown]) if count else []
            list_url = filtered_list_url(route, query) if route and count else ""
            sections.append(RelatedSection(title, count, latest, list_url))
        shown = list(memberships[: self.memberships_shown])[::-1]  # the latest, in date order
        for membership in shown:
            membership.state = self.object  # the chart and rows name the state without a query
        context.update(
            sections=sections,
            memberships=shown,
            membership_count=membership_count,
            memberships_url=filtered_list_url("catalog:membership_list", {"state": self.object.code.code}),
        )
        return context


class MembershipDetailView(CatalogDetailView):
    model = Membership
    fields = (
        "state",
        "role",
        "start",
        "end",
        "signed",
        "ratified",
        "charter_ratified",
        "withdrawal_announced",
        "withdrawal_effective",
        "note",
    )
    detail_prefetch = (Prefetch("state__memberships", queryset=Membership.objects.order_by("start", "pk")),)


class SummitDetailView(CatalogDetailView):
    model = Summit
    fields = (
        "kind",
        "date",
        "end_date",
        "city",
        "host",
        "participants",
        "absentees",
        "description",
        "decisions",
        "note",
    )
    detail_prefetch = ("participants",)


class ExerciseDetailView(CatalogDetailView):
    model = Exercise
    fields = (
        "series",
        "date",
        "end_date",
        "hosts",
        "participants",
        "troops",
        "aircraft",
        "purpose",
        "description",
        "note",
    )
    detail_prefetch = ("participants",)


class SeriesDetailView(CatalogDetailView):
    """A series with its number of exercises and the latest few; the list shows them all."""

    model = ExerciseSeries
    fields = ("first_year", "frequency", "description", "note")
    latest_shown = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        exercises = self.object.exercises.all()
        count = exercises.count()
        latest = list(exercises.order_by("-date", "-pk")[: self.latest_shown]) if count else []
        list_url = filtered_list_url("catalog:exercise_list", {"kind": self.object.key}) if count else ""
        context["section"] = RelatedSection(_("Exercises in this series"), count, latest, list_url)
        return context


class CrisisDetailView(CatalogDetailView):
    model = Crisis
    fields = (
        "start",
        "end",
        "states",
        "requested_by",
        "requesters",
        "response",
        "troops_deployed",
        "description",
        "outcome",
        "note",
    )
    detail_prefetch = ("requested_by",)


class MilestoneDetailView(CatalogDetailView):
    model = Milestone
    fields = ("kind", "date", "end_date", "states", "description", "note")


class SourceDetailView(JsonDetailMixin, DetailView):
    model = Source
    query_parameters = ("page",)
    query_defaults = {"page": "1"}
    slug_field = "key"
    slug_url_kwarg = "key"
    template_name = "catalog/source_detail.html"
    # `document`, our stored copy's file name, is for editors: it stays in the admin.
    fields = ("kind", "publisher", "published", "language", "url", "note")

    citations_per_page = 100

    def citation_page(self):
        """The citations a page at a time: a source may back thousands of records."""
        citations = Citation.objects.filter(source=self.object).select_related("content_type").with_records()
        return Paginator(citations.order_by("pk"), self.citations_per_page).get_page(
            self.request.GET.get("page")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = self.citation_page()
        supported = [citation for citation in page.object_list if citation.record]
        for citation in supported:
            citation.source = self.object  # the quote's language, without a query per citation
            citation.field_label = citable_field_label(type(citation.record), citation.field)
        context.update(
            rows=field_rows(self.object, self.fields, None),
            supported=supported,
            citation_count=page.paginator.count,
            page_obj=page,
        )
        return context

    def json_citations(self, source):
        """The citations of the page asked for (`?format=json&page=2`), as on the HTML page."""
        return [
            citation_json(
                citation,
                record_kind=citation.content_type.model,
                record_url=self.request.build_absolute_uri(citation.record.get_absolute_url()),
            )
            for citation in self.citation_page().object_list
            if citation.record is not None
        ]


class OrganizationView(ListView):
    """Facts about the organization itself, grouped by topic, each with its quoted references,
    a hundred facts to a page. Citations are numbered through the page."""

    template_name = "catalog/organization.html"
    context_object_name = "facts"
    paginate_by = 100
    query_parameters = ("page",)
    query_defaults = {"page": "1"}

    def get_queryset(self):
        topic_order = Case(
            *(When(topic=value, then=position) for position, value in enumerate(FactTopic.values)),
            default=len(FactTopic.values),
        )
        return OrganizationFact.objects.public().with_citations().order_by(topic_order, "date", "key")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        facts = list(context["facts"])
        number = 0
        for fact in facts:
            fact.references = list(fact.citations.all())
            for citation in fact.references:
                number += 1
                citation.number = number
        topics = dict(FactTopic.choices)
        groups = defaultdict(list)
        for fact in facts:
            groups[fact.topic].append(fact)
        context["topics"] = [
            (value, topics[value], groups[value]) for value in FactTopic.values if groups[value]
        ]
        return context


# --- Home and timeline ------------------------------------------------------------------------


class HomeView(TemplateView):
    template_name = "catalog/home.html"
    query_parameters = ("year",)  # the member map's year

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        as_of = newest_source_date()
        memberships = list(Membership.objects.public().order_by("state__name_en", "start", "pk"))
        holding = defaultdict(set)  # role -> states holding it on the as-of day
        for state_pk, periods in periods_by_state(memberships).items():
            current = role_on(periods, as_of)
            if current is not None:
                holding[current.role].add(state_pk)
        context.update(
            as_of=as_of,
            members_now=len(set().union(*(holding[role] for role in MEMBER_ROLES))),
            observers_now=len(holding[Role.OBSERVER]),
            summit_count=Summit.objects.count(),
            exercise_count=Exercise.objects.count(),
            crisis_count=Crisis.objects.count(),
            fact_count=OrganizationFact.objects.count(),
            memberships=memberships,
            latest_crises=Crisis.objects.public().order_by("-start", "-pk")[:5],
            latest_summits=Summit.objects.public().order_by("-date", "-pk")[:5],
        )
        return context


class SearchView(TemplateView):
    """The header's search box: every kind at once, a few results each, or one kind at length."""

    template_name = "catalog/search.html"
    query_parameters = ("q", "kind")
    per_kind = 5
    per_single_kind = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = " ".join(self.request.GET.get("q", "").split())[: search.MAX_QUERY_LENGTH]
        kind = search.KIND_BY_NAME.get(self.request.GET.get("kind", ""))
        groups, unsearched = [], []
        if query and kind:
            limit = settings.PUBLIC_SEARCH_ONE_KIND_TIME_LIMIT_MS
            groups, unsearched = search.search(query, (kind,), self.per_single_kind, limit)
        elif query:
            limit = settings.PUBLIC_SEARCH_TIME_LIMIT_MS
            groups, unsearched = search.search(query, search.KINDS, self.per_kind, limit)
        context.update(query=query, kind=kind, groups=groups, unsearched=unsearched, kinds=search.KINDS)
        return context


@dataclass
class Event:
    date: str
    kind: str
    kind_label: str
    title: str
    record: object

    @property
    def year(self):
        return self.date[:4]


class TimelineForm(forms.Form):
    KINDS = (
        ("membership", _("membership steps")),
        ("summit", _("summits")),
        ("exercise", _("exercises")),
        ("crisis", _("crises")),
        ("milestone", _("milestones")),
    )
    kind = forms.MultipleChoiceField(
        label=_("Kinds of event"), choices=KINDS, required=False, widget=forms.CheckboxSelectMultiple
    )
    state = forms.ModelMultipleChoiceField(
        label=_("State"),
        queryset=State.objects.all(),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    year_from = forms.IntegerField(
        label=_("From year"),
        min_value=1000,
        max_value=9999,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    year_to = forms.IntegerField(
        label=_("To year"),
        min_value=1000,
        max_value=9999,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


@dataclass
class TimelineSource:
    """One kind of event on the timeline: its records and the field that dates them, and the
    title of each event when it is not the record's name."""

    kind: str
    records: models.QuerySet
    date_field: str
    title: str | None = None

    def dates(self, year_from, year_to):
        """`day` and `n`, the number of records, of each of the records' dates within the years.

        Counted for each date, in the order of the date index, and added up by year afterwards
        (`TimelineView.year_counts`): grouped on the year itself, every date is sorted first
        (SQLite sorts a million exercises' dates in a temporary B-tree: 0.56 s, against 0.14 s).
        A day has one row at most, so their number is bounded by the days the catalog spans,
        whatever it holds."""
        dated = self.records.exclude(**{self.date_field: ""}).order_by()
        dated = within_years(dated, self.date_field, year_from, year_to)
        return dated.values(day=F(self.date_field)).annotate(n=Count("*"))

    def within(self, first_year, last_year, limit):
        """The first `limit` records dated within the years, in date order."""
        records = within_years(self.records, self.date_field, first_year, last_year)
        return records.order_by(self.date_field, "pk")[:limit]


@dataclass
class StatesExercises(TimelineSource):
    """The exercises some states hosted or joined, found by their dates in the involvement table's
    (state, date) index: looked up among all exercises instead, each of a state's exercises would
    be read to learn its date (tens of thousands for one state at 100,000 exercises)."""

    states: tuple = ()

    def involvement(self, year_from, year_to):
        involvement = ExerciseInvolvement.objects.filter(state__in=self.states).order_by()
        return within_years(involvement, "date", year_from, year_to)

    def dates(self, year_from, year_to):
        # An exercise of several of the states asked for has a row for each: counted once.
        return (
            self.involvement(year_from, year_to)
            .exclude(date="")
            .values(day=F("date"))
            .annotate(n=Count("exercise", distinct=True))
        )

    def within(self, first_year, last_year, limit):
        """Found in the involvement index, which holds them in date order: only the rows of the
        exercises shown are read, not those of every exercise of the years (the query of a state's
        first window at 100,000 exercises: 1 ms on PostgreSQL instead of 10)."""
        # An exercise of several of the states asked for has a row for each: read once.
        links = self.involvement(first_year, last_year).order_by("date", "exercise")
        ids = links.values("exercise").distinct()[:limit]
        return self.records.filter(pk__in=ids).order_by(self.date_field, "pk")


@dataclass
class YearWindow:
    """Consecutive years shown on one timeline page."""

    first: int
    last: int
    count: int | None  # None when the events were not counted (`TimelineView.year_counts`)

    def __str__(self):
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


def year_windows(year_counts, budget):
    """Consecutive years grouped so that each window holds at most `budget` events; a year with
    more than that is a window of its own (and is shown up to `budget` events)."""
    windows = []
    for year, count in sorted(year_counts.items()):
        if windows and windows[-1].count + count <= budget:
            windows[-1].last, windows[-1].count = year, windows[-1].count + count
        else:
            windows.append(YearWindow(year, year, count))
    return windows


class TimelineView(TemplateView):
    """Every dated event in chronological order, grouped by year and shown a window of years at
    a time: each page holds at most `events_per_page` events, whatever the catalog holds, and
    names every window with its years and number of events."""

    template_name = "catalog/timeline.html"
    events_per_page = 200
    query_parameters = ("kind", "state", "year_from", "year_to", "year")
    query_lists = ("kind", "state")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = TimelineForm(self.request.GET)
        context.update(form=form, years=[], event_count=0, windows=[], window=None)
        if not form.is_valid():
            return context
        sources = self.sources(form.cleaned_data)
        year_counts = self.year_counts(sources, form.cleaned_data)
        if year_counts is None:
            windows = self.single_years(sources, form.cleaned_data)
        else:
            windows = year_windows(year_counts, self.events_per_page)
        if not windows:
            return context
        index = self.window_index(windows)
        window = windows[index]
        events = self.events(sources, window)
        years = defaultdict(list)
        for event in events:
            years[event.year].append(event)
        counted = year_counts is not None
        context.update(
            years=sorted(years.items()),
            event_count=sum(year_counts.values()) if counted else None,
            windows=windows,
            window=window,
            shown_count=len(events),
            previous_window=windows[index - 1] if index > 0 else None,
            next_window=windows[index + 1] if index + 1 < len(windows) else None,
            # The windows around this one, and the first and the last: the navigation stays short.
            nearby_windows=windows[max(index - 10, 0) : index + 11],
            first_window=windows[0],
            last_window=windows[-1],
            year_lists=self.year_lists(window, form.cleaned_data["state"])
            if self.events_left_out(events, window)
            else [],
        )
        return context

    def events_left_out(self, events, window):
        """Whether the window holds more events than are shown; uncounted, a full page may."""
        if window.count is None:
            return len(events) >= self.events_per_page
        return len(events) < window.count

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["event_count"] is None:  # kept only until the counts are tried again (catalog/caching.py)
            response.cache_seconds = filters.retry_seconds()
        return response

    def year_counts(self, sources, data):
        """{year: number of events}, or None when counting them took longer than
        `PUBLIC_FACET_TIME_LIMIT_MS` (the facet counts' limit): a state's events are looked up
        among all of each kind's, which at a million exercises takes seconds.

        All the kinds in one query (UNION ALL), so the limit is set once and the page's queries
        do not grow with the kinds asked for."""
        per_kind = [source.dates(data.get("year_from"), data.get("year_to")) for source in sources]
        sql, params = per_kind[0].union(*per_kind[1:], all=True).order_by().query.sql_with_params()
        # Added up by year in the database: a state's dates are some 14,000 rows at 100,000
        # exercises, which the ORM would take 30 ms to read. A union cannot be grouped again
        # through the ORM.
        by_year = f"SELECT SUBSTR(day, 1, 4), SUM(n) FROM ({sql}) dates GROUP BY 1"
        try:
            limit = settings.PUBLIC_FACET_TIME_LIMIT_MS
            with filters.time_limit(connection, limit), connection.cursor() as cursor:
                cursor.execute(by_year, params)
                rows = cursor.fetchall()
        except filters.TooSlow:
            return None
        return {int(year): int(n) for year, n in rows if year.isdigit()}

    def single_years(self, sources, data):
        """A window of each year, uncounted, from the first date of the kinds asked for to the
        last, within the form's years: read from the ends of each kind's date index, whatever
        the states asked for, as the events of one year are read at most `events_per_page` a
        kind."""
        years = set()
        for source in sources:
            date_field = source.date_field
            dated = within_years(
                source.records.model._default_manager.exclude(**{date_field: ""}),
                date_field,
                data.get("year_from"),
                data.get("year_to"),
            )
            dates = dated.order_by(date_field).values_list(date_field, flat=True)
            years.update(
                int(date[:4]) for date in (dates.first(), dates.last()) if date and date[:4].isdigit()
            )
        if not years:
            return []
        return [YearWindow(year, year, None) for year in range(min(years), max(years) + 1)]

    def year_lists(self, window, states):
        """(label, URL) of the lists of a window's years and states, for events past the page's
        limit."""
        years = {"year_from": window.first, "year_to": window.last}
        if states:
            years["state"] = [str(state.code) for state in states]
        return [
            (_("Exercises"), filtered_list_url("catalog:exercise_list", years)),
            (_("Summits"), filtered_list_url("catalog:summit_list", years)),
            (_("Crises"), filtered_list_url("catalog:crisis_list", years)),
            (_("Membership periods"), filtered_list_url("catalog:membership_list", years)),
        ]

    def window_index(self, windows):
        """The window holding `?year=`, the first one when it is missing or holds no events."""
        try:
            year = int(self.request.GET.get("year", ""))
        except ValueError:
            return 0
        return next((i for i, window in enumerate(windows) if window.first <= year <= window.last), 0)

    def sources(self, data):
        """A `TimelineSource` of every kind asked for, of the states asked for.

        The form's years bound the counts of the years (`TimelineSource.dates`), and so the
        windows; each query then names one range of dates: given two lower bounds on a column,
        SQLite walks its index from the first (in a million exercises, from the first year for
        every year)."""
        kinds = set(data["kind"]) or {kind for kind, _label in TimelineForm.KINDS}
        # Read once, so their ids go into each query: given the form's query of the codes instead,
        # SQLite does not know how many states it names, and sorts a state's dates again.
        states = tuple(data["state"])
        sources = []
        if "membership" in kinds:
            memberships = Membership.objects.public()
            if states:
                memberships = memberships.filter(state__in=states)
            sources += [
                TimelineSource("membership", memberships, "start", _("%(state)s: %(role)s from this date")),
                TimelineSource("membership", memberships, "end", _("%(state)s: %(role)s period ends")),
            ]
        # A state's records are read from the link tables' (state, record) indexes, as the lists
        # read them: joining both link tables under one OR lets PostgreSQL pick a plan that
        # compares every record with every link.
        linked = filters.linked_to_states
        dated = (
            ("summit", Summit, "date", Q(host__in=states) | linked(states, Summit.participants)),
            ("crisis", Crisis, "start", linked(states, Crisis.states)),
            ("milestone", Milestone, "date", linked(states, Milestone.states)),
        )
        for kind, model, date_field, by_state in dated:
            if kind in kinds:
                records = model.objects.filter(by_state) if states else model.objects.all()
                sources.append(TimelineSource(kind, records, date_field))
        if "exercise" in kinds and states:
            sources.append(StatesExercises("exercise", Exercise.objects.all(), "date", states=states))
        elif "exercise" in kinds:
            sources.append(TimelineSource("exercise", Exercise.objects.all(), "date"))
        return sources

    def events(self, sources, window):
        """The window's events in date order, at most `events_per_page` of them: no kind reads
        more rows than that."""
        labels = dict(TimelineForm.KINDS)
        order = [kind for kind, _label in TimelineForm.KINDS]
        events = []
        for source in sources:
            for record in source.within(window.first, window.last, self.events_per_page):
                if source.title:
                    text = source.title % {"state": record.state, "role": record.get_role_display()}
                else:
                    text = str(record)
                date = getattr(record, source.date_field)
                events.append(Event(date, source.kind, labels[source.kind], text, record))
        events.sort(key=lambda event: (event.date, order.index(event.kind), event.record.pk))
        return events[: self.events_per_page]


# --- Errors -----------------------------------------------------------------------------------


def server_error(request, template_name="500.html"):
    """The 500 page in the site's look; falls back to plain text if even that fails."""
    try:
        body = loader.render_to_string(template_name, {"today": datetime.date.today()}, request=request)
    except Exception:  # noqa: BLE001 - the error page itself must never raise
        body = "<h1>Server Error (500)</h1>"
    return HttpResponseServerError(body)
