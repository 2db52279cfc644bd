"""The organization page: facts about the organization itself, by topic, each with its references."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import OrganizationFact
from tests.factories import make_citation, make_fact, make_source
from tests.test_views import elements, in_english, texts


@pytest.fixture
def facts(db):
    news = make_source(key="aljazeera", title="半岛网文章")
    wiki = make_source(key="wiki", title="维基条目")
    headquarters = make_fact(
        key="headquarters",
        topic="bodies",
        name_zh="总部：莫斯科",
        name_en="Headquarters: Moscow",
        description_zh="组织总部设在莫斯科。",
        description_en="The organization has its headquarters in Moscow.",
    )
    make_citation(
        headquarters,
        news,
        quote="该组织总部设在俄罗斯首都莫斯科",
        section="成立、协议和进程",
        translation_en="The organization is headquartered in the Russian capital, Moscow",
    )
    korea = make_fact(
        key="position-korea",
        topic="positions",
        name_zh="朝鲜半岛核问题",
        name_en="The Korean nuclear question",
        description_zh="坚持和平协商。",
        description_en="Peaceful negotiation.",
        note_zh="编者注",
        note_en="Our note",
    )
    make_citation(
        korea, wiki, quote="集安組織同樣堅持和平協商解決朝鮮半島核問題。", translation_en="Peaceful talks."
    )
    make_citation(korea, news, quote="第二段原文", translation_en="Second passage.")
    aims = make_fact(key="aim", topic="aims", name_zh="集体安全", name_en="Collective security")
    make_citation(aims, news, quote="确保集体安全")
    return {"headquarters": headquarters, "korea": korea, "aims": aims}


def test_the_page_groups_the_facts_by_topic_in_topic_order(client, facts):
    response = client.get(reverse("catalog:organization"))

    assert response.status_code == 200
    assert texts(response, "h2") == ["宗旨", "机构、所在地和秘书处", "对国际问题的立场"]
    assert texts(response, "h3") == ["集体安全", "总部：莫斯科", "朝鲜半岛核问题"]


def test_each_fact_lists_its_references_numbered_through_the_page(client, facts):
    response = client.get(reverse("catalog:organization"))

    korea = [attrs for attrs, _text in elements(response, "article") if attrs.get("id") == "position-korea"]
    assert korea == [{"class": "fact", "id": "position-korea"}]
    assert [
        attrs["id"] for attrs, _text in elements(response, "li") if attrs.get("id", "").startswith("ref-")
    ] == [
        "ref-1",
        "ref-2",
        "ref-3",
        "ref-4",
    ]
    assert texts(response, "blockquote")[2:] == [
        "集安組織同樣堅持和平協商解決朝鮮半島核問題。",
        "第二段原文",
    ]
    assert [attrs["start"] for attrs, _text in elements(response, "ol", **{"class": "citations"})] == [
        "1",
        "2",
        "3",
    ]
    assert "Peaceful talks." not in response.content.decode()  # translations are for English readers
    assert "编者注" in response.content.decode()


def test_the_english_page_shows_our_translation_beside_each_quote(client, facts):
    response = client.get(in_english("catalog:organization"))

    assert texts(response, "h2") == [
        "Aims",
        "Bodies, seat and secretariat",
        "Positions on international questions",
    ]
    assert "Headquarters: Moscow" in texts(response, "h3")
    assert texts(response, "p", **{"class": "translation"}) == [
        "Our translation: The organization is headquartered in the Russian capital, Moscow",
        "Our translation: Peaceful talks.",
        "Our translation: Second passage.",
    ]
    assert "集安組織同樣堅持和平協商解決朝鮮半島核問題。" in texts(response, "blockquote")
    assert "Our note" in response.content.decode()


def test_a_fact_links_back_from_its_source_page(client, facts):
    response = client.get(reverse("catalog:source_detail", kwargs={"key": "wiki"}))

    assert f'href="{reverse("catalog:organization")}#position-korea"' in response.content.decode()


def test_an_empty_catalog_says_so(client, db):
    response = client.get(reverse("catalog:organization"))

    assert response.status_code == 200
    assert "尚未记录关于组织本身的事实。" in response.content.decode()


def test_home_and_every_page_header_link_to_the_organization_page(client, facts):
    for language_reverse, label in ((reverse, "组织本身"), (in_english, "The organization itself")):
        response = client.get(language_reverse("catalog:home"))
        link = language_reverse("catalog:organization")
        anchors = [text for attrs, text in elements(response, "a") if attrs.get("href") == link]
        assert label in anchors
        assert len(anchors) == 3  # the header, the key figure and the entry point


def test_the_page_costs_the_same_queries_with_3_facts_and_with_30(client, facts):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("catalog:organization")).status_code == 200
        return len(queries)

    count()
    few = count()
    source = make_source(key="more")
    for n in range(27):
        fact = make_fact(key=f"extra-{n}", topic="relations")
        make_citation(fact, source, quote=f"原文{n}")
    assert OrganizationFact.objects.count() == 30
    assert count() == few


def test_the_facts_come_a_hundred_to_a_page_in_topic_order(client, db):
    OrganizationFact.objects.bulk_create(
        OrganizationFact(key=f"fact-{n:03}", name_zh=f"事实{n}", name_en=f"Fact {n}", topic=topic)
        for n, topic in enumerate(["relations"] * 60 + ["aims"] * 41)
    )
    first = client.get(reverse("catalog:organization"))
    second = client.get(reverse("catalog:organization"), {"page": "2"})

    assert len(texts(first, "h3")) == 100
    assert texts(second, "h3") == ["事实59"]  # the last relation by key
    assert texts(first, "h2")[0] == "宗旨"  # every aim first, as the topics are ordered
    assert texts(second, "h2") == ["与其他组织的关系"]


def test_the_admin_edits_a_fact_with_its_citations_inline(admin_client, facts):
    changelist = admin_client.get(reverse("admin:catalog_organizationfact_changelist"))
    change = admin_client.get(reverse("admin:catalog_organizationfact_change", args=[facts["korea"].pk]))

    assert changelist.status_code == 200
    assert "朝鲜半岛核问题" in changelist.content.decode()
    assert change.status_code == 200
    assert "集安組織同樣堅持和平協商解決朝鮮半島核問題。" in change.content.decode()
