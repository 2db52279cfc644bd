"""Consistency checks over the whole catalog, run by `manage.py check_catalog`.

The one place that defines when a quoted passage "contains" a date or a number:

- Whitespace runs are squashed to one space, and a space is allowed between a number and its
  unit, so the news articles' `2022 年 1 月 6 日` reads like `2022年1月6日`; digits separated by
  whitespace never run together into one number.
- A year (`1993`) is contained when its four digits appear, not as part of a longer number.
- A month (`2010-06`) when the year appears and the month as `6月` (or `06月`), or its English
  name or abbreviation (`June`, `Jun`), as in the English reference list.
- A day (`2022-01-06`) when the year appears and the day as `1月6日` (leading zeros allowed), or
  in English as `6 January` / `January 6` / `6 Jan`.
- A number (`10000`) when its digits appear, also with thousands separators (`10,000`), or, for
  whole ten-thousands, in 万/萬 form (`1万`, `3萬`).
"""

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .dates import PartialDate, PartialDateField
from .models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Milestone,
    State,
    Summit,
)

CHECKED_MODELS = (State, Membership, ExerciseSeries, Exercise, Summit, Crisis, Milestone)

_WHITESPACE = re.compile(r"\s+")


def squash(text):
    """The text with every whitespace run squashed to one space."""
    return _WHITESPACE.sub(" ", text or "").strip()


def _has(pattern, text):
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def _standalone(digits):
    """`digits` not preceded or followed by another digit."""
    return rf"(?<!\d){digits}(?!\d)"


def _english_month(month):
    full, short = calendar.month_name[month], calendar.month_abbr[month]
    return rf"(?:{full}|{short}\.?)"


def quote_contains_date(quote, value):
    """Whether `quote` states the partial date `value` (ISO text) at its own precision."""
    date = PartialDate.parse(value)
    text = squash(quote)
    if not _has(_standalone(f"{date.year:04d}"), text):
        return False
    if date.month is None:
        return True
    month = rf"0?{date.month}"
    english = _english_month(date.month)
    if date.day is None:
        return _has(rf"(?<!\d){month} ?月", text) or _has(rf"(?<![a-z]){english}(?![a-z])", text)
    day = rf"0?{date.day}"
    return (
        _has(rf"(?<!\d){month} ?月 ?{day} ?日", text)
        or _has(rf"(?<!\d){day} ?{english}(?![a-z])", text)
        or _has(rf"(?<![a-z]){english} ?{day}(?!\d)", text)
    )


