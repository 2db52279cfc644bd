"""Template helpers for the public pages: partial dates, sort links, the language switch and
the membership chart (inline SVG drawn on the server)."""

import datetime
from urllib.parse import unquote

from django import template
from django.urls import translate_url
from django.utils import translation
from django.utils.html import conditional_escape, format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from catalog.dates import PartialDate, format_partial_date
from catalog.models import reader_language_text, reading_english

register = template.Library()


@register.filter
def partial_date(value):
    """`2010-06` as 2010年6月 or June 2010, at the precision it was recorded (a date: to the day)."""
    if isinstance(value, datetime.date):
        value = value.isoformat()
    return format_partial_date(value, translation.get_language() or "zh-hans")


@register.simple_tag(takes_context=True)
def sort_value(context, column):
    """The `sort` value a column header links to: ascending first, then descending."""
    current = context.get("current_sort", "")
    return f"-{column}" if current == column else column


@register.simple_tag(takes_context=True)
def sort_state(context, column):
    """`ascending`, `descending` or `none`, for aria-sort."""
    current = context.get("current_sort", "")
    if current == column:
        return "ascending"
    if current == f"-{column}":
        return "descending"
    return "none"


@register.simple_tag(takes_context=True)
def language_url(context, code):
    """The current page in another language, with the same query string."""
    request = context.get("request")
    if request is None:
        return "/" if code == "zh-hans" else f"/{code}/"
    return translate_url(request.get_full_path(), code)


ROLE_ORDER = ("founding_signatory", "member", "observer", "candidate", "suspended")


@register.inclusion_tag("includes/_chart.html", takes_context=True)
def membership_chart(context, memberships, caption=""):
    """One row per state, one bar per membership period coloured by role, years on the axis.

    Periods still open are drawn to the as-of date (the newest source's), where a line marks it:
    the catalog cannot tell what happened after."""
    from catalog.models import newest_source_date

    today = context.get("as_of") or newest_source_date()
    periods = []
    for membership in memberships:
        try:
            start = PartialDate.parse(membership.start).first_day()
            end = PartialDate.parse(membership.end).last_day() if membership.end else today
        except ValueError:
            continue
        periods.append((membership, start, max(end, start)))
    if not periods:
        return {"empty": True, "caption": caption}
    first_year = min(start.year for _m, start, _e in periods)
    last_year = max(today.year, max(end.year for _m, _s, end in periods))
    axis_start = datetime.date(first_year, 1, 1)
    axis_end = datetime.date(last_year + 1, 1, 1)
    label_width, plot_width, row_height, top = 170, 760, 30, 30
    span = (axis_end - axis_start).days

    def x(day):
        return round(label_width + (day - axis_start).days / span * plot_width, 1)

    rows, by_state = [], {}
    for membership, start, end in periods:
        state = membership.state
        if state.pk not in by_state:
            by_state[state.pk] = {"state": state, "bars": [], "y": 0}
            rows.append(by_state[state.pk])
        by_state[state.pk]["bars"].append(
            {
                "membership": membership,
                "x": x(start),
                "width": max(round(x(end) - x(start), 1), 2),
                "role": membership.role,
                "open": not membership.end,
                "end_x": x(end),
                "label": gettext("%(state)s: %(role)s, %(start)s–%(end)s")
                % {
                    "state": state.name,
                    "role": membership.get_role_display(),
                    "start": partial_date(membership.start),
                    "end": partial_date(membership.end)
                    or gettext("ongoing as of %(date)s") % {"date": partial_date(today.isoformat())},
                },
            }
        )
    for index, row in enumerate(rows):
        row["y"] = top + index * row_height
        row["label_y"] = row["y"] + 15
        for bar in row["bars"]:
            bar["y"] = row["y"] + 4
    years = last_year - first_year + 1
    step = 1 if years <= 12 else 5 if years <= 60 else 10
    ticks = [
        {"year": year, "x": x(datetime.date(year, 1, 1))}
        for year in range(first_year, last_year + 1)
        if year % step == 0 or year == first_year
    ]
    height = top + len(rows) * row_height + 10
    roles = {bar["role"] for row in rows for bar in row["bars"]}
    legend = [(role, label) for role, label in _role_labels() if role in roles]
    return {
        "empty": False,
        "caption": caption,
        "rows": rows,
        "ticks": ticks,
        "width": label_width + plot_width + 20,
        "height": height,
        "axis_bottom": height - 10,
        "legend": legend,
        "today_x": x(today),
        "as_of": today.isoformat(),
        "memberships": [membership for membership, _s, _e in periods],
    }


def _role_labels():
    from catalog.models import Role

    return [(role, Role(role).label) for role in ROLE_ORDER]


@register.filter
def verbose_name(record):
    return record._meta.verbose_name


@register.filter
def plural_name(record):
    return record._meta.verbose_name_plural


def other_language_label(tag):
    return gettext("(in English)") if tag == "en" else gettext("(in Chinese)")


def reader_text_html(instance, field, paragraphs=False):
    """`field` of `instance` in the reader's language as safe HTML; the other language's text,
    marked with its `lang` and a label saying which language it is, when only that one exists."""
    text, tag = reader_language_text(instance, field)
    if not text:
        return ""
    body = linebreaks(text, autoescape=True) if paragraphs else conditional_escape(text)
    if not tag:
        return mark_safe(body)
    element = "div" if paragraphs else "span"
    return format_html(
        '<{} class="other-language" lang="{}">{}</{}> <span class="language-label">{}</span>',
        element,
        tag,
        mark_safe(body),
        element,
        other_language_label(tag),
    )


@register.simple_tag
def reader_text(instance, field):
    """{% reader_text citation "note" %}: see `reader_text_html`."""
    return reader_text_html(instance, field)


@register.simple_tag
def list_separator():
    """Between the items of a list in running text: ", " in English, "、" in Chinese."""
    return ", " if reading_english() else "、"


@register.filter
def urlizetrunc_host(url):
    """A source's address shortened to its host and the start of its path, for a link's text."""
    text = unquote(url.split("://", 1)[-1])
    return text if len(text) <= 60 else text[:59] + "…"


@register.inclusion_tag("includes/_map.html", takes_context=True)
def member_map(context, memberships, as_of):
    """The region's map, each state coloured by its role in the year of `?year=` (the as-of year
    by default), with links to the other years and to each state."""
    from catalog.map import map_day, map_states, region

    memberships = list(memberships)
    years = sorted({int(m.start[:4]) for m in memberships if m.start[:4].isdigit()})
    if not years:
        return {"empty": True}
    years = list(range(years[0], as_of.year + 1))
    request = context.get("request")
    chosen = request.GET.get("year", "") if request else ""
    year = int(chosen) if chosen.isdigit() and int(chosen) in years else as_of.year
    day = map_day(year, as_of)
    entries = map_states(memberships, day)
    drawn = {entry.state.code.code for entry in entries}
    shapes = region()
    roles = {entry.role for entry in entries}
    return {
        "empty": False,
        "request": request,
        "years": years,
        "year": year,
        "day": day.isoformat(),
        "entries": entries,
        "land": [path for code, path in sorted(shapes["shapes"].items()) if code not in drawn],
        "width": shapes["width"],
        "height": shapes["height"],
        "source": shapes["source"],
        "legend": [(role, label) for role, label in _role_labels() if role in roles],
    }


@register.simple_tag
def clause_separator():
    """Between the parts of a reference: ", " in English, "，" in Chinese."""
    return ", " if reading_english() else "，"
