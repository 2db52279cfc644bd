"""One FilterSet per public list. Query-string names are shared by every list where they apply:
`q`, `year_from`, `year_to`, `state`, `kind`, `in_force`, `troops_min`, `troops_max`, `sort`.

Each FilterSet also knows how to count its results per categorical value (`facets()`) and how to
say its active filters in words (`describe()`).
"""

import hashlib
import time
from contextlib import contextmanager
from functools import partial

import django_filters
from django import forms
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections, transaction
from django.db.models import Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left, Length
from django.db.models.lookups import In
from django.forms.models import ModelChoiceIteratorValue
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .caching import CACHE_ALIAS
from .dates import PartialDate, format_partial_date, within_years
from .models import (
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    MilestoneKind,
    Response,
    Role,
    Source,
    SourceKind,
    State,
    Summit,
    SummitKind,
)
from .templatetags.catalog_tags import clause_separator, list_separator

# Text inputs with a numeric keyboard: a number input would hide a mistyped value ("20l0")
# from the reader while its error is shown.
YEAR_WIDGET = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
COUNT_WIDGET = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
# The largest value a PositiveIntegerField holds on every database we run on (PostgreSQL's
# integer): a larger bound is a form error, not a query no database can run.
LARGEST_COUNT = 2_147_483_647


def widget_attrs(attrs):
    """Attributes as Django's `attrs.html` writes them: `True` as a bare name, `False` left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class PythonOptionsMixin:
    """A select written in Python with the markup of Django's `select.html`: the same options,
    labels, `selected` and attributes, without one template render per option (the state lists
    have 40 or so each). Groups are not used by our filters, so they are not written."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '\n  <option value="{}"{}>{}</option>\n',
            (
                (str(option["value"]), widget_attrs(option["attrs"]), option["label"])
                for _group, group_choices, _index in widget["optgroups"]
                for option in group_choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>', widget["name"], widget_attrs(widget["attrs"]), options
        )


class PythonSelect(PythonOptionsMixin, forms.Select):
    pass


class PythonSelectMultiple(PythonOptionsMixin, forms.SelectMultiple):
    pass


class YearFilter(django_filters.NumberFilter):
    """A four-digit year; compared with partial dates as text, so `2008` covers `2008-06-01`."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YEAR_WIDGET)
        super().__init__(*args, min_value=1000, max_value=9999, **kwargs)


class CountFilter(django_filters.NumberFilter):
    """A whole number of troops and the like, bounded by what the column can hold."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", COUNT_WIDGET)
        super().__init__(*args, min_value=0, max_value=LARGEST_COUNT, **kwargs)


