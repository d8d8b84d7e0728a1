"""Stored XSS in Chromium: script payloads saved in an article's title and text, a source's
name and alias, notes, a project's name and an annotator's name never run on any page.

Run twice: once with the Content-Security-Policy enforced (then not even a blocked
attempt may show up as a CSP violation), once with Chromium told to ignore it
(``bypass_csp``), so escaping alone is shown to hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests import hostile_world
from tests.browser.conftest import LiveServer, log_in, serve_world
from tests.helpers import app_session

expect: Any = pytest.importorskip("playwright.sync_api").expect

SENTENCES = "#units li:not(.ctx)"
TYPED_NOTE = 'typed <img src=x onerror="window.__xss=1"> here'


@pytest.fixture
def xss_server(live_app: Flask) -> Iterator[LiveServer]:
    """The hostile project (tests/hostile_world.py) served on a free port."""
    with app_session(live_app) as session:
        world = hostile_world.build(session)
    yield from serve_world(live_app, world)


@dataclass
class Watch:
    """Everything a payload that ran, or was blocked, would leave behind."""

    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # <img src=x> parsed as markup would fetch /x (img-src 'self' allows it).
    fetched_x: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", self._console)
        page.on("request", self._request)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)

    def _request(self, request: Any) -> None:
        if urlsplit(request.url).path.rstrip("/").endswith("/x"):
            self.fetched_x.append(request.url)


def assert_clean(page: Any, watch: Watch, where: str) -> None:
    """No payload ran on this page, and none was even attempted."""
    assert page.evaluate("typeof window.__xss") == "undefined", where
    violations = page.evaluate("window.__violations || []")
    assert violations == [], f"{where}: {violations}"
    assert watch.dialogs == [], where
    assert watch.csp == [], where
    assert watch.errors == [], where
    assert watch.fetched_x == [], where


def visit(page: Any, watch: Watch, url: str, *literal: str) -> None:
    """Open ``url``; each of ``literal`` must show on it as text; nothing ran."""
    page.goto(url)
    page.wait_for_load_state("load")
    for text in literal:
        expect(page.locator("body")).to_contain_text(text)
    assert_clean(page, watch, url)


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["csp", "no-csp"])
def test_stored_payloads_never_execute(
    browser: Any, xss_server: LiveServer, bypass_csp: bool
) -> None:
    world, base = xss_server.extra, xss_server.url
    project, article, unit = xss_server.project_id, xss_server.article_id, world["units"][0]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=bypass_csp)
    context.set_default_timeout(10_000)
    # Chromium reports blocked inline code as events too; collect them on every page.
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    annotate = f"{base}/articles/{article}/annotate"

    # ann1's own answers: the note and the cited source come back as text.
    log_in(page, base, "ann1")
    visit(page, watch, f"{base}/", hostile_world.PROJECT)
    visit(page, watch, f"{base}/projects/{project}", hostile_world.PROJECT, hostile_world.TITLE)
    visit(page, watch, annotate, hostile_world.TITLE)
    expect(page.locator(SENTENCES).first).to_have_text(
        f"Officials said {hostile_world.PAYLOADS[0]} was found."
    )
    expect(page.locator(SENTENCES).nth(1)).to_contain_text(hostile_world.PAYLOADS[1])
    page.locator(SENTENCES).first.click()
    expect(page.locator("#chips .nm")).to_have_text([hostile_world.SOURCE])
    page.keyboard.press("n")
    expect(page.locator("#note")).to_be_focused()
    expect(page.locator("#note")).to_have_value(hostile_world.NOTE)
    page.keyboard.press("Escape")
    assert_clean(page, watch, "ann1's annotation page")
    context.clear_cookies()

    # The reviewer annotates too: the picker finds the source by its hostile alias,
    # and a note typed with a payload is saved and shown back as typed.
    log_in(page, base, "rev")
    visit(page, watch, annotate, hostile_world.TITLE)
    page.keyboard.press("2")
    page.keyboard.press("s")
    expect(page.locator("#pq")).to_be_focused()
    page.keyboard.type("A <script>window.__xss")
    expect(page.locator("#pl li").first).to_contain_text(hostile_world.SOURCE)
    page.keyboard.press("Enter")
    expect(page.locator("#chips .nm")).to_have_text([hostile_world.SOURCE])
    page.keyboard.press("n")
    page.keyboard.type(TYPED_NOTE)
    page.keyboard.press("Escape")
    expect(page.locator("#state")).to_have_text("All changes saved")
    page.reload()
    page.locator(SENTENCES).first.click()
    expect(page.locator("#note")).to_have_value(TYPED_NOTE)
    assert_clean(page, watch, "rev's annotation page")

    # Review, sources and agreement: every name and note as text, nothing run.
    visit(page, watch, f"{base}/projects/{project}/review", hostile_world.TITLE)
    visit(page, watch, f"{base}/units/{unit}/review", hostile_world.NOTE, hostile_world.SOURCE)
    visit(page, watch, f"{base}/review", hostile_world.PROJECT)
    visit(page, watch, f"{base}/sources", hostile_world.SOURCE, hostile_world.ALIAS)
    visit(page, watch, f"{base}/sources/{world['source']}", hostile_world.SOURCE)
    visit(page, watch, f"{base}/projects/{project}/agreement", world["evil_user"])
    visit(page, watch, f"{base}/projects/{project}", hostile_world.PROJECT)
    context.clear_cookies()

    # The annotator whose very name is a payload sees it in the menu as text.
    page.goto(f"{base}/login")
    page.fill("#username", world["evil_user"])
    page.fill("#password", "correct horse battery")
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    visit(page, watch, f"{base}/", world["evil_user"])
    visit(page, watch, annotate, hostile_world.TITLE)
    context.close()
