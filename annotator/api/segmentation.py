"""/api/v1 routes for reviewers: fix segmentation (split, merge) and curate sources."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue

from annotator.api import bp
from annotator.api.body import BadBody, json_body
from annotator.api.openapi import error_responses
from annotator.db import get_session
from annotator.models import Source
from annotator.segmentation import (
    EditResult,
    SegmentationConflict,
    SegmentationError,
    merge_with_next,
    split_unit,
)
from annotator.source_edits import (
    SourceEditError,
    add_alias,
    merge_sources,
    remove_alias,
    update_source,
)
from annotator.views.loaders import get_source_or_404, get_unit_or_404, require_reviewer
from annotator.web import error_response, login_required, require_user

ID_MAX = 2**31 - 1


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "SegmentUnit": {
        "type": "object",
        "required": ["id", "position", "index", "kind", "start", "end", "text"],
        "properties": {
            "id": {"type": "integer"},
            "position": {"type": "integer"},
            "index": {"type": ["integer", "null"], "description": "sentence index, from 0"},
            "kind": {"type": "string", "enum": ["sentence", "title", "heading", "caption"]},
            "start": {"type": "integer", "description": "code-point offset into the article"},
            "end": {"type": "integer"},
            "text": {"type": "string"},
        },
    },
    "SegmentationResult": {
        "type": "object",
        "required": ["article_id", "units", "changed_unit_ids", "flagged_annotations"],
        "properties": {
            "article_id": {"type": "integer"},
            "units": {"type": "array", "items": _ref("SegmentUnit")},
            "changed_unit_ids": {"type": "array", "items": {"type": "integer"}},
            "flagged_annotations": {"type": "integer"},
            "superseded_annotations": {"type": "integer"},
            "unresolved_gold": {"type": "integer"},
        },
    },
    "SplitRequest": {
        "type": "object",
        "required": ["at"],
        "additionalProperties": False,
        "properties": {
            "at": {
                "type": "integer",
                "description": "code-point offset into the article text, strictly between the "
                "unit's start and end; whitespace around it goes between the two parts",
            }
        },
    },
    "RegistrySource": {
        "type": "object",
        "required": ["id", "project_id", "name", "kind", "description", "aliases"],
        "properties": {
            "id": {"type": "integer"},
            "project_id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "aliases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "alias": {"type": "string"}},
                },
            },
        },
    },
    "SourcePatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "kind": {"type": "string"},
            "description": {"type": ["string", "null"], "maxLength": 5000},
        },
    },
    "AliasRequest": {
        "type": "object",
        "required": ["alias"],
        "properties": {"alias": {"type": "string", "maxLength": 200}},
    },
    "SourceMergeRequest": {
        "type": "object",
        "required": ["into"],
        "properties": {"into": {**_ID, "description": "id of the source to merge into"}},
    },
    "SourceMergeResult": {
        "type": "object",
        "required": ["source", "annotations", "gold", "mentions", "suggestions", "aliases"],
        "properties": {
            "source": _ref("RegistrySource"),
            **{
                key: {"type": "integer"}
                for key in ("annotations", "gold", "mentions", "suggestions", "aliases")
            },
        },
    },
}
_UNIT_PARAM = {"name": "unit_id", "in": "path", "required": True, "schema": _ID}
_SOURCE_PARAM = {"name": "source_id", "in": "path", "required": True, "schema": _ID}
_ERRORS = error_responses(400, 401, 403, 404, 409, 415, 422)
OPENAPI_PATHS: dict[str, Any] = {
    "/units/{unit_id}/split": {
        "post": {
            "summary": "Split a sentence in two (reviewers and admins)",
            "description": "Annotations stay on the first part, flagged with the old text; "
            "gold of the unit becomes unresolved.",
            "operationId": "splitUnit",
            "parameters": [_UNIT_PARAM],
            "requestBody": _json_body("SplitRequest"),
            "responses": {"200": _ok("The article's units now", "SegmentationResult"), **_ERRORS},
        }
    },
    "/units/{unit_id}/merge-next": {
        "post": {
            "summary": "Merge a sentence with the next sentence (reviewers and admins)",
            "description": "Refused across a heading or title. Annotations of both move to the "
            "merged unit, flagged; when one annotator had both, the first is kept and the second "
            "recorded in the history (action `superseded`). No body, or an empty JSON object.",
            "operationId": "mergeUnitWithNext",
            "parameters": [_UNIT_PARAM],
            "responses": {"200": _ok("The article's units now", "SegmentationResult"), **_ERRORS},
        }
    },
    "/sources/{source_id}": {
        "patch": {
            "summary": "Rename a source or change its kind or description (reviewers, admins)",
            "description": "A new name keeps the old one as an alias. A name that already "
            "names another source of the project (as name or alias) is refused with 422.",
            "operationId": "patchSource",
            "parameters": [_SOURCE_PARAM],
            "requestBody": _json_body("SourcePatch"),
            "responses": {"200": _ok("The source", "RegistrySource"), **_ERRORS},
        }
    },
    "/sources/{source_id}/aliases": {
        "post": {
            "summary": "Add an alias to a source (reviewers and admins)",
            "operationId": "addSourceAlias",
            "parameters": [_SOURCE_PARAM],
            "requestBody": _json_body("AliasRequest"),
            "responses": {"200": _ok("The source", "RegistrySource"), **_ERRORS},
        }
    },
    "/sources/{source_id}/aliases/{alias_id}": {
        "delete": {
            "summary": "Remove an alias of a source (reviewers and admins)",
            "operationId": "removeSourceAlias",
            "parameters": [
                _SOURCE_PARAM,
                {"name": "alias_id", "in": "path", "required": True, "schema": _ID},
            ],
            "responses": {"200": _ok("The source", "RegistrySource"), **_ERRORS},
        }
    },
    "/sources/{source_id}/merge": {
        "post": {
            "summary": "Merge a source into another source of the project (reviewers, admins)",
            "description": "Annotations (version + 1, history action `merge_sources`), gold, "
            "mentions and suggestions follow; names and aliases become the target's aliases; "
            "the source is deleted.",
            "operationId": "mergeSource",
            "parameters": [_SOURCE_PARAM],
            "requestBody": _json_body("SourceMergeRequest"),
            "responses": {"200": _ok("What was merged", "SourceMergeResult"), **_ERRORS},
        }
    },
}


def _body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 when malformed."""
    if optional and not request.get_data(cache=True):
        return {}
    try:
        body = json_body()
    except BadBody as error:
        abort(error.response())
    if not isinstance(body, dict):
        abort(error_response(400, "bad_json", "the body must be a JSON object"))
    return body


