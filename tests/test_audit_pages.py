"""The history pages and their JSON twins: access per role, escaping, diffs, filters, pages,
links from the other pages, and a query count that does not grow with the data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import AnnotationEvent, Assignment, GoldEvent
from tests import review_world
from tests.helpers import app_session, counted, login

HOSTILE_NOTE = "<script>alert(1)</script>"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """review_world, plus: ann1 changes sentence 3 (speculation [AFP] → quote [AFP, AP]) with a
    hostile note, rev decides and changes its gold, and sentence 0 of "Talks resume" is
    assigned to ann2 only through an assignment of the second article (ann1 keeps both)."""
    with app_session(app) as session:
        built = review_world.build(session)
        users, labels, sources = built["users"], built["labels"], built["sources"]
        unit = built["units"][3]
        upsert_annotation(
            session,
            unit,
            users["ann1"],
            labels["quote"],
            [sources["AFP"], sources["AP"]],
            HOSTILE_NOTE,
            users["ann1"],
            "update",
        )
        upsert_gold(
            session,
            unit,
            labels["quote"],
            [sources["AFP"]],
            "adjudicated",
            users["rev"],
            "a <b>quote</b>",
        )
        upsert_gold(
            session,
            unit,
            labels["speculation"],
            [sources["AFP"]],
            "adjudicated",
            users["rev"],
            "hedged after all",
        )
        session.commit()
    return built


def client_for(app: Flask, name: str | None) -> FlaskClient:
    client = app.test_client()
    if name:
        login(client, name)
    return client


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("name", "status"),
    [("rev", 200), ("boss", 200), ("ann1", 403), ("outsider", 404), ("rev2", 404)],
)
def test_who_may_open_the_history_pages(
    app: Flask, world: dict[str, Any], name: str, status: int
) -> None:
    client = client_for(app, name)
    unit, project = world["units"][3], world["project"]
    for url in (f"/units/{unit}/history", f"/projects/{project}/history"):
        assert client.get(url).status_code == status, url
    for url in (f"/api/v1/units/{unit}/history", f"/api/v1/projects/{project}/history"):
        response = client.get(url)
        assert response.status_code == status, url
        if status != 200:
            assert response.get_json()["error"], url
            assert "speculation" not in response.get_data(as_text=True)


def test_anonymous_callers_are_sent_to_log_in(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    page = client.get(f"/projects/{world['project']}/history")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    api = client.get(f"/api/v1/units/{world['units'][3]}/history")
    assert api.status_code == 401 and api.get_json()["error"] == "unauthenticated"


def test_unknown_and_foreign_objects_are_404(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "rev")
    for url in (
        f"/units/{world['foreign_unit']}/history",
        f"/projects/{world['other_project']}/history",
        "/units/999999/history",
        f"/units/{2**31}/history",
        f"/api/v1/units/{world['foreign_unit']}/history",
        f"/api/v1/projects/{world['other_project']}/history",
        f"/api/v1/units/{2**40}/history",
    ):
        assert client.get(url).status_code == 404, url


def test_an_annotator_gets_404_for_a_sentence_of_an_article_not_assigned_to_them(
    app: Flask, world: dict[str, Any]
) -> None:
    with app_session(app) as session:
        session.add(Assignment(article_id=world["second"], user_id=world["users"]["ann2"]))
        session.commit()
    ann1 = client_for(app, "ann1")
    assert ann1.get(f"/units/{world['second_units'][0]}/history").status_code == 404
    assert ann1.get(f"/units/{world['units'][0]}/history").status_code == 404
    ann2 = client_for(app, "ann2")
    assert ann2.get(f"/units/{world['second_units'][0]}/history").status_code == 403


def test_the_sentence_page_shows_readable_escaped_diffs(app: Flask, world: dict[str, Any]) -> None:
    html = client_for(app, "rev").get(f"/units/{world['units'][3]}/history").get_data(as_text=True)
    assert HOSTILE_NOTE not in html and "<b>quote</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &lt;b&gt;quote&lt;/b&gt;" in html
    text = text_of(html)
    assert "Label: speculation → quote" in text
    assert "Sources: AFP → AFP, AP" in text
    assert "Label: quote → speculation" in text  # the gold decision changed
    assert "gold set" in text and "gold changed" in text
    # Oldest first: ann1's first answer comes before the change, the gold last.
    assert text.index("Label: speculation → quote") < text.index("gold changed")
    # Strict CSP: no inline script or style at all (the page needs no script).
    assert "<script" not in html and "<style" not in html and " style=" not in html


def test_the_api_gives_the_raw_values(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "rev")
    data = client.get(f"/api/v1/units/{world['units'][3]}/history").get_json()
    assert data["next_cursor"] is None
    update = next(e for e in data["items"] if e["action"] == "update")
    assert update["before"] == {"label": "speculation", "sources": ["AFP"], "note": ""}
    assert update["after"] == {"label": "quote", "sources": ["AFP", "AP"], "note": HOSTILE_NOTE}
    assert update["actor"] == "ann1" and update["annotator"] == "ann1" and update["version"] == 2
    assert {"field": "sources", "from": ["AFP"], "to": ["AFP", "AP"]} in update["changes"]
    assert update["unit"]["index"] == 3 and update["unit"]["article_title"] == "Talks resume"
    gold = [e for e in data["items"] if e["kind"] == "gold"]
    assert [g["summary"] for g in gold] == ["gold set", "gold changed"]
    assert gold[1]["before"]["rationale"] == "a <b>quote</b>"
    assert gold[1]["after"]["label"] == "speculation"


def test_project_api_pages_are_complete(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "boss")
    seen: list[tuple[str, int]] = []
    url = f"/api/v1/projects/{world['project']}/history?limit=3"
    for _ in range(50):
        data = client.get(url).get_json()
        seen += [(e["kind"], e["id"]) for e in data["items"]]
        if data["next_cursor"] is None:
            break
        url = f"/api/v1/projects/{world['project']}/history?limit=3&cursor={data['next_cursor']}"
    with app_session(app) as session:
        total = session.scalar(select(func.count()).select_from(AnnotationEvent))
        total += session.scalar(select(func.count()).select_from(GoldEvent))
        foreign = session.scalar(
            select(func.count())
            .select_from(AnnotationEvent)
            .where(AnnotationEvent.unit_id == world["foreign_unit"])
        )
    assert len(seen) == len(set(seen)) == total - foreign


def test_the_annotator_filter_shows_only_their_events(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "rev")
    data = client.get(f"/api/v1/projects/{world['project']}/history?annotator=ann2").get_json()
    assert data["items"] and {e["annotator"] for e in data["items"]} == {"ann2"}
    assert {e["kind"] for e in data["items"]} == {"annotation"}
    html = client.get(f"/projects/{world['project']}/history?annotator=ann2").get_data(as_text=True)
    assert "annotation of <bdi>ann2</bdi>" in html
    assert "annotation of <bdi>ann1</bdi>" not in html
    assert '<span class="whose">gold decision</span>' not in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2024-02-30", "since"),
        ("annotator=nobody", "annotator"),
        ("cursor=a1.g1%27%20OR%201=1", "cursor"),
        ("limit=100000", "limit"),
        ("action=%3Cscript%3E", "action"),
        ("article=99999", "article"),
    ],
)
def test_bad_filters_answer_422_naming_the_field(
    app: Flask, world: dict[str, Any], query: str, field: str
) -> None:
    client = client_for(app, "rev")
    api = client.get(f"/api/v1/projects/{world['project']}/history?{query}")
    assert api.status_code == 422 and api.get_json()["field"] == field
    page = client.get(f"/projects/{world['project']}/history?{query}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "need fixing" in html and "<script>" not in html


def test_the_page_follows_its_cursor_to_the_end(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "rev")
    url = f"/projects/{world['project']}/history?article={world['article']}&kind=annotation"
    rows: list[str] = []
    for _ in range(20):
        html = client.get(url).get_data(as_text=True)
        rows += re.findall(r'id="(event-[a-z]+-\d+)"', html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")
        assert "article=" in url and "kind=annotation" in url  # filters travel with the cursor
    with app_session(app) as session:
        expected = session.scalar(
            select(func.count())
            .select_from(AnnotationEvent)
            .where(AnnotationEvent.unit_id.in_(world["units"]))
        )
    assert len(rows) == len(set(rows)) == expected
    assert all(row.startswith("event-annotation-") for row in rows)


def test_links_lead_to_the_history(app: Flask, world: dict[str, Any]) -> None:
    rev = client_for(app, "rev")
    unit, project = world["units"][3], world["project"]
    assert f'href="/units/{unit}/history"' in rev.get(f"/units/{unit}/review").get_data(
        as_text=True
    )
    assert f'href="/projects/{project}/history"' in rev.get(f"/projects/{project}").get_data(
        as_text=True
    )
    read_only = rev.get(f"/articles/{world['article']}/annotate?annotator=ann2").get_data(
        as_text=True
    )
    assert (
        f'href="/projects/{project}/history?article={world["article"]}&amp;annotator=ann2"'
        in read_only
    )
    ann1 = client_for(app, "ann1")
    assert "/history" not in ann1.get(f"/projects/{project}").get_data(as_text=True)
    assert "/history" not in ann1.get(f"/articles/{world['article']}/annotate").get_data(
        as_text=True
    )


def _grow(app: Flask, world: dict[str, Any], rounds: int) -> None:
    with app_session(app) as session:
        labels = list(world["labels"].values())
        for r in range(rounds):
            for i, unit in enumerate(world["units"]):
                for name in ("ann1", "ann2", "ann3"):
                    user = world["users"][name]
                    upsert_annotation(
                        session, unit, user, labels[(r + i) % 4], [], f"n{r}", user, "update"
                    )
                upsert_gold(
                    session, unit, labels[r % 4], [], "adjudicated", world["users"]["rev"], f"r{r}"
                )
        session.commit()


def test_query_counts_do_not_grow_with_the_history(app: Flask, world: dict[str, Any]) -> None:
    client = client_for(app, "rev")
    urls = {
        "unit page": f"/units/{world['units'][3]}/history",
        "project page": f"/projects/{world['project']}/history",
        "filtered page": f"/projects/{world['project']}/history?annotator=ann1&since=2000-01-01",
        "unit api": f"/api/v1/units/{world['units'][3]}/history",
        "project api": f"/api/v1/projects/{world['project']}/history",
    }

    def measure() -> dict[str, int]:
        counts = {}
        for key, url in urls.items():
            with counted(app) as statements:
                assert client.get(url).status_code == 200
            counts[key] = len(statements)
        return counts

    small = measure()
    _grow(app, world, 6)
    large = measure()
    assert small == large, (small, large)
    # The history itself is one statement; the rest is the login, access and
    # page furniture (labels, article and member lists), whatever the history's size.
    assert large["unit api"] <= 5 and large["project api"] <= 5
