"""The review pages: who may open them, the queue's filters, deciding through the form,
filters carried to the next sentence, bulk acceptance, CSRF, escaping."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from annotator.exchange.apply import upsert_annotation
from annotator.models import Gold, GoldEvent, GoldSource, Project
from tests import review_world
from tests.helpers import app_session, login


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        built = review_world.build(session, hostile=True)
        # A hostile note, to be shown escaped.
        ann1 = built["users"]["ann1"]
        upsert_annotation(
            session,
            built["units"][3],
            ann1,
            built["labels"]["speculation"],
            [built["sources"]["AFP"]],
            '<img src=x onerror="alert(2)">',
            ann1,
            "update",
        )
        session.commit()
    return built


def client_for(app: Flask, name: str | None) -> FlaskClient:
    client = app.test_client()
    if name:
        login(client, name)
    return client


def csrf(client: FlaskClient) -> str:
    html = client.get("/guidelines").get_data(as_text=True)
    return html.split('name="csrf-token" content="')[1].split('"')[0]


def state(app: Flask) -> tuple[Any, ...]:
    """Everything a review page could write."""
    with app_session(app) as session:
        return (
            session.execute(
                select(Gold.unit_id, Gold.label_id, Gold.provenance, Gold.rationale).order_by(
                    Gold.unit_id
                )
            ).all(),
            session.scalar(select(func.count()).select_from(GoldEvent)),
            session.scalars(select(Project.unanimous_min_annotators).order_by(Project.id)).all(),
        )


def gold_of(app: Flask, unit_id: int) -> tuple | None:
    with app_session(app) as session:
        row = session.execute(
            select(Gold.id, Gold.label_id, Gold.provenance, Gold.reviewer_id, Gold.rationale).where(
                Gold.unit_id == unit_id
            )
        ).one_or_none()
        if row is None:
            return None
        sources = session.scalars(
            select(GoldSource.source_id)
            .where(GoldSource.gold_id == row[0])
            .order_by(GoldSource.position)
        ).all()
        return (*row[1:], list(sources))


def query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


# --- who may see what ------------------------------------------------------------------

ROLES = [
    ("ann1", 403),  # annotator of the project
    ("outsider", 404),  # annotator of another project
    ("rev2", 404),  # reviewer of another project
    ("rev", 200),
    ("boss", 200),
]


@pytest.mark.parametrize(("user", "status"), ROLES)
def test_pages_by_role_and_get_writes_nothing(
    app: Flask, world: dict, user: str, status: int
) -> None:
    before = state(app)
    client = client_for(app, user)
    unit = world["units"][2]
    for url in (
        f"/projects/{world['project']}/review",
        f"/projects/{world['project']}/review?pair=quote,quote&status=all",
        f"/units/{unit}/review",
        f"/units/{unit}/review?pair=quote,quote",
    ):
        assert client.get(url).status_code == status, url
    for url in (f"/units/{unit}/review/next", f"/units/{unit}/review/previous"):
        assert client.get(url).status_code == (302 if status == 200 else status), url
    assert state(app) == before


@pytest.mark.parametrize(("user", "status"), [("ann1", 403), ("outsider", 403), ("rev", 200)])
def test_review_index(app: Flask, world: dict, user: str, status: int) -> None:
    response = client_for(app, user).get("/review")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert f'href="/projects/{world["project"]}/review"' in html
        assert "6 sentences waiting for a decision" in html
        assert "elsewhere" not in html


def test_review_is_in_the_menu_of_reviewers_only(app: Flask, world: dict) -> None:
    assert 'href="/review"' in client_for(app, "rev").get("/").get_data(as_text=True)
    assert 'href="/review"' not in client_for(app, "ann1").get("/").get_data(as_text=True)


def test_anonymous_goes_to_login_with_a_safe_next(app: Flask, world: dict) -> None:
    client = app.test_client()
    project, unit = world["project"], world["units"][2]
    response = client.get(f"/projects/{project}/review?pair=quote,quote")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/login"
    assert query(location)["next"] == [f"/projects/{project}/review?pair=quote,quote"]
    response = client.get(f"/units/{unit}/review")
    assert response.headers["Location"] == f"/login?next=/units/{unit}/review"
    assert client.get("/review").headers["Location"] == "/login?next=/review"


@pytest.mark.parametrize(
    "url",
    [
        "/units/99999999999999999999/review",
        "/units/4242/review",
        "/projects/4242/review",
        f"/projects/{2**40}/review",
        "/units/0/review/next",
    ],
)
def test_unknown_objects_are_404(app: Flask, world: dict, url: str) -> None:
    assert client_for(app, "boss").get(url).status_code == 404


def test_titles_and_foreign_units_are_404(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    title = world["units"][0] - 1  # the title unit precedes the first sentence
    assert client.get(f"/units/{title}/review").status_code == 404
    assert client.get(f"/units/{world['foreign_unit']}/review").status_code == 404
    assert client_for(app, "rev2").get(f"/units/{world['foreign_unit']}/review").status_code == 200


# --- the queue ---------------------------------------------------------------------------


def rows(html: str) -> list[str]:
    """The unit links of the queue table, in order."""
    return [
        part.split('"')[0].replace("&amp;", "&")
        for part in html.split('class="unit-link" href="')[1:]
    ]


def unit_paths(world: dict, indexes: list[int]) -> list[str]:
    return [f"/units/{world['units'][i]}/review" for i in indexes]


def test_queue_lists_least_agreed_first_and_escapes(app: Flask, world: dict) -> None:
    html = client_for(app, "rev").get(f"/projects/{world['project']}/review").get_data(as_text=True)
    links = [link.split("?")[0] for link in rows(html)]
    assert links[0] == f"/units/{world['units'][3]}/review"
    assert len(links) == 6
    assert "<script>alert(1)</script>" not in html
    assert "Prices &lt;script&gt;alert(1)&lt;/script&gt; rose." in html
    assert "6</strong> sentences" in html
    assert 'src="/static/' not in html.split("</main>")[0]  # no script on the queue
    assert "<script>" not in html


def test_pair_link_of_the_dashboard(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    project = world["project"]
    # Decide one unit of the cell: the cell's link still lists it (status defaults to all).
    token = csrf(client)
    client.post(
        f"/units/{world['units'][1]}/review",
        data={"csrf_token": token, "accept": "new", "label": "reported_fact"},
    )
    for pair in ("reported_fact,speculation", "speculation,reported_fact"):
        html = client.get(f"/projects/{project}/review?pair={pair}").get_data(as_text=True)
        assert rows(html) == [
            f"/units/{world['units'][1]}/review?status=all&pair=reported_fact,speculation"
        ]
        assert '<option selected value="reported_fact,speculation">' in html
        assert '<option selected value="all">' in html
        assert "adjudicated" in html
    html = client.get(f"/projects/{project}/review?pair=quote,quote").get_data(as_text=True)
    assert [r.split("?")[0] for r in rows(html)] == unit_paths(world, [2, 0, 5])


def test_queue_filters(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    base = f"/projects/{world['project']}/review"

    def listed(params: str) -> list[str]:
        html = client.get(f"{base}?{params}").get_data(as_text=True)
        return [r.split("?")[0] for r in rows(html)]

    assert listed("sources=y") == unit_paths(world, [2])
    assert listed("annotator=ann3") == unit_paths(world, [1, 0])
    assert listed(f"article={world['second']}") == [f"/units/{world['second_units'][0]}/review"]
    assert listed("status=all")[-1] == unit_paths(world, [4])[0]
    assert listed("status=decided") == []
    assert listed("pair=quote,quote&annotator=ann3") == unit_paths(world, [0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("pair=quote,opinion", "Choose two labels of this project."),
        ("pair=quote", "give two label names separated by a comma"),
        ("status=closed", "Not a valid choice"),
        ("annotator=%3Cscript%3E", "Not a valid choice"),
        ("article=abc", "Not a valid integer value"),
        ("article=FOREIGN", "Not an article of this project."),
    ],
)
def test_bad_filters_show_errors(app: Flask, world: dict, params: str, message: str) -> None:
    params = params.replace("FOREIGN", str(world["foreign"]))
    response = client_for(app, "rev").get(f"/projects/{world['project']}/review?{params}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>" not in html


def test_paging(app: Flask, world: dict) -> None:
    from annotator.views import review as review_views

    old, review_views.PER_PAGE = review_views.PER_PAGE, 4
    try:
        client = client_for(app, "rev")
        base = f"/projects/{world['project']}/review"
        first = client.get(base).get_data(as_text=True)
        second = client.get(f"{base}?page=2").get_data(as_text=True)
        assert len(rows(first)) == 4 and len(rows(second)) == 2
        assert (
            "Page 1 of 2" in first and 'href="/projects/1/review?page=2&amp;status=open"' in first
        )
        assert "showing 5–6" in second
    finally:
        review_views.PER_PAGE = old


# --- deciding ---------------------------------------------------------------------------


def test_accept_an_answer_and_land_on_the_next_unit(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    units = world["units"]
    ann2 = world["users"]["ann2"]
    response = client.post(
        f"/units/{units[2]}/review?pair=quote,quote&annotator=ann2&status=all",
        data={
            "csrf_token": csrf(client),
            "accept": f"{ann2}:1",
            "rationale": "AP relayed it",
            "error_category": "annotator_error",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    # quote × quote with ann2: sentences 2, 0 and 5, least agreed first.
    assert urlsplit(location).path == f"/units/{units[0]}/review"
    assert query(location) == {
        "pair": ["quote,quote"],
        "annotator": ["ann2"],
        "status": ["all"],
    }
    assert gold_of(app, units[2]) == (
        world["labels"]["quote"],
        "adjudicated",
        world["users"]["rev"],
        "AP relayed it",
        [world["sources"]["Koh"], world["sources"]["AP"]],
    )
    page = client.get(location).get_data(as_text=True)
    assert "Saved the decision on sentence 3 of “Talks resume”." in page
    # The next unit's page carries the filters in its forms and links.
    carried = "?status=all&amp;pair=quote,quote&amp;annotator=ann2"
    assert f'action="/units/{units[0]}/review{carried}"' in page
    assert f'href="/units/{units[0]}/review/next{carried}"' in page
    assert f'href="/projects/{world["project"]}/review{carried}"' in page


def test_the_last_unit_leads_back_to_the_queue(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    units = world["units"]
    response = client.post(
        f"/units/{units[5]}/review?pair=quote,quote",
        data={"csrf_token": csrf(client), "accept": f"{world['users']['ann1']}:1"},
    )
    assert response.headers["Location"] == (
        f"/projects/{world['project']}/review?status=all&pair=quote,quote"
    )
    assert "last sentence of this queue" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_next_and_previous_follow_the_filters(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    units = world["units"]
    nxt = client.get(f"/units/{units[2]}/review/next?pair=quote,quote")
    assert nxt.headers["Location"] == f"/units/{units[0]}/review?status=all&pair=quote,quote"
    prev = client.get(f"/units/{units[0]}/review/previous?pair=quote,quote")
    assert prev.headers["Location"] == f"/units/{units[2]}/review?status=all&pair=quote,quote"
    first = client.get(f"/units/{units[2]}/review/previous?pair=quote,quote")
    assert first.headers["Location"] == f"/units/{units[2]}/review?status=all&pair=quote,quote"


def test_new_answer_with_source_names(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    unit = world["units"][2]
    response = client.post(
        f"/units/{unit}/review",
        data={
            "csrf_token": csrf(client),
            "accept": "new",
            "label": "quote",
            "sources": "associated press\n\n  Koh  \n",
            "rationale": "relay first? no: speaker first",
        },
    )
    assert response.status_code == 302
    gold = gold_of(app, unit)
    assert gold is not None
    assert gold[-1] == [world["sources"]["AP"], world["sources"]["Koh"]]


def test_unresolved(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    unit = world["units"][3]
    token = csrf(client)
    refused = client.post(
        f"/units/{unit}/review", data={"csrf_token": token, "accept": "unresolved"}
    )
    assert refused.status_code == 422
    assert "Say why the sentence stays unresolved." in refused.get_data(as_text=True)
    response = client.post(
        f"/units/{unit}/review",
        data={
            "csrf_token": token,
            "accept": "unresolved",
            "rationale": "needs a guideline",
            "error_category": "guideline_gap",
        },
    )
    assert response.status_code == 302
    assert gold_of(app, unit) == (
        None,
        "unresolved",
        world["users"]["rev"],
        "needs a guideline",
        [],
    )


@pytest.mark.parametrize(
    ("data", "status", "message", "near"),
    [
        ({"accept": "new", "label": ""}, 422, "Choose the label of the decision.", "label-errors"),
        ({"accept": "new", "label": "opinion"}, 422, "Not a valid choice", "label-errors"),
        (
            {"accept": "new", "label": "quote", "sources": "AP\nNobody <b>"},
            422,
            "in the registry: “Nobody &lt;b&gt;”",
            "sources-errors",
        ),
        ({"accept": "new", "label": "quote", "sources": "AP\nap"}, 422, "already", "sources-"),
        ({"accept": "new", "label": "quote", "rationale": "x" * 5001}, 422, "5000", "rationale-"),
        ({"accept": "new", "label": "quote", "error_category": "typo"}, 422, "valid", "category"),
        ({"accept": "delete"}, 422, "Unknown choice.", "accept-errors"),
        ({"accept": ""}, 422, "Choose an answer or a decision.", "accept-errors"),
        ({"accept": "ANN2:7"}, 409, "changed since the page was shown", "accept-errors"),
        ({"accept": "999999:1"}, 409, "deleted since", "accept-errors"),
    ],
)
def test_decision_errors_are_shown_next_to_fields(
    app: Flask, world: dict, data: dict, status: int, message: str, near: str
) -> None:
    client = client_for(app, "rev")
    before = state(app)
    data = {k: v.replace("ANN2", str(world["users"]["ann2"])) for k, v in data.items()}
    response = client.post(
        f"/units/{world['units'][2]}/review", data={"csrf_token": csrf(client), **data}
    )
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    # The message sits in the error list of its field.
    at = html.index(message)
    assert near in html[max(0, at - 400) : at]
    assert state(app) == before


def test_decisions_need_a_csrf_token(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    before = state(app)
    unit, project = world["units"][2], world["project"]
    for url, data in (
        (f"/units/{unit}/review", {"accept": "new", "label": "quote"}),
        (f"/units/{unit}/review/clear", {}),
        (f"/projects/{project}/review/accept-unanimous", {}),
        (f"/projects/{project}/review/threshold", {"threshold": "3"}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Reload the page" in response.get_data(as_text=True)
    assert state(app) == before


@pytest.mark.parametrize(("user", "status"), [(None, 302), ("ann1", 403), ("rev2", 404)])
def test_others_cannot_decide(app: Flask, world: dict, user: str | None, status: int) -> None:
    client = client_for(app, user)
    token = csrf(client) if user else ""
    before = state(app)
    unit, project = world["units"][2], world["project"]
    for url, data in (
        (f"/units/{unit}/review", {"accept": "new", "label": "quote"}),
        (f"/units/{unit}/review/clear", {}),
        (f"/projects/{project}/review/accept-unanimous", {}),
        (f"/projects/{project}/review/threshold", {"threshold": "3"}),
    ):
        response = client.post(url, data={"csrf_token": token, **data})
        # Anonymous posts have no session CSRF token: refused before the login check.
        assert response.status_code == (400 if user is None else status), url
    assert state(app) == before


def test_clear_a_decision(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    unit = world["units"][1]
    token = csrf(client)
    client.post(
        f"/units/{unit}/review", data={"csrf_token": token, "accept": "new", "label": "quote"}
    )
    page = client.get(f"/units/{unit}/review").get_data(as_text=True)
    assert "Clear this decision" in page and "adjudicated" in page
    response = client.post(f"/units/{unit}/review/clear?status=all", data={"csrf_token": token})
    assert response.headers["Location"] == f"/units/{unit}/review?status=all"
    assert gold_of(app, unit) is None
    assert "Cleared the gold decision." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_unit_page_shows_answers_in_context_escaped(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    response = client.get(f"/units/{world['units'][3]}/review")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark><bdi>Prices &lt;script&gt;alert(1)&lt;/script&gt; rose.</bdi></mark>" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    assert "<img src=x" not in html
    # Every annotator's card with its accept button (value: annotator id and version).
    ann1, ann2 = world["users"]["ann1"], world["users"]["ann2"]
    assert f'value="{ann1}:2"' in html and f'value="{ann2}:1"' in html
    assert html.count('<li class="card') == 2
    assert "13 s spent" not in html and "15 s spent" in html
    assert "&#34;We are ready,&#34; Koh said." in html  # the sentence before
    assert 'src="/static/review.js"' in html
    assert "<script>" not in html


def test_unit_page_prefills_the_current_gold(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    unit = world["units"][2]
    client.post(
        f"/units/{unit}/review",
        data={
            "csrf_token": csrf(client),
            "accept": "new",
            "label": "quote",
            "sources": "Koh\nAP",
            "rationale": "relay",
        },
    )
    html = client.get(f"/units/{unit}/review").get_data(as_text=True)
    assert '<option selected value="quote">' in html
    assert ">\r\nKoh\nAP</textarea>" in html or ">\nKoh\nAP</textarea>" in html
    assert "by <bdi>rev</bdi>" in html


# --- unanimous units ----------------------------------------------------------------------


def test_accept_all_unanimous(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    project = world["project"]
    html = client.get(f"/projects/{project}/review").get_data(as_text=True)
    assert '<strong id="candidates">2</strong>' in html
    token = csrf(client)
    response = client.post(
        f"/projects/{project}/review/accept-unanimous?status=decided", data={"csrf_token": token}
    )
    assert response.headers["Location"] == f"/projects/{project}/review?status=decided"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Accepted 2 unanimous sentences as gold." in page
    assert '<strong id="candidates">0</strong>' in page
    assert page.count('class="ptag p-unanimous"') == 2
    units = world["units"]
    assert gold_of(app, units[0])[1] == "unanimous"  # type: ignore[index]
    assert gold_of(app, units[5])[1] == "unanimous"  # type: ignore[index]


def test_threshold_form(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    project = world["project"]
    token = csrf(client)
    bad = client.post(
        f"/projects/{project}/review/threshold", data={"csrf_token": token, "threshold": "1"}
    )
    assert bad.status_code == 422
    assert "Give a whole number from 2 to 100." in bad.get_data(as_text=True)
    good = client.post(
        f"/projects/{project}/review/threshold", data={"csrf_token": token, "threshold": "3"}
    )
    assert good.status_code == 302
    html = client.get(good.headers["Location"]).get_data(as_text=True)
    assert '<strong id="candidates">1</strong>' in html
    assert "at least 3 annotators in agreement" in html
    assert state(app)[2][0] == 3