def _invalid(message: str, code: str = "invalid") -> None:
    abort(error_response(422, code, message))


def _unit_article(unit_id: int) -> int:
    """The unit's article id: 404 unless the caller may open it, then 403 unless reviewer."""
    user = require_user()
    if unit_id > ID_MAX:
        abort(404)
    # One query for the unit and the right to open its article (no timing oracle).
    article_id, _ = get_unit_or_404(get_session(), unit_id, user, sentence=False)
    require_reviewer(user)
    return article_id


def _edited(result: EditResult) -> ResponseReturnValue:
    get_session().commit()
    return jsonify(
        article_id=result.article_id,
        units=[
            {
                "id": u.id,
                "position": u.position,
                "index": u.index,
                "kind": u.kind,
                "start": u.start,
                "end": u.end,
                "text": u.text,
            }
            for u in result.units
        ],
        changed_unit_ids=result.changed_unit_ids,
        flagged_annotations=result.flagged_annotations,
        superseded_annotations=result.superseded_annotations,
        unresolved_gold=result.unresolved_gold,
    )


def _segmentation_refused(error: SegmentationError) -> ResponseReturnValue:
    get_session().rollback()
    if isinstance(error, SegmentationConflict):
        return error_response(409, "conflict", str(error))
    return error_response(422, "invalid_segmentation", str(error))


