"""The demo project: accounts with fresh passwords and annotations that disagree."""

from __future__ import annotations

from collections import defaultdict

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.demo import DEMO_ACCOUNTS, load_demo
from annotator.models import Annotation, Article, Label, Unit
from annotator.users import check_password, get_user_by_name


def test_demo_loads_articles_accounts_and_disagreeing_annotations(session: Session) -> None:
    summary = load_demo(session)
    assert summary.articles == 3
    assert session.scalar(select(func.count()).select_from(Article)) == 3
    for name, role, password in summary.accounts:
        user = get_user_by_name(session, name)
        assert user is not None and user.role == role
        assert check_password(user, password)
    assert {name for name, _ in DEMO_ACCOUNTS} == {name for name, _, _ in summary.accounts}

    labels_by_unit: dict[int, set[str]] = defaultdict(set)
    for unit_id, label in session.execute(
        select(Annotation.unit_id, Label.name).join(Label, Label.id == Annotation.label_id)
    ):
        labels_by_unit[unit_id].add(label)
    sentences = session.scalar(
        select(func.count()).select_from(Unit).where(Unit.kind == "sentence")
    )
    assert len(labels_by_unit) == sentences  # every sentence has at least one label
    disagreements = sum(1 for labels in labels_by_unit.values() if len(labels) > 1)
    assert 0 < disagreements < len(labels_by_unit) / 2


def test_demo_twice_keeps_data_and_changes_passwords(session: Session) -> None:
    first = load_demo(session)
    annotations = session.scalar(select(func.count()).select_from(Annotation))
    second = load_demo(session)
    assert session.scalar(select(func.count()).select_from(Article)) == 3
    assert session.scalar(select(func.count()).select_from(Annotation)) == annotations
    old = dict((n, p) for n, _, p in first.accounts)
    new = dict((n, p) for n, _, p in second.accounts)
    assert all(old[name] != new[name] for name in old)
    user = get_user_by_name(session, "ann1")
    assert user is not None and not check_password(user, old["ann1"])


def test_demo_command_prints_accounts(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "demo project 'Demo: wire stories': 3 articles" in result.output
    for name, _ in DEMO_ACCOUNTS:
        assert f"  {name} " in result.output
