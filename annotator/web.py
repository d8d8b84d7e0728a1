"""Request plumbing shared by every blueprint: the current user, guards, errors, CSRF.

Pages answer HTML (a redirect to the login page when anonymous); everything under
``/api/`` answers JSON (401 when anonymous). Both come from the same guards, so
no view can forget which one it is.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from annotator.auth import (
    token_needs_touch,
    touch_api_token,
    user_for_api_token,
    user_for_session_token,
)
from annotator.db import get_session, write_intent
from annotator.models import User

F = TypeVar("F", bound=Callable[..., Any])
SESSION_TOKEN_KEY = "login"
csrf = CSRFProtect()


def is_api_request() -> bool:
    """Whether the current request is for the JSON API."""
    return request.path.startswith("/api/")


def current_user() -> User | None:
    """The logged-in user of this request, or None."""
    return g.get("user")


def require_user() -> User:
    """The logged-in user, for views behind ``login_required`` or ``roles_required``."""
    user = current_user()
    if user is None:  # a view without a guard: fail closed
        raise PermissionError("no logged-in user")
    return user


def _load_user() -> None:
    # g normally lives for one request, but an app context pushed around
    # several requests (pytest-flask does) would carry another session's
    # cached CSRF token into this one.
    g.pop("csrf_token", None)
    g.user = None
    g.auth = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = user_for_api_token(get_session(), header[7:].strip())
        if found is not None:
            user, api_token = found
            if token_needs_touch(api_token):
                _touch(api_token.id)
            g.user, g.auth = user, "token"
        return
    token = session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        user = user_for_session_token(get_session(), token)
        if user is not None:
            g.user, g.auth = user, "session"


def _touch(token_id: int) -> None:
    # Its own short write transaction, best effort: a busy database must not
    # turn a read into an error.
    db = get_session()
    db.commit()
    try:
        with write_intent():
            touch_api_token(db, token_id)
            db.commit()
    except OperationalError:
        db.rollback()


def _csrf_protect() -> None:
    # A bearer token is not sent by browsers on their own, so a request that
    # authenticates with one cannot be forged cross-site; everything else is
    # checked, JSON fetches included (header X-CSRFToken).
    if g.get("auth") == "token":
        return
    if g.get("user") is None and is_api_request():
        # Anonymous API calls get the 401 of login_required (the client then
        # knows to log in again), not a CSRF 400; they can change nothing.
        return
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        csrf.protect()


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _unauthenticated() -> Response:
    if is_api_request():
        response = jsonify(error="unauthenticated", message="log in or send an API token")
        response.status_code = 401
        return response
    path = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=safe_next(path)))


def login_required(view: F) -> F:
    """Only logged-in users; others get 401 (API) or the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only logged-in users with one of ``roles``; others get 401 or 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return _unauthenticated()
            if user.role not in roles:
                return error_response(403, "forbidden", "your role may not do this")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    """A JSON error for the API, an HTML error page otherwise."""
    if is_api_request():
        response = jsonify(error=code, message=message, **extra)
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


class _FormParser(FormDataParser):
    """Werkzeug counts the parts of multipart bodies only; count urlencoded ones too."""

    def _parse_urlencoded(self, stream: Any, mimetype: str, length: Any, options: Any) -> Any:
        data = stream.read()
        if self.max_form_parts is not None and data.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge("the form has too many fields")
        return super()._parse_urlencoded(io.BytesIO(data), mimetype, length, options)


class LimitedRequest(Request):
    """A request whose forms of either encoding obey ``MAX_FORM_PARTS`` (413)."""

    form_data_parser_class = _FormParser


def init_app(app: Flask) -> None:
    """Register user loading, CSRF checks and error handlers."""
    app.request_class = LimitedRequest
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_load_user)
    app.before_request(_csrf_protect)

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        return {"current_user": current_user()}

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Response:
        return error_response(400, "csrf", f"{error.description} Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        return error_response(
            status,
            (error.name or "error").lower().replace(" ", "_"),
            error.description or error.name,
        )

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Response:
        if not error.connection_invalidated:
            return _unexpected(error)
        # The database closed a pooled connection (it restarted); the pool
        # has recycled its connections, so the same request will work again.
        app.logger.warning("database connection lost on %s %r", request.method, request.path)
        if "db_session" in g:
            g.db_session.rollback()
        response = error_response(
            503,
            "database_reconnecting",
            "the connection to the database was reset; nothing was saved, try again",
        )
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Roll back whatever the request half-wrote, log it, and say so plainly.
        # %r: a path may hold decoded line breaks, which must not forge log lines.
        app.logger.exception("unhandled error on %s %r", request.method, request.path)
        if "db_session" in g:
            g.db_session.rollback()
        return error_response(
            500, "internal", "something went wrong on the server; nothing was saved by this request"
        )
