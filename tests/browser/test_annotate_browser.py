"""The annotation page in Chromium: keyboard annotation, blindness, offline saves,
two tabs, the export, session expiry and hostile content."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.exchange.export import export_json
from annotator.models import Annotation, AnnotationSource, Label, Project, Source, Unit, User
from annotator.registry import SourceIndex
from tests.browser.conftest import LiveServer, log_in, serve_article

expect: Any = pytest.importorskip("playwright.sync_api").expect

SENTENCES = "#units li:not(.ctx)"
# The seed article's 12 sentences and the keys an annotator presses for them.
KEYS = ["3", "1", "1", "1", "3", "1", "3", "1", "3", "2", "1", "1"]
NAMES = {"1": "reported_fact", "2": "quote", "3": "speculation", "4": "unclear"}


def open_page(page: Any, server: LiveServer, user: str = "ann1", query: str = "") -> None:
    """Log in and open the article's annotation page."""
    log_in(page, server.url, user)
    page.goto(f"{server.url}/articles/{server.article_id}/annotate{query}")
    expect(page.locator(f"{SENTENCES}[tabindex='0']")).to_have_count(1)


def stored(server: LiveServer, user: str) -> dict[int, tuple[str, list[str], str, int]]:
    """The user's annotations by sentence index: label, source names in order, note, version."""
    with server.session() as s:
        rows = s.execute(
            select(Unit.index, Label.name, Annotation.note, Annotation.version, Source.name)
            .join(Annotation, Annotation.unit_id == Unit.id)
            .join(User, User.id == Annotation.annotator_id)
            .join(Label, Label.id == Annotation.label_id)
            .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
            .outerjoin(Source, Source.id == AnnotationSource.source_id)
            .where(User.username == user, Unit.article_id == server.article_id)
            .order_by(Unit.index, AnnotationSource.position)
        ).all()
    found: dict[int, tuple[str, list[str], str, int]] = {}
    for index, label, note, version, source in rows:
        entry = found.setdefault(index, (label, [], note, version))
        if source is not None:
            entry[1].append(source)
    return found


def saved(page: Any) -> None:
    """Wait until the page says every change reached the server."""
    expect(page.locator("#state")).to_have_text("All changes saved")


def add_source(page: Any, query: str) -> None:
    """Open the picker with s, type, and take the first match with Enter."""
    page.keyboard.press("s")
    expect(page.locator("#pq")).to_be_focused()
    page.keyboard.type(query)
    expect(page.locator("#pl li").first).to_contain_text(query)
    page.keyboard.press("Enter")


def test_keyboard_annotation_persists(context: Any, live_server: LiveServer) -> None:
    page = context.new_page()
    open_page(page, live_server)
    for i, key in enumerate(KEYS):
        expect(page.locator("#pos")).to_have_text(f"{i + 1} of 12")
        page.keyboard.press(key)
        if i == 3:
            add_source(page, "KCNA")
        if i == 9:
            add_source(page, "Koh")
            add_source(page, "AP")
            page.keyboard.press("n")
            expect(page.locator("#note")).to_be_focused()
            page.keyboard.type("speaker, then the agency")
            page.keyboard.press("Escape")
            expect(page.locator(f"{SENTENCES}.cur")).to_be_focused()
        page.keyboard.press("Enter")
    saved(page)
    expect(page.locator("#done")).to_have_text("12")
    page.reload()
    labels = page.locator(SENTENCES).evaluate_all("els => els.map(e => e.dataset.l)")
    assert labels == [NAMES[k] for k in KEYS]
    page.keyboard.press("k")  # from the first sentence nothing is unlabelled: go to the 10th
    page.locator(SENTENCES).nth(9).click()
    expect(page.locator("#chips .nm")).to_have_text(["Koh Yu-hwan", "AP"])
    expect(page.locator("#note")).to_have_value("speaker, then the agency")
    rows = stored(live_server, "ann1")
    assert {i: row[0] for i, row in rows.items()} == {i: NAMES[k] for i, k in enumerate(KEYS)}
    assert rows[3][1] == ["KCNA"]
    # The version depends on how the typing was batched into saves: 3 at least.
    assert rows[9][:3] == ("quote", ["Koh Yu-hwan", "AP"], "speaker, then the agency")
    assert rows[9][3] >= 3


def test_undo_and_clear(context: Any, live_server: LiveServer) -> None:
    page = context.new_page()
    open_page(page, live_server)
    first = page.locator(SENTENCES).first
    page.keyboard.press("2")
    page.keyboard.press("4")
    saved(page)
    page.keyboard.press("u")
    expect(first).to_have_attribute("data-l", "quote")
    saved(page)
    assert stored(live_server, "ann1")[0][0] == "quote"
    page.keyboard.press("x")
    expect(first).not_to_have_attribute("data-l", "quote")
    saved(page)
    assert stored(live_server, "ann1") == {}


