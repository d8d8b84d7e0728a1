"""The annotation page of an article: the article, a side panel, and the data its script needs.

The page itself never writes: every change goes through the JSON API
(``PUT``/``DELETE /api/v1/units/<id>/annotation``) from ``static/annotate.js``.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.access import can_see_article, is_reviewer
from annotator.annotating import MAX_ID
from annotator.article_view import article_view
from annotator.db import get_session
from annotator.models import SOURCE_KINDS, Annotation, Unit, User
from annotator.users import get_user_by_name
from annotator.web import current_user, login_required

bp = Blueprint("annotate", __name__)


@bp.get("/articles/<int:article_id>/annotate")
@login_required
def page(article_id: int) -> str:
    """The article in reading order with the annotation panel (read-only with ?annotator=)."""
    viewer = current_user()
    assert viewer is not None
    if article_id > MAX_ID:
        abort(404)  # beyond any database integer: the driver would overflow
    session = get_session()
    annotator = _annotator_from_query(session, viewer, article_id)
    view = article_view(
        session, article_id, annotator, viewer, with_credit_sources=True, with_times=False
    )
    if view is None:
        abort(404)
    article = view["article"]
    data = {
        **_compact(view),
        "me": {"id": viewer.id, "username": viewer.username},
        "api": url_for("api.me").removesuffix("/me"),
        "credit_sources": view["credit_sources"],
    }
    return render_template(
        "annotate.html",
        view=view,
        units_html=units_markup(view["units"], view["article"]["title"]),
        data_json=script_json(data),
        kinds=SOURCE_KINDS,
        annotators=_article_annotators(session, article_id) if is_reviewer(viewer) else [],
        can_edit_segments=is_reviewer(viewer),
        safe_url=_http_url(article["url"]),
    )


def script_json(data: Any) -> Markup:
    """``data`` as JSON safe inside a ``<script type="application/json">`` element.

    What Jinja's ``tojson`` does (``<``, ``>``, ``&`` and ``'`` escaped, so no
    text can close the element), minus the spaces after separators (2 KB per
    200 sentences), with orjson: the standard encoder was a tenth of the
    page's time.
    """
    text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    for char, escaped in _SCRIPT_ESCAPES:
        text = text.replace(char, escaped)
    return Markup(text)


_SCRIPT_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"))


def units_markup(units: list[dict[str, Any]], title: str) -> Markup:
    """The article's units as compact ``<li>`` elements, text escaped.

    Joined in Python rather than looped in the template: for a long article
    the template loop cost more than all of the page's queries. Context units
    (headings, captions) carry their kind as a class; a title unit repeating
    the article's title is left out (the page's heading shows it).
    """
    parts = []
    for unit in units:
        kind = unit["kind"]
        # dir="auto" isolates each unit's direction in the HTML itself (before the
        # script runs): RTL text or a stray U+202E cannot reorder its neighbours.
        if kind == "sentence":
            parts.append(f'<li dir="auto">{escape(unit["text"])}</li>')
        elif not (kind == "title" and unit["text"] == title):
            parts.append(f'<li class="ctx {escape(kind)}" dir="auto">{escape(unit["text"])}</li>')
    return Markup("\n".join(parts))


def _compact(view: dict[str, Any]) -> dict[str, Any]:
    """The article view in the page's compact encoding (decoded at the top of annotate.js).

    A 200-sentence page must stay under 100 KB uncompressed, so the embedded
    JSON names each source once, refers to labels and cue kinds by position,
    and leaves out what the markup already holds (texts, context units).
    Sentences, in order (their position is their index; the end offset follows
    from the text): ``[id, start, suggestion or 0, annotation or 0]`` with
    suggestion ``[label position or null, [source ids], [[cue kind, start, end]]]``
    and annotation ``[label position, [source ids], note, version]`` plus
    ``flagged, previous_text`` when flagged. Mentions: ``[source id, start, end]``.
    """
    position = {label["name"]: i for i, label in enumerate(view["project"]["labels"])}
    sources: dict[int, list[str]] = {}
    cue_kinds: dict[str, int] = {}

    def ids(items: list[dict[str, Any]]) -> list[int]:
        for source in items:
            sources.setdefault(source["id"], [source["name"], source["kind"]])
        return [source["id"] for source in items]

    units = []
    for unit in view["units"]:
        if unit["kind"] != "sentence":
            continue
        suggestion: Any = 0
        if (g := unit["suggestion"]) is not None:
            cues = [
                [cue_kinds.setdefault(c["kind"], len(cue_kinds)), c["start"], c["end"]]
                for c in g["cues"]
            ]
            suggestion = [position.get(g["label"]), ids(g["sources"]), cues]
        annotation: Any = 0
        if (a := unit["annotation"]) is not None:
            annotation = [position.get(a["label"], 0), ids(a["sources"]), a["note"], a["version"]]
            if a["flagged"]:
                annotation += [True, a["previous_text"]]
        units.append([unit["id"], unit["start"], suggestion, annotation])
    mentions = [[m["source_id"], m["start"], m["end"]] for m in view["mentions"]]
    for m in view["mentions"]:
        sources.setdefault(m["source_id"], [m["name"], ""])
    return {
        "project": {
            "id": view["project"]["id"],
            "suggestion_mode": view["project"]["suggestion_mode"],
            "labels": [{"name": x["name"], "key": x["key"]} for x in view["project"]["labels"]],
        },
        "read_only": view["read_only"],
        "annotator": view["annotator"]["username"],
        "units": units,
        "mentions": mentions,
        "sources": sources,
        "cue_kinds": list(cue_kinds),
    }


def _annotator_from_query(session: Session, viewer: User, article_id: int) -> User:
    """Whose annotations to show: the viewer's own, or (reviewers only) someone else's.

    An annotator asking for someone else's gets 403, but 404 first when the
    article is out of their reach, as without the question.
    """
    name = request.args.get("annotator")
    if name is None or name == "":
        return viewer
    annotator = get_user_by_name(session, name)
    if annotator is not None and annotator.id == viewer.id:
        return viewer
    if not is_reviewer(viewer):
        abort(403 if can_see_article(session, viewer, article_id) is not None else 404)
    if annotator is None:
        abort(404)
    return annotator


def _article_annotators(session: Session, article_id: int) -> list[str]:
    """The usernames of everyone who annotated a unit of the article (for the reviewer's select)."""
    rows = session.scalars(
        select(User.username)
        .where(
            User.id.in_(
                select(Annotation.annotator_id)
                .join(Unit, Unit.id == Annotation.unit_id)
                .where(Unit.article_id == article_id)
            )
        )
        .order_by(User.username)
    )
    return list(rows)


def _http_url(url: str | None) -> str | None:
    """The article's URL when it is http(s); anything else (javascript: …) is not linked."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
