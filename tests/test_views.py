"""Public pages: what a reader sees on the home page, lists and detail pages, and what they cost."""

import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from catalog.models import Crisis, Exercise, ExerciseSeries, Membership, Milestone, Source, State, Summit
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


class Elements(HTMLParser):
    """Every element of a page as (tag, attributes, text inside it)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, html):
        super().__init__()
        self.found, self.open = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = [tag, dict(attrs), ""]
        self.found.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.found.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element[2] += data


def elements(response, tag, **attrs):
    html = response.content.decode()
    return [
        (found_attrs, " ".join(text.split()))
        for found_tag, found_attrs, text in Elements(html).found
        if found_tag == tag and all(found_attrs.get(key) == value for key, value in attrs.items())
    ]


def texts(response, tag, **attrs):
    return [text for _attrs, text in elements(response, tag, **attrs)]


def in_english(name, **kwargs):
    with translation.override("en"):
        return reverse(name, **kwargs)


@pytest.fixture
def catalog(db):
    """A small catalog: five states, memberships with Uzbekistan's two periods, a summit with an
    absentee, exercises in a series, a crisis whose sources disagree, a milestone."""
    ru, kz, uz, am, by = (make_state(code) for code in ("RU", "KZ", "UZ", "AM", "BY"))
    make_membership(ru, key="ru-founding", role="founding_signatory", start="1992-05-15")
    make_membership(kz, key="kz-member", role="member", start="1994-04-20")
    make_membership(uz, key="uz-member-1994", role="member", start="1994-04-20", end="1999-04")
    make_membership(uz, key="uz-member-2006", role="member", start="2006-08-16", end="2012-12")
    make_membership(am, key="am-member", role="member", start="1994-04-20")
    make_membership(by, key="by-observer", role="observer", start="2020-06")
    rubezh = ExerciseSeries.objects.create(key="rubezh", name_zh="防线", name_en="Rubezh")
    exercise = make_exercise(
        key="rubezh-2008",
        name_zh="防线-2008",
        name_en="Rubezh-2008",
        date="2008-07",
        troops=4000,
        series=rubezh,
        hosts=[kz],
        participants=[ru, kz, am],
    )
    summit = make_summit(
        key="moscow-2009",
        name_zh="莫斯科峰会",
        name_en="Moscow summit",
        date="2009-06-14",
        host=ru,
        participants=[ru, kz],
        absentees=[uz],
    )
    crisis = make_crisis(
        key="kazakhstan-2022",
        name_zh="哈萨克斯坦动乱",
        name_en="Kazakhstan unrest",
        start="2022-01-02",
        troops_deployed=2030,
        states=[kz],
        requested_by=[kz],
    )
    milestone = make_milestone(
        key="treaty-signed", name_zh="条约签署", name_en="Treaty signed", date="1992-05-15"
    )
    tass = make_source(key="tass", title="TASS report", published="2022-01-07")
    rfe = make_source(key="rfe", title="RFE report", published="2022-01-08")
    make_citation(crisis, tass, field="troops_deployed", quote="2,030 troops", section="Deployment")
    make_citation(
        crisis, rfe, field="troops_deployed", quote="about 2,500 troops", note_en="RFE counts more."
    )
    make_citation(exercise, tass, field="troops", quote="4,000 servicemen")
    return {"exercise": exercise, "summit": summit, "crisis": crisis, "milestone": milestone, "kz": kz}


def test_home_states_the_key_figures(client, catalog):
    response = client.get(reverse("catalog:home"))
    figures = dict(zip(texts(response, "dt"), texts(response, "dd"), strict=False))
    assert figures["现有成员国"] == "3"  # Russia, Kazakhstan, Armenia; Uzbekistan left in 2012
    assert figures["现有观察员国"] == "1"
    assert figures["峰会"] == "1"
    assert figures["演习"] == "1"
    assert figures["记录在案的危机"] == "1"


def test_home_chart_draws_one_linked_bar_per_period_coloured_by_role(client, catalog):
    response = client.get(reverse("catalog:home"))
    bars = elements(response, "rect")
    assert len(bars) == 6
    assert sorted(attrs["class"] for attrs, _text in bars).count("bar role-member") == 4
    links = [
        attrs["href"]
        for attrs, _text in elements(response, "a")
        if attrs.get("href", "").startswith("/memberships/")
    ]
    assert "/memberships/uz-member-2006/" in links
    assert "历年成员资格" in texts(response, "title")[1:]  # the chart <svg>'s own title


def test_state_page_chart_shows_only_that_state_with_a_table_alternative(client, catalog):
    response = client.get("/states/UZ/")
    bars = [attrs["aria-label"] for attrs, _t in elements(response, "a") if "aria-label" in attrs]
    assert bars == [
        "乌兹别克斯坦：成员国，1994年4月20日–1999年4月",
        "乌兹别克斯坦：成员国，2006年8月16日–2012年12月",
    ]
    summary_rows = [text for text in texts(response, "tr") if text.startswith("乌兹别克斯坦")]
    assert summary_rows == [
        "乌兹别克斯坦成员国1994年4月20日1999年4月",
        "乌兹别克斯坦成员国2006年8月16日2012年12月",
    ]
    assert texts(response, "desc")


def test_list_page_has_a_captioned_table_with_sortable_headers(client, catalog):
    response = client.get(reverse("catalog:exercise_list"), {"state": "KZ"})
    assert response.status_code == 200
    headers = elements(response, "th", scope="col")
    assert [attrs.get("aria-sort") for attrs, _t in headers] == ["none", "none", "none", None, "none"]
    sort_links = [attrs["href"] for attrs, _t in elements(response, "a") if "sort=" in attrs.get("href", "")]
    assert "?state=KZ&sort=troops" in sort_links
    assert texts(response, "caption") == ["1 次演习，涉及哈萨克斯坦"]


def test_clicking_a_sorted_column_again_sorts_descending(client, catalog):
    response = client.get(reverse("catalog:exercise_list"), {"sort": "troops"})
    troops_header = [
        attrs for attrs, text in elements(response, "th", scope="col") if text.startswith("兵力")
    ]
    assert troops_header[0]["aria-sort"] == "ascending"
    assert "?sort=-troops" in [attrs["href"] for attrs, _t in elements(response, "a")]


def test_pagination_links_keep_the_filters(client, catalog):
    kz = catalog["kz"]
    for n in range(55):
        make_exercise(key=f"extra-{n}", date="2010", hosts=[kz])
    response = client.get(reverse("catalog:exercise_list"), {"host": "KZ", "year_from": "2010"})
    assert "?host=KZ&year_from=2010&page=2" in [
        attrs["href"] for attrs, _t in elements(response, "a", rel="next")
    ]
    page_two = client.get(reverse("catalog:exercise_list"), {"host": "KZ", "year_from": "2010", "page": "2"})
    assert len(elements(page_two, "tr")) == 1 + 5


def test_page_number_out_of_range_shows_the_last_page(client, catalog):
    response = client.get(reverse("catalog:exercise_list"), {"page": "99"})
    assert response.status_code == 200
    assert texts(response, "th", scope="row") == ["防线-2008"]


def test_detail_page_numbers_citations_and_marks_the_fields_they_support(client, catalog):
    response = client.get(catalog["crisis"].get_absolute_url())
    assert [
        attrs["id"] for attrs, _t in elements(response, "li") if attrs.get("id", "").startswith("ref-")
    ] == [
        "ref-1",
        "ref-2",
    ]
    troops_row = [text for text in texts(response, "dd") if text.startswith("2,030")]
    assert troops_row == ["2,030[1][2]"]
    assert "2,030 troops" in texts(response, "blockquote")


def test_disagreeing_sources_show_both_claims_side_by_side(client, catalog):
    response = client.get(catalog["crisis"].get_absolute_url())
    claims = texts(response, "figure", **{"class": "claim"})
    assert len(claims) == 2
    assert claims[0].startswith("2,030 troops [1] TASS report")
    assert claims[1].startswith("about 2,500 troops [2] RFE report RFE counts more.")


def test_a_record_with_agreeing_sources_has_no_disagreement_block(client, catalog):
    response = client.get(catalog["exercise"].get_absolute_url())
    assert elements(response, "div", **{"class": "dispute"}) == []
    assert len(elements(response, "li", id="ref-1")) == 1


def test_detail_page_shows_last_changed_date_and_no_user(client, catalog, admin_user):
    crisis = catalog["crisis"]
    response = client.get(crisis.get_absolute_url())
    assert texts(response, "time", datetime=crisis.updated_at.strftime("%Y-%m-%d"))
    assert admin_user.username not in response.content.decode()


def test_state_page_links_its_memberships_summits_exercises_and_crises(client, catalog):
    response = client.get(reverse("catalog:state_detail", kwargs={"code": "uz"}))
    hrefs = {attrs["href"] for attrs, _t in elements(response, "a") if "href" in attrs}
    assert {"/memberships/uz-member-1994/", "/memberships/uz-member-2006/", "/summits/moscow-2009/"} <= hrefs
    assert "/exercises/rubezh-2008/" not in hrefs
    headings = texts(response, "h2")
    assert "缺席的峰会" in headings
    assert "主办的峰会" not in headings  # no empty sections


def test_exercise_page_links_its_states_and_series_and_states_link_back(client, catalog):
    response = client.get(catalog["exercise"].get_absolute_url())
    hrefs = {attrs["href"] for attrs, _t in elements(response, "a") if "href" in attrs}
    assert {"/states/KZ/", "/states/RU/", "/states/AM/", "/exercises/series/rubezh/"} <= hrefs
    state_page = client.get("/states/AM/")
    assert "/exercises/rubezh-2008/" in {attrs.get("href") for attrs, _t in elements(state_page, "a")}


def test_source_page_lists_every_record_and_claim_it_supports(client, catalog):
    response = client.get(reverse("catalog:source_detail", kwargs={"key": "tass"}))
    rows = texts(response, "th", scope="row")
    assert sorted(rows) == ["哈萨克斯坦动乱", "防线-2008"]
    assert "4,000 servicemen" in texts(response, "blockquote")
    assert "about 2,500 troops" not in response.content.decode()


def test_english_pages_show_english_names_and_interface(client, catalog):
    response = client.get(in_english("catalog:exercise_detail", kwargs={"key": "rubezh-2008"}))
    assert texts(response, "h1")[0].startswith("Rubezh-2008")
    assert texts(response, "html")[0]
    assert elements(response, "html")[0][0]["lang"] == "en"
    assert "Host states" in texts(response, "dt")


def test_language_switch_links_to_the_same_page_and_filters(client, catalog):
    response = client.get(reverse("catalog:exercise_list"), {"host": "KZ", "year_from": "2008"})
    switch = elements(response, "a", hreflang="en")
    assert [attrs["href"] for attrs, _t in switch] == ["/en/exercises/?host=KZ&year_from=2008"]
    english = client.get("/en/exercises/", {"host": "KZ"})
    assert [attrs["href"] for attrs, _t in elements(english, "a", hreflang="zh-Hans")] == [
        "/exercises/?host=KZ"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/states/XX/",
        "/exercises/no-such-exercise/",
        "/sources/nothing/",
        "/en/crises/nothing/",
        "/no/such/page/",
    ],
)
def test_unknown_keys_give_the_site_404_page(client, catalog, url):
    response = client.get(url)
    assert response.status_code == 404
    assert texts(response, "h1") in (["页面不存在"], ["Page not found"])
    assert elements(response, "nav", **{"class": "site-nav"})


def test_server_error_page_is_in_the_site_look(rf, catalog):
    from catalog.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "我们这边出了问题" in response.content.decode()


def test_no_page_carries_inline_styles_or_scripts(client, catalog):
    urls = [
        "/",
        "/states/",
        "/memberships/",
        "/summits/",
        "/exercises/",
        "/crises/",
        "/sources/",
        "/timeline/",
        "/states/KZ/",
        catalog["crisis"].get_absolute_url(),
        "/sources/tass/",
    ]
    for url in urls:
        html = client.get(url).content.decode()
        assert "style=" not in html, url
        assert "<style" not in html, url
        assert "<script" not in html, url


def test_every_form_control_has_a_label(client, catalog):
    for url in ("/exercises/", "/memberships/", "/timeline/"):
        response = client.get(url)
        label_targets = {attrs.get("for") for attrs, _t in elements(response, "label")}
        controls = elements(response, "input") + elements(response, "select")
        for attrs, _t in controls:
            if attrs.get("type") != "hidden" and attrs.get("type") != "checkbox":
                assert attrs["id"] in label_targets, (url, attrs)


def test_sitemap_lists_every_record_in_both_languages(client, catalog):
    index = client.get("/sitemap.xml").content.decode()
    assert "<sitemapindex" in index
    locations = []
    for section in re.findall(r"<loc>http://testserver(.*?)</loc>", index):
        response = client.get(section.replace("&amp;", "&"))
        assert response.status_code == 200, section
        locations += re.findall(r"<loc>http://testserver(.*?)</loc>", response.content.decode())
    assert "/crises/kazakhstan-2022/" in locations
    assert "/en/crises/kazakhstan-2022/" in locations
    assert "/states/UZ/" in locations and "/en/states/UZ/" in locations
    assert "/sources/rfe/" in locations


def test_a_sitemap_page_gives_each_url_with_the_day_its_record_last_changed(client, catalog):
    response = client.get("/sitemap-crisis-en.xml")
    assert response["Content-Type"] == "application/xml"
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = ElementTree.fromstring(response.content).findall("s:url", namespace)
    lastmod = {
        url.findtext("s:loc", namespaces=namespace): url.findtext("s:lastmod", namespaces=namespace)
        for url in urls
    }
    crisis = Crisis.objects.get(key="kazakhstan-2022")
    assert lastmod["http://testserver/en/crises/kazakhstan-2022/"] == crisis.updated_at.date().isoformat()
    assert len(lastmod) == Crisis.objects.count()


def test_robots_txt_points_at_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


# --- Query counts: the same whatever the number of records ------------------------------------


def grow(count):
    """`count` more of every kind, all tied to the same states and sources."""
    states = [make_state(f"Q{chr(65 + n)}") for n in range(5)]
    source = make_source()
    series = ExerciseSeries.objects.create(key=f"series-{count}", name_zh="系列", name_en="Series")
    for n in range(count):
        state = states[n % 5]
        make_membership(state, role="observer", start=f"{1995 + n % 20}", end=f"{1996 + n % 20}")
        exercise = make_exercise(series=series, troops=n, hosts=[state], participants=states[:3])
        make_summit(host=state, participants=states[:2], absentees=[states[4]])
        crisis = make_crisis(states=[state], requested_by=[state])
        make_milestone(states=[state])
        make_citation(exercise, source, field="troops", quote=f"quote {n}")
        make_citation(crisis, source, quote=f"quote {n}")
        make_citation(state, source, quote=f"state quote {n}") if n < 5 else None


def query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


PAGES = [
    "/",
    "/states/",
    "/memberships/",
    "/memberships/?in_force=2010&kind=member",
    "/summits/",
    "/exercises/",
    "/exercises/?state=KZ&year_from=2000&sort=-troops",
    "/crises/",
    "/sources/",
    "/timeline/",
    "/en/timeline/?state=KZ",
    "/states/KZ/",
    "/exercises/rubezh-2008/",
    "/exercises/series/rubezh/",
    "/summits/moscow-2009/",
    "/crises/kazakhstan-2022/",
    "/memberships/uz-member-2006/",
    "/milestones/treaty-signed/",
    "/sources/tass/",
    "/sitemap.xml",
]


def test_every_page_costs_the_same_queries_with_few_and_with_hundreds_of_records(client, catalog):
    """Measured once with the small catalog and again after adding 300 more records of each
    kind that link to the same states, series and sources. A first round fills the content
    type cache, which costs one query per kind once per process."""
    for url in PAGES:
        query_count(client, url)
    few = {url: query_count(client, url) for url in PAGES}
    grow(300)
    many = {url: query_count(client, url) for url in PAGES}
    assert many == few
    assert max(few.values()) <= 15  # including the catalog-version query of the page cache


def test_long_text_shows_as_paragraphs_with_markup_escaped(client, db):
    exercise = make_exercise(description_zh="第一阶段在亚美尼亚。\n\n第二阶段<b>在莫斯科</b>。")
    response = client.get(exercise.get_absolute_url())
    html = response.content.decode()
    assert "<p>第一阶段在亚美尼亚。</p>" in html
    assert "<p>第二阶段&lt;b&gt;在莫斯科&lt;/b&gt;。</p>" in html
    assert "&lt;p&gt;" not in html


def test_citations_on_the_record_as_a_whole_are_not_shown_as_a_disagreement(client, db):
    exercise = make_exercise()
    make_citation(exercise, quote="第一段原文", note_en="另一种说法")
    make_citation(exercise, quote="第二段原文")
    response = client.get(exercise.get_absolute_url())
    assert texts(response, "div", **{"class": "dispute"}) == []
    assert len(texts(response, "blockquote", **{"class": "quote"})) == 2


def test_one_field_backed_by_sources_that_differ_shows_both_claims(client, db):
    exercise = make_exercise(troops=10000)
    make_citation(exercise, quote="包括10000多名士兵", field="troops")
    make_citation(exercise, quote="涉及 1.2万多名士兵，12000人", field="troops")
    response = client.get(exercise.get_absolute_url())
    disputes = texts(response, "div", **{"class": "dispute"})
    assert len(disputes) == 1
    assert "包括10000多名士兵" in disputes[0] and "12000人" in disputes[0]


def test_sources_giving_one_number_in_two_forms_do_not_differ(client, db):
    exercise = make_exercise(troops=10000)
    make_citation(exercise, quote="包括10000多名士兵", field="troops")
    make_citation(exercise, quote="涉及 1万多名士兵", field="troops", note_en="说法为1万多名")
    response = client.get(exercise.get_absolute_url())
    assert texts(response, "div", **{"class": "dispute"}) == []
    assert texts(response, "h3") == []


def test_every_page_of_the_shipped_catalog_answers_in_both_languages(client, shipped_catalog):
    records = [
        record
        for model in (State, Membership, Summit, ExerciseSeries, Exercise, Crisis, Milestone, Source)
        for record in model.objects.all()
    ]
    lists = ["home", "state_list", "membership_list", "summit_list", "exercise_list", "crisis_list"]
    lists += ["source_list", "timeline", "organization"]
    failures = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            urls = [reverse(f"catalog:{name}") for name in lists]
            urls += [record.get_absolute_url() for record in records]
        failures += [url for url in urls if client.get(url).status_code != 200]
    assert len(records) == 124
    assert failures == []