def quote_contains_number(quote, value):
    """Whether `quote` states the whole number `value`, in digits or in 万 form."""
    text = squash(quote)
    digits = str(int(value))
    grouped = f"{int(value):,}"
    forms = [_standalone(digits), _standalone(re.escape(grouped))]
    if value and value % 10000 == 0:
        forms.append(_standalone(str(value // 10000)) + " ?[万萬]")
    return any(_has(form, text) for form in forms)


@dataclass(frozen=True)
class Problem:
    kind: str
    key: str
    field: str
    value: str
    message: str

    def __str__(self):
        where = f"{self.kind} {self.key}"
        if self.field:
            where += f", {self.field}"
            if self.value != "":
                where += f" = {self.value}"
        return f"{where}: {self.message}"


def _checked_fields(model):
    """The record's dates and numbers that its quotes must state."""
    dates, numbers = [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, PartialDateField):
            dates.append(field.name)
        elif isinstance(field, models.IntegerField) and not field.primary_key:
            numbers.append(field.name)
    return dates, numbers


def _record_key(model, record):
    return record["code"] if model is State else record["key"]


@dataclass
class Report:
    records: int
    citations: int
    problems: list


def check_catalog():
    """Check every record and citation; a handful of queries in all (one per kind, one for
    the citations, one for the content types)."""
    content_types = ContentType.objects.get_for_models(*CHECKED_MODELS)
    model_by_type = {ct.pk: model for model, ct in content_types.items()}
    quotes = defaultdict(list)
    problems = []
    citations = list(Citation.objects.values_list("pk", "content_type_id", "object_id", "quote"))
    for pk, type_id, object_id, quote in citations:
        model = model_by_type.get(type_id)
        if not (quote or "").strip():
            kind = model._meta.model_name if model else "citation"
            problems.append(
                Problem(
                    "citation",
                    str(pk),
                    "quote",
                    "",
                    f"the quoted passage is empty (cites {kind} #{object_id})",
                )
            )
            continue
        quotes[(type_id, object_id)].append(quote)

    cited = {(type_id, object_id) for _pk, type_id, object_id, _quote in citations}
    seen = set()
    record_count = 0
    for model in CHECKED_MODELS:
        type_id = content_types[model].pk
        kind = model._meta.model_name
        dates, numbers = _checked_fields(model)
        key_field = "code" if model is State else "key"
        for record in model.objects.values("pk", key_field, *dates, *numbers):
            record_count += 1
            seen.add((type_id, record["pk"]))
            key = _record_key(model, record)
            own = quotes.get((type_id, record["pk"]), [])
            if (type_id, record["pk"]) not in cited:
                problems.append(Problem(kind, key, "", "", "has no citation"))
                continue
            for name in dates:
                value = record[name]
                if value and not any(quote_contains_date(quote, value) for quote in own):
                    problems.append(Problem(kind, key, name, value, "no quote of this record contains it"))
            for name in numbers:
                value = record[name]
                if value is not None and not any(quote_contains_number(quote, value) for quote in own):
                    problems.append(
                        Problem(kind, key, name, str(value), "no quote of this record contains it")
                    )

    for pk, type_id, object_id, _quote in citations:
        model = model_by_type.get(type_id)
        if model is None:
            problems.append(
                Problem(
                    "citation", str(pk), "record", f"#{object_id}", "points at a kind that cannot be cited"
                )
            )
        elif (type_id, object_id) not in seen:
            problems.append(
                Problem(
                    "citation",
                    str(pk),
                    "record",
                    f"{model._meta.model_name} #{object_id}",
                    "points at a record that does not exist",
                )
            )
    return Report(records=record_count, citations=len(citations), problems=problems)


# --- What a quote states -------------------------------------------------------------------------
# The same reading as the checks above, turned round: the dates and numbers a quote states, so
# that the values several sources give for one field can be compared.

_MONTHS = "|".join(rf"{calendar.month_name[m]}|{calendar.month_abbr[m]}" for m in range(1, 13))
_MONTH_NUMBER = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_DATE_PATTERNS = (
    # 1992年5月15日, 1992 年 5 月, 1992年
    re.compile(r"(?<!\d)(?P<year>\d{4}) ?年(?: ?(?P<month>\d{1,2}) ?月(?: ?(?P<day>\d{1,2}) ?日)?)?"),
    # 15 May 1992, May 1992
    re.compile(rf"(?:(?<!\d)(?P<day>\d{{1,2}}) )?(?P<month>{_MONTHS})\.? (?P<year>\d{{4}})(?!\d)", re.I),
    # May 15, 1992
    re.compile(rf"(?P<month>{_MONTHS})\.? (?P<day>\d{{1,2}}),? (?P<year>\d{{4}})(?!\d)", re.I),
    # a bare year
    re.compile(r"(?<!\d)(?P<year>(?:1[89]|20)\d\d)(?!\d)"),
)
_NUMBER = re.compile(r"(?<![\d,.])(\d{1,3}(?:,\d{3})+|\d+)(?: ?([万萬]))?")


def _month(text):
    if text is None:
        return None
    return int(text) if text.isdigit() else _MONTH_NUMBER.get(text.lower().rstrip("."))


def dates_stated(quote):
    """The partial dates `quote` states, as (year, month or None, day or None)."""
    text = squash(quote)
    found, covered = set(), set()
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            span = set(range(*match.span()))
            if span & covered:
                continue  # the year of a date already read with its month
            covered |= span
            groups = match.groupdict()
            day = groups.get("day")
            found.add((int(groups["year"]), _month(groups.get("month")), int(day) if day else None))
    return found


def numbers_stated(quote):
    """The whole numbers `quote` states, in digits (with or without thousands separators) or 万 form."""
    found = set()
    for digits, wan in _NUMBER.findall(squash(quote)):
        number = int(digits.replace(",", ""))
        found.add(number * 10000 if wan else number)
    return found


def quote_agrees(quote, value):
    """Whether `quote` states `value` (a partial date as ISO text, or a whole number), at the
    precision each gives: `1992年` agrees with `1992-05-15`, `1992年4月` does not.

    None when the quote states no date (no number) at all: it neither agrees nor differs."""
    if isinstance(value, int):
        numbers = numbers_stated(quote)
        return (value in numbers) if numbers else None
    wanted = PartialDate.parse(value)
    stated = dates_stated(quote)
    if not stated:
        return None
    return any(
        year == wanted.year
        and (month is None or wanted.month is None or month == wanted.month)
        and (day is None or wanted.day is None or day == wanted.day)
        for year, month, day in stated
    )
