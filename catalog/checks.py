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
- A quote that says `去年` (last year) or `今年` (this year) also contains the year it means,
  counted from its source's publication date (`去年春天` in an article of 2022-01-09 states 2021).

Two further rules read the descriptions and the roles:

- Every date and number written in digits in a record's description (`description_zh`,
  `description_en`) must be in one of the record's quotes, by the rules above: `2009年6月14日`,
  `14 June 2009`, `June 2009`, `2009年6月` as dates, any other run of digits (`2,500`, `102nd`) as
  a number. Numbers written in words (`six`, `三个`) are not read.
- A citation of a membership with the field `role` states a role when its quote has one of the
  words of `ROLE_WORDS` (`创始` founding, `观察员` observer, `候选` candidate, `暂停` suspended,
  `加入`/`成员` member). A citation quotes a table when the last part of its section path is
  `表格` (a table) or `信息框` (an infobox), e.g. `成員國 › 原成員國 › 表格`; any other citation quotes
  prose. A record whose role differs from the role a prose citation states is a problem; one
  that differs from a table citation is a disagreement the catalog shows on purpose (the prose
  is followed, the table kept as a competing citation), reported but not counted as a problem.
"""

import calendar
import dataclasses
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
    OrganizationFact,
    Role,
    State,
    Summit,
)

CHECKED_MODELS = (State, Membership, ExerciseSeries, Exercise, Summit, Crisis, Milestone, OrganizationFact)
DESCRIPTION_FIELDS = ("description_zh", "description_en")

# The last part of a citation's section path that marks a quote from a table, not from prose.
TABLE_SECTIONS = ("表格", "信息框")

# The words that state a role, most specific first: `创始成员国` is founding, not member.
ROLE_WORDS = (
    (Role.SUSPENDED, ("暂停", "暫停")),
    (Role.OBSERVER, ("观察员", "觀察員")),
    (Role.CANDIDATE, ("候选", "候選")),
    (Role.FOUNDING_SIGNATORY, ("创始", "創始")),
    (Role.MEMBER, ("加入", "成员", "成員")),
)

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


RELATIVE_YEARS = {"去年": -1, "今年": 0}


def with_relative_years(quote, published):
    """The quote, followed by the years its `去年`/`今年` mean when its source is dated."""
    if not published:
        return quote
    year = PartialDate.parse(published).year
    meant = [f"{year + offset}年" for word, offset in RELATIVE_YEARS.items() if word in quote]
    return f"{quote} ({'、'.join(meant)})" if meant else quote


def quote_is_from_table(section):
    """Whether a citation's section marks its quote as taken from a table or an infobox."""
    last = (section or "").rsplit("›", 1)[-1].strip()
    return last in TABLE_SECTIONS


def role_stated(quote):
    """The role a quoted passage states, by its words (`ROLE_WORDS`), or None."""
    text = squash(quote)
    for role, words in ROLE_WORDS:
        if any(word in text for word in words):
            return role
    return None


# --- What a text states ------------------------------------------------------------------------
# The checks above turned round: the dates and numbers a text writes, read once for both uses:
# what a description claims (check_catalog), and the values several quotes give for one field.

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


def date_matches(text):
    """(start, end, (year, month or None, day or None)) of each date written in `text`, squashed."""
    covered = set()
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            span = set(range(*match.span()))
            if span & covered:
                continue  # the year of a date already read with its month
            covered |= span
            groups = match.groupdict()
            day = groups.get("day")
            yield (
                match.start(),
                match.end(),
                (int(groups["year"]), _month(groups.get("month")), int(day) if day else None),
            )


def dates_stated(quote):
    """The partial dates `quote` states, as (year, month or None, day or None)."""
    return {date for _start, _end, date in date_matches(squash(quote))}


def numbers_in(text):
    """The whole numbers written in `text`, in order: digits, with or without thousands
    separators, or in 万 form."""
    return [int(digits.replace(",", "")) * (10000 if wan else 1) for digits, wan in _NUMBER.findall(text)]


def numbers_stated(quote):
    """The whole numbers `quote` states."""
    return set(numbers_in(squash(quote)))


def described_claims(text):
    """The dates to the month or the day (ISO text) and the numbers written in digits in a
    description; a bare year counts as a number."""
    text = squash(text)
    dates = []
    for start, end, (year, month, day) in sorted(date_matches(text)):
        if month is None:
            continue
        dates.append(f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else ""))
        text = text[:start] + " " * (end - start) + text[end:]
    return dates, numbers_in(text)


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


def description_problems(kind, key, record, own):
    """Each date or number of the record's descriptions that none of its quotes contains."""
    problems = []
    for name in DESCRIPTION_FIELDS:
        dates, numbers = described_claims(record.get(name, ""))
        for value in dict.fromkeys(dates):
            if not any(quote_contains_date(quote, value) for quote in own):
                problems.append(
                    Problem(kind, key, name, value, "names a date that no quote of this record contains")
                )
        for value in dict.fromkeys(numbers):
            if not any(quote_contains_number(quote, value) for quote in own):
                problems.append(
                    Problem(
                        kind, key, name, str(value), "names a number that no quote of this record contains"
                    )
                )
    return problems


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
    # Shown on purpose: a table citation against the prose the record follows.
    disagreements: list = dataclasses.field(default_factory=list)


def check_catalog():
    """Check every record and citation; a handful of queries in all (one per kind, one for
    the citations, one for the content types)."""
    content_types = ContentType.objects.get_for_models(*CHECKED_MODELS)
    model_by_type = {ct.pk: model for model, ct in content_types.items()}
    quotes = defaultdict(list)
    role_quotes = defaultdict(list)  # membership pk -> [(section, quote)] of its `role` citations
    problems = []
    membership_type = content_types[Membership].pk
    citations = list(
        Citation.objects.values_list(
            "pk", "content_type_id", "object_id", "quote", "field", "section", "source__published"
        )
    )
    for pk, type_id, object_id, quote, cited_field, section, published in citations:
        if type_id == membership_type and cited_field == "role":
            role_quotes[object_id].append((section, quote))
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
        quotes[(type_id, object_id)].append(with_relative_years(quote, published))

    cited = {(type_id, object_id) for _pk, type_id, object_id, *_rest in citations}
    seen = set()
    disagreements = []
    record_count = 0
    for model in CHECKED_MODELS:
        type_id = content_types[model].pk
        kind = model._meta.model_name
        dates, numbers = _checked_fields(model)
        key_field = "code" if model is State else "key"
        described = [name for name in DESCRIPTION_FIELDS if hasattr(model, name)]
        role = ["role"] if model is Membership else []
        for record in model.objects.values("pk", key_field, *dates, *numbers, *described, *role):
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
            problems.extend(description_problems(kind, key, record, own))
            for section, quote in role_quotes.get(record["pk"], []) if role else ():
                stated = role_stated(quote)
                if stated is None or stated == record["role"]:
                    continue
                finding = Problem(
                    kind,
                    key,
                    "role",
                    record["role"],
                    f"a {'table' if quote_is_from_table(section) else 'prose'} citation says "
                    f"{stated}: “{squash(quote)[:40]}”",
                )
                (disagreements if quote_is_from_table(section) else problems).append(finding)

    for pk, type_id, object_id, *_rest in citations:
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
    return Report(
        records=record_count, citations=len(citations), problems=problems, disagreements=disagreements
    )
