"""/api/v1 routes of the review area: the queue (same filters as the page) and gold.

Reviewers and admins of the project only, with the browser session (plus the
X-CSRFToken header on PUT) or a bearer token. Bad input answers 422 naming the
field, never a 5xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from annotator.api import bp
from annotator.api.body import BadBody, json_body
from annotator.api.openapi import INVALID_FIELD_SCHEMA, error_responses, query_parameter
from annotator.db import get_session
from annotator.exchange.times import iso_utc
from annotator.models import ERROR_CATEGORIES, Article
from annotator.review import (
    DECISIONS,
    ID_MAX,
    MAX_SOURCES,
    RATIONALE_MAX,
    STATUSES,
    InvalidDecision,
    InvalidFilter,
    QueueItem,
    ReviewError,
    UnitNotFound,
    parse_pair,
    review_queue,
)
from annotator.review_decisions import (
    decide,
)
from annotator.review_unit import GoldView, unit_for_review
from annotator.views.loaders import get_project_or_404, get_unit_or_404, require_reviewer
from annotator.web import error_response, login_required, require_user

LIMIT_DEFAULT, LIMIT_MAX = 50, 1000
OFFSET_MAX = 10**9
_TRUE, _FALSE = {"1", "true", "yes", "y", "on"}, {"", "0", "false", "no", "n", "off"}
GOLD_FIELDS = {"label", "sources", "rationale", "error_category", "provenance"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NUMBER_OR_NULL = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_SOURCE = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "ReviewQueueItem": {
        "type": "object",
        "required": [
            "unit_id",
            "article_id",
            "article_title",
            "index",
            "text",
            "n_ratings",
            "labels",
            "majority",
            "majority_share",
            "pairwise_agreement",
            "sources_pairwise_agreement",
            "gold_provenance",
        ],
        "properties": {
            "unit_id": {"type": "integer"},
            "article_id": {"type": "integer"},
            "article_title": {"type": "string"},
            "index": {"type": ["integer", "null"], "description": "sentence index, from 0"},
            "text": {"type": "string"},
            "n_ratings": {"type": "integer"},
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "how many annotators gave each label (labels given only)",
            },
            "majority": {"type": ["string", "null"], "description": "a label over half give"},
            "majority_share": {"type": "number"},
            "pairwise_agreement": {
                **_NUMBER_OR_NULL,
                "description": "share of agreeing pairs of labels; null with one rating",
            },
            "sources_pairwise_agreement": {
                **_NUMBER_OR_NULL,
                "description": "share of pairs with the same ordered source list",
            },
            "gold_provenance": {"enum": ["unanimous", "adjudicated", "unresolved", None]},
        },
    },
    "ReviewQueue": {
        "type": "object",
        "required": ["total", "limit", "offset", "filters", "items"],
        "properties": {
            "total": {"type": "integer", "description": "units matching the filters"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "filters": {"type": "object"},
            "items": {"type": "array", "items": _ref("ReviewQueueItem")},
        },
    },
    "GoldDecision": {
        "type": "object",
        "required": ["label", "sources", "provenance"],
        "additionalProperties": False,
        "properties": {
            "label": {
                "type": ["string", "null"],
                "description": "a label of the project; null only when unresolved",
            },
            "sources": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "maxItems": MAX_SOURCES,
                "uniqueItems": True,
                "description": "ids of the project's sources in order: speaker first",
            },
            "rationale": {
                "type": "string",
                "maxLength": RATIONALE_MAX,
                "description": "required when provenance is unresolved",
            },
            "error_category": {"enum": [*ERROR_CATEGORIES, None]},
            "provenance": {"enum": list(DECISIONS)},
        },
    },
    "Gold": {
        "type": "object",
        "required": [
            "unit_id",
            "label",
            "sources",
            "provenance",
            "reviewer",
            "rationale",
            "error_category",
            "decided_at",
        ],
        "properties": {
            "unit_id": {"type": "integer"},
            "label": {"type": ["string", "null"]},
            "sources": {"type": "array", "items": _SOURCE},
            "provenance": {"enum": ["unanimous", "adjudicated", "unresolved"]},
            "reviewer": {"type": ["string", "null"]},
            "rationale": {"type": "string"},
            "error_category": {"type": ["string", "null"]},
            "decided_at": {"type": "string", "format": "date-time"},
            "outcome": {"enum": ["created", "updated", "unchanged"]},
        },
    },
    "ReviewInvalid": INVALID_FIELD_SCHEMA,
}


_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
_INVALID = {"422": _json(_ref("ReviewInvalid"), "A value is wrong; field names it")}
OPENAPI_PATHS: dict[str, Any] = {
    "/projects/{project_id}/review-queue": {
        "get": {
            "summary": "The review queue: rated sentences, least agreed first (reviewers, admins)",
            "description": "The filters of the review page. pair=a,b with a≠b keeps sentences "
            "where one annotator gave a and another b; pair=a,a those where at least two "
            "gave a (the cells of the confusion matrix). status defaults to open (two or more "
            "ratings, no gold or unresolved gold), or to all when pair is given.",
            "operationId": "getReviewQueue",
            "parameters": [
                {"name": "project_id", "in": "path", "required": True, "schema": _ID},
                query_parameter("pair", {"type": "string"}, "two label names: a,b"),
                query_parameter(
                    "sources", {"type": "boolean"}, "only where ordered sources disagree"
                ),
                query_parameter("article", _ID, "one article of the project"),
                query_parameter(
                    "annotator", {"type": "string"}, "sentences this annotator labelled"
                ),
                query_parameter("status", {"enum": list(STATUSES)}, "open, decided or all"),
                query_parameter(
                    "limit",
                    {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX},
                    f"default {LIMIT_DEFAULT}",
                ),
                query_parameter("offset", {"type": "integer", "minimum": 0}, "default 0"),
            ],
            "responses": {
                "200": _json(_ref("ReviewQueue"), "A page of the queue"),
                **error_responses(401, 403, 404),
                **_INVALID,
            },
        }
    },
    "/units/{unit_id}/gold": {
        "put": {
            "summary": "Decide a sentence's gold answer (reviewers and admins)",
            "description": "Creates or replaces the gold decision, recording reviewer, time "
            "and provenance (adjudicated or unresolved) and appending to the gold history. "
            "The same decision again answers 200 with outcome unchanged.",
            "operationId": "putGold",
            "parameters": [{"name": "unit_id", "in": "path", "required": True, "schema": _ID}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("GoldDecision")}},
            },
            "responses": {
                "200": _json(_ref("Gold"), "The stored decision"),
                **error_responses(400, 401, 403, 404, 415),
                **_INVALID,
            },
        }
    },
}


def _invalid(error: ReviewError) -> ResponseReturnValue:
    get_session().rollback()
    return error_response(422, "invalid", error.message, field=error.field)


def _int_arg(args: Mapping[str, str], name: str, default: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or int(raw) > high:
        raise InvalidFilter(name, f"must be a whole number from 0 to {high}")
    return int(raw)


def parse_queue_args(args: Mapping[str, str]) -> dict[str, Any]:
    """The queue's filters, limit and offset from a query string; InvalidFilter otherwise."""
    pair = parse_pair(args["pair"]) if args.get("pair") else None
    flag = (args.get("sources") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise InvalidFilter("sources", "must be true or false")
    article = _int_arg(args, "article", 0, ID_MAX) or None
    annotator = (args.get("annotator") or "").strip() or None
    if annotator is not None and len(annotator) > 200:
        raise InvalidFilter("annotator", "is too long")
    status = args.get("status") or ("all" if pair else "open")
    if status not in STATUSES:
        raise InvalidFilter("status", f"must be one of {', '.join(STATUSES)}")
    return {
        "pair": pair,
        "sources_disagree": flag in _TRUE,
        "article_id": article,
        "annotator": annotator,
        "status": status,
        "limit": _int_arg(args, "limit", LIMIT_DEFAULT, LIMIT_MAX),
        "offset": _int_arg(args, "offset", 0, OFFSET_MAX),
    }


def _item(item: QueueItem) -> dict[str, Any]:
    return {
        "unit_id": item.unit_id,
        "article_id": item.article_id,
        "article_title": item.article_title,
        "index": item.index,
        "text": item.text,
        "n_ratings": item.n_ratings,
        "labels": dict(item.labels),
        "majority": item.majority,
        "majority_share": item.majority_share,
        "pairwise_agreement": item.pairwise_agreement,
        "sources_pairwise_agreement": item.sources_pairwise_agreement,
        "gold_provenance": item.gold_provenance,
    }


@bp.get("/projects/<int:project_id>/review-queue")
@login_required
def get_review_queue(project_id: int) -> ResponseReturnValue:
    """A page of the project's review queue."""
    if project_id > ID_MAX:
        abort(404)
    session, user = get_session(), require_user()
    project = get_project_or_404(session, project_id, user)
    require_reviewer(user)
    try:
        params = parse_queue_args(request.args)
        if params["article_id"] is not None:
            found = session.scalar(
                select(Article.id).where(
                    Article.id == params["article_id"], Article.project_id == project.id
                )
            )
            if found is None:
                raise InvalidFilter("article", "is not an article of this project")
        queue = review_queue(session, project.id, **params)
    except InvalidFilter as error:
        return _invalid(error)
    filters = {key: params[key] for key in ("sources_disagree", "article_id", "annotator")}
    filters["status"] = params["status"]
    filters["pair"] = list(params["pair"]) if params["pair"] else None
    return jsonify(
        total=queue.total,
        limit=queue.limit,
        offset=queue.offset,
        filters=filters,
        items=[_item(item) for item in queue.items],
    )


def gold_json(unit_id: int, gold: GoldView) -> dict[str, Any]:
    """A gold decision as the API shows it."""
    return {
        "unit_id": unit_id,
        "label": gold.label,
        "sources": [{"id": s.id, "name": s.name} for s in gold.sources],
        "provenance": gold.provenance,
        "reviewer": gold.reviewer,
        "rationale": gold.rationale,
        "error_category": gold.error_category,
        "decided_at": iso_utc(gold.decided_at),
    }


@bp.put("/units/<int:unit_id>/gold")
@login_required
def put_gold(unit_id: int) -> ResponseReturnValue:
    """Decide a sentence's gold answer."""
    session, user = get_session(), require_user()
    if unit_id > ID_MAX:
        abort(404)
    # One query for the sentence and the right to open it (no timing oracle).
    get_unit_or_404(session, unit_id, user)
    require_reviewer(user)
    try:
        body = json_body()
    except BadBody as error:
        return error.response()
    if not isinstance(body, dict):
        return error_response(422, "invalid", "the body must be a JSON object", field="body")
    unknown = sorted(set(body) - GOLD_FIELDS)
    if unknown:
        return error_response(
            422, "invalid", f"unknown fields: {', '.join(unknown)}", field=unknown[0]
        )
    if "label" not in body:
        return error_response(
            422, "invalid", "give the label (null when unresolved)", field="label"
        )
    try:
        result = decide(
            session,
            unit_id,
            user,
            body["label"],
            body.get("sources", []),
            body.get("rationale", ""),
            body.get("error_category"),
            body.get("provenance", "adjudicated"),
        )
    except InvalidDecision as error:
        return _invalid(error)
    except UnitNotFound:
        abort(404)
    session.commit()
    gold = unit_for_review(session, unit_id).gold
    assert gold is not None
    return jsonify({**gold_json(unit_id, gold), "outcome": result.outcome})
