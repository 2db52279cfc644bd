"""The timeline: every dated event in one chronological list, grouped by year."""

import pytest
from django.urls import reverse

from tests.factories import (
    make_crisis,
    make_exercise,
    make_membership,
    make_milestone,
    make_state,
    make_summit,
)
from tests.test_views import elements, texts


@pytest.fixture
def events(db):
    kz, uz, ru = make_state("KZ"), make_state("UZ"), make_state("RU")
    make_membership(uz, key="uz-2006", start="2006-08-16", end="2012-12")
    make_summit(key="summit-2006", name_zh="明斯克峰会", date="2006-06-23", host=ru)
    make_exercise(key="rubezh-2006", name_zh="防线-2006", date="2006", hosts=[kz])
    make_crisis(
        key="crisis-2010", name_zh="吉尔吉斯斯坦骚乱", start="2010-06", response="declined", states=[]
    )
    make_milestone(key="charter", name_zh="章程生效", date="2003-09-18", kind="charter")
    return {"kz": kz, "uz": uz}


def timeline(client, **params):
    return client.get(reverse("catalog:timeline"), params)


def test_events_of_every_kind_are_grouped_by_year_in_date_order(client, events):
    response = timeline(client)
    assert texts(response, "h2")[-4:] == ["2003", "2006", "2010", "2012"]
    dates = [attrs["datetime"] for attrs, _t in elements(response, "time")]
    assert dates == ["2003-09-18", "2006", "2006-06-23", "2006-08-16", "2010-06", "2012-12"]
    assert "乌兹别克斯坦：成员国时期结束" in texts(response, "a")
    assert texts(response, "p", role="status") == ["6 个事件"]


def test_filtering_by_kind_keeps_only_those_events(client, events):
    response = timeline(client, kind=["summit", "crisis"])
    links = [attrs["href"] for attrs, _t in elements(response, "a") if attrs.get("href", "").count("/") == 3]
    events = [href for href in links if href.startswith(("/summits/", "/crises/", "/exercises/"))]
    assert [href for href in events if href != "/exercises/series/"] == [
        "/summits/summit-2006/",
        "/crises/crisis-2010/",
    ]


def test_filtering_by_state_keeps_events_that_involve_it(client, events):
    response = timeline(client, state="UZ")
    assert [attrs["datetime"] for attrs, _t in elements(response, "time")] == ["2006-08-16", "2012-12"]
    response = timeline(client, state="KZ")
    assert [attrs["datetime"] for attrs, _t in elements(response, "time")] == ["2006"]


def test_year_range_limits_the_years_shown(client, events):
    response = timeline(client, year_from="2006", year_to="2010")
    assert [
        attrs["id"] for attrs, _t in elements(response, "h2") if attrs.get("id", "").startswith("year-")
    ] == [
        "year-2006",
        "year-2010",
    ]


def test_each_year_counts_its_events_whatever_the_precision_of_their_dates(client, db):
    dates = ["2007-12-31", "2008", "2008-05", "2008-05-12", "2008-05-12", "2009", "2012-01"]
    for n, date in enumerate(dates):
        make_exercise(key=f"exercise-{n}", date=date)
    response = timeline(client, year_from="2008", year_to="2011")
    assert response.context["event_count"] == 5
    assert [(w.first, w.last, w.count) for w in response.context["windows"]] == [(2008, 2009, 5)]
    assert texts(response, "p", role="status") == ["5 个事件"]


def test_an_invalid_timeline_filter_shows_an_error_and_no_events(client, events):
    response = timeline(client, year_from="soon", state="XX")
    assert response.status_code == 200
    assert len(texts(response, "p", id="id_year_from_error")) == 1
    assert len(texts(response, "p", id="id_state_error")) == 1
    assert elements(response, "time") == []


def test_milestones_have_their_own_detail_page_linked_from_the_timeline(client, events):
    response = timeline(client, kind="milestone")
    assert [
        attrs["href"]
        for attrs, _t in elements(response, "a")
        if attrs.get("href", "").startswith("/milestones/")
    ] == ["/milestones/", "/milestones/charter/"]  # the menu's list, then the event
    detail = client.get("/milestones/charter/")
    assert texts(detail, "h1")[0].startswith("章程生效")
    assert "章程与组织" in texts(detail, "dd")
