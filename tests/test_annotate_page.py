"""The annotation page (annotator/views/annotate.py, templates/annotate.html): who may open
it, what it embeds for its script, that it never writes, escapes everything and stays light."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.models import Annotation, AnnotationEvent, Article, Project, Unit
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from tests.conftest import seed_path
from tests.helpers import add_article, add_project, add_user, app_session, login

TEXT = (
    "Talks resume in Geneva\n\n"
    "Negotiators resumed talks on Tuesday, the United Nations said.\n\n"
    '"We are closer than ever," said Clara Jensen.\n\n'
    "Analysts believe a deal is likely before August.\n"
)
SECRET_NOTE = "ann2-private-note-7f3a"


def _setup(app: Flask) -> dict[str, int]:
    """Project "wire" with an article; ann1, ann2 and reviewer are members, admin is not;
    outsider annotates project "other". ann2 has labelled the first sentence."""
    with app_session(app) as s:
        wire = add_project(s, "wire")
        other = add_project(s, "other")
        ann1 = add_user(s, "ann1", project=wire)
        ann2 = add_user(s, "ann2", project=wire)
        add_user(s, "rev", "reviewer", project=wire)
        add_user(s, "admin", "admin")
        add_user(s, "outsider", project=other)
        article = add_article(s, wire, TEXT)
        units = s.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).all()
        labels = label_ids(s, wire.id)
        upsert_annotation(s, units[0], ann2.id, labels["quote"], [], SECRET_NOTE, ann2.id, "create")
        s.commit()
        return {"article": article.id, "unit": units[0], "ann1": ann1.id, "ann2": ann2.id}


def _data(html: str) -> dict[str, Any]:
    """The JSON the page embeds for annotate.js."""
    match = re.search(
        r'<script type="application/json" id="annotate-data">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def _counts(app: Flask) -> tuple[int, int, list[tuple[int, int]]]:
    with app_session(app) as s:
        return (
            s.scalar(select(func.count()).select_from(Annotation)) or 0,
            s.scalar(select(func.count()).select_from(AnnotationEvent)) or 0,
            [tuple(r) for r in s.execute(select(Annotation.id, Annotation.version))],
        )


def _page(client: FlaskClient, article_id: int, query: str = "") -> Any:
    return client.get(f"/articles/{article_id}/annotate{query}")


def test_anonymous_is_sent_to_login_with_next(app: Flask) -> None:
    ids = _setup(app)
    response = _page(app.test_client(), ids["article"])
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/articles/{ids['article']}/annotate"


@pytest.mark.parametrize(
    ("user", "status"),
    [("ann1", 200), ("outsider", 404), ("rev", 200), ("admin", 200)],
)
def test_roles_and_no_writes_on_get(
    app: Flask, client: FlaskClient, user: str, status: int
) -> None:
    ids = _setup(app)
    before = _counts(app)
    login(client, user)
    assert _page(client, ids["article"]).status_code == status
    assert _page(client, ids["article"], "?annotator=ann2").status_code == (
        {"ann1": 403, "outsider": 404}.get(user, 200)
    )
    assert _counts(app) == before


def test_annotator_page_has_units_labels_and_data(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    login(client, "ann1")
    response = _page(client, ids["article"])
    html = response.get_data(as_text=True)
    assert 'role="listbox" aria-label="Sentences of the article"' in html
    # One bare element per sentence, with its text; the title is the h1 only.
    assert re.findall(r"\n<li dir=\"auto\">([^<]*)</li>", html) == [
        "Negotiators resumed talks on Tuesday, the United Nations said.",
        "&#34;We are closer than ever,&#34; said Clara Jensen.",
        "Analysts believe a deal is likely before August.",
    ]
    assert html.count("Talks resume in Geneva") == 2  # <title> and <h1>
    assert 'src="/static/annotate.js"' in html and 'href="/static/annotate.css"' in html
    data = _data(html)
    assert data["read_only"] is False
    assert data["me"]["username"] == "ann1"
    assert data["annotator"] == "ann1"
    assert data["api"] == "/api/v1"
    assert [label["key"] for label in data["project"]["labels"]] == ["1", "2", "3", "4"]
    assert [u[0] for u in data["units"]] == [ids["unit"], ids["unit"] + 1, ids["unit"] + 2]
    assert [u[3] for u in data["units"]] == [0, 0, 0]
    assert '<span id="done">0</span> of 3 labelled' in html
    assert f'href="/projects/{data["project"]["id"]}/guidelines"' in html
    assert 'aria-live="polite"' in html


def test_annotator_is_blind_to_others(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    login(client, "ann1")
    html = _page(client, ids["article"]).get_data(as_text=True)
    assert SECRET_NOTE not in html
    assert "ann2" not in html
    assert [u[3] for u in _data(html)["units"]] == [0, 0, 0]
    assert 'id="who-sel"' not in html
    # Asking for someone else's work, existing or not, is refused alike.
    assert _page(client, ids["article"], "?annotator=ann2").status_code == 403
    assert _page(client, ids["article"], "?annotator=nobody").status_code == 403


def test_annotator_may_name_themself(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    login(client, "ann2")
    data = _data(_page(client, ids["article"], "?annotator=ann2").get_data(as_text=True))
    assert data["read_only"] is False
    assert data["units"][0][3] == [1, [], SECRET_NOTE, 1]


def test_reviewer_reads_an_annotators_work_read_only(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    before = _counts(app)
    login(client, "rev")
    html = _page(client, ids["article"], "?annotator=ann2").get_data(as_text=True)
    data = _data(html)
    assert data["read_only"] is True
    assert data["annotator"] == "ann2"
    labelled = [(u[0], data["project"]["labels"][u[3][0]]["name"]) for u in data["units"] if u[3]]
    assert labelled == [(ids["unit"], "quote")]
    assert "Read-only: you are viewing the annotations of" in html
    assert re.search(r"<option selected>ann2</option>", html)
    assert "disabled" in html and 'id="add-src"' not in html and "readonly" in html
    assert _page(client, ids["article"], "?annotator=nobody").status_code == 404
    assert _counts(app) == before


def test_reviewer_select_lists_the_articles_annotators(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    login(client, "admin")
    html = _page(client, ids["article"]).get_data(as_text=True)
    options = re.findall(r"<option(?: selected)?>([^<]*)</option>", html)
    assert options == ["ann2"]
    assert '<option value="">me (editable)</option>' in html


def test_flagged_annotation_carries_its_previous_text(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    with app_session(app) as s:
        s.execute(
            update(Annotation)
            .where(Annotation.annotator_id == ids["ann2"])
            .values(flagged=True, previous_text="Negotiators resumed talks.")
        )
        s.commit()
    login(client, "ann2")
    data = _data(_page(client, ids["article"]).get_data(as_text=True))
    assert data["units"][0][3] == [1, [], SECRET_NOTE, 1, True, "Negotiators resumed talks."]


def test_credits_are_offered_not_selected(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    with app_session(app) as s:
        article = s.get(Article, ids["article"])
        assert article is not None
        index = SourceIndex(s, article.project_id)
        afp = index.ensure("AFP", "news_agency", aliases=["Agence France-Presse"])
        article.credits = ["Agence France-Presse", "Nobody Known"]
        s.commit()
    login(client, "ann1")
    data = _data(_page(client, ids["article"]).get_data(as_text=True))
    assert data["credit_sources"] == [{"id": afp, "name": "AFP", "kind": "news_agency"}]
    assert [u[3] for u in data["units"]] == [0, 0, 0]


@pytest.mark.parametrize("article_id", ["0", "999999", "99999999999999999999999"])
def test_unknown_articles_are_404(app: Flask, client: FlaskClient, article_id: str) -> None:
    _setup(app)
    login(client, "admin")
    assert client.get(f"/articles/{article_id}/annotate").status_code == 404


def test_post_without_csrf_is_refused_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    ids = _setup(app)
    before = _counts(app)
    login(client, "ann1")
    response = client.post(f"/articles/{ids['article']}/annotate", data={"label": "quote"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert _counts(app) == before


PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(2)</script>",
    "{{ 7*7 }}",
]


def test_hostile_text_and_names_are_escaped(app: Flask, client: FlaskClient) -> None:
    with app_session(app) as s:
        project = add_project(s, "wire")
        user = add_user(s, "ann1", project=project)
        article = add_article(s, project, "\n\n".join(f"Sentence {p} here." for p in PAYLOADS))
        article.url = "javascript:alert(1)"
        article.credits = ["<img src=x onerror=alert(3)>"]
        index = SourceIndex(s, project.id)
        source = index.ensure("<img src=x onerror=alert(3)>", "person")
        unit = s.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).first()
        assert unit is not None
        labels = label_ids(s, project.id)
        upsert_annotation(s, unit, user.id, labels["quote"], [source], "</script>", user.id, "x")
        s.commit()
        article_id = article.id
    login(client, "ann1")
    html = _page(client, article_id).get_data(as_text=True)
    for payload in PAYLOADS[:-1]:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Sentence {{ 7*7 }} here." in html  # literal, never evaluated
    assert "Sentence 49 here" not in html
    assert "javascript:alert" not in html
    # The JSON island cannot be closed early: < and > are escaped inside it.
    data = _data(html)
    assert data["credit_sources"][0]["name"] == "<img src=x onerror=alert(3)>"
    annotated = next(u for u in data["units"] if u[3])
    assert annotated[3][1:3] == [[source], "</script>"]
    assert data["sources"][str(source)] == ["<img src=x onerror=alert(3)>", "person"]
    assert html.count("</script>") == 2  # the JSON island and annotate.js


def _big_article(session: Session, project: Project, sentences: int) -> Article:
    """An article of news-length sentences (about 140 characters), most attributed."""
    speakers = ["Koh Yu-hwan", "Clara Jensen", "the ministry", "Reuters", "AFP"]
    lines = []
    for i in range(sentences):
        who = speakers[i % len(speakers)]
        if i % 3 == 0:
            lines.append(
                f'"Prices in region {i} could rise again next spring unless the corridor '
                f'reopens before the harvest," said {who}, a senior official.'
            )
        elif i % 3 == 1:
            lines.append(
                f"Officials in district {i} are expected to meet on Monday to discuss the "
                f"shipping insurance premiums for vessels in the region, {who} said."
            )
        else:
            lines.append(
                f"The port handled {i * 1000} tonnes of grain last month, roughly a third "
                f"less than in the same month a year earlier, {who} reported."
            )
    paragraphs = [" ".join(lines[i : i + 4]) for i in range(0, len(lines), 4)]
    return add_article(session, project, "Grain talks\n\n" + "\n\n".join(paragraphs))


def test_page_of_200_sentences_weighs_under_100_kb(app: Flask, client: FlaskClient) -> None:
    with app_session(app) as s:
        project = add_project(s, "wire")
        user = add_user(s, "ann1", project=project)
        article = _big_article(s, project, 200)
        labels = label_ids(s, project.id)
        units = s.execute(
            select(Unit.id, Unit.suggested_sources).where(
                Unit.article_id == article.id, Unit.kind == "sentence"
            )
        ).all()
        assert len(units) == 200
        # Every sentence labelled with its sources and a short note: the heaviest page.
        for unit_id, sources in units:
            upsert_annotation(
                s, unit_id, user.id, labels["quote"], sources, "checked", user.id, "create"
            )
        s.commit()
        article_id = article.id
    login(client, "ann1")
    html = _page(client, article_id).get_data()
    assets = [client.get(f"/static/{name}") for name in ("annotate.js", "annotate.css", "app.css")]
    assert all(a.status_code == 200 for a in assets)
    total = len(html) + sum(len(a.get_data()) for a in assets)
    for asset in assets:
        asset.close()
    print(f"annotation page of 200 sentences: {total} bytes (HTML {len(html)})")
    assert len(_data(html.decode())["units"]) == 200
    assert total < 100_000


def _decode(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's compact units back in the API's shape (what annotate.js does)."""
    labels = [label["name"] for label in data["project"]["labels"]]

    def source(i: int) -> dict[str, Any]:
        name, kind = data["sources"][str(i)]
        return {"id": i, "name": name, "kind": kind}

    units = []
    for index, (unit_id, start, g, a) in enumerate(data["units"]):
        suggestion = g and {
            "label": None if g[0] is None else labels[g[0]],
            "sources": [source(i) for i in g[1]],
            "cues": [[data["cue_kinds"][k], s, e] for k, s, e in g[2]],
        }
        annotation = a and {
            "label": labels[a[0]],
            "sources": [source(i) for i in a[1]],
            "note": a[2],
            "version": a[3],
            "flagged": len(a) > 4,
        }
        units.append(
            {
                "id": unit_id,
                "index": index,
                "start": start,
                "suggestion": suggestion or None,
                "annotation": annotation or None,
            }
        )
    return units