def test_two_annotators_are_blind(browser: Any, live_server: LiveServer) -> None:
    first = browser.new_context()
    page = first.new_page()
    open_page(page, live_server, "ann1")
    page.keyboard.press("2")
    page.keyboard.press("n")
    page.keyboard.type("ann1-only-note")
    page.keyboard.press("Escape")
    saved(page)
    second = browser.new_context()
    other = second.new_page()
    open_page(other, live_server, "ann2")
    assert other.locator(SENTENCES).evaluate_all("els => els.filter(e => e.dataset.l).length") == 0
    html = other.content()
    assert "ann1-only-note" not in html and "ann1" not in html
    other.keyboard.press("1")
    saved(other)
    [(index, mine)] = stored(live_server, "ann1").items()
    assert (index, mine[:3]) == (0, ("quote", [], "ann1-only-note"))
    assert stored(live_server, "ann2") == {0: ("reported_fact", [], "", 1)}
    first.close()
    second.close()


def test_unreachable_server_keeps_the_change_until_it_is_back(
    context: Any, live_server: LiveServer
) -> None:
    page = context.new_page()
    open_page(page, live_server)
    first = page.locator(SENTENCES).first
    page.route("**/api/v1/units/**", lambda route: route.abort())
    page.keyboard.press("2")
    expect(page.locator("#state")).to_contain_text("Not saved")
    expect(first).to_have_attribute("data-l", "quote · not saved")
    assert stored(live_server, "ann1") == {}
    page.reload()  # still unreachable: the change comes back from localStorage
    expect(page.locator(SENTENCES).first).to_have_attribute("data-l", "quote · not saved")
    expect(page.locator("#state")).to_contain_text("Not saved")
    assert stored(live_server, "ann1") == {}
    page.unroute("**/api/v1/units/**")
    page.evaluate("dispatchEvent(new Event('online'))")
    saved(page)
    expect(page.locator(SENTENCES).first).to_have_attribute("data-l", "quote")
    assert stored(live_server, "ann1") == {0: ("quote", [], "", 1)}
    assert page.evaluate("Object.keys(localStorage)") == []


def test_stale_tab_gets_the_conflict_dialog(context: Any, live_server: LiveServer) -> None:
    one, two = context.new_page(), context.new_page()
    open_page(one, live_server)
    two.goto(f"{live_server.url}/articles/{live_server.article_id}/annotate")
    one.keyboard.press("1")
    saved(one)
    two.keyboard.press("2")
    dialog = two.locator("#conflict")
    expect(dialog).to_be_visible()
    expect(two.locator("#cf-mine")).to_contain_text("quote")
    expect(two.locator("#cf-theirs")).to_contain_text("reported_fact")
    expect(two.locator("#cf-theirs")).to_contain_text("version 1")
    expect(two.locator("#cf-keep")).to_be_focused()
    two.keyboard.press("Enter")  # keep mine
    expect(dialog).to_be_hidden()
    saved(two)
    assert stored(live_server, "ann1") == {0: ("quote", [], "", 2)}
    # The first tab is stale now; this time the server's version wins.
    one.keyboard.press("3")
    expect(one.locator("#conflict")).to_be_visible()
    expect(one.locator("#cf-theirs")).to_contain_text("quote")
    one.keyboard.press("Tab")
    expect(one.locator("#cf-take")).to_be_focused()
    one.keyboard.press("Enter")
    expect(one.locator(SENTENCES).first).to_have_attribute("data-l", "quote")
    expect(one.locator("#state")).not_to_contain_text("Not saved")
    assert stored(live_server, "ann1") == {0: ("quote", [], "", 2)}


def test_logged_out_banner_keeps_the_change_and_replays_it(
    context: Any, live_server: LiveServer
) -> None:
    page = context.new_page()
    open_page(page, live_server)
    other = context.new_page()
    other.goto(f"{live_server.url}/")
    other.get_by_role("button", name="Log out").click()
    page.keyboard.press("3")
    expect(page.locator("#logout")).to_be_visible()
    expect(page.locator("#logout")).to_contain_text("your changes are kept")
    expect(page.locator("#state")).to_contain_text("Logged out")
    assert stored(live_server, "ann1") == {}
    log_in(other, live_server.url, "ann1")
    saved(page)
    expect(page.locator("#logout")).to_be_hidden()
    assert stored(live_server, "ann1") == {0: ("speculation", [], "", 1)}


