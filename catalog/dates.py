"""Partial dates: a year, a month or a day, kept at the precision the source gives.

They are stored as ISO 8601 text (`1993`, `2010-06`, `2022-01-06`). Text of this form sorts
chronologically, and a shorter date sorts before every longer date inside it, so ordering
and range filters work across precisions with plain string comparisons.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PARTIAL_DATE_RE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")

PARTIAL_DATE_HELP = _("A year (1993), a month (2010-06) or a day (2022-01-06), as the source gives it.")

YEAR, MONTH, DAY = "year", "month", "day"


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text):
        """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; raise ValueError with a readable reason."""
        match = PARTIAL_DATE_RE.match((text or "").strip())
        if not match:
            raise ValueError(
                gettext("“%(text)s” is not a date: use YYYY, YYYY-MM or YYYY-MM-DD") % {"text": text}
            )
        year = int(match["year"])
        month = int(match["month"]) if match["month"] else None
        day = int(match["day"]) if match["day"] else None
        if year < 1000:
            raise ValueError(
                gettext("“%(text)s” is not a date: the year must have four digits") % {"text": text}
            )
        if month is not None and not 1 <= month <= 12:
            raise ValueError(
                gettext("“%(text)s” is not a date: there is no month %(month)s")
                % {"text": text, "month": month}
            )
        if day is not None:
            try:
                datetime.date(year, month, day)
            except ValueError:
                raise ValueError(
                    gettext("“%(text)s” is not a date: there is no day %(day)s in that month")
                    % {"text": text, "day": day}
                ) from None
        return cls(year, month, day)

    @property
    def precision(self):
        if self.day is not None:
            return DAY
        if self.month is not None:
            return MONTH
        return YEAR

    def isoformat(self):
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def first_day(self):
        return datetime.date(self.year, self.month or 1, self.day or 1)

    def last_day(self):
        if self.day is not None:
            return self.first_day()
        if self.month is not None:
            next_month = datetime.date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return next_month - datetime.timedelta(days=1)
        return datetime.date(self.year, 12, 31)

    def __str__(self):
        return self.isoformat()


def validate_partial_date(value):
    if value in (None, ""):
        return
    try:
        PartialDate.parse(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid_partial_date") from None


def year_upper_bound(year):
    """The smallest text that sorts after every partial date within `year`."""
    return f"{int(year) + 1:04d}"


def within_years(records, date_field, year_from, year_to):
    """The records dated within the years from `year_from` to `year_to` (either may be None)."""
    if year_from:
        records = records.filter(**{f"{date_field}__gte": f"{year_from:04d}"})
    if year_to:
        records = records.filter(**{f"{date_field}__lt": year_upper_bound(year_to)})
    return records


def format_partial_date(value, language="zh-hans"):
    """Render a stored partial date at its own precision, in Chinese or English."""
    if not value:
        return ""
    try:
        date = PartialDate.parse(value)
    except ValueError:
        return value
    if language.startswith("zh"):
        text = f"{date.year}年"
        if date.month:
            text += f"{date.month}月"
        if date.day:
            text += f"{date.day}日"
        return text
    if date.day:
        return f"{date.day} {datetime.date(2000, date.month, 1):%B} {date.year}"
    if date.month:
        return f"{datetime.date(2000, date.month, 1):%B} {date.year}"
    return str(date.year)


class PartialDateField(models.CharField):
    """A CharField that holds an ISO 8601 partial date and validates it."""

    default_validators = [validate_partial_date]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("help_text", PARTIAL_DATE_HELP)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 10:
            del kwargs["max_length"]
        if kwargs.get("help_text") == PARTIAL_DATE_HELP:
            del kwargs["help_text"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip() if isinstance(value, str) else value
