"""What a reader does in a real browser: filter, sort, follow citations, switch language; and
axe-core's verdict on every kind of page."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect


def test_reader_filters_exercises_by_host_and_year_sorts_by_troops_and_follows_a_citation(page, site):
    page.goto(site("/en/exercises/"))
    page.get_by_label("Host state").select_option("KZ")
    page.get_by_label("From year").fill("2008")
    page.get_by_label("To year").fill("2014")
    page.get_by_role("button", name="Apply filters").click()

    expect(page.locator("#results-heading")).to_have_text("2 exercises, hosted by Kazakhstan, 2008–2014")
    page.get_by_role("link", name="Troops").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Troops ▲")
    page.locator("th[aria-sort=ascending] a").click()  # a second click sorts descending
    expect(page).to_have_url(re.compile(r"sort=-troops"))
    rows = page.locator("table.records tbody th")
    expect(rows).to_have_text(["Rubezh 2008", "Rubezh 2012"])  # 4000 troops, then 2500

    rows.first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Rubezh 2008")
    page.locator("dd sup.marker a").first.click()
    expect(page).to_have_url(re.compile(r"#ref-1$"))
    expect(page.locator("#ref-1")).to_contain_text("4000 servicemen took part")
    page.locator("#ref-1").get_by_role("link", name="TASS: Rubezh exercise opens").click()
    expect(page.locator("h1")).to_have_text("TASS: Rubezh exercise opens")
    expect(page.locator("table.records")).to_contain_text("4000 servicemen took part")


def test_reader_compares_the_members_in_force_in_2010_and_2013(page, site):
    page.goto(site("/en/memberships/"))
    page.get_by_label("In force on").fill("2010")
    page.get_by_label(re.compile(r"^Role")).select_option("member")
    page.get_by_role("button", name="Apply filters").click()
    states = page.locator("table.records tbody th")
    expect(states).to_have_text(["Armenia", "Kazakhstan", "Kyrgyzstan", "Uzbekistan"])

    page.get_by_label("In force on").fill("2013")
    page.get_by_role("button", name="Apply filters").click()
    expect(states).to_have_text(["Armenia", "Kazakhstan", "Kyrgyzstan"])
    expect(page.locator("#results-heading")).to_contain_text("in force in 2013")


def test_reader_switches_to_english_on_a_filtered_list_and_keeps_the_filters(page, site):
    page.goto(site("/exercises/?host=KZ&year_from=2010"))
    expect(page.locator("#results-heading")).to_have_text("2 次演习，东道国：哈萨克斯坦，2010年起")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(site("/en/exercises/?host=KZ&year_from=2010"))
    expect(page.locator("#results-heading")).to_have_text("2 exercises, hosted by Kazakhstan, from 2010")
    expect(page.get_by_label("From year")).to_have_value("2010")
    page.get_by_role("link", name="中文").click()
    expect(page).to_have_url(site("/exercises/?host=KZ&year_from=2010"))


def test_an_invalid_filter_is_reported_beside_its_field(page, site):
    page.goto(site("/en/exercises/?year_from=abc"))
    expect(page.locator("#id_year_from_error")).to_have_text("Enter a whole number.")
    expect(page.locator("table.records")).to_have_count(0)


PAGES = [
    "/",
    "/states/",
    "/memberships/",
    "/summits/",
    "/exercises/",
    "/crises/",
    "/sources/",
    "/timeline/",
    "/states/KZ/",
    "/memberships/uz-member-2006/",
    "/summits/moscow-2009/",
    "/exercises/rubezh-2008/",
    "/exercises/series/rubezh/",
    "/crises/kazakhstan-2022/",
    "/milestones/treaty-signed/",
    "/sources/tass-2008/",
    "/en/exercises/?year_from=abc",
    "/en/no-such-page/",
]


def test_axe_finds_no_serious_or_critical_violation_on_any_kind_of_page(page, site):
    axe = Axe()
    found = {}
    for path in PAGES:
        page.goto(site(path))
        results = axe.run(page)
        serious = [
            f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path] = serious
    assert found == {}


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_screen_without_sideways_scrolling(page, site, width):
    page.set_viewport_size({"width": width, "height": 900})
    for path in ("/", "/exercises/", "/crises/kazakhstan-2022/", "/timeline/"):
        page.goto(site(path))
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, path
