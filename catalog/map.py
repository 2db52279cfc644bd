"""The member map: the region's countries (static/map/region.json, built once by
scripts/build_map.py from Natural Earth) coloured by the role each state held in a year."""

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from .dates import PartialDate

SHAPES_FILE = Path(settings.BASE_DIR, "static", "map", "region.json")


@cache
def region():
    """{"source", "width", "height", "shapes": {ISO code: SVG path}}, read once per process."""
    return json.loads(SHAPES_FILE.read_text(encoding="utf-8"))


@dataclass
class MapState:
    state: object
    role: str  # "" when the state held no role that day
    role_label: str
    membership: object
    path: str


def role_on(memberships, day):
    """The membership period of those given that covers `day`, the latest-starting one if several."""
    covering = []
    for membership in memberships:
        try:
            start = PartialDate.parse(membership.start).first_day()
            end = PartialDate.parse(membership.end).last_day() if membership.end else None
        except ValueError:
            continue
        if start <= day and (end is None or day <= end):
            covering.append((start, membership.pk, membership))
    return max(covering, key=lambda item: item[:2])[2] if covering else None


def map_day(year, as_of):
    """The day a year's map shows: 31 December, or the as-of date in its own year."""
    if year >= as_of.year:
        return as_of
    return datetime.date(year, 12, 31)


def periods_by_state(memberships):
    """{state id: [its periods]} of a list of membership periods."""
    by_state = {}
    for membership in memberships:
        by_state.setdefault(membership.state_id, []).append(membership)
    return by_state


def map_states(memberships, day):
    """One entry per state that has a shape and at least one membership period, in name order."""
    shapes = region()["shapes"]
    entries = []
    for periods in periods_by_state(memberships).values():
        state = periods[0].state
        path = shapes.get(state.code.code)
        if not path:
            continue
        current = role_on(periods, day)
        entries.append(
            MapState(
                state=state,
                role=current.role if current else "",
                role_label=current.get_role_display() if current else "",
                membership=current,
                path=path,
            )
        )
    return sorted(entries, key=lambda entry: entry.state.name)
