"""The benchmark's synthetic catalog (bench/generate.py), written here into the test database."""

import pytest
from django.contrib.contenttypes.models import ContentType

from bench.generate import AlreadyThere
from bench.generate import generate as write_catalog
from catalog.models import (
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Source,
    State,
    Summit,
)
from tests.factories import make_membership, make_state

CITED_MODELS = (State, Membership, ExerciseSeries, Exercise, Summit, Crisis)


def generate(exercises=40, seed=7):
    return write_catalog(exercises, seed)


def clear():
    for model in (Citation, Membership, Summit, Exercise, Crisis, ExerciseSeries, Source):
        model.objects.all().delete()
    State.objects.all().delete()


def snapshot():
    """Every row by its natural key, without ids and timestamps, with links and citations."""
    rows = {}
    for model in (Source, State, Membership, ExerciseSeries, Exercise, Summit, Crisis):
        for record in model.objects.all():
            values = {
                field.name: getattr(record, field.attname)
                for field in model._meta.concrete_fields
                if field.name not in {"id", "updated_at"} and not field.is_relation
            }
            for field in model._meta.many_to_many:
                values[field.name] = sorted(state.code.code for state in getattr(record, field.name).all())
            rows[(model.__name__, values.get("key") or values["code"])] = values
    for citation in Citation.objects.select_related("source"):
        record = citation.record
        record_key = record.code.code if isinstance(record, State) else record.key
        key = ("Citation", type(record).__name__, record_key, citation.source.key)
        rows[key] = (citation.quote, citation.field, citation.section)
    return rows


@pytest.mark.django_db
def test_the_same_seed_writes_the_same_catalog_and_another_seed_a_different_one():
    generate(seed=7)
    first = snapshot()
    clear()
    generate(seed=7)
    assert snapshot() == first
    clear()
    generate(seed=8)
    other = snapshot()
    assert other != first
    assert other.keys() & first.keys()  # same keys for the same N: only the values differ


@pytest.mark.django_db
def test_the_catalog_has_n_exercises_a_tenth_as_many_summits_a_twentieth_as_many_crises_and_40_states():
    generate(exercises=60)

    assert Exercise.objects.count() == 60
    assert Summit.objects.count() == 6
    assert Crisis.objects.count() == 3
    assert State.objects.count() == 40
    assert Source.objects.count() == 200
    assert ExerciseSeries.objects.count() == 50
    assert Membership.objects.count() >= 40
    assert set(Membership.objects.values_list("state__code", flat=True).distinct().order_by()) == set(
        State.objects.values_list("code", flat=True)
    )
    assert not Exercise.objects.filter(participants=None).exists()
    assert not Exercise.objects.filter(hosts=None).exists()


@pytest.mark.django_db
def test_every_synthetic_record_has_exactly_two_citations_of_two_different_sources():
    generate()

    for model in CITED_MODELS:
        content_type = ContentType.objects.get_for_model(model)
        for pk in model.objects.values_list("pk", flat=True):
            sources = list(
                Citation.objects.filter(content_type=content_type, object_id=pk).values_list(
                    "source", flat=True
                )
            )
            assert len(sources) == 2, (model.__name__, pk)
            assert len(set(sources)) == 2, (model.__name__, pk)
    expected = sum(model.objects.count() for model in CITED_MODELS) * 2
    assert Citation.objects.count() == expected


@pytest.mark.django_db
def test_every_keyed_record_written_has_the_synthetic_prefix_and_dates_come_in_all_three_precisions():
    generate(exercises=200)

    for model in (Source, Membership, ExerciseSeries, Exercise, Summit, Crisis):
        assert model.objects.count() > 0
        assert not model.objects.exclude(key__startswith="syn-").exists(), model.__name__
    lengths = {len(date) for date in Exercise.objects.values_list("date", flat=True)}
    assert lengths == {4, 7, 10}
    assert Exercise.objects.filter(key="syn-exercise-000001").exists()
    assert not Exercise.objects.filter(key="syn-exercise-000201").exists()


@pytest.mark.django_db
def test_an_existing_state_is_reused_as_it_is_and_keeps_its_own_memberships():
    kazakhstan = make_state("KZ", name_en="Kazakhstan (hand-made)")
    make_membership(state=kazakhstan, key="kz-member-2002", start="2002")

    generate()

    assert State.objects.filter(code="KZ").count() == 1
    kazakhstan.refresh_from_db()
    assert kazakhstan.name_en == "Kazakhstan (hand-made)"
    assert list(kazakhstan.memberships.values_list("key", flat=True)) == ["kz-member-2002"]
    assert State.objects.count() == 40
    assert Exercise.objects.filter(participants=kazakhstan).exists()


@pytest.mark.django_db
def test_generating_over_an_existing_synthetic_catalog_is_refused():
    generate()

    with pytest.raises(AlreadyThere, match="already holds a synthetic catalog"):
        generate(seed=9)

    assert Exercise.objects.count() == 40
