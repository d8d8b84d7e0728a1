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
from annotator.article_view import LoadedArticle, load_article
from annotator.db import get_session, single_reads
from annotator.models import SOURCE_KINDS, Annotation, Unit, User
from annotator.users import get_user_by_name
from annotator.web import current_user, login_required

bp = Blueprint("annotate", __name__)


@bp.get("/articles/<int:article_id>/annotate")
@single_reads
@login_required
def page(article_id: int) -> str:
    """The article in reading order with the annotation panel (read-only with ?annotator=)."""
    viewer = current_user()
    assert viewer is not None
    if article_id > MAX_ID:
        abort(404)  # beyond any database integer: the driver would overflow
    session = get_session()
    annotator = _annotator_from_query(session, viewer, article_id)
    loaded = load_article(
        session, article_id, annotator, viewer, with_credit_sources=True, with_times=False
    )
    if loaded is None:
        abort(404)
    read_only = viewer.id != annotator.id
    compact, units_html, progress = _page_parts(loaded)
    data = {
        **compact,
        "read_only": read_only,
        "annotator": annotator.username,
        "me": {"id": viewer.id, "username": viewer.username},
        "api": url_for("api.me").removesuffix("/me"),
        "credit_sources": loaded.credit_sources,
    }
    view = {
        "article": loaded.article,
        "project": loaded.project,
        "annotator": {"id": annotator.id, "username": annotator.username},
        "read_only": read_only,
        "progress": progress,
        "next_article_id": loaded.next_article_id,
    }
    return render_template(
        "annotate.html",
        view=view,
        units_html=units_html,
        data_json=script_json(data),
        kinds=SOURCE_KINDS,
        annotators=_article_annotators(session, article_id) if is_reviewer(viewer) else [],
        can_edit_segments=is_reviewer(viewer),
        safe_url=_http_url(loaded.article["url"]),
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


def unit_item(kind: str, text: str) -> str:
    """One unit's ``<li>``, text escaped; context units (headings, captions)
    carry their kind as a class.

    ``dir="auto"`` isolates each unit's direction in the HTML itself (before
    the script runs): RTL text or a stray U+202E cannot reorder its neighbours.
    """
    if kind == "sentence":
        return f'<li dir="auto">{escape(text)}</li>'
    return f'<li class="ctx {escape(kind)}" dir="auto">{escape(text)}</li>'


def _page_parts(loaded: LoadedArticle) -> tuple[dict[str, Any], Markup, dict[str, int]]:
    """The page's compact data (decoded at the top of annotate.js), the units'
    markup and the progress, in one pass over the rows.

    Built from the rows rather than from the API's article view: making the
    view's dicts and then re-encoding them cost more than the page's queries.

    A 200-sentence page must stay under 100 KB uncompressed, so the embedded
    JSON names each source once, refers to labels and cue kinds by position,
    and leaves out what the markup already holds (texts, context units).
    Sentences, in order (their position is their index; the end offset follows
    from the text): ``[id, start, suggestion or 0, annotation or 0]`` with
    suggestion ``[label position or null, [source ids], [[cue kind, start, end]]]``
    and annotation ``[label position, [source ids], note, version]`` plus
    ``flagged, previous_text`` when flagged. Mentions: ``[source id, start, end]``.

    The markup has one ``<li>`` per unit (``unit_item``); a title unit
    repeating the article's title is left out (the page's heading shows it).
    """
    labels = loaded.project["labels"]
    position = {label["name"]: i for i, label in enumerate(labels)}
    sources: dict[int, list[str]] = {}
    cue_kinds: dict[str, int] = {}
    suggested, text, title = loaded.suggested, loaded.text, loaded.article["title"]
    show_suggestions = loaded.show_suggestions
    units: list[list[Any]] = []
    parts: list[str] = []
    done = 0
    previous_id = None
    for row in loaded.rows:
        (unit_id, _, kind, start, end, s_label, s_sources, s_cues) = row[:8]
        (label, note, version, _, flagged, previous_text, sid, sname, skind) = row[8:]
        if unit_id == previous_id:  # another source of the same answer
            units[-1][3][1].append(sid)
            sources.setdefault(sid, [sname, skind])
            continue
        previous_id = unit_id
        if kind != "sentence":
            unit_text = text[start:end]
            if not (kind == "title" and unit_text == title):
                parts.append(unit_item(kind, unit_text))
            continue
        parts.append(unit_item(kind, text[start:end]))
        suggestion: Any = 0
        if show_suggestions and (s_label or s_sources or s_cues):
            # Suggested ids a merge or deletion left behind are not in ``suggested``.
            ids = [s for s in s_sources or () if s in suggested]
            for s in ids:
                sources.setdefault(s, [suggested[s]["name"], suggested[s]["kind"]])
            cues = [
                [cue_kinds.setdefault(c["kind"], len(cue_kinds)), c["start"], c["end"]]
                for c in s_cues or ()
            ]
            suggestion = [position.get(s_label), ids, cues]
        annotation: Any = 0
        if label is not None:
            done += 1
            answer_ids = []
            if sid is not None:
                answer_ids.append(sid)
                sources.setdefault(sid, [sname, skind])
            annotation = [position.get(label, 0), answer_ids, note, version]
            if flagged:
                annotation += [True, previous_text]
        units.append([unit_id, start, suggestion, annotation])
    mentions = []
    for m in loaded.mentions:
        mentions.append([m["source_id"], m["start"], m["end"]])
        sources.setdefault(m["source_id"], [m["name"], ""])
    compact = {
        "project": {
            "id": loaded.project["id"],
            "suggestion_mode": loaded.project["suggestion_mode"],
            "labels": [{"name": x["name"], "key": x["key"]} for x in labels],
        },
        "units": units,
        "mentions": mentions,
        "sources": sources,
        "cue_kinds": list(cue_kinds),
    }
    return compact, Markup("\n".join(parts)), {"done": done, "total": len(units)}


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
