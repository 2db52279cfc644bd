import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from catalog.dates import PartialDate, format_partial_date, validate_partial_date


@pytest.mark.parametrize(
    ("text", "precision"),
    [("1993", "year"), ("2010-06", "month"), ("2022-01-06", "day"), ("2024-02-29", "day")],
)
def test_valid_partial_dates_keep_their_precision(text, precision):
    date = PartialDate.parse(text)
    assert date.precision == precision
    assert date.isoformat() == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2010-13", "there is no month 13"),
        ("2023-02-29", "there is no day 29 in that month"),
        ("2010-00", "there is no month 0"),
        ("93", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2010/06", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2010-6", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("abc", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("0999", "the year must have four digits"),
    ],
)
def test_impossible_dates_are_rejected_with_the_reason(text, reason):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        validate_partial_date(text)
    assert reason in raised.value.messages[0]
    assert text in raised.value.messages[0]


def test_the_reason_reads_in_the_language_of_the_page():
    with pytest.raises(ValidationError) as raised:
        validate_partial_date("2010-13")  # the site's default language, Chinese
    assert raised.value.messages == ["“2010-13”不是日期：没有 13 月"]


def test_text_order_is_chronological_across_precisions():
    dates = ["2010-06", "1992-05-15", "2008", "2008-07", "1993", "2010", "2008-07-01"]
    assert sorted(dates) == ["1992-05-15", "1993", "2008", "2008-07", "2008-07-01", "2010", "2010-06"]


def test_a_partial_date_spans_the_days_it_allows():
    assert str(PartialDate.parse("2010").last_day()) == "2010-12-31"
    assert str(PartialDate.parse("2012-02").last_day()) == "2012-02-29"
    assert str(PartialDate.parse("2012-12").last_day()) == "2012-12-31"
    assert str(PartialDate.parse("2012-06-28").first_day()) == "2012-06-28"


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("1993", "1993年", "1993"),
        ("2010-06", "2010年6月", "June 2010"),
        ("2022-01-06", "2022年1月6日", "6 January 2022"),
        ("", "", ""),
    ],
)
def test_dates_render_at_the_precision_they_have(text, zh, en):
    assert format_partial_date(text, "zh-hans") == zh
    assert format_partial_date(text, "en") == en
