"""The database schema: typed SQLAlchemy 2 models.

Invariants live in the schema wherever a database can hold them: foreign keys,
one annotation per unit and annotator, one gold decision per unit, check
constraints on roles, kinds and provenance, and unique names per project.
Anything a database cannot express (offsets inside the article text, a label
belonging to the unit's project) is checked by the domain modules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "reviewer", "annotator")
UNIT_KINDS = ("sentence", "title", "heading", "caption")
SOURCE_KINDS = (
    "news_agency",
    "person",
    "organization",
    "government",
    "media_outlet",
    "document",
    "anonymous",
)
PROVENANCES = ("unanimous", "adjudicated", "unresolved")
# Why annotators disagreed, as a reviewer judges it when deciding gold.
ERROR_CATEGORIES = ("guideline_gap", "ambiguous_text", "annotator_error", "segmentation_error")
# What changed a gold decision: a reviewer's decision, bulk acceptance of unanimous
# units, clearing it, an import, a segmentation edit (unresolved) or a source merge.
GOLD_ACTIONS = ("decide", "accept_unanimous", "clear", "import", "segmentation", "merge_sources")
SUGGESTION_MODES = ("hidden", "hint", "prefill")

# Column limits shared with the forms and the CLI validators, so a value the
# form accepts always fits the column on every engine.
NAME_MAX = 200
LABEL_NAME_MAX = 64
NOTE_MAX = 5000
URL_MAX = 2000


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (Alembic needs them)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


Timestamp = DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored NFKC-normalised and case-folded by the domain layer, so look-alike
    # names cannot coexist.
    username: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="annotator")
    # Bumped on logout-everywhere and password change: sessions carry it, so
    # old sessions stop working server-side.
    session_generation: Mapped[int] = mapped_column(Integer, default=1)
    # Set for generated one-time passwords: the first login must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(_in("suggestion_mode", SUGGESTION_MODES), name="suggestion_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    suggestion_mode: Mapped[str] = mapped_column(String(16), default="hint")
    # How many annotators each article gets when articles are assigned
    # automatically; None means every member annotates every article.
    annotators_per_article: Mapped[int | None] = mapped_column(Integer)
    # Bulk acceptance of unanimous units needs at least this many annotators
    # agreeing on label and ordered sources. Its range (2..100) is checked by
    # annotator.review: a CHECK here would make SQLite recreate the projects
    # table in the migration, and dropping it would cascade to every article.
    unanimous_min_annotators: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    labels: Mapped[list[Label]] = relationship(
        back_populates="project", order_by="Label.position", cascade="all, delete-orphan"
    )


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        UniqueConstraint("project_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(LABEL_NAME_MAX))
    key: Mapped[str] = mapped_column(String(1))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)

    project: Mapped[Project] = relationship(back_populates="labels")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("project_id", "content_hash"),
        # A project's articles in id order ("the next unfinished article").
        Index("ix_articles_project_id_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(1000), default="")
    byline: Mapped[str | None] = mapped_column(String(1000))
    dateline: Mapped[str | None] = mapped_column(String(200))
    published: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(URL_MAX))
    credits: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the canonical text: a repeated import is detected, not duplicated.
    content_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    project: Mapped[Project] = relationship()


class Unit(Base):
    """A span of an article's canonical text; only ``sentence`` units are annotated."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("article_id", "position"),
        UniqueConstraint("article_id", "index"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        CheckConstraint('start >= 0 AND start < "end"', name="offsets"),
        # Only sentences carry an annotatable index.
        CheckConstraint(
            "(kind = 'sentence') = (\"index\" IS NOT NULL)", name="index_only_for_sentences"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    index: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    # The suggestion made at import time: label, ordered source ids and the cues
    # (kind, text, start, end) that justify it. Kept as JSON because it is a hint
    # read with the unit, never joined on; merging sources rewrites these lists.
    suggested_label: Mapped[str | None] = mapped_column(String(LABEL_NAME_MAX))
    suggested_sources: Mapped[list[int]] = mapped_column(JSON, default=list)
    suggestion_cues: Mapped[list[dict]] = mapped_column(JSON, default=list)


class Source(Base):
    """An entry in a project's source registry (agency, person, organisation …)."""

    __tablename__ = "sources"
    __table_args__ = (
        UniqueConstraint("project_id", "name_key"),
        CheckConstraint(_in("kind", SOURCE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # normalise_name(name): NFKC, no zero-width or bidi characters, case-folded.
    name_key: Mapped[str] = mapped_column(String(NAME_MAX))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    aliases: Mapped[list[SourceAlias]] = relationship(
        back_populates="source", order_by="SourceAlias.id", cascade="all, delete-orphan"
    )


class SourceAlias(Base):
    __tablename__ = "source_aliases"
    # An alias names one source per project; project_id is repeated here so the
    # database can enforce that.
    __table_args__ = (UniqueConstraint("project_id", "alias_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(NAME_MAX))
    alias_key: Mapped[str] = mapped_column(String(NAME_MAX))

    source: Mapped[Source] = relationship(back_populates="aliases")


class Mention(Base):
    """Where a source's name or alias occurs in an article, for highlighting."""

    __tablename__ = "mentions"
    __table_args__ = (
        CheckConstraint('start >= 0 AND start < "end"', name="offsets"),
        Index("ix_mentions_article", "article_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


class ProjectMember(Base):
    """A user who works on a project; admins see every project without one."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class LoginSession(Base):
    """A logged-in browser session; deleting the row ends it on every process."""

    __tablename__ = "login_sessions"

    # SHA-256 of the random token kept in the signed cookie: a database leak
    # does not hand out live sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)


class ApiToken(Base):
    """A personal token for scripts calling the JSON API (``Authorization: Bearer``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class LoginAttempt(Base):
    """A login attempt not proven right: counted by ``login_limits`` per account and address.

    A row is written before the password is checked and deleted when it
    proves right, so every process (and a crash between) counts it as a
    failure until then. Rows older than the limit's window are pruned.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account", "account_key", "at"),
        Index("ix_login_attempts_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the normalised name typed: unknown names are limited like
    # real ones, and a password typed into the name field is never stored.
    account_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Assignment(Base):
    """An article given to an annotator; a project without any is open to all."""

    __tablename__ = "assignments"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Annotation(Base):
    """One annotator's current answer for one unit; ``version`` guards stale saves."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("unit_id", "annotator_id"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("seconds_spent >= 0", name="seconds_spent"),
        Index("ix_annotations_annotator", "annotator_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    seconds_spent: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # Set when a segmentation edit changed the unit's text: the annotation is
    # kept, with the text it was made on, until the annotator looks again.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    previous_text: Mapped[str | None] = mapped_column(Text)

    sources: Mapped[list[AnnotationSource]] = relationship(
        order_by="AnnotationSource.position", cascade="all, delete-orphan"
    )


class AnnotationSource(Base):
    """The ordered sources of an annotation: speaker first, then the relays."""

    __tablename__ = "annotation_sources"
    __table_args__ = (
        UniqueConstraint("annotation_id", "source_id"),
        CheckConstraint("position >= 0", name="position"),
    )

    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="RESTRICT"), index=True
    )


class AnnotationEvent(Base):
    """Append-only history: every version an annotation ever had, with who and when."""

    __tablename__ = "annotation_events"
    __table_args__ = (Index("ix_annotation_events_unit", "unit_id", "annotator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key to annotations: history outlives a deleted annotation.
    annotation_id: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # create, update, delete, import, demo, segmentation, superseded, merge_sources
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(LABEL_NAME_MAX))
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)  # names at the time
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Gold(Base):
    """The reviewed answer for a unit, with who decided it, why, and how."""

    __tablename__ = "gold"
    __table_args__ = (CheckConstraint(_in("provenance", PROVENANCES), name="provenance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id", ondelete="RESTRICT"))
    provenance: Mapped[str] = mapped_column(String(16))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rationale: Mapped[str] = mapped_column(Text, default="")
    error_category: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    sources: Mapped[list[GoldSource]] = relationship(
        order_by="GoldSource.position", cascade="all, delete-orphan"
    )


class GoldSource(Base):
    __tablename__ = "gold_sources"
    __table_args__ = (UniqueConstraint("gold_id", "source_id"),)

    gold_id: Mapped[int] = mapped_column(
        ForeignKey("gold.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="RESTRICT"), index=True
    )


class GoldEvent(Base):
    """Append-only history of gold decisions: the state after every change, with who and when."""

    __tablename__ = "gold_events"
    __table_args__ = (
        CheckConstraint(_in("action", GOLD_ACTIONS), name="action"),
        # NULL (a cleared decision) passes a CHECK, as in every SQL engine.
        CheckConstraint(_in("provenance", PROVENANCES), name="provenance"),
        Index("ix_gold_events_unit", "unit_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # No foreign key to gold: history outlives a cleared decision.
    gold_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))
    label: Mapped[str | None] = mapped_column(String(LABEL_NAME_MAX))
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)  # names at the time
    provenance: Mapped[str | None] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text, default="")
    error_category: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
