"""The sample project behind ``annotator demo``: articles, accounts and annotations.

The articles in ``demo_data/`` were written for this project. Annotations start
from the import-time suggestions and then disagree the way people do:
speculation read as fact, a quote's relay agency left out, a skipped sentence.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.access import add_member
from annotator.exchange.apply import upsert_annotation
from annotator.importer import import_file
from annotator.models import Article, Unit, User
from annotator.projects import get_or_create_project, label_ids
from annotator.users import create_user, get_user_by_name, hash_password

DEMO_PROJECT = "Demo: wire stories"
DEMO_ACCOUNTS = (
    ("admin", "admin"),
    ("reviewer", "reviewer"),
    ("ann1", "annotator"),
    ("ann2", "annotator"),
    ("ann3", "annotator"),
)
# Labels people confuse, and how often each demo annotator does.
CONFUSABLE = {
    "speculation": "reported_fact",
    "reported_fact": "speculation",
    "quote": "reported_fact",
    "unclear": "speculation",
}
HABITS = {"ann1": (0.05, 1.0), "ann2": (0.25, 1.0), "ann3": (0.15, 0.7)}  # (error, coverage)


@dataclass(slots=True)
class DemoSummary:
    """What ``load_demo`` did, including the new passwords to print."""

    project: str
    articles: int = 0
    annotations: int = 0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


def demo_files() -> list[Path]:
    """The sample articles shipped with the package."""
    folder = resources.files("annotator") / "demo_data"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".txt"))


def load_demo(session: Session, *, seed: int = 2014) -> DemoSummary:
    """Create (or refresh) the demo project; every account gets a new random password."""
    project, _ = get_or_create_project(session, DEMO_PROJECT)
    session.commit()
    summary = DemoSummary(project.name)
    users: dict[str, User] = {}
    for name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = get_user_by_name(session, name)
        if user is None:
            user = create_user(session, name, role=role, password=password)
        else:
            user.password_hash = hash_password(password)
            user.session_generation += 1
        add_member(session, project.id, user.id)
        users[name] = user
        summary.accounts.append((user.username, user.role, password))
    for path in demo_files():
        import_file(session, project, path)
    labels = label_ids(session, project.id)
    rng = random.Random(seed)
    units = session.execute(
        select(Unit.id, Unit.suggested_label, Unit.suggested_sources)
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id == project.id, Unit.kind == "sentence")
        .order_by(Unit.id)
    ).all()
    for name, (error_rate, coverage) in HABITS.items():
        annotator = users[name]
        for unit_id, suggested, sources in units:
            if rng.random() > coverage:
                continue
            label = suggested or "reported_fact"
            chosen_sources = list(sources or [])
            if rng.random() < error_rate:
                label = CONFUSABLE.get(label, label)
                chosen_sources = chosen_sources[:1]
            upsert_annotation(
                session,
                unit_id=unit_id,
                annotator_id=annotator.id,
                label_id=labels[label],
                source_ids=chosen_sources,
                note="",
                actor_id=annotator.id,
                action="demo",
            )
            summary.annotations += 1
    summary.articles = len(demo_files())
    session.commit()
    return summary