@bp.post("/units/<int:unit_id>/split")
@login_required
def split(unit_id: int) -> ResponseReturnValue:
    """Split a sentence at an article offset."""
    _unit_article(unit_id)
    at = _body().get("at")
    if isinstance(at, bool) or not isinstance(at, int):
        _invalid("“at” must be an integer offset into the article text")
    try:
        return _edited(split_unit(get_session(), unit_id, at, require_user().id))
    except SegmentationError as error:
        return _segmentation_refused(error)


@bp.post("/units/<int:unit_id>/merge-next")
@login_required
def merge_next(unit_id: int) -> ResponseReturnValue:
    """Merge a sentence with the next sentence."""
    _unit_article(unit_id)
    _body(optional=True)
    try:
        return _edited(merge_with_next(get_session(), unit_id, require_user().id))
    except SegmentationError as error:
        return _segmentation_refused(error)


def _source(source_id: int) -> Source:
    """The source: 404 unless the caller sees its project, then 403 unless reviewer."""
    user = require_user()
    if source_id > ID_MAX:
        abort(404)
    source = get_source_or_404(get_session(), source_id, user)
    require_reviewer(user)
    return source


def _described(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "project_id": source.project_id,
        "name": source.name,
        "kind": source.kind,
        "description": source.description,
        "aliases": [{"id": a.id, "alias": a.alias} for a in source.aliases],
    }


def _string(body: dict[str, Any], key: str, *, nullable: bool = False) -> str | None:
    value = body.get(key)
    if value is None and (nullable or key not in body):
        return None
    if not isinstance(value, str):
        _invalid(f"“{key}” must be a string")
    return value


def _saved(source: Source) -> ResponseReturnValue:
    get_session().commit()
    return jsonify(_described(source))


def _refused(error: SourceEditError) -> ResponseReturnValue:
    get_session().rollback()
    return error_response(409 if error.code == "conflict" else 422, error.code, str(error))


@bp.patch("/sources/<int:source_id>")
@login_required
def patch_source(source_id: int) -> ResponseReturnValue:
    """Rename, or change kind or description."""
    source = _source(source_id)
    body = _body()
    unknown = set(body) - {"name", "kind", "description"}
    if unknown:
        _invalid(f"unknown fields: {', '.join(sorted(unknown))}")
    name, kind = _string(body, "name"), _string(body, "kind")
    description = _string(body, "description", nullable=True)
    try:
        update_source(
            get_session(),
            source,
            name=name,
            kind=kind,
            description="" if "description" in body and description is None else description,
        )
    except SourceEditError as error:
        return _refused(error)
    return _saved(source)


@bp.post("/sources/<int:source_id>/aliases")
@login_required
def post_alias(source_id: int) -> ResponseReturnValue:
    """Add an alias."""
    source = _source(source_id)
    alias = _string(_body(), "alias")
    if alias is None:
        _invalid("“alias” is required")
    try:
        add_alias(get_session(), source, alias or "")
    except SourceEditError as error:
        return _refused(error)
    return _saved(source)


@bp.delete("/sources/<int:source_id>/aliases/<int:alias_id>")
@login_required
def delete_alias(source_id: int, alias_id: int) -> ResponseReturnValue:
    """Remove an alias of the source."""
    source = _source(source_id)
    try:
        remove_alias(get_session(), source, alias_id if alias_id <= ID_MAX else 0)
    except LookupError:
        abort(404)
    return _saved(source)


@bp.post("/sources/<int:source_id>/merge")
@login_required
def merge_source(source_id: int) -> ResponseReturnValue:
    """Merge the source into another source of the same project."""
    session = get_session()
    source = _source(source_id)
    into = _body().get("into")
    if isinstance(into, bool) or not isinstance(into, int) or not 1 <= into <= ID_MAX:
        _invalid("“into” must be the id of a source of the same project")
    target = session.get(Source, into)
    if target is None or target.project_id != source.project_id:
        _invalid("“into” is not a source of this project", "unknown_source")
    assert target is not None
    try:
        result = merge_sources(session, source, target, require_user().id)
    except SourceEditError as error:
        return _refused(error)
    session.commit()
    return jsonify(
        source=_described(target),
        annotations=result.annotations,
        gold=result.gold,
        mentions=result.mentions,
        suggestions=result.suggestions,
        aliases=result.aliases,
    )