class KindFilter(django_filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", PythonSelect)
        super().__init__(*args, **kwargs)


class StateCodeFilter(django_filters.ModelMultipleChoiceFilter):
    """States by ISO code (`?state=KZ&state=RU`); an unknown code is a form error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", State.objects.all())
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("widget", PythonSelectMultiple(attrs={"size": 6}))
        super().__init__(*args, **kwargs)


class SortFilter(django_filters.OrderingFilter):
    """`sort=column` or `sort=-column`; every ordering ends with the primary key, so pages are stable.

    The primary key runs the way the last column does, so a descending sort is the ascending one
    read backwards: its pages are a backward walk along the same index (`sort_indexes`). With
    the key ascending under a descending column, the database sorts every row up to the page
    (the ids of page 1,900 of 100,000 exercises by troops: 42 ms instead of 1, on SQLite)."""

    def __init__(self, *args, default=(), **kwargs):
        self.default = tuple(default)
        kwargs.setdefault("label", _("Sort by"))
        super().__init__(*args, **kwargs)

    def build_choices(self, fields, labels):
        """Labels stay lazy, so the choices read in the language of each request."""
        choices = []
        for field, param in fields.items():
            label = labels.get(field, param)
            choices += [(param, label), (f"-{param}", format_lazy("{} ({})", label, _("descending")))]
        return choices

    def filter(self, qs, value):
        ordering = [self.get_ordering_value(param) for param in value] if value else list(self.default)
        descending = bool(ordering) and ordering[-1].startswith("-")
        return qs.order_by(
            *(nulls_smallest(qs.model, term) for term in ordering), "-pk" if descending else "pk"
        )


def nullable(model, path):
    """Whether the column at `path` ("troops", "series__name_en") can be NULL for a record of `model`."""
    for name in path.split(LOOKUP_SEP):
        field = model._meta.get_field(name)
        if field.null:
            return True
        model = field.related_model
    return False


def nulls_smallest(model, term):
    """The ordering `term` ("troops", "-troops") with NULLs (troops not known) before every value,
    so they come first in ascending order and last in descending order, on every database: the
    order SQLite's indexes hold, which PostgreSQL's (column, id) sort indexes hold too (migration
    0018), so both read a page of either direction from the index."""
    path = term.removeprefix("-")
    if not nullable(model, path):
        return term
    return F(path).desc(nulls_last=True) if term.startswith("-") else F(path).asc(nulls_first=True)


class PartialDatePoint(forms.CharField):
    """A year (`2010`), a month or a day, validated like a stored partial date."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return PartialDate.parse(value).isoformat()
        except ValueError:
            raise forms.ValidationError(
                _("Enter a year (2010), a month (2010-06) or a day (2010-06-15).")
            ) from None


class PartialDateFilter(django_filters.CharFilter):
    field_class = PartialDatePoint


def unindexed(column):
    """An integer column as `column + 0`: the same values, but no index covers the expression, so
    SQLite does not pick that column's index to read the rows by."""
    return ExpressionWrapper(F(column) + 0, output_field=IntegerField())


def grouped(queryset, value, count=None, scan_rows=False):
    """(value, count) rows, grouped on the bare column so that its index can do the grouping.

    With `scan_rows`, grouped on `value + 0` instead, which no index covers: SQLite then reads the
    rows in storage order rather than walking the value's index and looking up every row it names
    (for a filter that needs other columns of each row, such as `distinct_counts` exclusions)."""
    facet_value = unindexed(value) if scan_rows else F(value)
    return queryset.order_by().values(facet_value=facet_value).annotate(n=count or Count("*"))


def distinct_counts(sources, within):
    """Querysets of (value, count) over several sources of (record, value) pairs (link tables,
    foreign keys), each record counted once per value: a pair also found in an earlier source
    is left out of the later ones, so a host that also took part counts once."""
    parts = []
    for index, (queryset, record, value) in enumerate(sources):
        queryset = queryset.filter(within(record))
        if queryset.model._meta.get_field(value).null:  # a summit's host; link tables name a state
            queryset = queryset.exclude(**{f"{value}__isnull": True})
        for earlier, earlier_record, earlier_value in sources[:index]:
            twin = earlier.filter(**{earlier_record: OuterRef(record), earlier_value: OuterRef(value)})
            queryset = queryset.exclude(Exists(twin))
        # Each row left out is looked up in an earlier source: read them in storage order.
        parts.append(grouped(queryset, value, scan_rows=index > 0))
    return parts


def text_search(fields):
    def search(queryset, name, value):
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    return search


def overlaps_years(start, end=None):
    """Filter methods for `year_from`/`year_to` over a record dated `start` (and, for periods, `end`)."""

    def year_from(queryset, name, value):
        if not end:
            return within_years(queryset, start, value, None)
        # A period overlaps the years from `value` on when it ends then or later, or has no end yet.
        return queryset.filter(Q(**{f"{end}__gte": f"{value:04d}"}) | Q(**{end: ""}))

    def year_to(queryset, name, value):
        return within_years(queryset, start, None, value).exclude(**{start: ""})

    return year_from, year_to


class TooSlow(Exception):
    """A query ran past its time limit and was stopped."""


@contextmanager
def time_limit(connection, milliseconds):
    """Stops the queries run inside once they have taken `milliseconds` together, raising TooSlow
    (Datasette's time limit): PostgreSQL's statement_timeout for this transaction, SQLite's
    progress handler. Yields `before_query`, to be called before each query after the first: it
    raises TooSlow when no time is left and gives PostgreSQL's limit what is. A limit of 0 runs
    nothing (so facet counts can be turned off)."""
    if milliseconds <= 0:
        raise TooSlow
    deadline = time.monotonic() + milliseconds / 1000
    connection.ensure_connection()
    postgresql = connection.vendor == "postgresql"

    def set_statement_timeout(value):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                [str(value)],
            )
            return cursor.fetchone()[0]

    def before_query():
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise TooSlow
        if postgresql:
            set_statement_timeout(left)

    if postgresql:
        nested = connection.in_atomic_block  # else the setting ends with the transaction below
        try:
            with transaction.atomic(using=connection.alias):
                previous = set_statement_timeout(milliseconds)
                yield before_query
                if nested:
                    set_statement_timeout(previous)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
                raise TooSlow from error
            raise
        return
    # Every 1,000 virtual machine instructions. When the rows are not in the operating system's
    # cache, each of those may wait for the disk: every 10,000, a 100 ms limit was overrun by up to
    # 257 ms after the cache was dropped; every 1,000, by 3 ms at most. The Python handler costs
    # about 2 % of a count's time (52.9 ms instead of 51.4); every 100, it cost a tenth.
    connection.connection.set_progress_handler(lambda: time.monotonic() > deadline, 1_000)
    try:
        yield before_query
    except OperationalError as error:
        if "interrupted" in str(error):
            raise TooSlow from error
        raise
    finally:
        connection.connection.set_progress_handler(None, 0)


