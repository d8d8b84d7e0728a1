"""Log in, log out, change password."""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field

from annotator.auth import attempt_login, change_password, end_login_session, start_login_session
from annotator.db import get_session
from annotator.forms import LoginForm, PasswordChangeForm
from annotator.login_limits import Limits
from annotator.web import SESSION_TOKEN_KEY, current_user, login_required, safe_next

bp = Blueprint("auth", __name__)
LOGIN_FAILED = "Unknown username or wrong password."
# The same for a known and an unknown name: unknown names are counted too.
TOO_MANY = "Too many failed logins for this account or from this address. Try again in {wait}."


def _client_address() -> str | None:
    # The TCP peer, or what the configured number of proxies (PROXY_FIX_X_FOR)
    # say it was; never a header the client chose by itself.
    return request.remote_addr


def _too_many(template: str, form: FlaskForm, field: Field, retry_after: int) -> Response:
    """429 with the form, the reason and a Retry-After header."""
    minutes = math.ceil(retry_after / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    field.errors = [TOO_MANY.format(wait=wait)]
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the login form; on success start a session and go where the user was going."""
    form = LoginForm()
    target = safe_next(request.args.get("next")) or url_for("main.index")
    if form.validate_on_submit():
        db = get_session()
        result = attempt_login(
            db,
            form.username.data or "",
            form.password.data or "",
            _client_address(),
            limits=Limits.from_config(current_app.config),
        )
        if result.retry_after:
            return _too_many("login.html", form, form.password, result.retry_after)
        user = result.user
        if user is None:
            # One message for both cases: do not tell which usernames exist.
            form.password.errors = [LOGIN_FAILED]
            return render_template("login.html", form=form), 401
        token = start_login_session(db, user)
        db.commit()
        _fresh_session()  # a fresh cookie (and CSRF token) at every login
        session[SESSION_TOKEN_KEY] = token
        session.permanent = True
        if user.must_change_password:
            return redirect(url_for("auth.password", next=target))
        return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    """End this login session on the server, then forget the cookie."""
    token = session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        end_login_session(get_session(), token)
        get_session().commit()
    _fresh_session()
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    # Flask-WTF caches the CSRF token in g; it belongs to the old session.
    session.clear()
    g.pop("csrf_token", None)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    """Change the password; every session of the account ends, this one restarts."""
    user = current_user()
    assert user is not None
    form = PasswordChangeForm()
    if form.validate_on_submit():
        db = get_session()
        # A stolen session must not become a way to guess the password: the
        # current one is checked behind the same limits as a login.
        result = attempt_login(
            db,
            user.username,
            form.current.data or "",
            _client_address(),
            limits=Limits.from_config(current_app.config),
        )
        if result.retry_after:
            return _too_many("password.html", form, form.current, result.retry_after)
        if result.user is None or result.user.id != user.id:
            form.current.errors = ["That is not your current password."]
        else:
            change_password(db, user, form.new.data or "")
            token = start_login_session(db, user)
            db.commit()
            _fresh_session()
            session[SESSION_TOKEN_KEY] = token
            flash("Password changed. Other sessions of this account were logged out.")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("password.html", form=form), status
