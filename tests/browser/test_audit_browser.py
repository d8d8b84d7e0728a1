"""The history pages in Chromium: reached from the review page, readable, no script errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from annotator.exchange.apply import upsert_annotation
from tests import review_world
from tests.browser.conftest import LiveServer, log_in, serve_world
from tests.helpers import app_session

expect: Any = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def history_server(live_app: Flask) -> Iterator[LiveServer]:
    """The review test project; ann1 changes sentence 3 with a hostile note."""
    with app_session(live_app) as session:
        world = review_world.build(session)
        users, labels, sources = world["users"], world["labels"], world["sources"]
        upsert_annotation(
            session,
            world["units"][3],
            users["ann1"],
            labels["quote"],
            [sources["AFP"], sources["AP"]],
            "<img src=x onerror=alert(1)>",
            users["ann1"],
            "update",
        )
        session.commit()
    yield from serve_world(live_app, world)


def test_reviewer_reads_a_sentences_history(context: Any, history_server: LiveServer) -> None:
    unit = history_server.extra["units"][3]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    log_in(page, history_server.url, "rev")
    page.goto(f"{history_server.url}/units/{unit}/review")
    page.click("#history-link")
    page.wait_for_url(f"**/units/{unit}/history")
    update = page.locator("tr.k-annotation").nth(2)
    expect(update).to_contain_text("updated")
    expect(update).to_contain_text("speculation → quote")
    expect(update).to_contain_text("AFP → AFP, AP")
    expect(update).to_contain_text("<img src=x onerror=alert(1)>")
    page.click("text=History of the whole article")
    expect(page.locator("table.history tbody tr").first).to_contain_text("updated")
    assert problems == []
