"""The start page and the project pages: roles, forms, import, members, assignments, export."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from annotator.auth import start_login_session
from annotator.db import get_database
from annotator.downloads import export_filename
from annotator.exchange.export import export_json
from annotator.models import Annotation, Article, Assignment, Project, ProjectMember, User
from annotator.users import hash_password
from annotator.web import SESSION_TOKEN_KEY
from tests.helpers import PASSWORD, add_article, add_project, app_session, login
from tests.test_overview import THREE, TWO, add_user, label_sentences


@dataclass
class World:
    wire: int
    other: int
    three: int
    two: int
    elsewhere: int
    ann: int
    rev: int


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


def make_world(app: Flask) -> World:
    """Two projects, their articles, and one user per role; ann labelled one article."""
    with app_session(app) as session:
        wire = add_project(session, "wire")
        other = add_project(session, "other")
        three = add_article(session, wire, THREE, title="Three <script>alert(1)</script>")
        two = add_article(session, wire, TWO, title="Two")
        elsewhere = add_article(session, other, TWO, title="Elsewhere")
        ann = add_user(session, "ann", project=wire)
        add_user(session, "out", project=other)
        rev = add_user(session, "rev", "reviewer", project=wire)
        add_user(session, "root", "admin")
        add_user(session, "loner")  # exists, member of nothing
        label_sentences(session, ann, three, 3)
        session.commit()
        return World(wire.id, other.id, three.id, two.id, elsewhere.id, ann.id, rev.id)


def client_for(app: Flask, name: str | None) -> FlaskClient:
    """A client logged in as ``name`` through a server-side session (test_auth covers the form)."""
    client = app.test_client()
    if name is not None:
        with app_session(app) as session:
            user = session.scalars(select(User).where(User.username == name)).one()
            token = start_login_session(session, user)
            session.commit()
        with client.session_transaction() as cookie:
            cookie[SESSION_TOKEN_KEY] = token
    return client


def csrf(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def counts(app: Flask) -> tuple[int, ...]:
    with app_session(app) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Project, Article, ProjectMember, Assignment, Annotation)
        )


def project_row(app: Flask, project_id: int) -> tuple[object, ...]:
    with app_session(app) as session:
        p = session.get(Project, project_id)
        assert p is not None
        return (p.description, p.suggestion_mode, p.annotators_per_article)


# --- the start page -------------------------------------------------------------------


def test_index_annotator_sees_member_projects_with_own_progress(app: Flask, world: World) -> None:
    with app_session(app) as session:
        session.scalars(
            select(User).where(User.username == "ann")
        ).one().password_hash = hash_password(PASSWORD)
        session.commit()
    client = app.test_client()
    login(client, "ann")  # once through the real form
    html = client.get("/").get_data(as_text=True)
    assert "wire" in html and "other" not in html
    assert "3 of 5 sentences (60%)" in html
    # Continue goes to the first article she has not finished.
    assert f'href="/articles/{world.two}/annotate"' in html
    assert "New project" not in html


def test_index_reviewer_sees_overall_progress(app: Flask, world: World) -> None:
    html = client_for(app, "rev").get("/").get_data(as_text=True)
    assert "3 of 5 sentences (60%)" in html  # ann is the only annotator
    assert "All annotators" in html


def test_index_admin_sees_all_and_the_form(app: Flask, world: World) -> None:
    html = client_for(app, "root").get("/").get_data(as_text=True)
    assert "wire" in html and "other" in html
    assert 'name="name"' in html and "Create project" in html


def test_index_empty_state_explains_import(app: Flask, world: World) -> None:
    html = client_for(app, "loner").get("/").get_data(as_text=True)
    assert "not a member of any project" in html


def test_index_empty_state_for_admin(app: Flask) -> None:
    with app_session(app) as session:
        add_user(session, "root", "admin")
        session.commit()
    html = client_for(app, "root").get("/").get_data(as_text=True)
    assert "annotator import PATH --project NAME" in html


def test_index_anonymous_redirects(app: Flask) -> None:
    response = app.test_client().get("/")
    assert response.headers["Location"] == "/login?next=/"


def test_admin_creates_project(app: Flask, world: World) -> None:
    client = client_for(app, "root")
    response = client.post(
        "/",
        data={"name": " New\u00a0desk ", "description": "Night shift", "csrf_token": csrf(client)},
    )
    with app_session(app) as session:
        project = session.scalar(select(Project).where(Project.name == "New desk"))
        assert project is not None
        assert [label.name for label in project.labels][:2] == ["reported_fact", "quote"]
    assert response.headers["Location"] == f"/projects/{project.id}"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("wire", "already exists"),
        ("", "This field is required."),
        ("x" * 201, "Field cannot be longer than 200 characters."),
        ("bad\u202ename", "invisible"),
    ],
)
def test_create_project_errors_next_to_the_field(
    app: Flask, world: World, name: str, message: str
) -> None:
    client = client_for(app, "root")
    before = counts(app)
    response = client.post("/", data={"name": name, "csrf_token": csrf(client)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="name-errors"' in html and message in html
    assert counts(app) == before


@pytest.mark.parametrize("name", ["ann", "rev"])
def test_only_admins_create_projects(app: Flask, world: World, name: str) -> None:
    client = client_for(app, name)
    before = counts(app)
    response = client.post("/", data={"name": "mine", "csrf_token": csrf(client)})
    assert response.status_code == 403
    assert counts(app) == before


def test_create_project_needs_csrf(app: Flask, world: World) -> None:
    before = counts(app)
    assert client_for(app, "root").post("/", data={"name": "x"}).status_code == 400
    assert counts(app) == before


# --- role matrix ----------------------------------------------------------------------

ANY = ("ann", "rev", "root")
GET_ROUTES = [
    ("/projects/{wire}", {"ann": 200, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}?page=abc", {"ann": 200, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/manage", {"ann": 403, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/articles/{three}/assign", {"ann": 403, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/articles/{elsewhere}/assign", {"rev": 404, "root": 404, "out": 404}),
    ("/projects/{wire}/export.json", {"ann": 403, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/export.csv", {"ann": 403, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/export.jsonl", {"ann": 403, "rev": 200, "root": 200, "out": 404}),
    ("/projects/{wire}/export.xml", {"rev": 404, "root": 404, "out": 404}),
    ("/projects/999999", {"ann": 404, "rev": 404, "root": 404, "out": 404}),
]
POST_ROUTES = [
    "/projects/{wire}/import",
    "/projects/{wire}/members",
    "/projects/{wire}/members/{ann}/remove",
    "/projects/{wire}/settings",
    "/projects/{wire}/assign",
    "/projects/{wire}/articles/{three}/assign",
]


def fill(path: str, world: World) -> str:
    return path.format(**world.__dict__)


@pytest.mark.parametrize(("path", "expected"), GET_ROUTES)
def test_get_routes_by_role_never_write(
    app: Flask, world: World, path: str, expected: dict[str, int]
) -> None:
    before = counts(app)
    anonymous = app.test_client().get(fill(path, world))
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=/projects/")
    for name, status in expected.items():
        response = client_for(app, name).get(fill(path, world))
        assert response.status_code == status, (name, path)
        response.close()
    assert counts(app) == before


@pytest.mark.parametrize("path", POST_ROUTES)
def test_post_routes_by_role(app: Flask, world: World, path: str) -> None:
    before, settings = counts(app), project_row(app, world.wire)
    url = fill(path, world)
    anonymous = app.test_client()
    login_page = anonymous.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf-token" content="')[1].split('"')[0]
    response = anonymous.post(url, data={"csrf_token": token})
    assert response.headers["Location"].startswith("/login?next=")
    assert anonymous.post(url).status_code == 400  # no token: refused before anything else
    # An annotator of another project: 404 (nothing leaks); a member annotator: 403.
    for name, status in (("out", 404), ("ann", 403)):
        client = client_for(app, name)
        assert client.post(url, data={"csrf_token": csrf(client)}).status_code == status
    # Without a CSRF token even a reviewer is refused.
    assert client_for(app, "rev").post(url, data={"username": "loner"}).status_code == 400
    assert counts(app) == before
    assert project_row(app, world.wire) == settings


# --- the project page -----------------------------------------------------------------


def test_project_page_for_annotator_is_blind(app: Flask, world: World) -> None:
    with app_session(app) as session:
        bob = add_user(session, "bob", project=session.get(Project, world.wire))
        label_sentences(session, bob, session.get(Article, world.two), 2)
        session.commit()
    html = client_for(app, "ann").get(f"/projects/{world.wire}").get_data(as_text=True)
    assert "bob" not in html
    assert "Three &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert f"/projects/{world.wire}/guidelines" in html
    assert "Import articles" not in html and "export.json" not in html
    assert "Members &amp; settings" not in html


def test_project_page_for_reviewer(app: Flask, world: World) -> None:
    html = client_for(app, "rev").get(f"/projects/{world.wire}").get_data(as_text=True)
    assert "Import articles" in html and f"/projects/{world.wire}/export.csv" in html
    assert "ann" in html and "3 of 5 sentences (60%)" in html
    # "Finished by" column: ann labelled all three sentences of the first article.
    assert '<td class="num">1</td>' in html
    assert f"/projects/{world.wire}/articles/{world.three}/assign" in html


def test_project_page_paginates(app: Flask, world: World) -> None:
    with app_session(app) as session:
        wire = session.get(Project, world.wire)
        for n in range(55):
            add_article(session, wire, f"Story {n} is short. It ends here.", title=f"Story {n}")
        session.commit()
    client = client_for(app, "rev")
    first = client.get(f"/projects/{world.wire}").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Story 47<" in first and "Story 48<" not in first
    second = client.get(f"/projects/{world.wire}?page=2").get_data(as_text=True)
    assert "Story 54<" in second and "Story 47<" not in second
    assert "Page 2 of 2" in client.get(f"/projects/{world.wire}?page=999").get_data(as_text=True)


def count_queries(app: Flask, client: FlaskClient, url: str) -> int:
    statements: list[str] = []
    engine = get_database(app).engine

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


@pytest.mark.parametrize("name", ["rev", "ann"])
def test_project_page_query_count_is_constant(app: Flask, world: World, name: str) -> None:
    client = client_for(app, name)
    url = f"/projects/{world.wire}"
    client.get(url)  # the first request of a process also checks the schema
    small = count_queries(app, client, url)
    with app_session(app) as session:
        wire = session.get(Project, world.wire)
        people = [add_user(session, f"extra{n}", project=wire) for n in range(3)]
        for n in range(60):
            article = add_article(
                session, wire, f"Story {n} is short. It ends here.", title=f"S{n}"
            )
            for person in people:
                label_sentences(session, person, article, 1)
            session.add(Assignment(article_id=article.id, user_id=world.ann))
        session.commit()
    assert count_queries(app, client, url) == small
    assert count_queries(app, client, url + "?page=2") == small


# --- import ---------------------------------------------------------------------------


def post_import(client: FlaskClient, project_id: int, **data: object):
    return client.post(
        f"/projects/{project_id}/import",
        data={"csrf_token": csrf(client), **data},
        content_type="multipart/form-data",
    )


def test_import_pasted_text_flashes_and_redirects(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    text = "The minister said the port will reopen, AP reported. Officials agreed."
    response = post_import(client, world.wire, title="Port news", text=text)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{world.wire}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # The title is bidi-isolated (FSI … PDI) in the message.
    assert "Imported “\u2068Port news\u2069”: 2 sentences, sources found:" in html
    with app_session(app) as session:
        assert session.scalar(select(Article.id).where(Article.title == "Port news"))
    # The same text again is reported, not stored twice.
    before = counts(app)
    again = post_import(client, world.wire, title="Port news", text=text)
    assert again.status_code == 302
    assert counts(app) == before
    assert "is already in the project" in client.get(f"/projects/{world.wire}").get_data(
        as_text=True
    )


def test_import_file_jsonl(app: Flask, world: World) -> None:
    client = client_for(app, "root")
    lines = "\n".join(
        json.dumps({"text": f"Story {n} begins here. It ends.", "title": f"J{n}"}) for n in range(3)
    )
    upload = (io.BytesIO(lines.encode()), "batch.jsonl")
    response = post_import(client, world.wire, file=upload)
    assert response.status_code == 302
    html = client.get(f"/projects/{world.wire}").get_data(as_text=True)
    assert "Imported “\u2068J0\u2069”" in html and "Imported “\u2068J2\u2069”" in html


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.txt", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "pic.txt", "not"),
        ("Hello there. Second one.".encode("utf-16"), "u16.txt", "UTF-16"),
        (b"\xff\xfe\xc0\xaf bad", "bad.txt", "UTF-8"),
        (b'{"text": ', "broken.json", "Invalid JSON"),
        (b"<svg onload=alert(1)>", "x.svg", "Upload a .txt"),
    ],
)
def test_import_file_errors_next_to_the_field(
    app: Flask, world: World, data: bytes, name: str, message: str
) -> None:
    client = client_for(app, "rev")
    before = counts(app)
    response = post_import(client, world.wire, file=(io.BytesIO(data), name))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = html.split('id="file-errors"')[1].split("</ul>")[0]
    assert message.lower() in errors.lower()
    assert counts(app) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Paste an article or choose a file."),
        ({"text": "   \n\n "}, "The article is empty."),
        ({"text": "Menu | Home | Login"}, "no article text left"),
    ],
)
def test_import_text_errors(app: Flask, world: World, data: dict[str, str], message: str) -> None:
    client = client_for(app, "rev")
    before = counts(app)
    response = post_import(client, world.wire, **data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message.lower() in html.split('id="text-errors"')[1].split("</ul>")[0].lower()
    assert counts(app) == before


def test_import_text_and_file_together_refused(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    response = post_import(
        client, world.wire, text="A story. Yes.", file=(io.BytesIO(b"Other. Text."), "a.txt")
    )
    assert response.status_code == 400
    assert "not both" in response.get_data(as_text=True)


def test_import_over_the_upload_limit_explains_it(app: Flask, world: World) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2000
    client = client_for(app, "rev")
    before = counts(app)
    response = post_import(client, world.wire, file=(io.BytesIO(b"a. " * 1000), "big.txt"))
    assert response.status_code == 413
    assert "larger than the server accepts" in response.get_data(as_text=True)
    assert counts(app) == before


def test_import_over_the_file_limit_is_a_field_error(app: Flask, world: World) -> None:
    app.config["IMPORT_MAX_BYTES"] = 100
    client = client_for(app, "rev")
    response = post_import(client, world.wire, file=(io.BytesIO(b"Word. " * 40), "big.txt"))
    assert response.status_code == 400
    assert "larger than the import limit" in response.get_data(as_text=True)


def test_import_pasted_text_over_the_form_limit_explains_it(app: Flask, world: World) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    client = client_for(app, "rev")
    response = post_import(client, world.wire, text="Word. " * 400)
    assert response.status_code == 413
    assert "Pasted text is limited to" in response.get_data(as_text=True)


# --- members, settings, assignments ---------------------------------------------------


def test_add_and_remove_members(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    response = client.post(
        f"/projects/{world.wire}/members", data={"username": "Loner", "csrf_token": csrf(client)}
    )
    assert response.headers["Location"] == f"/projects/{world.wire}/manage"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added loner (annotator) to the project." in html
    with app_session(app) as session:
        loner = session.scalar(select(User.id).where(User.username == "loner"))
    bad = client.post(
        f"/projects/{world.wire}/members", data={"username": "ghost", "csrf_token": csrf(client)}
    )
    assert bad.status_code == 400 and "annotator users add" in bad.get_data(as_text=True)
    gone = client.post(
        f"/projects/{world.wire}/members/{loner}/remove", data={"csrf_token": csrf(client)}
    )
    assert gone.status_code == 302
    with app_session(app) as session:
        assert session.get(ProjectMember, (world.wire, loner)) is None
    missing = client.post(
        f"/projects/{world.wire}/members/{loner}/remove", data={"csrf_token": csrf(client)}
    )
    assert missing.status_code == 404


def test_reviewer_cannot_remove_self(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    response = client.post(
        f"/projects/{world.wire}/members/{world.rev}/remove", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 409
    with app_session(app) as session:
        assert session.get(ProjectMember, (world.wire, world.rev)) is not None


def test_settings_saved_and_validated(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    url = f"/projects/{world.wire}/settings"
    ok = client.post(
        url,
        data={
            "suggestion_mode": "prefill",
            "annotators_per_article": "2",
            "description": "<b>desk</b>",
            "csrf_token": csrf(client),
        },
    )
    assert ok.status_code == 302
    assert project_row(app, world.wire) == ("<b>desk</b>", "prefill", 2)
    html = client.get(f"/projects/{world.wire}").get_data(as_text=True)
    assert "&lt;b&gt;desk&lt;/b&gt;" in html
    for bad in (
        {"suggestion_mode": "always"},
        {"suggestion_mode": "hint", "annotators_per_article": "-1"},
        {"suggestion_mode": "hint", "annotators_per_article": "1 OR 1=1"},
        {"suggestion_mode": "hint", "annotators_per_article": str(2**64)},
        {"suggestion_mode": "hint", "description": "x" * 5001},
    ):
        response = client.post(url, data={**bad, "csrf_token": csrf(client)})
        assert response.status_code == 400, bad
        assert 'class="errors"' in response.get_data(as_text=True)
    assert project_row(app, world.wire) == ("<b>desk</b>", "prefill", 2)
    # Emptying the number means "every annotator annotates every article".
    client.post(url, data={"suggestion_mode": "hint", "csrf_token": csrf(client)})
    assert project_row(app, world.wire) == ("", "hint", None)


def test_assign_button_distributes(app: Flask, world: World) -> None:
    with app_session(app) as session:
        session.get(Project, world.wire).annotators_per_article = 1
        add_user(session, "bob", project=session.get(Project, world.wire))
        session.commit()
    client = client_for(app, "root")
    response = client.post(f"/projects/{world.wire}/assign", data={"csrf_token": csrf(client)})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Assigned 2 articles to annotators" in html
    with app_session(app) as session:
        rows = session.execute(select(Assignment.article_id, Assignment.user_id)).all()
    assert sorted(rows) == sorted([(world.three, world.ann), (world.two, rows[1][1])])


def test_article_assignment_page(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    url = f"/projects/{world.wire}/articles/{world.two}/assign"
    html = client.get(url).get_data(as_text=True)
    assert 'type="checkbox"' in html and "ann" in html
    response = client.post(url, data={"annotators": str(world.ann), "csrf_token": csrf(client)})
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.get(Assignment, (world.two, world.ann)) is not None
    # A reviewer is not a choice; neither is an id from nowhere.
    for bad in (str(world.rev), "1 OR 1=1", str(2**64)):
        refused = client.post(url, data={"annotators": bad, "csrf_token": csrf(client)})
        assert refused.status_code == 400, bad


# --- export ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("json", "application/json"),
        ("jsonl", "application/x-ndjson"),
        ("csv", "text/csv; charset=utf-8"),
    ],
)
def test_export_download_headers(app: Flask, world: World, fmt: str, content_type: str) -> None:
    response = client_for(app, "rev").get(f"/projects/{world.wire}/export.{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="wire-{today}.{fmt}"'
    assert response.is_streamed
    body = response.get_data()
    assert body


def test_export_is_the_cli_bytes_except_exported_at(app: Flask, world: World) -> None:
    body = client_for(app, "rev").get(f"/projects/{world.wire}/export.json").get_data()
    with app_session(app) as session:
        out = io.BytesIO()
        export_json(session, out, ["wire"])
    ours, theirs = json.loads(body), json.loads(out.getvalue())
    ours.pop("exported_at"), theirs.pop("exported_at")
    assert ours == theirs
    assert [p["name"] for p in ours["projects"]] == ["wire"]
    assert len(ours["projects"][0]["articles"]) == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wire", "wire-2024-01-02.json"),
        ('evil"\r\nSet-Cookie: x=1', "evil-Set-Cookie-x-1-2024-01-02.json"),
        ("../../etc/passwd", "etc-passwd-2024-01-02.json"),
        ("новости", "project-2024-01-02.json"),
    ],
)
def test_export_filename_is_sanitised(name: str, expected: str) -> None:
    assert export_filename(name, "json", "2024-01-02") == expected
