"""Login rate limiting per account and per client address, counted in the database.

Hand-written rather than Flask-Limiter: its storage backend (the ``limits``
package) keeps counters in process memory, Redis, Memcached or MongoDB, none
in SQL. In memory every gunicorn worker and every ``annotator serve`` process
would count on its own (5 tries per account becomes 5 per process, and a
restart forgets them), and annotator must not need a Redis server. The
database every process already shares is the natural place.

The window slides: an account (or address) with ``max`` attempts that did not
prove right in the last ``window`` is refused until the oldest of them leaves
the window. An attempt is recorded *before* the password is checked and
removed when it proves right, so parallel attempts and a process that dies
mid-check are counted too. A refused attempt checks no password and records
nothing, so an attacker cannot extend the lock by hammering it; the table
holds at most ``max`` rows per account and address per window, and older
rows are pruned on every attempt.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from annotator.models import LoginAttempt, utcnow
from annotator.names import normalise_name

ADDRESS_MAX = 64
# Advisory-lock namespaces on PostgreSQL (the first argument of the two-key form).
_LOCK_ACCOUNT, _LOCK_ADDRESS = 4701, 4702


@dataclass(frozen=True)
class Limits:
    """How many unproven attempts an account and an address may make per window."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """The limits from ``LOGIN_MAX_FAILURES_PER_ACCOUNT``, ``..._PER_ADDRESS`` and
        ``LOGIN_WINDOW_SECONDS`` (a maximum of 0 turns that limit off)."""
        return cls(
            per_account=int(config.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", cls.per_account)),
            per_address=int(config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", cls.per_address)),
            window=timedelta(seconds=int(config.get("LOGIN_WINDOW_SECONDS", 900))),
        )


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Decision:
    """Whether an attempt may check its password; if not, seconds until it may."""

    allowed: bool
    retry_after: int = 0
    attempt_id: int | None = None


def account_key(username: str) -> str:
    """SHA-256 of the normalised name: known and unknown names count alike."""
    return hashlib.sha256(normalise_name(username).encode("utf-8")).hexdigest()


def address_key(address: str | None) -> str:
    """The client address as stored (truncated; ``unknown`` when the server has none)."""
    return (address or "unknown")[:ADDRESS_MAX]


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are UTC.
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _retry_after(
    session: Session, column: Any, key: str, limit: int, now: datetime, window: timedelta
) -> int:
    """Seconds until fewer than ``limit`` attempts for ``key`` are in the window (0: now)."""
    if limit <= 0:
        return 0
    newest = session.scalars(
        select(LoginAttempt.at)
        .where(column == key, LoginAttempt.at > now - window)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(newest) < limit:
        return 0
    # When the limit-th newest attempt leaves the window, one place is free.
    free_at = _utc(newest[-1]) + window
    return max(1, math.ceil((free_at - now).total_seconds()))


def check_allowed(
    session: Session,
    username: str,
    address: str | None,
    *,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Decision:
    """Whether ``username`` from ``address`` may try a password now (reads only)."""
    now = _utc(now or utcnow())
    wait = max(
        _retry_after(
            session,
            LoginAttempt.account_key,
            account_key(username),
            limits.per_account,
            now,
            limits.window,
        ),
        _retry_after(
            session,
            LoginAttempt.address,
            address_key(address),
            limits.per_address,
            now,
            limits.window,
        ),
    )
    return Decision(allowed=wait == 0, retry_after=wait)


def _serialise(session: Session, username: str, address: str | None) -> None:
    """Make concurrent attempts on one account or address take turns.

    SQLite already does: the login request holds the write lock from its first
    statement (BEGIN IMMEDIATE). PostgreSQL's READ COMMITTED would let two
    attempts both count 4 and both go ahead, so they queue on advisory locks
    held until the transaction ends: always the account's first, then the
    address's, so two attempts can never wait on each other in a cycle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for namespace, key in (
        (_LOCK_ACCOUNT, account_key(username)),
        (_LOCK_ADDRESS, hashlib.sha256(address_key(address).encode()).hexdigest()),
    ):
        # A signed 32-bit slice of the hash: a collision only makes two
        # unrelated attempts take turns.
        number = int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
            {"namespace": namespace, "key": number},
        )


def record_failure(
    session: Session, username: str, address: str | None, *, now: datetime | None = None
) -> int:
    """Count one attempt against the account and the address; returns the row's id."""
    attempt = LoginAttempt(
        account_key=account_key(username),
        address=address_key(address),
        at=_utc(now or utcnow()),
    )
    session.add(attempt)
    session.flush()
    return attempt.id


def begin_attempt(
    session: Session,
    username: str,
    address: str | None,
    *,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Decision:
    """Check the limits and, when allowed, count the attempt as failed until it proves right.

    The caller commits before checking the password (so no lock is held
    during the slow hash), then calls ``record_success`` if it was right.
    """
    now = _utc(now or utcnow())
    prune(session, now=now, limits=limits)
    _serialise(session, username, address)
    decision = check_allowed(session, username, address, now=now, limits=limits)
    if not decision.allowed:
        return decision
    return Decision(allowed=True, attempt_id=record_failure(session, username, address, now=now))


def record_success(
    session: Session, username: str, address: str | None, attempt_id: int | None = None
) -> None:
    """The password was right: forget this attempt and the account's failures from this address.

    Failures against the account from other addresses stay (a rotating
    attacker is not reset by the owner logging in meanwhile), and so do the
    address's failures against other accounts (an attacker with an account
    of their own cannot reset the address limit by logging into it).
    """
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.account_key == account_key(username),
            LoginAttempt.address == address_key(address),
        )
    )
    if attempt_id is not None:
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))


def prune(session: Session, *, now: datetime | None = None, limits: Limits = DEFAULT_LIMITS) -> int:
    """Delete attempts that left the window; returns how many went."""
    cutoff = _utc(now or utcnow()) - limits.window
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at <= cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
