import pytest
from django.urls import reverse
from django.utils import translation

from catalog.models import Citation, ExerciseSeries, Membership

from .factories import (
    make_citation,
    make_crisis,
    make_exercise,
    make_membership,
    make_milestone,
    make_source,
    make_state,
    make_summit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_each():
    kazakhstan = make_state("KZ")
    exercise = make_exercise(name_zh="鲁贝日-2008", name_en="Rubezh 2008", hosts=[kazakhstan])
    records = {
        "state": kazakhstan,
        "source": make_source(title="集体安全条约组织"),
        "membership": make_membership(state=kazakhstan),
        "summit": make_summit(host=kazakhstan, participants=[kazakhstan]),
        "exercise": exercise,
        "exerciseseries": ExerciseSeries.objects.create(key="kanal", name_zh="通道", name_en="Kanal"),
        "crisis": make_crisis(states=[kazakhstan]),
        "milestone": make_milestone(),
    }
    records["citation"] = make_citation(exercise, quote="4000名士兵")
    return records


MODELS = [
    "state",
    "source",
    "membership",
    "summit",
    "exercise",
    "exerciseseries",
    "crisis",
    "milestone",
    "citation",
]


@pytest.mark.parametrize("model", MODELS)
def test_superuser_opens_the_list_add_and_change_pages_of_every_kind(admin_client, one_of_each, model):
    record = one_of_each[model]
    for url in (
        reverse(f"admin:catalog_{model}_changelist"),
        reverse(f"admin:catalog_{model}_add"),
        reverse(f"admin:catalog_{model}_change", args=[record.pk]),
        reverse(f"admin:catalog_{model}_history", args=[record.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_a_search_in_chinese_finds_the_record(admin_client, one_of_each):
    make_exercise(name_zh="通道-2007", name_en="Kanal 2007")
    response = admin_client.get(reverse("admin:catalog_exercise_changelist"), {"q": "鲁贝日"})
    assert [exercise.key for exercise in response.context["cl"].result_list] == [one_of_each["exercise"].key]


def test_a_search_for_a_state_by_chinese_name_finds_it(admin_client):
    make_state("AM")
    make_state("KZ")
    response = admin_client.get(reverse("admin:catalog_state_changelist"), {"q": "哈萨克"})
    assert [state.code for state in response.context["cl"].result_list] == ["KZ"]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("admin:catalog_exercise_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_overlapping_membership_is_a_form_error_in_the_admin(admin_client):
    uzbekistan = make_state("UZ")
    make_membership(state=uzbekistan, key="uz-member-2006", start="2006", end="2012-06-28")
    with translation.override("en"):
        url = reverse("admin:catalog_membership_add")
    response = admin_client.post(
        url,
        {
            "key": "uz-member-2010",
            "state": uzbekistan.pk,
            "role": "member",
            "start": "2010",
            "end": "",
            "catalog-citation-content_type-object_id-TOTAL_FORMS": "0",
            "catalog-citation-content_type-object_id-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "overlaps another member period of the same state" in response.content.decode()
    assert not Membership.objects.filter(key="uz-member-2010").exists()


def test_a_record_and_its_citation_are_saved_together_from_the_admin(admin_client):
    source = make_source()
    response = admin_client.post(
        reverse("admin:catalog_milestone_add"),
        {
            "key": "treaty-in-force",
            "kind": "treaty",
            "name_zh": "条约生效",
            "name_en": "Treaty enters into force",
            "date": "1994-04-20",
            "end_date": "",
            "catalog-citation-content_type-object_id-TOTAL_FORMS": "1",
            "catalog-citation-content_type-object_id-INITIAL_FORMS": "0",
            "catalog-citation-content_type-object_id-0-source": source.pk,
            "catalog-citation-content_type-object_id-0-quote": "1994 年 4 月 20 日：条约生效。",
            "catalog-citation-content_type-object_id-0-field": "date",
        },
    )
    assert response.status_code == 302
    citation = Citation.objects.get()
    assert citation.record.key == "treaty-in-force"
    assert citation.field == "date"


def test_a_state_cannot_both_attend_and_skip_a_summit(admin_client):
    belarus = make_state("BY")
    with translation.override("en"):
        url = reverse("admin:catalog_summit_add")
    response = admin_client.post(
        url,
        {
            "key": "moscow-2009",
            "kind": "regular",
            "name_zh": "莫斯科峰会",
            "name_en": "Moscow summit",
            "date": "2009-06-14",
            "participants": [belarus.pk],
            "absentees": [belarus.pk],
            "catalog-citation-content_type-object_id-TOTAL_FORMS": "0",
            "catalog-citation-content_type-object_id-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "cannot both take part in and stay away from a summit" in response.content.decode()


def test_changelists_count_each_rows_related_records_and_sort_by_the_counts(admin_client):
    kazakhstan, russia = make_state("KZ"), make_state("RU")
    make_membership(state=kazakhstan)
    make_membership(state=kazakhstan, role="observer")
    kanal = ExerciseSeries.objects.create(key="kanal", name_zh="通道", name_en="Kanal")
    cited_twice = make_exercise(key="rubezh-2008", series=kanal)
    cited_once = make_exercise(key="rubezh-2009", series=kanal)
    make_exercise(key="rubezh-2010")
    make_citation(cited_twice, quote="一")
    make_citation(cited_twice, quote="二")
    make_citation(cited_once, quote="三")
    make_citation(russia, quote="四")  # a citation of another kind of record with the same id

    def counts(model, column, **query):
        response = admin_client.get(reverse(f"admin:catalog_{model}_changelist"), query)
        return [getattr(row, column) for row in response.context["cl"].result_list]

    assert counts("exercise", "citation_count", o="-7") == [2, 1, 0]
    assert sorted(counts("state", "membership_count")) == [0, 2]
    assert counts("exerciseseries", "exercise_count") == [2]
