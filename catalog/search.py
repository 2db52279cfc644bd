"""One search over every kind of record, grouped by kind, with the matching text highlighted.

Each kind is one `SearchKind` line in `KINDS`: the model, the text fields searched, and the list
its "more" link opens (or None). A search costs one query per kind (plus one per kind of record
that the matching quotes belong to), whatever the catalog holds: each kind reads at most
`per_kind + 1` rows, the extra one only telling that there are more. Finding them is a scan of
every text column of a kind, so the search runs under a time limit.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from .filters import TooSlow, time_limit
from .models import (
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
    reading_english,
)

MAX_QUERY_LENGTH = 100
SNIPPET_CHARS = 90  # around the first match


def bilingual(*names):
    return tuple(f"{name}_{language}" for name in names for language in ("zh", "en"))


@dataclass(frozen=True)
class SearchKind:
    model: type
    fields: tuple  # searched with icontains, and shown in this order as the snippet
    list_url_name: str | None = None  # the kind's list, filtered by `q`
    select_related: tuple = ()

    @property
    def name(self):
        return self.model._meta.model_name

    @property
    def label(self):
        return self.model._meta.verbose_name_plural

    def queryset(self, query):
        condition = Q()
        for field in self.fields:
            condition |= Q(**{f"{field}__icontains": query})
        records = self.model.objects.filter(condition).select_related(*self.select_related)
        if self.model is Citation:
            records = records.with_records()
        return records.order_by("pk")


KINDS = (
    SearchKind(State, (*bilingual("name", "description", "note"), "code"), "catalog:state_list"),
    SearchKind(
        Membership,
        ("state__name_zh", "state__name_en", *bilingual("note"), "key"),
        "catalog:membership_list",
        select_related=("state",),
    ),
    SearchKind(Summit, bilingual("name", "city", "description", "decisions", "note"), "catalog:summit_list"),
    SearchKind(ExerciseSeries, bilingual("name", "description", "note"), "catalog:exerciseseries_list"),
    SearchKind(Exercise, bilingual("name", "description", "purpose", "note"), "catalog:exercise_list"),
    SearchKind(
        Crisis, bilingual("name", "description", "outcome", "requesters", "note"), "catalog:crisis_list"
    ),
    SearchKind(Milestone, bilingual("name", "description", "note"), "catalog:milestone_list"),
    SearchKind(OrganizationFact, bilingual("name", "description", "note")),
    SearchKind(Source, ("title", "publisher", *bilingual("note")), "catalog:source_list"),
    SearchKind(
        Citation, ("quote", "translation_en", "section", *bilingual("note")), None, select_related=("source",)
    ),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}


def highlight(text, query):
    """`text` escaped, every case-insensitive occurrence of `query` in <mark>."""
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(format_html("<mark>{}</mark>", match.group()))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


# Fields a result's title already shows, so a match there needs no snippet.
TITLE_FIELDS = ("name_zh", "name_en", "state__name_zh", "state__name_en", "title", "code")


def snippet(record, fields, query):
    """The first field whose text holds the query, cut to a window around the match, highlighted;
    with the field's language (`lang`) when it is a language's version. None when only the title
    holds it."""
    needle = query.casefold()
    for field in reader_language_first(fields):
        if field in TITLE_FIELDS and not isinstance(record, Citation):
            continue
        value = record
        for part in field.split("__"):
            value = getattr(value, part, "")
        text = str(value or "")
        position = text.casefold().find(needle)
        if position < 0:
            continue
        start = max(position - SNIPPET_CHARS // 2, 0)
        end = min(start + SNIPPET_CHARS + len(query), len(text))
        window = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        return {"html": highlight(window, query), "lang": language_of(record, field)}
    return None


def reader_language_first(fields):
    """`fields` with the other language's versions (`_zh` on English pages) moved to the end."""
    other = "_zh" if reading_english() else "_en"
    return sorted(fields, key=lambda field: field.endswith(other))


def language_of(record, field):
    if field.endswith("_zh"):
        return "zh-Hans"
    if field.endswith("_en") or field == "translation_en":
        return "en"
    if isinstance(record, Citation) and field in ("quote", "section"):
        return record.source.lang_tag
    if isinstance(record, Source) and field in ("title", "publisher"):
        return record.lang_tag
    return ""


@dataclass
class Hit:
    record: object
    title: object
    url: str
    snippet: dict | None


def hit(kind, record, query):
    if isinstance(record, Citation):
        target = record.record
        title = format_html(
            '{} · <span lang="{}">{}</span>',
            target if target is not None else "—",
            record.source.lang_tag,
            record.source,
        )
        url = target.get_absolute_url() if target is not None else record.source.get_absolute_url()
    else:
        lang = record.lang_tag if isinstance(record, Source) else ""
        title, url = highlight(str(record), query), record.get_absolute_url()
        if lang:
            title = format_html('<span lang="{}">{}</span>', lang, title)
    return Hit(record, title, url, snippet(record, kind.fields, query))


def search(query, kinds, per_kind, time_limit_ms):
    """([(kind, [Hit], more)] for the kinds with at least one match, [kinds not searched]).

    Each kind may be a scan of its text columns, so the search stops once it has taken
    `time_limit_ms` in the database (Datasette's time limit): the kinds it had not finished are
    returned as not searched, and the page offers to search each of them alone."""
    groups, searched = [], 0
    try:
        with time_limit(connection, time_limit_ms) as before_query:
            for kind in kinds:
                if searched:
                    before_query()
                records = list(kind.queryset(query)[: per_kind + 1])
                searched += 1
                if records:
                    hits = [hit(kind, record, query) for record in records[:per_kind]]
                    groups.append((kind, hits, len(records) > per_kind))
    except TooSlow:
        pass
    return groups, list(kinds[searched:])