def test_reviewer_view_is_read_only(browser: Any, live_server: LiveServer) -> None:
    annotator = browser.new_context()
    page = annotator.new_page()
    open_page(page, live_server, "ann1")
    page.keyboard.press("2")
    saved(page)
    reviewer = browser.new_context()
    review = reviewer.new_page()
    open_page(review, live_server, "rev", "?annotator=ann1")
    expect(review.locator(SENTENCES).first).to_have_attribute("data-l", "quote")
    for key in ["1", "x", "u", "Enter", "s", "n"]:
        review.keyboard.press(key)
    expect(review.locator(".lab").first).to_be_disabled()
    assert stored(live_server, "ann1") == {0: ("quote", [], "", 1)}
    assert stored(live_server, "rev") == {}
    annotator.close()
    reviewer.close()


def test_export_holds_exactly_what_was_typed(context: Any, live_server: LiveServer) -> None:
    note = "Zitat? “Ja” — 😀 <b>&amp;</b> {{ 7*7 }}"
    page = context.new_page()
    open_page(page, live_server)
    page.locator(SENTENCES).nth(9).click()
    page.keyboard.press("2")
    add_source(page, "Koh")
    add_source(page, "AP")
    page.keyboard.press("n")
    page.keyboard.insert_text(note)
    page.keyboard.press("Escape")
    saved(page)
    out = io.BytesIO()
    with live_server.session() as s:
        export_json(s, out)
    document = json.loads(out.getvalue())
    [article] = document["projects"][0]["articles"]
    annotated = [u for u in article["units"] if u["annotations"]]
    assert [u["index"] for u in annotated] == [9]
    [annotation] = annotated[0]["annotations"]
    assert annotation["annotator"] == "ann1"
    assert annotation["label"] == "quote"
    assert annotation["sources"] == ["Koh Yu-hwan", "AP"]
    assert annotation["note"] == note


XSS = '<img src=x onerror="window.__xss=1;alert(1)">'


def _hostile_setup(session: Session, project: Project) -> dict[str, Any]:
    index = SourceIndex(session, project.id)
    return {"source": index.ensure(XSS, "person")}


@pytest.fixture
def hostile_server(live_app: Flask) -> Iterator[LiveServer]:
    """An article whose text and credits carry script payloads, and a source named like one."""
    text = (
        "Payloads\n\n"
        "Officials said <script>window.__xss=1;alert(1)</script> was found.\n\n"
        f"The ministry said {XSS} appeared.\n\n"
        '"We said "></li><svg onload=alert(1)>," AP reported.\n'
    )
    yield from serve_article(live_app, text, _hostile_setup)


def test_hostile_content_never_runs(context: Any, hostile_server: LiveServer) -> None:
    with hostile_server.session() as s:
        from annotator.models import Article

        article = s.get(Article, hostile_server.article_id)
        assert article is not None
        article.credits = [XSS]
        s.commit()
    page = context.new_page()
    dialogs: list[str] = []
    problems: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
            else None
        ),
    )
    open_page(page, hostile_server)
    expect(page.locator(SENTENCES).first).to_contain_text(
        "<script>window.__xss=1;alert(1)</script>"
    )
    page.keyboard.press("1")
    page.keyboard.press("s")
    expect(page.locator("#pl li").first).to_contain_text(XSS)  # offered from the credits
    page.keyboard.press("1")  # pick it
    expect(page.locator("#chips .nm")).to_have_text([XSS])
    saved(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("?")
    page.keyboard.press("?")
    page.reload()
    page.locator(SENTENCES).first.click()
    expect(page.locator("#chips .nm")).to_have_text([XSS])
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert problems == []


def test_a_new_source_is_created_inline(context: Any, live_server: LiveServer) -> None:
    page = context.new_page()
    open_page(page, live_server)
    page.keyboard.press("2")
    page.keyboard.press("s")
    page.keyboard.type("Lee Jong-sik")
    expect(page.locator("#pc")).to_be_visible()
    expect(page.locator("#pcn")).to_have_text("Lee Jong-sik")
    page.keyboard.press("Tab")  # to the kind
    page.keyboard.press("End")  # the last kind: anonymous
    page.keyboard.press("Enter")
    expect(page.locator("#chips .nm")).to_have_text(["Lee Jong-sik"])
    saved(page)
    assert stored(live_server, "ann1")[0][:2] == ("quote", ["Lee Jong-sik"])
    with live_server.session() as s:
        kind = s.scalar(select(Source.kind).where(Source.name == "Lee Jong-sik"))
    assert kind == "anonymous"
