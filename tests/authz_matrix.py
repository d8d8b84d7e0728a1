"""The authorization matrix: every endpoint of the app, how to call it in a small world,
and who may call it. Data for ``tests/test_authz_matrix.py``, not a test itself.

The world (built by the test): projects P and Q, each with an article of two
sentences, its annotator's annotation and gold on the first sentence, a source
with an alias and a second source. Users: ``ann_p`` (annotator, member of P),
``ann_q`` (annotator, member of Q only), ``rev`` (reviewer, member of P) and
``admin`` (member of nothing: admins see every project). A case addresses the
objects of P unless its target is Q.

The policy, one ``kind`` per route and method:

- ``public``: anyone, logged in or not;
- ``user``: any logged-in user;
- ``member``: members of the target project and admins; everyone else gets 404,
  exactly as for an object that does not exist (no 403 that confirms it does);
- ``reviewer``: as ``member`` first (404), then 403 unless reviewer or admin;
- ``review-role``: no project in the URL; 403 unless reviewer or admin;
- ``admin``: 403 unless admin.

Anonymous callers get 401 with a JSON body from the API and a 302 to
``/login?next=<the path>`` from pages. A method the route does not accept
answers 405 to everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Target = Literal["P", "Q"]
ROLES = ("anonymous", "ann_p", "ann_q", "rev", "admin")
# Projects each role is a member of; admins see every project without membership.
SEES: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "ann_p": frozenset({"P"}),
    "ann_q": frozenset({"Q"}),
    "rev": frozenset({"P"}),
    "admin": frozenset({"P", "Q"}),
}
REVIEWS = frozenset({"rev", "admin"})
# Extra cases addressing the other project's objects: a reviewer of P on Q.
CROSS_PROJECT_ROLES = ("rev",)
OBJECT_KINDS = frozenset({"member", "reviewer"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN = "login"  # the expected outcome of an anonymous page request


@dataclass(frozen=True)
class Fixture:
    """Ids of one project's objects."""

    project: int
    article: int
    unit: int  # first sentence: the member annotator's annotation and gold
    unit2: int  # second sentence: nobody's annotation yet
    source: int
    source2: int
    alias: int  # an alias of ``source``


class Factory(Protocol):
    """Fresh objects for cases whose allowed request would use an object up."""

    def article(self, target: Target) -> tuple[int, int, int, int]:
        """A new two-sentence article: (article id, first sentence id, its start, its end)."""
        ...

    def source(self, target: Target) -> tuple[int, str]:
        """A new source: (id, name)."""
        ...

    def alias(self, target: Target) -> tuple[int, int]:
        """A new source with one alias: (source id, alias id)."""
        ...

    def user(self, role: str, member_of: Target | None) -> tuple[int, str]:
        """A new account with ``role`` ("annotator", "reviewer", "admin"): (id, name)."""
        ...

    def name(self, prefix: str) -> str:
        """A name used nowhere yet."""
        ...

    def version(self, unit_id: int, user_id: int) -> int:
        """The version of the user's annotation of the unit (0 when there is none)."""
        ...


@dataclass
class World:
    """The objects of P and Q, the users' ids, and a factory of fresh objects."""

    P: Fixture
    Q: Fixture
    users: dict[str, int]
    make: Factory

    def of(self, target: Target) -> Fixture:
        """The fixture of project ``target``."""
        return self.P if target == "P" else self.Q


@dataclass(frozen=True)
class Ctx:
    """One case: who asks, with which method, about which project's objects."""

    world: World
    target: Target
    role: str
    method: str
    # The account the case's client is logged in as (a fresh one for fresh_client).
    username: str | None = None

    @property
    def fx(self) -> Fixture:
        """The target project's objects."""
        return self.world.of(self.target)

    @property
    def user_id(self) -> int:
        """The caller's id (0 for anonymous)."""
        return self.world.users.get(self.role, 0)

    @property
    def writes(self) -> bool:
        """Whether the method changes state."""
        return self.method in STATE_CHANGING


@dataclass(frozen=True)
class Call:
    """What to send: URL values, query string, and a form or a JSON body."""

    values: dict[str, Any]
    query: dict[str, Any] = field(default_factory=dict)
    form: dict[str, Any] | None = None
    json: Any = None