def test_compact_data_decodes_to_the_article_view(app: Flask, client: FlaskClient) -> None:
    from annotator.article_view import article_view
    from annotator.models import User

    seed = seed_path()
    with app_session(app) as s:
        project = add_project(s, "dw")
        user = add_user(s, "ann1", project=project)
        article = add_article(s, project, seed.read_text(encoding="utf-8"))
        units = s.execute(
            select(Unit.id, Unit.suggested_sources).where(
                Unit.article_id == article.id, Unit.kind == "sentence"
            )
        ).all()
        labels = label_ids(s, project.id)
        for unit_id, sources in units[:5]:
            upsert_annotation(s, unit_id, user.id, labels["quote"], sources, "n", user.id, "c")
        s.commit()
        viewer = s.get(User, user.id)
        assert viewer is not None
        view = article_view(s, article.id, viewer, viewer)
        assert view is not None
        expected, mentions = view["units"], view["mentions"]
        article_id = article.id
    login(client, "ann1")
    data = _data(_page(client, article_id).get_data(as_text=True))
    decoded = _decode(data)
    sentences = [u for u in expected if u["kind"] == "sentence"]
    assert len(decoded) == len(sentences) == 12
    for got, want in zip(decoded, sentences, strict=True):
        assert (got["id"], got["index"], got["start"]) == (want["id"], want["index"], want["start"])
        g = want["suggestion"]
        assert got["suggestion"] == (
            g
            and {
                "label": g["label"],
                "sources": g["sources"],
                "cues": [[c["kind"], c["start"], c["end"]] for c in g["cues"]],
            }
        )
        a = want["annotation"]
        assert got["annotation"] == (
            a and {k: a[k] for k in ("label", "sources", "note", "version", "flagged")}
        )
    assert sum(1 for u in decoded if u["annotation"]) == 5
    assert sum(1 for u in decoded if u["suggestion"] and u["suggestion"]["sources"]) >= 3
    assert data["mentions"] == [[m["source_id"], m["start"], m["end"]] for m in mentions]
    assert {data["sources"][str(m["source_id"])][0] for m in mentions} >= {"KCNA", "AP"}
