"""A project whose every user-written text carries script payloads (catalogue: stored XSS).

Shared by tests/test_headers.py (the HTML as sent) and tests/browser/test_xss_browser.py
(what Chromium runs). Every payload sets ``window.__xss`` if it ever executes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from tests.helpers import add_article, add_project, add_user
from tests.review_world import sentence_ids

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
)
HOSTILE = "".join(PAYLOADS)
# What must never reach a page unescaped (each payload's opening tag).
RAW_MARKERS = ("<script>window.__xss", "<img src=x onerror", "<svg onload")

PROJECT = "P " + HOSTILE
TITLE = "T " + HOSTILE
SOURCE = "S " + HOSTILE
ALIAS = "A " + HOSTILE
NOTE = "N " + HOSTILE
# An annotator's name: the agreement charts and the review pages show it.
EVIL_USER = "x" + PAYLOADS[1]
TEXT = (
    f"Officials said {PAYLOADS[0]} was found.\n\n"
    f"The ministry said {PAYLOADS[1]} appeared.\n\n"
    f"The agency wrote {PAYLOADS[2]} in May.\n"
)


def build(session: Session) -> dict[str, Any]:
    """The hostile project with annotators ann1 and EVIL_USER who disagree on every
    other sentence, reviewer rev and admin boss; ann1's answers cite SOURCE and carry
    NOTE. Commits."""
    project = add_project(session, PROJECT)
    article = add_article(session, project, TEXT, title=TITLE)
    ann1 = add_user(session, "ann1", project=project)
    evil = add_user(session, EVIL_USER, project=project)
    add_user(session, "rev", "reviewer", project=project)
    add_user(session, "boss", "admin")
    registry = SourceIndex(session, project.id)
    source_id = registry.ensure(SOURCE, "person", [ALIAS])
    session.flush()
    labels = label_ids(session, project.id)
    units = sentence_ids(session, article.id)
    for i, unit in enumerate(units):
        upsert_annotation(
            session, unit, ann1.id, labels["quote"], [source_id], NOTE, ann1.id, "create"
        )
        other = "speculation" if i % 2 == 0 else "quote"
        upsert_annotation(
            session, unit, evil.id, labels[other], [source_id], NOTE, evil.id, "create"
        )
    session.commit()
    return {
        "project": project.id,
        "article": article.id,
        "units": units,
        "source": source_id,
        "evil_user": evil.username,
    }