@dataclass(frozen=True)
class Entry:
    """How to call one endpoint, who may, and what success answers."""

    kind: str | dict[str, str]
    build: Callable[[Ctx], Call]
    ok: dict[str, int]
    # A new client (and a new account of the role) per case: for requests that end
    # or replace the session, so the shared per-role client stays logged in.
    fresh_client: bool = False

    def kind_for(self, method: str) -> str:
        """The kind of the route for ``method``."""
        return self.kind if isinstance(self.kind, str) else self.kind[method]

    def has_objects(self) -> bool:
        """Whether some method of the route addresses a project's objects."""
        kinds = {self.kind} if isinstance(self.kind, str) else set(self.kind.values())
        return bool(kinds & OBJECT_KINDS)


def expected(entry: Entry, role: str, method: str, target: Target, api: bool) -> int | str:
    """The status the case must answer (``LOGIN`` for a page's redirect to the login)."""
    if method not in entry.ok:
        return 405
    kind = entry.kind_for(method)
    allowed = entry.ok[method]
    if kind == "public":
        return allowed
    if role == "anonymous":
        return 401 if api else LOGIN
    if kind == "user":
        return allowed
    if kind == "admin":
        return allowed if role == "admin" else 403
    if kind == "review-role":
        return allowed if role in REVIEWS else 403
    if target not in SEES[role]:
        return 404
    if kind == "reviewer" and role not in REVIEWS:
        return 403
    return allowed


# --- builders --------------------------------------------------------------------------


def _none(_ctx: Ctx) -> Call:
    return Call({})


def _project(ctx: Ctx) -> Call:
    return Call({"project_id": ctx.fx.project})


def _project_post(form: Callable[[Ctx], dict[str, Any]]) -> Callable[[Ctx], Call]:
    return lambda ctx: Call({"project_id": ctx.fx.project}, form=form(ctx))


def _article(ctx: Ctx) -> Call:
    return Call({"article_id": ctx.fx.article})


def _unit(ctx: Ctx) -> Call:
    return Call({"unit_id": ctx.fx.unit})


def _source(ctx: Ctx) -> Call:
    return Call({"source_id": ctx.fx.source})


def _index(ctx: Ctx) -> Call:
    if ctx.method == "POST":
        return Call({}, form={"name": ctx.world.make.name("project"), "description": ""})
    return Call({})


