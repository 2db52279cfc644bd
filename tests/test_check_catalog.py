"""check_catalog: what counts as a quote containing a value, and one failing case per rule."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from catalog.checks import check_catalog, quote_contains_date, quote_contains_number
from catalog.models import Citation
from tests.factories import make_citation, make_exercise, make_milestone, make_state


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
