"""Login sessions and API tokens, kept in the database so every app process agrees.

A browser holds a random token in its signed session cookie; the database holds
only the token's SHA-256. Deleting the row ends the session everywhere at once,
which is what logout and a password change do.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from annotator.login_limits import DEFAULT_LIMITS, Limits, begin_attempt, record_success
from annotator.models import ApiToken, LoginSession, User, utcnow
from annotator.users import check_password, get_user_by_name, hash_password

SESSION_LIFETIME = timedelta(days=14)  # the cookie's lifetime too (config.py)
# Recording every use of an API token would turn each read into a write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so an unknown name
    costs as much time as a wrong password (no user enumeration by timing).

    Made on first use, not at import: hashing is slow on purpose, and every
    command and worker start imported this module.
    """
    return hash_password("not-a-real-password")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user whose name and password match, else None (same cost either way).

    Ends the session's transaction before the deliberately slow hash check, so
    no lock (SQLite's write lock for a POST) is held while it runs.
    """
    user = get_user_by_name(session, username)
    session.commit()
    if user is None:
        check_password(User(password_hash=_dummy_hash()), password)
        return None
    return user if check_password(user, password) else None


@dataclass(frozen=True)
class LoginResult:
    """The user whose password matched (else None); ``retry_after`` > 0 when the
    rate limit refused the attempt before any password was checked."""

    user: User | None
    retry_after: int = 0


def attempt_login(
    session: Session,
    username: str,
    password: str,
    address: str | None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    now: datetime | None = None,
) -> LoginResult:
    """``authenticate`` behind the login limits of the account and the client address.

    The attempt is counted and committed before the slow hash (so no lock is
    held during it, and parallel attempts on other processes see it); a right
    password then removes it. The caller commits after this returns a user.
    Unknown names are counted and answered exactly like wrong passwords.
    """
    decision = begin_attempt(session, username, address, now=now, limits=limits)
    user = get_user_by_name(session, username) if decision.allowed else None
    session.commit()
    if not decision.allowed:
        return LoginResult(None, decision.retry_after)
    if user is None:
        check_password(User(password_hash=_dummy_hash()), password)
        return LoginResult(None)
    if not check_password(user, password):
        return LoginResult(None)
    record_success(session, username, address, decision.attempt_id)
    return LoginResult(user)


def start_login_session(session: Session, user: User, *, now: datetime | None = None) -> str:
    """Create a login session for ``user`` and return the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=_digest(token), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME
        )
    )
    return token


# Built once: it runs on every request of a logged-in browser.
_SESSION_USER = (
    select(User, LoginSession.expires_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.id == bindparam("digest"))
)


def user_for_session_token(
    session: Session, token: str, *, now: datetime | None = None
) -> User | None:
    """The user of a live login session, or None when it ended or expired."""
    row = session.execute(_SESSION_USER, {"digest": _digest(token)}).first()
    if row is None:
        return None
    user, expires_at = row
    if _aware(expires_at) <= (now or utcnow()):
        return None
    return user


def end_login_session(session: Session, token: str) -> None:
    """End one login session (logout)."""
    session.execute(delete(LoginSession).where(LoginSession.id == _digest(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    """End every login session of a user (password change, account lock)."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def change_password(session: Session, user: User, new_password: str) -> None:
    """Set a new password and end all of the user's sessions."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_generation += 1
    end_all_sessions(session, user.id)


def create_api_token(session: Session, user: User, name: str) -> str:
    """Create a personal API token; the raw token is shown once and never stored."""
    token = "ann_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token)))
    return token


def user_for_api_token(session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The owner of an API token and the token's row, or None."""
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token))
    ).first()
    return None if row is None else (row[0], row[1])


def token_needs_touch(api_token: ApiToken, *, now: datetime | None = None) -> bool:
    """Whether ``last_used_at`` is stale enough to be worth a write (5 minutes)."""
    if api_token.last_used_at is None:
        return True
    return (now or utcnow()) - _aware(api_token.last_used_at) > TOKEN_TOUCH_INTERVAL


def touch_api_token(session: Session, token_id: int) -> None:
    """Record that a token was used just now."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are UTC.
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