def _password(_ctx: Ctx) -> Call:
    from tests.helpers import PASSWORD

    return Call({}, form={"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD})


def _login(ctx: Ctx) -> Call:
    from tests.helpers import PASSWORD

    if ctx.method != "POST":
        return Call({})
    # The fresh client's own account (see Entry.fresh_client); a new one for anonymous.
    name = ctx.username or ctx.world.make.user("annotator", "P")[1]
    return Call({}, form={"username": name, "password": PASSWORD})


def _segment_split(ctx: Ctx) -> Call:
    article, unit, start, end = ctx.world.make.article(ctx.target)
    form = {"offset": 11, "start": start, "end": end}
    return Call({"article_id": article, "unit_id": unit}, form=form)


def _segment_merge(ctx: Ctx) -> Call:
    article, unit, start, end = ctx.world.make.article(ctx.target)
    return Call({"article_id": article, "unit_id": unit}, form={"start": start, "end": end})


def _assignments(ctx: Ctx) -> Call:
    # No annotators: the project has no assignments, so this changes nothing when allowed.
    values = {"project_id": ctx.fx.project, "article_id": ctx.fx.article}
    return Call(values, form={"annotators": []} if ctx.writes else None)


def _import_form(ctx: Ctx) -> dict[str, Any]:
    tag = ctx.world.make.name("import")
    return {"title": f"Imported {tag}", "text": f"The council met on {tag}. It said little."}


def _add_member(ctx: Ctx) -> dict[str, Any]:
    return {"username": ctx.world.make.user("reviewer", None)[1]}


def _remove_member(ctx: Ctx) -> Call:
    user_id, _ = ctx.world.make.user("reviewer", ctx.target)
    return Call({"project_id": ctx.fx.project, "user_id": user_id}, form={})


def _settings(_ctx: Ctx) -> dict[str, Any]:
    # The world's values: an allowed save changes nothing.
    return {"suggestion_mode": "hint", "annotators_per_article": "", "description": ""}


def _registry(ctx: Ctx) -> Call:
    return Call({}, query={"project": ctx.fx.project})


def _fresh_source(form: Callable[[Ctx], dict[str, Any]]) -> Callable[[Ctx], Call]:
    def build(ctx: Ctx) -> Call:
        source_id, _ = ctx.world.make.source(ctx.target)
        return Call({"source_id": source_id}, form=form(ctx))

    return build


def _alias_remove(ctx: Ctx) -> Call:
    source_id, alias_id = ctx.world.make.alias(ctx.target)
    return Call({"source_id": source_id}, form={"alias_id": alias_id})


def _source_merge_page(ctx: Ctx) -> Call:
    source_id, _ = ctx.world.make.source(ctx.target)
    _, into = ctx.world.make.source(ctx.target)
    return Call({"source_id": source_id}, form={"into": into, "confirm": "y"})


def _decide(ctx: Ctx) -> Call:
    form = {"accept": "new", "label": "quote", "sources": "", "rationale": "matrix"}
    return Call({"unit_id": ctx.fx.unit}, form=form if ctx.writes else None)


def _import_json(ctx: Ctx) -> Call:
    tag = ctx.world.make.name("api-import")
    body = {"title": f"API {tag}", "text": f"The mayor spoke on {tag}. Nobody answered."}
    return Call({"project_id": ctx.fx.project}, json=body)


def _add_source(ctx: Ctx) -> Call:
    if not ctx.writes:
        return Call({"project_id": ctx.fx.project})
    name = ctx.world.make.name("Agency")
    return Call({"project_id": ctx.fx.project}, json={"name": name, "kind": "news_agency"})


def _patch_source(ctx: Ctx) -> Call:
    source_id, _ = ctx.world.make.source(ctx.target)
    return Call({"source_id": source_id}, json={"description": "patched by the matrix"})


def _post_alias(ctx: Ctx) -> Call:
    return Call({"source_id": ctx.fx.source2}, json={"alias": ctx.world.make.name("alias")})


def _delete_alias(ctx: Ctx) -> Call:
    source_id, alias_id = ctx.world.make.alias(ctx.target)
    return Call({"source_id": source_id, "alias_id": alias_id})


def _merge_source_api(ctx: Ctx) -> Call:
    source_id, _ = ctx.world.make.source(ctx.target)
    into, _ = ctx.world.make.source(ctx.target)
    return Call({"source_id": source_id}, json={"into": into})


def _put_annotation(ctx: Ctx) -> Call:
    unit = ctx.fx.unit2
    version = ctx.world.make.version(unit, ctx.user_id) if ctx.user_id else 0
    body = {"label": "quote", "sources": [], "note": "", "expected_version": version}
    return Call({"unit_id": unit}, json=body)


def _delete_annotation(ctx: Ctx) -> Call:
    unit = ctx.fx.unit2
    version = ctx.world.make.version(unit, ctx.user_id) if ctx.user_id else 0
    return Call({"unit_id": unit}, query={"expected_version": version})


def _put_gold(ctx: Ctx) -> Call:
    body = {"label": "quote", "sources": [], "rationale": "matrix", "provenance": "adjudicated"}
    return Call({"unit_id": ctx.fx.unit}, json=body)


def _api_split(ctx: Ctx) -> Call:
    _, unit, start, _ = ctx.world.make.article(ctx.target)
    return Call({"unit_id": unit}, json={"at": start + 11})


def _api_merge_next(ctx: Ctx) -> Call:
    _, unit, _, _ = ctx.world.make.article(ctx.target)
    return Call({"unit_id": unit}, json={})


GET = {"GET": 200}
POSTED = {"POST": 302}  # a page's form post redirects on success
PAGE_GET_POST = {"GET": 200, "POST": 302}

# Endpoint name -> entry. A new route without an entry here fails the matrix test.
ENTRIES: dict[str, Entry] = {
    # pages: account and start
    "main.index": Entry({"GET": "user", "POST": "admin"}, _index, PAGE_GET_POST),
    "auth.login": Entry("public", _login, PAGE_GET_POST, fresh_client=True),
    "auth.logout": Entry("public", _none, POSTED, fresh_client=True),
    "auth.password": Entry("user", _password, PAGE_GET_POST, fresh_client=True),
    "guidelines.show": Entry("user", _none, GET),
    # pages: a project
    "guidelines.project": Entry("member", _project, GET),
    "projects.show": Entry("member", _project, GET),
    "annotate.page": Entry("member", _article, GET),
    "projects.manage": Entry("reviewer", _project, GET),
    "projects.import_articles": Entry("reviewer", _project_post(_import_form), POSTED),
    "projects.add_member": Entry("reviewer", _project_post(_add_member), POSTED),
    "projects.remove_member_view": Entry("reviewer", _remove_member, POSTED),
    "projects.settings": Entry("reviewer", _project_post(_settings), POSTED),
    "projects.assign": Entry("reviewer", _project_post(lambda _c: {}), POSTED),
    "projects.article_assignments": Entry("reviewer", _assignments, PAGE_GET_POST),
    "projects.export": Entry(
        "reviewer", lambda c: Call({"project_id": c.fx.project, "fmt": "json"}), GET
    ),
    "agreement.dashboard": Entry("reviewer", _project, GET),
    # pages: review
    "review.index": Entry("review-role", _none, GET),
    "review.queue": Entry("reviewer", _project, GET),
    "review.accept_all_unanimous": Entry("reviewer", _project_post(lambda _c: {}), POSTED),
    "review.change_threshold": Entry(
        "reviewer", _project_post(lambda _c: {"threshold": 2}), POSTED
    ),
    "review.unit": Entry("reviewer", _unit, GET),
    "review.decide_unit": Entry("reviewer", _decide, POSTED),
    "review.clear_unit": Entry("reviewer", lambda c: Call({"unit_id": c.fx.unit}, form={}), POSTED),
    "review.next_unit": Entry("reviewer", _unit, {"GET": 302}),
    "review.previous_unit": Entry("reviewer", _unit, {"GET": 302}),
    # pages: history (audit)
    "audit.project": Entry("reviewer", _project, GET),
    "audit.unit": Entry("reviewer", _unit, GET),
    # pages: segmentation
    "segmentation.edit": Entry("reviewer", _article, GET),
    "segmentation.split": Entry("reviewer", _segment_split, POSTED),
    "segmentation.merge": Entry("reviewer", _segment_merge, POSTED),
    # pages: the source registry
    "sources.registry": Entry("reviewer", _registry, GET),
    "sources.detail": Entry("reviewer", _source, GET),
    "sources.rename": Entry(
        "reviewer", _fresh_source(lambda c: {"name": c.world.make.name("Renamed")}), POSTED
    ),
    "sources.details": Entry(
        "reviewer", _fresh_source(lambda _c: {"kind": "person", "description": "d"}), POSTED
    ),
    "sources.alias_add": Entry(
        "reviewer",
        lambda c: Call({"source_id": c.fx.source2}, form={"alias": c.world.make.name("aka")}),
        POSTED,
    ),
    "sources.alias_remove": Entry("reviewer", _alias_remove, POSTED),
    "sources.merge": Entry("reviewer", _source_merge_page, POSTED),
    # API: account
    "api.openapi_json": Entry("public", _none, GET),
    "api.me": Entry("user", _none, GET),
    "api.csrf_token": Entry("user", _none, GET),
    "api.list_projects": Entry("user", _none, GET),
    # API: a project
    "api.get_project": Entry("member", _project, GET),
    "api.get_article": Entry("member", _article, GET),
    "api.list_sources": Entry("member", _project, GET),
    "api.add_source": Entry("member", _add_source, {"POST": 201}),
    "api.put_annotation": Entry("member", _put_annotation, {"PUT": 200}),
    "api.delete_annotation": Entry("member", _delete_annotation, {"DELETE": 200}),
    "api.import_article": Entry("reviewer", _import_json, {"POST": 201}),
    "api.export_project": Entry("reviewer", _project, GET),
    "api.get_review_queue": Entry("reviewer", _project, GET),
    "api.put_gold": Entry("reviewer", _put_gold, {"PUT": 200}),
    "api.get_project_history": Entry("reviewer", _project, GET),
    "api.get_unit_history": Entry("reviewer", _unit, GET),
    "api.split": Entry("reviewer", _api_split, {"POST": 200}),
    "api.merge_next": Entry("reviewer", _api_merge_next, {"POST": 200}),
    "api.patch_source": Entry("reviewer", _patch_source, {"PATCH": 200}),
    "api.post_alias": Entry("reviewer", _post_alias, {"POST": 200}),
    "api.delete_alias": Entry("reviewer", _delete_alias, {"DELETE": 200}),
    "api.merge_source": Entry("reviewer", _merge_source_api, {"POST": 200}),
}
# Served by the web server in production and public by nature.
EXCLUDED = frozenset({"static"})
