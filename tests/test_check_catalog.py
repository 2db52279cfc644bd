"""check_catalog: what counts as a quote containing a value, and one failing case per rule."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from catalog.checks import (
    check_catalog,
    described_claims,
    quote_contains_date,
    quote_contains_number,
    quote_is_from_table,
    role_stated,
)
from catalog.models import Citation
from tests.factories import (
    make_citation,
    make_crisis,
    make_exercise,
    make_fact,
    make_membership,
    make_milestone,
    make_source,
    make_state,
)


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("莫斯科于2022 年 1 月 6 日派出了第一支", "2022-01-06"),
        ("2022年1月6日", "2022-01-06"),
        ("2009年7月31日至8月1日", "2009-08-01"),
        ("2008 年 7 月：在亚美尼亚", "2008-07"),
        ("1993：三个后苏联国家", "1993"),
        ("Reuters, 20 August 2010", "2010-08-20"),
        ("date: Sun, 09 Jan 2022 04:45:17 GMT", "2022-01-09"),
    ],
)
def test_a_quote_contains_a_date_written_the_chinese_or_english_way(quote, value):
    assert quote_contains_date(quote, value) is True


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("2022 年 1 月 6 日", "2022-01-16"),
        ("2022 年 1 月 6 日", "2022-11-06"),
        ("1月6日派出", "2022-01-06"),
        ("20021年", "2002"),
        ("2008 年 7 月", "2008-06"),
        ("date: Sun, 09 Jan 2022 04:45:17 GMT", "2022-01-04"),
    ],
)
def test_a_quote_does_not_contain_a_date_it_does_not_state(quote, value):
    assert quote_contains_date(quote, value) is False


@pytest.mark.parametrize(
    ("quote", "value", "expected"),
    [
        ("涉及 1万多名士兵", 10000, True),
        ("有近3萬人", 30000, True),
        ("包括10000多名士兵", 10000, True),
        ("10,000 soldiers", 10000, True),
        ("将部署2500名", 2500, True),
        ("将部署12500名", 2500, False),
        ("涉及 1万多名士兵", 1000, False),
        ("4000 名士兵", 400, False),
    ],
)
def test_a_quote_contains_a_number_in_digits_or_wan_form(quote, value, expected):
    assert quote_contains_number(quote, value) is expected


def run_check(capsys):
    with pytest.raises(CommandError) as raised:
        call_command("check_catalog")
    return str(raised.value), capsys.readouterr().err


def test_a_record_without_a_citation_fails_the_check_by_name(db, capsys):
    make_milestone(key="lonely", date="1994")
    make_citation(make_state("AM"), quote="亚美尼亚")

    summary, errors = run_check(capsys)

    assert summary == "Checked 2 records and 1 citations: 1 problem."
    assert errors.strip() == "milestone lonely: has no citation"


def test_a_citation_with_an_empty_quote_fails_the_check(db, capsys):
    citation = make_citation(make_state("AM"), quote="亚美尼亚")
    blank = make_citation(make_state("KZ"), quote="   ")

    summary, errors = run_check(capsys)

    assert (
        f"citation {blank.pk}, quote: the quoted passage is empty (cites state #{blank.object_id})" in errors
    )
    assert f"citation {citation.pk}" not in errors


def test_a_date_that_no_quote_contains_fails_the_check(db, capsys):
    milestone = make_milestone(key="in-force", date="1994-04-20")
    make_citation(milestone, quote="条约于1994年正式生效", field="date")

    summary, errors = run_check(capsys)

    assert errors.strip() == "milestone in-force, date = 1994-04-20: no quote of this record contains it"


def test_a_number_that_no_quote_contains_fails_the_check(db, capsys):
    exercise = make_exercise(key="rubezh-2008", date="2008-07", troops=5000)
    make_citation(exercise, quote="2008 年 7 月：来自该组织所有七个成员国的 4000 名士兵", field="troops")

    summary, errors = run_check(capsys)

    assert errors.strip() == "exercise rubezh-2008, troops = 5000: no quote of this record contains it"


def test_a_citation_of_a_record_that_does_not_exist_fails_the_check(db, capsys):
    exercise = make_exercise(key="kanal-2007", date="2007")
    make_citation(exercise, quote="2007年的“通道”演習")
    dangling = Citation.objects.create(
        content_type=ContentType.objects.get(app_label="catalog", model="summit"),
        object_id=999,
        source=exercise.citations.get().source,
        quote="2009年6月14日",
    )

    summary, errors = run_check(capsys)

    assert (
        errors.strip()
        == f"citation {dangling.pk}, record = summit #999: points at a record that does not exist"
    )
    assert summary.endswith("1 problem.")


def test_a_cited_record_whose_quotes_state_its_values_passes(db):
    exercise = make_exercise(key="kazakhstan-2014", date="2014-08", troops=3000)
    make_citation(exercise, quote="2014 年 8 月：来自成员国的 3000 名士兵在哈萨克斯坦", field="troops")

    report = check_catalog()

    assert (report.records, report.citations, report.problems) == (1, 1, [])


def test_the_check_takes_a_handful_of_queries_however_big_the_catalog(
    shipped_catalog, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        report = check_catalog()

    assert report.problems == []
    assert report.records > 100


# --- Descriptions: a date or number written in digits must be in one of the record's quotes.


@pytest.mark.parametrize(
    ("text", "dates", "numbers"),
    [
        ("2009年6月14日在莫斯科", ["2009-06-14"], []),
        ("2010年4月，70架飞机", ["2010-04"], [70]),
        ("On 14 June 2009, 2,500 troops", ["2009-06-14"], [2500]),
        ("in July 2021 and the 102nd base", ["2021-07"], [102]),
        ("no digits at all, six states", [], []),
    ],
)
def test_the_dates_and_numbers_a_description_names_are_read_in_both_languages(text, dates, numbers):
    assert described_claims(text) == (dates, numbers)


def test_a_description_naming_a_year_no_quote_contains_fails_the_check(db, capsys):
    milestone = make_milestone(
        key="charter",
        date="2002-10-07",
        description_zh="2002年10月7日各国元首签署章程，2003年生效。",
        description_en="The heads of state signed the charter on 7 October 2002.",
    )
    make_citation(milestone, quote="2002年10月7日：各成员国元首签署本组织章程。", field="date")

    summary, errors = run_check(capsys)

    assert errors.strip() == (
        "milestone charter, description_zh = 2003: names a number that no quote of this record contains"
    )
    assert summary.endswith("1 problem.")


def test_a_description_naming_a_date_no_quote_contains_fails_the_check(db, capsys):
    fact = make_fact(key="iraq", description_en="The members' statement of 19 June 2004 on Iraq.")
    make_citation(fact, quote="2004年6月18日集安組織成員國聯合聲明")

    summary, errors = run_check(capsys)

    assert errors.strip() == (
        "organizationfact iraq, description_en = 2004-06-19: "
        "names a date that no quote of this record contains"
    )


def test_a_description_whose_dates_and_numbers_are_all_quoted_passes(db):
    crisis = make_crisis(
        key="kazakhstan-2022",
        start="2022-01",
        troops_deployed=2500,
        description_zh="2022年1月，约2500人。",
        description_en="In January 2022, some 2,500 strong, on 70 Il-76 aircraft.",
    )
    make_citation(crisis, quote="莫斯科于2022 年 1 月 6 日派出了第一支“维和部队”")
    make_citation(crisis, quote="已部署约2500名来自集体安全条约组织的士兵")
    make_citation(crisis, quote="其部队正乘坐70架IL-76飞机")

    assert check_catalog().problems == []


def test_last_year_in_a_quote_is_read_against_the_sources_date(db):
    source = make_source(published="2022-01-09")
    crisis = make_crisis(
        key="border-2021", start="2021", response="no_response", description_en="Spring 2021."
    )
    make_citation(
        crisis, source=source, quote="去年春天，吉尔吉斯斯坦和塔吉克斯坦陷入边界争端", field="start"
    )
    undated = make_crisis(key="undated", start="2021", response="no_response")
    make_citation(undated, source=make_source(published=""), quote="去年春天的边界争端", field="start")

    problems = [str(problem) for problem in check_catalog().problems]

    assert problems == ["crisis undated, start = 2021: no quote of this record contains it"]


# --- Roles: a prose citation that states another role is a problem; a table citation is shown.


@pytest.mark.parametrize(
    ("quote", "role"),
    [
        ("1993年格鲁吉亚、阿塞拜疆和白俄罗斯加入此条约", "member"),
        ("創始國，計畫加入", "founding_signatory"),
        ("观察员国。自2013起", "observer"),
        ("候選國", "candidate"),
        ("乌兹别克斯坦暂停其在该组织的成员资格", "suspended"),
        ("签署了该条约", None),
    ],
)
def test_the_role_a_quote_states_is_read_from_its_words(quote, role):
    assert role_stated(quote) == role


@pytest.mark.parametrize(
    ("section", "table"),
    [("成員國 › 原成員國 › 表格", True), ("信息框", True), ("歷史", False), ("", False), ("表格説明", False)],
)
def test_a_citation_quotes_a_table_when_its_section_path_ends_in_a_table(section, table):
    assert quote_is_from_table(section) is table


def test_a_role_that_contradicts_a_prose_citation_fails_the_check(db, capsys):
    belarus = make_state("BY")
    make_citation(belarus, quote="白俄罗斯")
    membership = make_membership(belarus, key="by-1993", role="founding_signatory", start="1993")
    make_citation(membership, quote="1993年白俄罗斯加入此条约", field="role", section="歷史")

    summary, errors = run_check(capsys)

    assert errors.strip() == (
        "membership by-1993, role = founding_signatory: "
        "a prose citation says member: “1993年白俄罗斯加入此条约”"
    )


def test_a_role_that_follows_the_prose_against_a_table_is_a_disagreement_shown_not_a_problem(db, capsys):
    georgia = make_state("GE")
    make_citation(georgia, quote="格鲁吉亚")
    membership = make_membership(georgia, key="ge-1993", role="member", start="1993")
    make_citation(membership, quote="1993年格鲁吉亚加入此条约", field="role", section="歷史")
    make_citation(membership, quote="創始國，計畫加入", field="role", section="成員國 › 原成員國 › 表格")

    call_command("check_catalog")
    out = capsys.readouterr().out

    assert "1 disagreement shown on purpose" in out
    assert "membership ge-1993, role = member: a table citation says founding_signatory" in out
    assert out.strip().endswith("Checked 2 records and 3 citations: 0 problems.")
