"""Small record builders with defaults; tests override only what they are about."""

import itertools
import json

from django.core.management import call_command

from catalog.models import (
    Citation,
    Crisis,
    Exercise,
    Membership,
    Milestone,
    OrganizationFact,
    Source,
    State,
    Summit,
)

_serial = itertools.count(1)


def make_source(**kwargs):
    n = next(_serial)
    defaults = {
        "key": f"source-{n}",
        "kind": "news",
        "title": f"Source {n}",
        "publisher": "Publisher",
        "published": "2022-01-07",
        "language": "zh-hans",
    }
    return Source.objects.create(**{**defaults, **kwargs})


STATE_NAMES = {
    "RU": ("俄罗斯", "Russia"),
    "AM": ("亚美尼亚", "Armenia"),
    "BY": ("白俄罗斯", "Belarus"),
    "KZ": ("哈萨克斯坦", "Kazakhstan"),
    "KG": ("吉尔吉斯斯坦", "Kyrgyzstan"),
    "TJ": ("塔吉克斯坦", "Tajikistan"),
    "UZ": ("乌兹别克斯坦", "Uzbekistan"),
    "AZ": ("阿塞拜疆", "Azerbaijan"),
    "GE": ("格鲁吉亚", "Georgia"),
}


def make_state(code="KZ", **kwargs):
    name_zh, name_en = STATE_NAMES.get(code, (f"国家{code}", f"State {code}"))
    defaults = {"code": code, "name_zh": name_zh, "name_en": name_en}
    return State.objects.create(**{**defaults, **kwargs})


def make_membership(state=None, **kwargs):
    state = state or make_state()
    n = next(_serial)
    defaults = {"key": f"{state.code.code.lower()}-member-{n}", "role": "member", "start": "2002"}
    return Membership.objects.create(state=state, **{**defaults, **kwargs})


def _keyed(model, prefix, defaults, kwargs):
    n = next(_serial)
    base = {"key": f"{prefix}-{n}", "name_zh": f"{prefix}{n}", "name_en": f"{prefix.title()} {n}"}
    m2m = {name: kwargs.pop(name) for name in list(kwargs) if isinstance(kwargs[name], list | tuple)}
    record = model.objects.create(**{**base, **defaults, **kwargs})
    for name, values in m2m.items():
        getattr(record, name).set(values)
    return record


def make_summit(**kwargs):
    return _keyed(Summit, "summit", {"date": "2009-06-14", "kind": "regular"}, kwargs)


def make_exercise(**kwargs):
    return _keyed(Exercise, "exercise", {"date": "2008-07"}, kwargs)


def make_crisis(**kwargs):
    return _keyed(Crisis, "crisis", {"start": "2022-01", "response": "deployed"}, kwargs)


def make_milestone(**kwargs):
    return _keyed(Milestone, "milestone", {"date": "1994-04-20", "kind": "treaty"}, kwargs)


def make_fact(**kwargs):
    return _keyed(OrganizationFact, "fact", {"topic": "aims"}, kwargs)


def make_citation(record, source=None, **kwargs):
    defaults = {"quote": "一段原文", "section": ""}
    return Citation.objects.create(record=record, source=source or make_source(), **{**defaults, **kwargs})


def dumped_exercise(exercise, **fields):
    """A row of an older dump of `exercise`: its key and name as they are, and `fields`."""
    fields = {"key": exercise.key, "name_zh": exercise.name_zh, "date": "2014", **fields}
    return {"model": "catalog.exercise", "pk": exercise.pk, "fields": fields}


def load_dump(directory, *rows):
    """`loaddata` of a dump holding `rows` (dicts as `dumpdata` writes them), written in `directory`."""
    dump = directory / "dump.json"
    dump.write_text(json.dumps(list(rows)), encoding="utf-8")
    call_command("loaddata", str(dump), verbosity=0)