def retry_seconds():
    """How long counts given up on (and a page made without them) are kept before they are tried
    again."""
    return min(settings.PUBLIC_FACET_CACHE_SECONDS, settings.PUBLIC_FACET_RETRY_SECONDS)


def seconds_to_keep(counts):
    """Facet counts are kept for the facet cache's time; counts given up on only until they are
    tried again."""
    return retry_seconds() if "too_slow" in counts else settings.PUBLIC_FACET_CACHE_SECONDS


class CatalogFilterSet(django_filters.FilterSet):
    """Shared parts: the words for the heading, the facets beside the filters."""

    noun = None  # a callable (count) -> "exercises"
    KEPT_IDS = 20_000  # the most results whose ids are kept in order (`ordered_ids`), about 5 bytes each
    #: When the facet counts were too slow, a filter's results are counted up to this many and
    #: paged so far: a list names "more than" this number rather than count them all.
    COUNTED_RESULTS = 10_000
    counted_ids = None  # the ids of the results in the order of the sort, when read to count them
    #: {facet: column}: facets over a column of the listed records themselves, counted from the
    #: filtered rows as they are read (the column is carried beside each result's id).
    column_facets = {}

    def describe(self):
        """The active filters as short phrases, in the active language."""
        data = self.form.cleaned_data if self.is_valid() else {}
        phrases = []
        if data.get("q"):
            phrases.append(_("matching “%(q)s”") % {"q": data["q"]})
        for name, phrase in self.state_phrases():
            states = data.get(name)
            if states:
                phrases.append(phrase % {"states": list_separator().join(str(state) for state in states)})
        kind = data.get("kind")
        if kind and "kind" in self.filters:
            label = dict(self.kind_choices()).get(kind, kind)
            phrases.append(_("%(kind)s only") % {"kind": label})
        if data.get("in_force"):
            phrases.append(
                _("in force in %(date)s") % {"date": format_partial_date(data["in_force"], self.language())}
            )
        if data.get("troops_min") is not None:
            phrases.append(_("at least %(n)s troops") % {"n": data["troops_min"]})
        if data.get("troops_max") is not None:
            phrases.append(_("at most %(n)s troops") % {"n": data["troops_max"]})
        year_from, year_to = data.get("year_from"), data.get("year_to")
        if year_from and year_to:
            phrases.append(f"{year_from}–{year_to}")
        elif year_from:
            phrases.append(_("from %(year)s") % {"year": year_from})
        elif year_to:
            phrases.append(_("until %(year)s") % {"year": year_to})
        return phrases

    def heading(self, count):
        shown = _("More than %(count)s") % {"count": count} if self.more_results else count
        words = self.noun(count) % {"count": shown}
        phrases = self.describe()
        return clause_separator().join([words, *phrases])

    @staticmethod
    def language():
        from django.utils import translation

        return translation.get_language() or "zh-hans"

    def state_phrases(self):
        return [("state", _("involving %(states)s"))] if "state" in self.filters else []

    def kind_choices(self):
        """The `kind` filter's (value, label) pairs."""
        return self.filters["kind"].extra.get("choices", []) if "kind" in self.filters else []

    def facets(self):
        """[(filter name, label, [(value, label, count, selected)])] over the current results."""
        return []

    def count_parts(self, within):
        """{facet: [querysets of (value, count)]} over related tables; `within(field)` is the
        condition that keeps `field` (a record id) among the filtered results. The counts of each
        facet's querysets are added up."""
        return {}

    @cached_property
    def counts(self):
        """{"": {None: number of results}, facet: {value: count}}, read once per filter and catalog
        version: the page and the sort do not change them, so they come from the page cache when
        another page or sort of the same filter was seen. Counts that take longer than
        `PUBLIC_FACET_TIME_LIMIT_MS` are given up: only the number of results is kept, up to
        `COUNTED_RESULTS` of a filter's, and `facets_too_slow` says so (`results_too_slow` when
        even those were not found in time)."""
        counts = self.cached_counts
        if counts is None:
            counts = self.read_counts()
            key = self.results_key("facets")
            if key:
                caches[CACHE_ALIAS].set(key, counts, seconds_to_keep(counts))
        return counts

    @cached_property
    def cached_counts(self):
        """The counts from the cache when this filter was seen before (at this version), or None."""
        key = self.results_key("facets")
        return caches[CACHE_ALIAS].get(key) if key else None

    def results_key(self, kind, *also):
        """The cache key of something made from this filter's results (their counts, their ids in
        the order of a sort, the filter panel) under the catalog's version, told apart by `also`;
        None when nothing is to be kept."""
        version = getattr(self.request, "catalog_version", None)
        if not version or not settings.PUBLIC_FACET_CACHE_SECONDS:
            return None
        filters = sorted(
            (name, tuple(values)) for name, values in self.data.lists() if name not in ("page", "sort")
        )
        text = f"{version}|{self.queryset.model._meta.label}|{filters}|{also}"
        return f"{kind}:" + hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def ordered_ids(self):
        """The ids of every result in the order of the sort, or None. Read once per filter, sort
        and catalog version, and only for a filter seen before (its counts came from the cache)
        with at most `KEPT_IDS` results: the list asks for them on a page after the first, and
        every further page is then a slice of them, instead of the filter worked out again."""
        if self.cached_counts is None or self.more_results or self.total() > self.KEPT_IDS:
            return None
        key = self.results_key("ids", self.data.getlist("sort"))
        cache = caches[CACHE_ALIAS]
        ids = cache.get(key)
        if ids is None:
            ids = list(self.qs.values_list("pk", flat=True))
            cache.set(key, ids, settings.PUBLIC_FACET_CACHE_SECONDS)
        return ids

    @property
    def facets_too_slow(self):
        return self.is_valid() and "too_slow" in self.counts

    @property
    def results_too_slow(self):
        """Whether the results themselves were not found within `PUBLIC_RESULTS_TIME_LIMIT_MS`, after
        the counts had taken too long: none are shown, and the page says so."""
        return self.is_valid() and "not_found" in self.counts

    @property
    def counts_seconds(self):
        """How long the counts, and the filter panel made from them, are kept."""
        return seconds_to_keep(self.counts) if self.is_valid() else settings.PUBLIC_FACET_CACHE_SECONDS

    def read_counts(self):
        """The counts in one query. The filtered ids, with the columns of `column_facets`, are
        computed once, as a materialized common table expression that every count reads, instead
        of once per facet; an unfiltered list counts over whole tables."""
        model = self.queryset.model
        columns = {name: model._meta.get_field(column).column for name, column in self.column_facets.items()}
        query = self.qs.order_by().values("pk", *self.column_facets.values())
        connection = connections[query.db]
        quote = connection.ops.quote_name
        filtered = bool(query.query.where)
        try:
            head, head_params = query.query.sql_with_params() if filtered else ("", ())
        except EmptyResultSet:  # a filter no row can match
            return {"": {None: 0}}
        if filtered:
            names = ", ".join(["pk", *(quote(column) for column in columns.values())])
            cte = f"WITH filtered_ids ({names}) AS MATERIALIZED ({head}) "
            results = "filtered_ids"

            def within(field):
                return Q(**{f"{field}__in": RawSQL("SELECT pk FROM filtered_ids", ())})

        else:
            cte, results = "", quote(model._meta.db_table)

            def within(field):
                return Q()

        # Every result falls in one group of a column facet (NULL included), so the groups' sum is
        # the number of results: counted apart only when there is no such facet, which saves a scan
        # of every result (on PostgreSQL, one run before the parallel counts start).
        selects = [] if columns else [f"SELECT '', NULL, (SELECT COUNT(*) FROM {results})"]
        params = list(head_params)
        for name, column in columns.items():
            # Grouped on the bare column, so that an unfiltered list's count walks its index.
            selects.append(
                f"SELECT %s, CAST({quote(column)} AS text), COUNT(*) FROM {results} GROUP BY {quote(column)}"
            )
            params.append(name)
        for name, parts in self.count_parts(within).items():
            for part in parts:
                sql, part_params = part.query.sql_with_params()
                alias = f"part_{len(selects)}"
                # As text: one column type for every facet's values.
                selects.append(
                    f"SELECT %s, CAST({alias}.facet_value AS text), {alias}.n FROM ({sql}) {alias}"
                )
                params += [name, *part_params]
        counts = {"": {None: 0}}
        try:
            with time_limit(connection, settings.PUBLIC_FACET_TIME_LIMIT_MS), connection.cursor() as cursor:
                cursor.execute(cte + " UNION ALL ".join(selects), params)
                rows = cursor.fetchall()
        except TooSlow:
            if not filtered:  # the table's own count, from its smallest index
                return {"": {None: self.qs.count()}, "too_slow": {}}
            # Counted only as far as the pages reach, by reading the ids that far in the order of
            # the sort, which also gives this page its rows: counting every result of a broad
            # filter over a large catalog would take as long again as the counts just given up
            # (0.4 s of a million exercises' 1.3 s page), and the page's ids would be read apart.
            # A filter that few records match is a walk through the whole catalog all the same (a
            # rare word searched for in every name and description): that too has its limit.
            try:
                with time_limit(connection, settings.PUBLIC_RESULTS_TIME_LIMIT_MS):
                    ids = list(self.qs.values_list("pk", flat=True)[: self.COUNTED_RESULTS + 1])
            except TooSlow:
                self.counted_ids = []
                return {"": {None: 0}, "too_slow": {}, "not_found": {}}
            self.counted_ids = ids[: self.COUNTED_RESULTS]
            counts = {"": {None: len(self.counted_ids)}, "too_slow": {}}
            if len(ids) > self.COUNTED_RESULTS:
                counts["more"] = {}
            return counts
        for name, value, n in rows:
            bucket = counts.setdefault(name, {})
            bucket[value] = bucket.get(value, 0) + n
        if columns:
            counts[""] = {None: sum(counts.get(next(iter(columns)), {}).values())}
        return counts

    def total(self):
        """The number of results, or of those counted when `more_results`."""
        return self.counts[""][None]

    @property
    def more_results(self):
        """Whether the results go on past `total()`, uncounted (see `read_counts`)."""
        return self.is_valid() and "more" in self.counts

    @cached_property
    def states(self):
        """Every state by id: 40 or so rows, read at most once per request, for the facet labels
        and the options of every state select, when the filter panel is drawn."""
        return {state.pk: state for state in State.objects.all()}

    @property
    def form(self):
        """The form, its state selects offering `states` instead of reading them again each. The
        options are read when a select is drawn: a page whose filter panel comes from the cache
        only validates the states asked for."""
        if not hasattr(self, "_form"):
            form = super().form
            for name, filter_ in self.filters.items():
                if isinstance(filter_, StateCodeFilter) and name in form.fields:
                    form.fields[name].widget.choices = partial(self.state_options, form.fields[name])
        return self._form

    def state_options(self, field):
        return [
            (ModelChoiceIteratorValue(field.prepare_value(state), state), field.label_from_instance(state))
            for state in self.states.values()
        ]

    def state_counts_facet(self, name, label, facet=None):
        by_code, names = {}, {}
        for pk, n in self.counts.get(facet or name, {}).items():
            state = self.states.get(int(pk))
            if state is not None:
                by_code[state.code.code] = n
                names[state.code.code] = state.name
        return self.facet(name, label, by_code, names)

    def facet(self, name, label, counts, labels):
        """Values with their counts, most frequent first; each links to the list with that value
        added to the filters (or, when already chosen, removed from them)."""
        current = self.data.getlist(name)
        selected = set(current)
        repeatable = isinstance(self.filters.get(name), StateCodeFilter)
        # The rest of the query is encoded once, the facet's own values after it: a copy of the
        # whole query for each value's link took half of the filter panel's time.
        rest = urlencode(
            [(key, item) for key, items in self.data.lists() if key not in (name, "page") for item in items]
        )
        values = []
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], str(labels.get(item[0], "")))):
            if not count or value in (None, ""):
                continue
            value = str(value)
            chosen = [item for item in current if item != value]
            if value not in selected:
                chosen = [*chosen, value] if repeatable else [value]
            query = "&".join(part for part in (rest, urlencode([(name, item) for item in chosen])) if part)
            values.append(
                {
                    "value": value,
                    "label": labels.get(value, value),
                    "count": count,
                    "selected": value in selected,
                    "url": "?" + query,
                }
            )
        return (name, label, values)

    def choice_facet(self, label, choices, name="kind"):
        return self.facet(name, label, self.counts.get(name, {}), dict(choices))

    def link_sources(self, *relations):
        """(record, state) pair sources for `distinct_counts` from many-to-many relations."""
        model = self.queryset.model
        record = f"{model._meta.model_name}_id"
        return [
            (getattr(model, relation).through.objects.all(), record, "state_id") for relation in relations
        ]


