"""Log in, log out, change password."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from annotator.auth import authenticate, change_password, end_login_session, start_login_session
from annotator.db import get_session
from annotator.forms import LoginForm, PasswordChangeForm
from annotator.users import check_password
from annotator.web import SESSION_TOKEN_KEY, current_user, login_required, safe_next

bp = Blueprint("auth", __name__)
LOGIN_FAILED = "Unknown username or wrong password."


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Show the login form; on success start a session and go where the user was going."""
    form = LoginForm()
    target = safe_next(request.args.get("next")) or url_for("main.index")
    if form.validate_on_submit():
        db = get_session()
        user = authenticate(db, form.username.data or "", form.password.data or "")
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
        if not check_password(user, form.current.data or ""):
            form.current.errors = ["That is not your current password."]
        else:
            db = get_session()
            change_password(db, user, form.new.data or "")
            token = start_login_session(db, user)
            db.commit()
            _fresh_session()
            session[SESSION_TOKEN_KEY] = token
            flash("Password changed. Other sessions of this account were logged out.")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("password.html", form=form), status
