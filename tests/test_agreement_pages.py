"""The agreement dashboard: who may see it, that it shows the module's figures, that the
confusion cells link to the review queue, and that hostile names stay text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from annotator.demo import load_demo
from annotator.models import Annotation, AnnotationEvent
from annotator.project_agreement import project_agreement
from annotator.projects import get_project_by_name
from tests.helpers import add_project, add_user, app_session, login


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        load_demo(session)
        project = get_project_by_name(session, "Demo: wire stories")
        other = add_project(session, "elsewhere")
        add_user(session, "rev", "reviewer", project=project)
        add_user(session, "outsider", "reviewer", project=other)
        add_user(session, "boss", "admin")
        add_user(session, "worker", "annotator", project=project)
        session.commit()
        return {"project": project.id, "other": other.id}


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 302), ("worker", 403), ("outsider", 404), ("rev", 200), ("boss", 200)],
)
def test_who_may_see_the_dashboard(
    client: FlaskClient, world: dict[str, Any], who: str | None, status: int
) -> None:
    if who:
        login(client, who)
    response = client.get(f"/projects/{world['project']}/agreement")
    assert response.status_code == status
    if status == 302:
        assert "/login?next=" in response.headers["Location"]


def test_missing_project_is_404(client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "boss")
    assert client.get("/projects/999999/agreement").status_code == 404
    assert client.get(f"/projects/{2**70}/agreement").status_code == 404


def test_the_page_shows_the_module_figures(app: Flask, client: FlaskClient, world: dict) -> None:
    login(client, "rev")
    html = client.get(f"/projects/{world['project']}/agreement").get_data(as_text=True)
    with app_session(app) as session:
        summary = project_agreement(session, world["project"], bootstrap=0)
    alpha = summary["labels"]["krippendorff_alpha"]["value"]
    assert f"{alpha:.3f}" in html
    assert f"{summary['labels']['percent_agreement']['value']:.3f}" in html
    for pair in summary["labels"]["cohen_kappa"]:
        assert f"{pair['kappa']:.3f}" in html
    # Undefined here (unequal annotators per unit), shown with its reason.
    assert str(escape(summary["labels"]["fleiss_kappa"]["reason"])) in html
    assert html.count("<svg") >= 3 and "<script" not in html.split("</header>")[1]


def test_filters_narrow_the_figures(app: Flask, client: FlaskClient, world: dict) -> None:
    login(client, "rev")
    base = f"/projects/{world['project']}/agreement"
    everything = client.get(base).get_data(as_text=True)
    one = client.get(base + "?annotator=ann3").get_data(as_text=True)
    with app_session(app) as session:
        expected = project_agreement(session, world["project"], annotator="ann3", bootstrap=0)
    assert f"{expected['n_units']} sentences" in one and everything != one
    # Nonsense filters are ignored, not errors.
    for query in ("?annotator=%00", "?article=abc", f"?article={2**80}", "?article=-3"):
        assert client.get(base + query).status_code == 200


def test_confusion_cells_link_to_the_review_queue(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    login(client, "rev")
    html = client.get(f"/projects/{world['project']}/agreement?annotator=ann2").get_data(
        as_text=True
    )
    if "review.queue" not in app.view_functions:
        pytest.skip("the review area is not part of this build")
    links = re.findall(r'<a href="([^"]*/review\?[^"]*)"', html)
    assert any("pair=reported_fact,speculation" in link for link in links)
    assert all("annotator=ann2" in link for link in links if "pair=" in link)


def test_viewing_writes_nothing(app: Flask, client: FlaskClient, world: dict) -> None:
    def counts() -> tuple[int, int]:
        with app_session(app) as session:
            return (
                session.scalar(select(func.count()).select_from(Annotation)),
                session.scalar(select(func.count()).select_from(AnnotationEvent)),
            )

    before = counts()
    login(client, "boss")
    client.get(f"/projects/{world['project']}/agreement")
    assert counts() == before


def test_hostile_names_are_escaped(app: Flask, client: FlaskClient, world: dict) -> None:
    with app_session(app) as session:
        from annotator.models import User

        user = session.scalar(select(User).where(User.username == "ann1"))
        user.username = "<img src=x onerror=alert(1)>"
        session.commit()
    login(client, "rev")
    html = client.get(f"/projects/{world['project']}/agreement").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
