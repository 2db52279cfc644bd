import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from catalog.models import Citation, Crisis, Membership, Source, State

from .factories import make_citation, make_crisis, make_exercise, make_membership, make_source, make_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    """Validation messages are translated; these tests read them in English."""
    with translation.override("en"):
        yield


def messages_of(raised):
    return " ".join(raised.value.messages)


def test_membership_ending_before_it_starts_is_rejected():
    membership = Membership(
        key="uz-member-x", state=make_state("UZ"), role="member", start="2006", end="1999"
    )
    with pytest.raises(ValidationError) as raised:
        membership.full_clean()
    assert "The end date is before the start date." in messages_of(raised)


@pytest.mark.parametrize(
    ("start", "end"), [("2012-06-28", "2012"), ("2012-06-28", "2012-06"), ("2006", "2012-06-28")]
)
def test_an_end_at_coarser_precision_in_the_same_period_is_accepted(start, end):
    membership = Membership(key="uz-member-x", state=make_state("UZ"), role="member", start=start, end=end)
    membership.full_clean()


def test_end_before_start_is_rejected_at_month_precision():
    membership = Membership(
        key="uz-x", state=make_state("UZ"), role="member", start="2012-06-28", end="2012-05"
    )
    with pytest.raises(ValidationError):
        membership.full_clean()


def test_the_database_itself_refuses_an_end_before_the_start():
    state = make_state("UZ")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(key="uz-x", state=state, role="member", start="2006", end="1999")
    assert Membership.objects.count() == 0


def test_crisis_ending_before_it_starts_is_rejected():
    crisis = Crisis(
        key="c", name_zh="危机", name_en="Crisis", start="2010-06", end="2010-04", response="declined"
    )
    with pytest.raises(ValidationError) as raised:
        crisis.full_clean()
    assert "The end date is before the start date." in messages_of(raised)


def test_impossible_date_on_a_record_is_a_field_error():
    exercise = make_exercise()
    exercise.date = "2010-13"
    with pytest.raises(ValidationError) as raised:
        exercise.full_clean()
    assert raised.value.message_dict["date"] == ["“2010-13” is not a date: there is no month 13"]


def test_overlapping_memberships_of_the_same_state_and_role_are_rejected():
    uzbekistan = make_state("UZ")
    make_membership(
        state=uzbekistan, key="uz-member-2006", role="member", start="2006-06-23", end="2012-06-28"
    )
    overlapping = Membership(key="uz-member-2010", state=uzbekistan, role="member", start="2010", end="2013")
    with pytest.raises(ValidationError) as raised:
        overlapping.full_clean()
    assert "overlaps another member period of the same state" in messages_of(raised)


def test_an_open_period_overlaps_every_later_period():
    kazakhstan = make_state("KZ")
    make_membership(state=kazakhstan, key="kz-member-2002", role="member", start="2002")
    later = Membership(key="kz-member-2020", state=kazakhstan, role="member", start="2020")
    with pytest.raises(ValidationError):
        later.full_clean()


def test_separate_periods_and_other_roles_do_not_overlap():
    uzbekistan = make_state("UZ")
    make_membership(
        state=uzbekistan, key="uz-signatory", role="founding_signatory", start="1992-05-15", end="1999"
    )
    make_membership(state=uzbekistan, key="uz-member-2006", role="member", start="2006", end="2012-06-28")
    Membership(key="uz-suspended", state=uzbekistan, role="suspended", start="2012-06-28").full_clean()
    Membership(key="uz-member-2000", state=uzbekistan, role="member", start="2000", end="2005").full_clean()


def test_a_period_sharing_only_an_ambiguous_year_counts_as_overlapping():
    uzbekistan = make_state("UZ")
    make_membership(state=uzbekistan, key="uz-a", role="member", start="2006", end="2012")
    with pytest.raises(ValidationError):
        Membership(key="uz-b", state=uzbekistan, role="member", start="2012-06").full_clean()


def test_a_citation_without_a_quote_is_rejected():
    citation = Citation(record=make_exercise(), source=make_source(), quote="   ")
    with pytest.raises(ValidationError) as raised:
        citation.full_clean()
    assert "A citation needs the quoted passage." in messages_of(raised)


def test_the_database_refuses_an_empty_quote():
    exercise, source = make_exercise(), make_source()
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(record=exercise, source=source, quote="")


def test_a_record_can_hold_disagreeing_citations_from_different_sources():
    exercise = make_exercise(troops=10000)
    first = make_citation(exercise, quote="包括10000多名士兵和70多架战斗机", field="troops")
    second = make_citation(
        exercise, quote="涉及 1万多名士兵和 70 架战斗机", field="troops", note_en="rounded"
    )
    assert list(exercise.citations.order_by("pk")) == [first, second]
    assert {citation.source for citation in exercise.citations.all()} == {first.source, second.source}


def test_unknown_choice_is_rejected():
    crisis = make_crisis()
    crisis.response = "invaded"
    with pytest.raises(ValidationError) as raised:
        crisis.full_clean()
    assert "response" in raised.value.message_dict


def test_troops_deployed_only_with_a_deployment():
    crisis = Crisis(
        key="k", name_zh="危机", name_en="Crisis", start="2010", response="declined", troops_deployed=10
    )
    with pytest.raises(ValidationError) as raised:
        crisis.full_clean()
    assert "Troops deployed needs the response 'forces deployed'." in messages_of(raised)


def test_names_follow_the_active_language_and_fall_back():
    state = make_state("KZ", name_zh="哈萨克斯坦", name_en="Kazakhstan")
    exercise = make_exercise(name_zh="鲁贝日-2008", name_en="")
    with translation.override("en"):
        assert str(state) == "Kazakhstan"
        assert exercise.name == "鲁贝日-2008"
    with translation.override("zh-hans"):
        assert str(state) == "哈萨克斯坦"


def test_natural_keys_find_records():
    make_state("AM")
    source = make_source(key="aljazeera-2022-01-07")
    assert State.objects.get_by_natural_key("AM").code == "AM"
    assert Source.objects.get_by_natural_key("aljazeera-2022-01-07") == source


def test_every_record_names_its_public_url():
    translation.activate("zh-hans")  # this module reads messages in English
    state = make_state("AM")
    assert state.get_absolute_url() == "/states/AM/"
    assert make_exercise(key="rubezh-2008").get_absolute_url() == "/exercises/rubezh-2008/"
    assert make_source(key="wiki").get_absolute_url() == "/sources/wiki/"
    with translation.override("en"):
        assert make_crisis(key="kz-2022").get_absolute_url() == "/en/crises/kz-2022/"


def test_a_quote_reads_without_the_wiki_link_markup_it_keeps_verbatim():
    citation = Citation(
        quote='1993年[格鲁吉亚](../Page/格鲁吉亚.md "wikilink")、'
        '[阿塞拜疆和](../Page/阿塞拜疆.md "wikilink")[白俄罗斯加入此条约'
    )
    assert citation.readable_quote == "1993年格鲁吉亚、阿塞拜疆和白俄罗斯加入此条约"
    assert Citation(quote='签署了该条约](../Page/格鲁吉亚.md "wikilink")，并于1994年生效').readable_quote == (
        "签署了该条约，并于1994年生效"
    )
