"""Accounts named by imported files: found by normalised name or created without a password."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.models import User
from annotator.users import create_user, username_key


def ensure_users(
    session: Session, names_by_role: Mapping[str, Iterable[str]]
) -> tuple[dict[str, int], int]:
    """Map every name (by its username key) to a user id, creating missing users.

    Roles are tried in the mapping's order, so a name listed under ``reviewer``
    first is created as a reviewer even if it also annotates.
    """
    wanted: dict[str, tuple[str, str]] = {}
    for role, names in names_by_role.items():
        for name in names:
            wanted.setdefault(username_key(name), (name, role))
    ids: dict[str, int] = {}
    keys = sorted(wanted)
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        ids.update(
            session.execute(select(User.username, User.id).where(User.username.in_(chunk))).all()
        )
    created = 0
    for key in keys:
        if key not in ids:
            name, role = wanted[key]
            ids[key] = create_user(session, name, role=role).id
            created += 1
    return ids, created
