"""The member map, the one search, the milestones list and the phone layout in a real browser,
in both languages at 1280 and 390 pixels, with axe-core's verdict."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

WIDTHS = (1280, 390)


def test_reader_picks_a_year_on_the_map_and_follows_a_state(page, site):
    page.goto(site("/en/"))
    expect(page.locator("#map-caption")).to_have_text(re.compile(r"^Members and partners on \d+ \w+ 20\d\d$"))
    page.locator(".map-years").get_by_role("link", name="2000", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?year=2000#map$"))
    expect(page.locator("#map-caption")).to_have_text("Members and partners on 31 December 2000")
    # Uzbekistan left in 1999: no role in 2000; Kazakhstan was a member.
    expect(page.locator('.map a[aria-label="Uzbekistan: no role"]')).to_have_count(1)
    expect(page.locator('.map a[aria-label="Kazakhstan: member"] path')).to_have_class(
        "map-state role-member"
    )
    page.locator('.map a[aria-label="Kazakhstan: member"]').click()
    expect(page.locator("h1")).to_contain_text("Kazakhstan")


def test_map_on_the_states_list_keeps_the_list_filters(page, site):
    page.goto(site("/en/states/?kind=member"))
    page.locator(".map-years").get_by_role("link", name="1995", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=member&year=1995"))
    expect(page.locator("#results-heading")).to_contain_text("member only")


def test_reader_searches_from_the_header_and_sees_results_by_kind(page, site):
    page.goto(site("/en/exercises/"))
    page.get_by_role("searchbox", name="Search the whole site").fill("rubezh")
    page.get_by_role("button", name="Search", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/en/search/\?q=rubezh"))
    expect(page.locator("main h2")).to_have_text(["Exercise series", "Exercises", "Sources"])
    expect(page.locator("main mark").first).to_have_text(re.compile("Rubezh", re.I))
    page.get_by_role("link", name=re.compile("^Rubezh 2008")).click()
    expect(page.locator("h1")).to_contain_text("Rubezh 2008")


def test_reader_filters_milestones_and_removes_a_filter_chip(page, site):
    page.goto(site("/en/milestones/"))
    expect(page.locator("table.records tbody th")).to_have_text(["Treaty signed"])
    page.locator(".facet-list").get_by_role("link", name="treaty").click()
    chip = page.locator("a.chip")
    expect(chip).to_have_text("Remove the filter Kind: treaty ×")
    chip.click()
    expect(page.locator("a.chip")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/en/milestones/\??$"))


@pytest.mark.parametrize("language", ["", "/en"])
def test_on_a_phone_list_results_come_before_the_filters_and_the_chart_scrolls(page, site, language):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site(f"{language}/memberships/"))
    results = page.locator("#results-heading").bounding_box()
    filters = page.locator(".filter-panel").bounding_box()
    assert results["y"] < 400 < filters["y"]
    page.goto(site(f"{language}/"))
    scroller = page.locator(".chart-scroll")
    scroller.scroll_into_view_if_needed()
    widths = scroller.evaluate("element => [element.scrollWidth, element.clientWidth]")
    assert widths[0] > widths[1]  # the whole chart is there, sideways within its box
    scroller.evaluate("element => element.scrollTo(element.scrollWidth, 0)")
    expect(page.locator(".as-of line")).to_be_in_viewport()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


PAGES = (
    "/",
    "/?year=2000",
    "/states/",
    "/search/?q=rubezh",
    "/search/?q=rubezh&kind=exercise",
    "/milestones/",
    "/milestones/?kind=treaty",
    "/exercises/series/",
    "/sources/tass-2008/",
    "/exercises/rubezh-2008/",
)


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_serious_violation_on_the_new_pages_in_both_languages(page, site, width):
    page.set_viewport_size({"width": width, "height": 900})
    axe = Axe()
    found = {}
    for language in ("", "/en"):
        for path in PAGES:
            page.goto(site(language + path))
            violations = axe.run(page).response["violations"]
            serious = [
                f"{violation['id']} ({violation['impact']})"
                for violation in violations
                if violation["impact"] in ("serious", "critical")
            ]
            if serious:
                found[language + path] = serious
    assert found == {}
