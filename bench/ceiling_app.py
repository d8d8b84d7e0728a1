"""The stack's ceiling: a bare Flask + SQLAlchemy app doing what our two hot routes do.

    gunicorn -w 2 'bench.ceiling_app:create_app()'   (ANNOTATOR_DATABASE_URL as for the app)

``PUT /api/v1/units/<id>/annotation`` upserts one label (no login, no CSRF, no version
check, no history), ``GET /articles/<id>/annotate`` renders an article's units
with a short Jinja loop. ``bench/annotate.py --target ceiling`` drives it with
the same load client as the real app, so the two rates can be compared on one
machine in one run. It shares no code with the app on purpose.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

metadata = MetaData()
units = Table(
    "ceiling_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
)
labels = Table(
    "ceiling_labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", Integer, nullable=False),
    Column("annotator_id", Integer, nullable=False),
    Column("label", String(40), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("unit_id", "annotator_id"),
)

PAGE = """<!doctype html><html><head><title>Article {{ article_id }}</title></head><body>
<ol>{% for unit in units %}<li id="u{{ unit.id }}">{{ unit.text }}{% if unit.label %}
<b>{{ unit.label }}</b>{% endif %}</li>{% endfor %}</ol></body></html>"""


def make_engine(url: str):
    """An engine configured like the app's defaults (WAL and a busy timeout on SQLite)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute(f"PRAGMA synchronous={os.environ.get('CEILING_SYNCHRONOUS', 'FULL')}")
            cursor.close()

    return engine


def populate(url: str, articles: dict[int, list[str]]) -> dict[int, list[int]]:
    """Create the tables and store the articles' units; returns unit ids per article."""
    engine = make_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    ids: dict[int, list[int]] = {}
    with engine.begin() as connection:
        for article_id, sentences in articles.items():
            for position, sentence in enumerate(sentences):
                row = connection.execute(
                    units.insert().values(article_id=article_id, position=position, text=sentence)
                )
                ids.setdefault(article_id, []).append(row.inserted_primary_key[0])
    engine.dispose()
    return ids


def create_app() -> Flask:
    """The ceiling app on ANNOTATOR_DATABASE_URL."""
    app = Flask(__name__)
    engine = make_engine(os.environ["ANNOTATOR_DATABASE_URL"])
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    template = app.jinja_env.from_string(PAGE)  # compiled once, as Flask does for files

    @app.put("/api/v1/units/<int:unit_id>/annotation")
    def save(unit_id: int):
        payload = request.get_json(silent=True) or {}
        annotator = int(request.headers.get("X-Annotator", "1"))
        statement = insert(labels).values(
            unit_id=unit_id, annotator_id=annotator, label=str(payload.get("label", "")), version=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["unit_id", "annotator_id"],
            set_={"label": statement.excluded.label, "version": labels.c.version + 1},
        ).returning(labels.c.version)
        with Session(engine) as session:
            version = session.execute(statement).scalar_one()
            session.commit()
        return jsonify(annotation={"label": payload.get("label"), "version": version})

    @app.get("/articles/<int:article_id>/annotate")
    def page(article_id: int):
        annotator = int(request.headers.get("X-Annotator", "1"))
        with Session(engine) as session:
            rows = session.execute(
                select(units.c.id, units.c.text, labels.c.label)
                .outerjoin(
                    labels,
                    (labels.c.unit_id == units.c.id) & (labels.c.annotator_id == annotator),
                )
                .where(units.c.article_id == article_id)
                .order_by(units.c.position)
            ).all()
        if not rows:
            abort(404)
        return template.render(article_id=article_id, units=rows)

    return app