def linked_ids(states, relation):
    """The ids of the records linked to any of `states` through `relation` (a many-to-many
    descriptor such as `Exercise.hosts`), read from its link table's (state, record) index."""
    return (
        relation.through.objects.filter(state__in=states)
        .order_by()
        .values(f"{relation.field.m2m_field_name()}_id")
    )


def among(*ids):
    """The records whose id is in any of `ids`, querysets of record ids read once per query.

    Compared without an index, so SQLite walks the index of the other filters or of the sort and
    checks each row against the list: it would otherwise read the listed rows one by one and sort
    them all to show a page of 50."""
    return Q(In(unindexed("pk"), ids[0].union(*ids[1:], all=True) if len(ids) > 1 else ids[0]))


def linked_to_states(states, *relations):
    """The records linked to any of `states` through any of `relations` (many-to-many
    descriptors such as `Exercise.hosts`).

    The ids are read from each link table's (state, record) index, once per query, instead of
    looking up the links of every record the other filters leave in (see migration 0006)."""
    return among(*(linked_ids(states, relation) for relation in relations))


class StateFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(["name_zh", "name_en", "description_zh", "description_en", "code"]),
    )
    kind = KindFilter(label=_("Role held"), choices=Role.choices, method="filter_kind")
    sort = SortFilter(
        fields=(("name_en", "name"), ("code", "code")),
        field_labels={"name_en": _("name"), "code": _("code")},
        default=("name_en",),
    )

    class Meta:
        model = State
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s state", "%(count)s states", n))

    def filter_kind(self, queryset, name, value):
        return queryset.filter(Exists(Membership.objects.filter(state=OuterRef("pk"), role=value)))

    def count_parts(self, within):
        memberships = Membership.objects.filter(within("state_id"))
        return {"kind": [grouped(memberships, "role", Count("state", distinct=True))]}

    def facets(self):
        return [self.choice_facet(_("Role held"), Role.choices)]


class MembershipFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(["state__name_zh", "state__name_en", "note_zh", "note_en", "key"]),
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    state = StateCodeFilter(label=_("State"), method="filter_state")
    kind = KindFilter(label=_("Role"), field_name="role", choices=Role.choices)
    in_force = PartialDateFilter(label=_("In force on"), method="filter_in_force")
    sort = SortFilter(
        fields=(("state__name_en", "state"), ("role", "role"), ("start", "start"), ("end", "end")),
        field_labels={"state__name_en": _("state"), "role": _("role"), "start": _("start"), "end": _("end")},
        default=("state__name_en", "start"),
    )

    class Meta:
        model = Membership
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s membership period", "%(count)s membership periods", n))
    column_facets = {"kind": "role", "state": "state"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("start", "end"))

    def state_phrases(self):
        return [("state", _("of %(states)s"))]

    def filter_state(self, queryset, name, value):
        return queryset.filter(state__in=value) if value else queryset

    def filter_in_force(self, queryset, name, value):
        """Periods that cover any day of `value` (a year, month or day), reading each stored date
        as widely as its precision allows: started no later than `value` ends, ended no earlier
        than it begins."""
        started = Q(start__lte=value) | Q(start__startswith=value)
        not_ended = Q(end="") | Q(end__gte=Left(Value(value), Length("end")))
        return queryset.exclude(start="").filter(started, not_ended)

    def facets(self):
        return [self.choice_facet(_("Role"), Role.choices), self.state_counts_facet("state", _("State"))]


class SummitFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(
            ["name_zh", "name_en", "description_zh", "description_en", "city_zh", "city_en", "key"]
        ),
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    state = StateCodeFilter(label=_("Host or participant"), method="filter_state")
    kind = KindFilter(label=_("Kind"), choices=SummitKind.choices)
    sort = SortFilter(
        fields=(("date", "date"), ("name_en", "name"), ("host__name_en", "host"), ("kind", "kind")),
        field_labels={"date": _("date"), "name_en": _("name"), "host__name_en": _("host"), "kind": _("kind")},
        default=("date",),
    )

    class Meta:
        model = Summit
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s summit", "%(count)s summits", n))
    column_facets = {"kind": "kind"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("date"))

    def filter_state(self, queryset, name, value):
        if not value:  # an empty selection arrives as an empty queryset, not None
            return queryset
        return queryset.filter(Q(host__in=value) | linked_to_states(value, Summit.participants))

    def count_parts(self, within):
        # The hosts last: each is looked up among the participants, fewer lookups than the other way.
        sources = [*self.link_sources("participants"), (Summit.objects.all(), "pk", "host_id")]
        return {"state": distinct_counts(sources, within)}

    def facets(self):
        return [
            self.choice_facet(_("Kind"), SummitKind.choices),
            self.state_counts_facet("state", _("Host or participant")),
        ]


class ExerciseFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(
            ["name_zh", "name_en", "description_zh", "description_en", "purpose_zh", "purpose_en", "key"]
        ),
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    state = StateCodeFilter(label=_("Host or participant"), method="filter_state")
    host = StateCodeFilter(label=_("Host state"), method="filter_host")
    kind = KindFilter(label=_("Series"), method="filter_series", choices=[])
    troops_min = CountFilter(label=_("At least troops"), field_name="troops", lookup_expr="gte")
    troops_max = CountFilter(label=_("At most troops"), field_name="troops", lookup_expr="lte")
    sort = SortFilter(
        fields=(("date", "date"), ("name_en", "name"), ("series__name_en", "series"), ("troops", "troops")),
        field_labels={
            "date": _("date"),
            "name_en": _("name"),
            "series__name_en": _("series"),
            "troops": _("troops"),
        },
        default=("date",),
    )

    class Meta:
        model = Exercise
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s exercise", "%(count)s exercises", n))
    column_facets = {"kind": "series"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("date"))

    @property
    def form(self):
        """The form, its series read when one is asked for or the select is drawn, not for every
        page of the list."""
        if not hasattr(self, "_form"):
            super().form.fields["kind"].choices = self.kind_choices
        return self._form

    @cached_property
    def series(self):
        return list(ExerciseSeries.objects.all())

    def kind_choices(self):
        return [(series.key, series.name) for series in self.series]

    def state_phrases(self):
        return [("host", _("hosted by %(states)s")), ("state", _("involving %(states)s"))]

    def filter_series(self, queryset, name, value):
        return queryset.filter(series__key=value)

    def filter_state(self, queryset, name, value):
        """The exercises the states hosted or joined, their links narrowed to the years asked for:
        each link carries its exercise's date (catalog/involvement.py), so the (state, date) index
        gives KZ's 9,066 exercises of 2008–2014 instead of all its 38,767 to be checked by date."""
        if not value:  # an empty selection arrives as an empty queryset, not None
            return queryset
        years = self.form.cleaned_data
        links = within_years(
            linked_ids(value, Exercise.states_involved), "date", years.get("year_from"), years.get("year_to")
        )
        return queryset.filter(among(links))

    def filter_host(self, queryset, name, value):
        if not value:  # an empty selection arrives as an empty queryset, not None
            return queryset
        return queryset.filter(linked_to_states(value, Exercise.hosts))

    def count_parts(self, within):
        return {
            "host": distinct_counts(self.link_sources("hosts"), within),
            "state": distinct_counts(self.link_sources("states_involved"), within),
        }

    def facets(self):
        by_id = {str(series.pk): series.key for series in self.series}
        counts = {by_id[pk]: n for pk, n in self.counts.get("kind", {}).items() if pk in by_id}
        return [
            self.facet("kind", _("Series"), counts, dict(self.kind_choices())),
            self.state_counts_facet("host", _("Host state")),
            self.state_counts_facet("state", _("Host or participant")),
        ]


class CrisisFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(
            ["name_zh", "name_en", "description_zh", "description_en", "outcome_zh", "outcome_en", "key"]
        ),
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    state = StateCodeFilter(label=_("State involved"), method="filter_state")
    kind = KindFilter(label=_("Response"), field_name="response", choices=Response.choices)
    troops_min = CountFilter(label=_("At least troops"), field_name="troops_deployed", lookup_expr="gte")
    troops_max = CountFilter(label=_("At most troops"), field_name="troops_deployed", lookup_expr="lte")
    sort = SortFilter(
        fields=(
            ("start", "start"),
            ("name_en", "name"),
            ("response", "response"),
            ("troops_deployed", "troops"),
        ),
        field_labels={
            "start": _("start"),
            "name_en": _("name"),
            "response": _("response"),
            "troops_deployed": _("troops"),
        },
        default=("start",),
    )

    class Meta:
        model = Crisis
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s crisis", "%(count)s crises", n))
    column_facets = {"kind": "response"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("start", "end"))

    def filter_state(self, queryset, name, value):
        if not value:  # an empty selection arrives as an empty queryset, not None
            return queryset
        return queryset.filter(linked_to_states(value, Crisis.states))

    def count_parts(self, within):
        return {"state": distinct_counts(self.link_sources("states"), within)}

    def facets(self):
        return [
            self.choice_facet(_("Response"), Response.choices),
            self.state_counts_facet("state", _("State involved")),
        ]


class MilestoneFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(["name_zh", "name_en", "description_zh", "description_en", "key"]),
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    state = StateCodeFilter(label=_("State involved"), method="filter_state")
    kind = KindFilter(label=_("Kind"), choices=MilestoneKind.choices)
    sort = SortFilter(
        fields=(("date", "date"), ("name_en", "name"), ("kind", "kind")),
        field_labels={"date": _("date"), "name_en": _("name"), "kind": _("kind")},
        default=("date",),
    )

    class Meta:
        model = Milestone
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s milestone", "%(count)s milestones", n))
    column_facets = {"kind": "kind"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("date"))

    def filter_state(self, queryset, name, value):
        if not value:  # an empty selection arrives as an empty queryset, not None
            return queryset
        return queryset.filter(linked_to_states(value, Milestone.states))

    def count_parts(self, within):
        return {"state": distinct_counts(self.link_sources("states"), within)}

    def facets(self):
        return [
            self.choice_facet(_("Kind"), MilestoneKind.choices),
            self.state_counts_facet("state", _("State involved")),
        ]


class SeriesFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method=text_search(["name_zh", "name_en", "description_zh", "description_en", "key"]),
    )
    sort = SortFilter(
        fields=(("name_en", "name"), ("first_year", "first_year")),
        field_labels={"name_en": _("name"), "first_year": _("first year")},
        default=("name_en",),
    )

    class Meta:
        model = ExerciseSeries
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s exercise series", "%(count)s exercise series", n))


class SourceFilter(CatalogFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method=text_search(["title", "publisher", "note_zh", "note_en", "key"])
    )
    year_from = YearFilter(label=_("From year"), method="filter_year_from")
    year_to = YearFilter(label=_("To year"), method="filter_year_to")
    kind = KindFilter(label=_("Kind"), choices=SourceKind.choices)
    sort = SortFilter(
        fields=(("published", "published"), ("title", "title"), ("publisher", "publisher"), ("kind", "kind")),
        field_labels={
            "published": _("published"),
            "title": _("title"),
            "publisher": _("publisher"),
            "kind": _("kind"),
        },
        default=("published",),
    )

    class Meta:
        model = Source
        fields = []

    noun = staticmethod(lambda n: ngettext("%(count)s source", "%(count)s sources", n))
    column_facets = {"kind": "kind"}
    filter_year_from, filter_year_to = (staticmethod(f) for f in overlaps_years("published"))

    def facets(self):
        return [self.choice_facet(_("Kind"), SourceKind.choices)]
