"""Catalogue rows 19–22 and 25 (XSS, templating, SQL metacharacters, header injection):
hostile strings stored in every field a user can fill, then every page that shows them.

Each test is named after its row of /work/shared/reference/bad_input_and_attacks.md.
Pages are parsed with html.parser: an injected element or event attribute would show
up as a real tag or attribute, whatever the escaping looked like in the bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from annotator.exchange.apply import upsert_annotation
from annotator.models import Label, Project, User
from annotator.registry import SourceIndex
from annotator.users import create_user
from tests.helpers import add_article, add_project, add_user, app_session
from tests.review_world import sentence_ids
from tests.test_api_annotations import Api

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(2)</script>",
]
JS_URL = "javascript:alert(1)"
TEMPLATES = ["{{ 7*7 }}", "{% for %}", "${7*7}"]
SQL = ["' OR 1=1 --", "Robert'); DROP TABLE users;--", "%", "_", "\\"]
# Every field gets as many payloads as its length limit allows.
PROJECT_NAME = " ".join([*XSS, JS_URL, *TEMPLATES[:1]])
TITLE = " ".join([*XSS, JS_URL, *TEMPLATES])
SOURCE_NAME = " ".join([*XSS, JS_URL])
ALIAS = " ".join([*SQL, *TEMPLATES])
LABELS = ['"><svg onload=alert(1)>', "<img src=x onerror=alert(1)>{{ 7*7 }}"]
# Usernames are stored case-folded, so these are written in lower case already.
ANNOTATORS = [
    "<img src=x onerror=alert(1)>",
    "robert'); drop table users;--",
    '"><svg onload=alert(1)> ${7*7}',
]
NOTE = " ".join([*XSS, JS_URL, *TEMPLATES, *SQL])
RATIONALE = " ".join([*XSS, *TEMPLATES])
ARTICLE = "\n\n".join(
    f"Sentence {n} says {payload} here."
    for n, payload in enumerate([*XSS, JS_URL, *TEMPLATES, *SQL[:2]])
)
# Tags no page of ours ever renders: their presence means injected markup.
FOREIGN_TAGS = {"img", "iframe", "object", "embed", "base", "style", "frame"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}


class Page(HTMLParser):
    """Every element, attribute, text run and script of a page, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.texts: list[str] = []
        self._in_script: dict[str, str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.elements.append((tag, found))
        if tag == "script":
            self._in_script = found
            self.scripts.append((found, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, content = self.scripts[-1]
            self.scripts[-1] = (attrs, content + data)
        else:
            self.texts.append(data)

    def visible(self) -> str:
        """The text and attribute values the reader sees (entities decoded)."""
        values = [value for _, attrs in self.elements for value in attrs.values()]
        return "\n".join([*self.texts, *values])

    def islands(self) -> list[Any]:
        """The JSON data islands, decoded."""
        return [
            json.loads(content)
            for attrs, content in self.scripts
            if attrs.get("type") == "application/json"
        ]


def assert_inert(html: str, where: str) -> Page:
    """No injected element, event handler, script or javascript: URL in ``html``."""
    page = Page(html)
    for tag, attrs in page.elements:
        assert tag not in FOREIGN_TAGS, (where, tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name, value)
            if name in URL_ATTRIBUTES:
                assert not value.strip().lower().startswith("javascript:"), (where, tag, value)
    for attrs, content in page.scripts:
        if "src" in attrs:
            # Our own files only, and nothing inline beside them.
            assert attrs["src"].startswith("/static/") and not content.strip(), (where, attrs)
        else:
            assert attrs.get("type") == "application/json", (where, attrs, content[:80])
            json.loads(content)  # a well-formed island, not one closed early
            assert "<" not in content, (where, content[:80])
    for payload in XSS:
        assert payload not in html, (where, payload)
    return page


@dataclass
class Hostile:
    """Ids of a project whose every user-supplied field holds a payload."""

    project: int
    other_project: int
    article: int
    sentences: list[int]
    source: int
    labels: list[int]
    annotators: list[str]


@pytest.fixture
def hostile(app: Flask) -> Hostile:
    """The hostile project, three annotators with hostile names, a reviewer "rev" and an
    admin "boss"; every annotator labelled the first two sentences with hostile answers,
    and the second sentence has a gold decision with a hostile rationale."""
    with app_session(app) as session:
        project = add_project(session, PROJECT_NAME)
        other = add_project(session, "plain")
        position = len(project.labels)
        custom = [
            Label(
                project_id=project.id,
                name=name,
                key=str(5 + i),
                description=" ".join(XSS),
                position=position + i,
            )
            for i, name in enumerate(LABELS)
        ]
        session.add_all(custom)
        users = [create_user(session, name) for name in ANNOTATORS]
        add_user(session, "rev", "reviewer", project=project)
        add_user(session, "boss", "admin")
        from annotator.access import add_member

        for user in users:
            add_member(session, project.id, user.id)
        session.flush()
        article = add_article(session, project, ARTICLE, title=TITLE)
        article.url = JS_URL
        article.credits = [XSS[1]]
        source = SourceIndex(session, project.id).ensure(
            SOURCE_NAME, "person", [ALIAS], description=NOTE
        )
        units = sentence_ids(session, article.id)
        answers = [custom[0].id, custom[1].id, custom[0].id]
        for user, label in zip(users, answers, strict=True):
            for unit in units[:2]:
                upsert_annotation(session, unit, user.id, label, [source], NOTE, user.id, "create")
        session.commit()
        ids = Hostile(
            project=project.id,
            other_project=other.id,
            article=article.id,
            sentences=units,
            source=source,
            labels=[label.id for label in custom],
            annotators=[user.username for user in users],
        )
    reviewer = Api(app, "rev")
    gold = reviewer.client.put(
        f"/api/v1/units/{units[1]}/gold",
        json={"label": LABELS[0], "sources": [source], "rationale": RATIONALE},
        headers=reviewer.headers,
    )
    assert gold.status_code == 200, gold.get_json()
    return ids


def _pages(h: Hostile) -> dict[str, list[str]]:
    """Every HTML page showing the hostile data, with what it must show literally."""
    p, a, s = h.project, h.article, h.source
    first, second = h.sentences[:2]
    someone = quote(h.annotators[0])
    return {
        "/": [PROJECT_NAME],
        "/review": [PROJECT_NAME],
        f"/projects/{p}": [PROJECT_NAME, TITLE],
        f"/projects/{p}/manage": [PROJECT_NAME, *ANNOTATORS],
        f"/projects/{p}/articles/{a}/assign": [PROJECT_NAME, TITLE, *ANNOTATORS],
        f"/projects/{p}/guidelines": [*LABELS],
        "/guidelines": [],
        f"/articles/{a}/annotate": [TITLE, *LABELS, *ANNOTATORS, XSS[0], TEMPLATES[0]],
        f"/articles/{a}/annotate?annotator={someone}": [TITLE, ANNOTATORS[0]],
        f"/articles/{a}/segments": [TITLE, XSS[2]],
        f"/projects/{p}/review": [PROJECT_NAME, XSS[0]],
        f"/projects/{p}/review?status=all&annotator={someone}": [PROJECT_NAME],
        f"/units/{first}/review": [*LABELS, *ANNOTATORS, SOURCE_NAME, NOTE],
        f"/units/{second}/review": [LABELS[0], RATIONALE, SOURCE_NAME],
        f"/projects/{p}/agreement": [PROJECT_NAME, *LABELS, *ANNOTATORS],
        f"/projects/{p}/agreement?annotator={someone}": [PROJECT_NAME],
        f"/sources?project={p}": [SOURCE_NAME, ALIAS],
        f"/sources?project={p}&q={quote(SQL[0])}": [SOURCE_NAME],
        f"/sources/{s}": [SOURCE_NAME, ALIAS, NOTE, TITLE],
    }


def test_row_19_20_21_hostile_strings_are_inert_on_every_page(app: Flask, hostile: Hostile) -> None:
    boss = Api(app, "boss").client
    for url, shown in _pages(hostile).items():
        response = boss.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = assert_inert(response.get_data(as_text=True), url)
        visible = page.visible()
        if url.endswith("/agreement"):  # the charts are inline SVG with the names in it
            assert "svg" in {tag for tag, _ in page.elements}, url
        for value in shown:
            # Shown literally (templating included), or — for the annotation page,
            # which renders from its data island — present in that island.
            island = [s for data in page.islands() for s in _strings(data)]
            assert value in visible or any(value in s for s in island), (url, value)
    # Templating is never evaluated: 7*7 appears nowhere as its result next to the text.
    annotate = boss.get(f"/articles/{hostile.article}/annotate").get_data(as_text=True)
    assert "Sentence 5 says {{ 7*7 }} here." in annotate
    assert "Sentence 5 says 49 here." not in annotate
    assert "Sentence 6 says {% for %} here." in annotate
    assert "Sentence 7 says ${7*7} here." in annotate


def _strings(value: Any) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_row_19_annotator_sees_own_hostile_note_in_the_data_island(
    app: Flask, hostile: Hostile
) -> None:
    me = Api(app, hostile.annotators[0]).client
    html = me.get(f"/articles/{hostile.article}/annotate").get_data(as_text=True)
    page = assert_inert(html, "annotate as annotator")
    [data] = page.islands()
    notes = [unit[3][2] for unit in data["units"] if unit[3]]
    assert notes == [NOTE, NOTE]  # exactly what was typed, only this annotator's
    assert data["me"]["username"] == ANNOTATORS[0]
    assert [label["name"] for label in data["project"]["labels"]][-2:] == LABELS


def test_row_19_20_export_holds_the_exact_raw_strings(app: Flask, hostile: Hostile) -> None:
    boss = Api(app, "boss").client
    reply = boss.get(f"/api/v1/projects/{hostile.project}/export")
    assert reply.status_code == 200
    assert "attachment" in reply.headers["Content-Disposition"]
    [project] = json.loads(reply.get_data())["projects"]
    assert project["name"] == PROJECT_NAME
    assert [label["name"] for label in project["labels"]][-2:] == LABELS
    [source] = [s for s in project["sources"] if s["name"] == SOURCE_NAME]
    assert source["aliases"] == [ALIAS]
    [article] = project["articles"]
    # The canonical text is the title, then the body, byte for byte.
    assert article["title"] == TITLE and article["text"] == f"{TITLE}\n\n{ARTICLE}"
    sentences = [unit["text"] for unit in article["units"] if unit["kind"] == "sentence"]
    assert sentences == ARTICLE.split("\n\n")
    assert article["credits"] == [XSS[1]]
    annotations = [a for unit in article["units"] for a in unit.get("annotations", [])]
    assert {a["annotator"] for a in annotations} == set(ANNOTATORS)
    assert {a["note"] for a in annotations} == {NOTE}
    gold = next(unit["gold"] for unit in article["units"] if unit["gold"])
    assert gold["rationale"] == RATIONALE and gold["sources"] == [SOURCE_NAME]


def test_row_20_api_json_carries_names_verbatim(app: Flask, hostile: Hostile) -> None:
    # JSON answers are application/json (never sniffed as HTML) and hold the raw strings.
    rev = Api(app, "rev").client
    view = rev.get(f"/api/v1/articles/{hostile.article}?annotator={quote(ANNOTATORS[1])}")
    assert view.mimetype == "application/json"
    assert view.headers["X-Content-Type-Options"] == "nosniff"
    data = view.get_json()
    assert data["project"]["name"] == PROJECT_NAME
    assert data["annotator"]["username"] == ANNOTATORS[1]
    assert data["units"][1]["annotation"]["label"] == LABELS[1]
    found = rev.get(f"/api/v1/projects/{hostile.project}/sources?q={quote('OR 1=1')}")
    assert [s["name"] for s in found.get_json()["sources"]] == [SOURCE_NAME]


def test_row_20_url_fields_refuse_other_schemes(app: Flask, hostile: Hostile) -> None:
    boss = Api(app, "boss")
    before = _article_count(app)
    for url in (JS_URL, "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>"):
        reply = boss.client.post(
            f"/api/v1/projects/{hostile.other_project}/articles",
            json={"text": "A plain sentence here.", "url": url},
            headers=boss.headers,
        )
        assert reply.status_code == 422 and "http" in reply.get_json()["message"], url
    assert _article_count(app) == before
    # A javascript: URL already stored (an old import) is never made a link.
    html = boss.client.get(f"/articles/{hostile.article}/annotate").get_data(as_text=True)
    assert not any(
        value.lower().startswith(("javascript:", "data:"))
        for _, attrs in Page(html).elements
        for value in attrs.values()
    )


def _article_count(app: Flask) -> int:
    with app_session(app) as session:
        from annotator.models import Article

        return session.scalar(select(func.count()).select_from(Article)) or 0


def test_row_22_sql_metacharacters_in_search_match_literally(app: Flask, hostile: Hostile) -> None:
    """LIKE wildcards in a search are literal characters; nothing errs, no table goes."""
    boss = Api(app, "boss").client
    for query in [*SQL, "%%", "a_b", "\\%", "' OR ''='"]:
        _search(app, boss, hostile, query)


def _search(app: Flask, boss: FlaskClient, hostile: Hostile, query: str) -> None:
    expected = [SOURCE_NAME] if query.casefold() in ALIAS.casefold() else []
    api = boss.get(f"/api/v1/projects/{hostile.project}/sources", query_string={"q": query})
    assert api.status_code == 200
    assert [s["name"] for s in api.get_json()["sources"]] == expected, query
    page = boss.get("/sources", query_string={"project": hostile.project, "q": query})
    assert page.status_code == 200
    links = {attrs.get("href") for _, attrs in Page(page.get_data(as_text=True)).elements}
    assert (f"/sources/{hostile.source}" in links) == bool(expected), query
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 5
        assert session.scalar(text("SELECT count(*) FROM projects")) == 2


def test_row_22_sql_metacharacters_in_names_are_stored_literally(
    app: Flask, hostile: Hostile
) -> None:
    boss = Api(app, "boss")
    name = "Robert'); DROP TABLE projects;-- 100% _x_ \\"
    page = boss.client.get("/").get_data(as_text=True)
    token = next(
        attrs["value"]
        for tag, attrs in Page(page).elements
        if tag == "input" and attrs.get("name") == "csrf_token"
    )
    reply = boss.client.post("/", data={"name": name, "description": "", "csrf_token": token})
    assert reply.status_code == 302
    with app_session(app) as session:
        assert session.scalar(select(Project.name).where(Project.name == name)) == name
        assert session.scalar(select(func.count()).select_from(Project)) == 3
    index = boss.client.get("/").get_data(as_text=True)
    assert name in Page(index).visible()


def test_row_25_line_breaks_never_reach_headers(app: Flask, hostile: Hostile) -> None:
    """CR/LF in a username, a next= target or a search cannot add a header; names with
    them are refused; export filenames keep only safe characters."""
    with app_session(app) as session:
        with pytest.raises(ValueError, match="control characters"):
            create_user(session, "a\r\nSet-Cookie: x=1")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = client.post(
        "/login?next=/%0D%0ASet-Cookie:%20x=1",
        data={"username": "a\r\nSet-Cookie: x=1", "password": "x", "csrf_token": token},
    )
    assert refused.status_code in (400, 401)
    assert all("x=1" not in value for value in refused.headers.getlist("Set-Cookie"))
    anonymous = client.get("/projects/1%0D%0ASet-Cookie:%20x=1")
    assert anonymous.status_code in (302, 404)
    assert all("x=1" not in value for value in anonymous.headers.getlist("Set-Cookie"))
    assert "\n" not in anonymous.headers.get("Location", "")
    boss = Api(app, "boss").client
    export = boss.get(f"/projects/{hostile.project}/export.json")
    disposition = export.headers["Content-Disposition"]
    filename = disposition.split('filename="')[1].rstrip('"')
    assert set(filename) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert filename.endswith(".json") and "\r" not in disposition and "\n" not in disposition
    export.close()


@pytest.mark.expect_5xx
def test_row_25_log_lines_escape_line_breaks(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """A logged request path cannot start a forged log line."""

    @app.get("/explode/<rest>")
    def explode(rest: str) -> str:
        raise RuntimeError("boom")

    reply = app.test_client().get("/explode/x%0D%0AINFO%20forged%20line")
    assert reply.status_code == 500 and "nothing was saved" in reply.get_data(as_text=True)
    [record] = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert "forged line" in record.getMessage()
