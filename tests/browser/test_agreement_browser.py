"""The agreement dashboard in Chromium: it shows the module's figures, and a confusion
cell opens the review queue on exactly the sentences where those two labels met."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from annotator.exchange.apply import upsert_annotation
from annotator.models import Unit
from annotator.project_agreement import project_agreement
from annotator.projects import label_ids
from annotator.users import get_user_by_name
from tests.browser.conftest import LiveServer, log_in


@pytest.fixture
def disagreeing(live_server: LiveServer) -> LiveServer:
    """ann1 and ann2 label the seed article's first six sentences, disagreeing on two."""
    with live_server.session() as s:
        labels = label_ids(s, live_server.project_id)
        units = (
            s.query(Unit)
            .filter_by(article_id=live_server.article_id, kind="sentence")
            .order_by(Unit.position)
            .limit(6)
            .all()
        )
        ann1, ann2 = get_user_by_name(s, "ann1"), get_user_by_name(s, "ann2")
        first = ["reported_fact", "quote", "reported_fact", "speculation", "quote", "reported_fact"]
        second = ["reported_fact", "quote", "speculation", "speculation", "quote", "speculation"]
        for unit, a, b in zip(units, first, second, strict=True):
            upsert_annotation(s, unit.id, ann1.id, labels[a], [], "", ann1.id, "test")
            upsert_annotation(s, unit.id, ann2.id, labels[b], [], "", ann2.id, "test")
        s.commit()
        live_server.extra["disputed"] = {units[2].id, units[5].id}
    return live_server


def test_confusion_cell_opens_exactly_those_sentences(
    disagreeing: LiveServer, context: Any, live_app: Flask
) -> None:
    if "review.queue" not in live_app.view_functions:
        pytest.skip("the review area is not part of this build")
    page = context.new_page()
    log_in(page, disagreeing.url, "rev")
    page.goto(f"{disagreeing.url}/projects/{disagreeing.project_id}/agreement")
    with disagreeing.session() as s:
        summary = project_agreement(s, disagreeing.project_id, bootstrap=0)
    alpha = summary["labels"]["krippendorff_alpha"]["value"]
    assert f"{alpha:.3f}" in page.inner_text("main")
    page.click('a[aria-label^="reported_fact × speculation"]')
    page.wait_for_url(lambda url: "/review" in url and "pair=" in url)
    links = page.eval_on_selector_all(
        "main a[href*='/units/'][href*='/review']", "els => els.map(e => e.getAttribute('href'))"
    )
    shown = {int(href.split("/units/")[1].split("/")[0]) for href in links}
    assert shown == disagreeing.extra["disputed"]
