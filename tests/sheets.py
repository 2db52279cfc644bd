"""Helpers shared by the spreadsheet tests: a varied catalog from the builders, and a
snapshot of the catalog by natural keys (no database ids) to compare two databases."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import models

from catalog.management.commands.load_catalog import CATALOG_MODELS
from catalog.models import (
    Citation,
    ExerciseSeries,
    State,
)
from tests.factories import (
    make_citation,
    make_crisis,
    make_exercise,
    make_fact,
    make_membership,
    make_milestone,
    make_source,
    make_state,
    make_summit,
)

# Texts a spreadsheet program would turn into something else, or that XML cannot carry as is.
AWKWARD_TEXTS = [
    "0123",
    "1e5",
    "TRUE",
    "=SUM(A1:A2)",
    "http://example.com",
    "<r><t>markup</t></r>",
    "a & b < c > d",
    "  leading spaces",
    "trailing space ",
    " ",
    "line\nbreak",
    "crlf\r\nline",
    "\ttab first",
    "bell\x07 and\x01\x1f",
    "_x0041_ looks like an escape",
    "_x005F_",
    "中文文本，全角标点。",
    "\u3000全角空格\u3000",
    "emoji 😀",
    "quote \" and ' apostrophe",
]


# Dependents first, so deleting never trips a protected foreign key: the order load_catalog deletes in.
DELETE_ORDER = CATALOG_MODELS
SKIPPED_FIELDS = {"id", "updated_at"}


def natural(value):
    if value is None:
        return None
    if isinstance(value, State):
        return value.code.code
    if hasattr(value, "natural_key"):
        return value.natural_key()[0]
    return value


def snapshot():
    """Every catalog record as plain values keyed by natural keys, relations by natural keys."""
    result = {}
    for model in DELETE_ORDER:
        rows = []
        for record in model.objects.all():
            row = {}
            for field in model._meta.get_fields():
                if field.name in SKIPPED_FIELDS or field.auto_created or not field.concrete:
                    continue
                if isinstance(field, models.ManyToManyField):
                    row[field.name] = sorted(natural(state) for state in getattr(record, field.name).all())
                elif field.is_relation:
                    row[field.name] = natural(getattr(record, field.name))
                else:
                    row[field.name] = str(getattr(record, field.attname))
            if model is Citation:
                row["object_id"] = natural(record.record)
                row["content_type"] = record.content_type.model
            rows.append(row)
        result[model.__name__] = sorted(rows, key=repr)
    return result


def empty_catalog():
    for model in DELETE_ORDER:
        model.objects.all().delete()


def build_catalog():
    """A small catalog touching every kind, relation and awkward value the sheets carry."""
    ru, am, by, kz = (make_state(code) for code in ("RU", "AM", "BY", "KZ"))
    ru.parliament_en = '=HYPERLINK("http://example.com")'
    ru.save()
    news = make_source(key="tass-2008", title="+7 headline", published="2008-07")
    book = make_source(key="handbook", kind="encyclopedia", title="Handbook", published="", language="en")
    make_membership(state=am, key="am-member", start="1994-04-20", end="", ratified="1994")
    make_membership(state=by, key="by-member", start="1994", note_en="-withdrew from nothing")
    series = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh", first_year=2004)
    exercise = make_exercise(
        key="rubezh-2008",
        series=series,
        date="2008-07",
        end_date="2008-08",
        hosts=[am],
        participants=[ru, am, kz],
        troops=4000,
        aircraft=0,
        description_en="<script>alert(1)</script>",
    )
    summit = make_summit(
        key="dushanbe-2008", host=kz, participants=[ru, kz], absentees=[by], city_en="@Dushanbe"
    )
    crisis = make_crisis(
        key="kz-2022", start="2022-01", end="2022-01-13", states=[kz], requested_by=[kz], troops_deployed=2030
    )
    milestone = make_milestone(key="treaty", states=[ru, am, by, kz], date="1992-05-15")
    make_citation(exercise, news, quote="4,000 troops", field="troops", section="§1")
    make_citation(exercise, book, quote="=A1 the exercise", note_en="disagrees with TASS")
    make_citation(summit, news, quote="Summit held")
    make_citation(crisis, book, quote="第一段")
    make_citation(milestone, news, quote="Treaty signed", field="date")
    make_citation(kz, book, quote="Kazakhstan joined")
    fact = make_fact(
        key="headquarters", topic="bodies", name_en="-Headquarters", description_zh="总部设在莫斯科"
    )
    make_citation(fact, news, quote="该组织总部设在俄罗斯首都莫斯科", translation_en="=Moscow")


def fixtures_present():
    return any(Path(settings.BASE_DIR, "fixtures").glob("*.json"))


@pytest.fixture(params=["builders", "shipped"])
def any_catalog(request, db):
    """The builders' catalog always; the shipped fixtures once they are in fixtures/."""
    if request.param == "shipped":
        if not fixtures_present():
            pytest.skip("fixtures/ holds no catalog yet")
        request.getfixturevalue("shipped_catalog")
    else:
        build_catalog()
