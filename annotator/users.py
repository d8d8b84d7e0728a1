"""User accounts: names, roles and password hashes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.models import NAME_MAX, ROLES, User
from annotator.names import name_problem, normalise_name

# Argon2id with the library's defaults (RFC 9106 low-memory profile): a
# memory-hard scheme, as password storage guidance recommends today.
_hasher = PasswordHasher()
PASSWORD_MIN = 8
PASSWORD_MAX = 1024


class UserError(ValueError):
    """A user name, role or password that cannot be used; the message says why."""


def username_key(name: str) -> str:
    """The stored form of a user name: NFKC, no invisible characters, case-folded."""
    return normalise_name(name)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` after checking its length."""
    if len(password) < PASSWORD_MIN:
        raise UserError(f"password must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise UserError(f"password must be at most {PASSWORD_MAX} characters")
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` matches the user's hash (False for accounts without one)."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user_by_name(session: Session, name: str) -> User | None:
    """The user called ``name`` (compared in normalised form), if any."""
    return session.scalar(select(User).where(User.username == username_key(name)))


def create_user(
    session: Session, name: str, *, role: str = "annotator", password: str | None = None
) -> User:
    """Add a user; without a password the account cannot log in until one is set."""
    problem = name_problem(name, max_length=NAME_MAX)
    if problem:
        raise UserError(f"user name {problem}")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if get_user_by_name(session, name) is not None:
        raise UserError(f"user {username_key(name)!r} already exists")
    user = User(
        username=username_key(name),
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    return user
