"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

import os
import shutil

import pytest
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
expect_timeout = expect.set_options and (lambda ms: expect.set_options(timeout=ms))

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is missing: `make browser` installs it")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(autouse=True)
def quick_failures(page):
    """Every page here answers in milliseconds; fail in seconds rather than after half a minute."""
    page.set_default_timeout(8000)
    expect_timeout(8000)


@pytest.fixture
def site(live_server, transactional_db):
    """A small catalog behind the live server; returns a function that makes absolute URLs."""
    from catalog.models import ExerciseSeries
    from tests.factories import (
        make_citation,
        make_crisis,
        make_exercise,
        make_membership,
        make_milestone,
        make_source,
        make_state,
        make_summit,
    )

    ru, kz, uz, am, kg = (make_state(code) for code in ("RU", "KZ", "UZ", "AM", "KG"))
    make_membership(ru, key="ru-founding", role="founding_signatory", start="1992-05-15")
    make_membership(kz, key="kz-member", start="1994-04-20")
    make_membership(am, key="am-member", start="1994-04-20")
    make_membership(kg, key="kg-member", start="1994-04-20")
    make_membership(uz, key="uz-member-1994", start="1994-04-20", end="1999-04")
    make_membership(uz, key="uz-member-2006", start="2006-08-16", end="2012-12")
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    tass = make_source(key="tass-2008", title="TASS: Rubezh exercise opens", published="2008-07-22")
    exercises = [
        ("rubezh-2004", "2004-08", 1700, kg),
        ("rubezh-2008", "2008-07", 4000, kz),
        ("rubezh-2012", "2012-09", 2500, kz),
        ("rubezh-2016", "2016-05", 3000, kz),
        ("kanal-2010", "2010-10", 9000, ru),
    ]
    for key, date, troops, host in exercises:
        exercise = make_exercise(
            key=key,
            name_zh=f"演习 {key}",
            name_en=key.replace("-", " ").title(),
            date=date,
            troops=troops,
            series=rubezh if key.startswith("rubezh") else None,
            hosts=[host],
            participants=[ru, kz, host],
        )
        make_citation(
            exercise, tass, field="troops", quote=f"{troops} servicemen took part", section="Forces"
        )
    summit = make_summit(
        key="moscow-2009", name_en="Moscow summit", host=ru, participants=[ru, kz], absentees=[uz]
    )
    crisis = make_crisis(
        key="kazakhstan-2022",
        name_zh="哈萨克斯坦动乱",
        name_en="Kazakhstan unrest",
        states=[kz],
        troops_deployed=2030,
    )
    rfe = make_source(key="rfe-2022", title="RFE: peacekeepers", published="2022-01-10")
    make_citation(crisis, tass, field="troops_deployed", quote="2,030 troops")
    make_citation(
        crisis, rfe, field="troops_deployed", quote="about 2,500 troops", note_en="RFE counts more."
    )
    milestone = make_milestone(
        key="treaty-signed", name_zh="条约签署", name_en="Treaty signed", date="1992-05-15"
    )
    make_citation(summit, rfe, quote="The council met in Moscow.")
    make_citation(milestone, tass, quote="The treaty was signed in Tashkent.")

    def url(path):
        return live_server.url + path

    return url
