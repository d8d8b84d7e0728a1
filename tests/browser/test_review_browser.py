"""The adjudication page in Chromium: a reviewer decides with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from annotator.models import Gold, GoldEvent, GoldSource, User
from tests import review_world
from tests.browser.conftest import LiveServer, log_in, serve_world
from tests.helpers import app_session

expect: Any = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def review_server(live_app: Flask) -> Iterator[LiveServer]:
    """The review test project (tests/review_world.py) served on a free port."""
    with app_session(live_app) as session:
        world = review_world.build(session)
    yield from serve_world(live_app, world)


def test_keyboard_adjudication(context: Any, review_server: LiveServer) -> None:
    world = review_server.extra
    units = world["units"]
    base = review_server.url
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    log_in(page, base, "rev")
    # The dashboard's link for the quote × quote cell.
    page.goto(f"{base}/projects/{review_server.project_id}/review?pair=quote,quote")
    first = page.locator("a.unit-link").first
    expect(first).to_contain_text("We are ready")
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/units/{units[2]}/review?status=all&pair=quote,quote")

    # Choose ann2's answer (Koh → AP): the card is marked and its answer copied.
    page.keyboard.press("2")
    expect(page.locator("#answer-2")).to_have_class("card chosen")
    expect(page.locator("#answer-2 button.accept")).to_be_focused()
    expect(page.locator("#sources")).to_have_value("Koh\nAP")
    expect(page.locator("#chosen")).to_contain_text("Answer 2 by ann2: quote")

    # Help opens and closes with ?.
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_hidden()

    # r writes the rationale; Esc leaves the field; Enter accepts the chosen answer.
    page.keyboard.press("r")
    expect(page.locator("#rationale")).to_be_focused()
    page.keyboard.type("AP relayed Koh's words")
    page.keyboard.press("Escape")
    expect(page.locator("#answer-2 button.accept")).to_be_focused()
    page.keyboard.press("Enter")

    # The next sentence of the same filtered queue.
    page.wait_for_url(f"**/units/{units[0]}/review?status=all&pair=quote,quote")
    expect(page.locator(".flashes")).to_contain_text("Saved the decision on sentence 3")
    with review_server.session() as session:
        gold = session.execute(
            select(Gold.id, Gold.provenance, User.username, Gold.rationale)
            .join(User, User.id == Gold.reviewer_id)
            .where(Gold.unit_id == units[2])
        ).one()
        sources = session.scalars(
            select(GoldSource.source_id)
            .where(GoldSource.gold_id == gold.id)
            .order_by(GoldSource.position)
        ).all()
        history = session.scalars(select(GoldEvent.action).where(GoldEvent.unit_id == units[2]))
        assert (gold.provenance, gold.username, gold.rationale) == (
            "adjudicated",
            "rev",
            "AP relayed Koh's words",
        )
        assert list(sources) == [world["sources"]["Koh"], world["sources"]["AP"]]
        assert list(history) == ["decide"]

    # k goes back to the sentence just decided, which now shows its gold.
    page.keyboard.press("k")
    page.wait_for_url(f"**/units/{units[2]}/review?status=all&pair=quote,quote")
    expect(page.locator(".gold-card")).to_contain_text("adjudicated")
    expect(page.locator(".gold-card")).to_contain_text("AP relayed Koh's words")
    # j moves on again.
    page.keyboard.press("j")
    page.wait_for_url(f"**/units/{units[0]}/review?status=all&pair=quote,quote")
    assert errors == []
