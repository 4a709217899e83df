"""SQLAlchemy 2.x models: feedback, cases, corrective actions, silences, their timelines, the outbox, claims."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# SQLite only aliases the rowid for the exact type INTEGER, so BIGINT keys need the variant.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect):  # noqa: ANN001, ANN201
        # On SQLite write the text SQLAlchemy's DATETIME would write, in one C call instead of
        # two Python layers: bulk imports spend a noticeable share of each row here.
        return sqlite_datetime if dialect.name == "sqlite" else super().bind_processor(dialect)

    def result_processor(self, dialect, coltype):  # noqa: ANN001, ANN201
        return (
            _sqlite_result
            if dialect.name == "sqlite"
            else super().result_processor(dialect, coltype)
        )

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        return None if value is None else value.astimezone(UTC)


def sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime given to a UTC column")
    if offset:
        value -= offset
    # Same fixed-width text as SQLAlchemy's SQLite DATETIME, so ordering and date functions work.
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_result(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    # none_as_null: an absent value is SQL NULL, not the JSON text "null" (and costs no encoding).
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(none_as_null=True),
        list[str]: JSON(none_as_null=True),
    }


class Feedback(Base):
    """One survey response, comment already PII-masked."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime]
    received_at: Mapped[datetime]
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    customer: Mapped[str | None] = mapped_column(String(200))
    segment: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str] | None]
    attributes: Mapped[dict[str, Any] | None]

    __table_args__ = (
        # The idempotency key of SPEC §4; also serves the duplicate check.
        UniqueConstraint("source", "external_id"),
        # Per-team, per-metric window aggregates (CSAT/NPS/CES over a window) read only this index.
        Index(None, "team", "metric", "submitted_at", "score"),
        # Complaint counts per category over a window (threshold rules, top categories).
        Index(None, "team", "category", "submitted_at"),
        # The retention purge walks this one.
        Index(None, "submitted_at"),
        # The customer view (SPEC §9): one customer's responses over a year.
        Index(None, "customer", "submitted_at"),
    )


# Written as SQL text, not bound parameters: a partial index serves only queries that repeat its
# WHERE literally (SQLite never matches one against a parameter).
UNRESOLVED = text("state IN ('open', 'acknowledged')")


class Case(Base):
    """A unit of follow-up, shown as FB-<id>. State changes only through bot.cases.lifecycle."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # feedback | threshold | systemic
    team: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # open | acknowledged | resolved
    # Bumped by every change; the conditional UPDATE on it is what makes a double click change a case once.
    version: Mapped[int] = mapped_column(Integer, default=1)
    severity: Mapped[str] = mapped_column(String(8))  # high | medium
    opened_at: Mapped[datetime]
    assignee: Mapped[str | None] = mapped_column(String(64))
    # Retention deletes the feedback; the case keeps its timeline and this summary, not the verbatim.
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), unique=True
    )
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rule_key: Mapped[str | None] = mapped_column(String(200))
    # The rule key while its breach lasts, NULL once it recovered: the unique index lets one replica
    # (or one evaluation) open the breach's case and makes every other attempt fail, not duplicate it.
    active_rule: Mapped[str | None] = mapped_column(String(200))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    # Copied from the feedback when the case opens: recurrence counts a customer's and a category's cases
    # over an index of cases alone (SPEC §8).
    customer: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64))
    # The feedback's segment as SLAs match it (config.fields.segment_key), copied when the case opens: the
    # case's deadlines follow it (SPEC §9). 200: lowercasing may lengthen a 100-character segment.
    segment: Mapped[str | None] = mapped_column(String(200))
    # The corrective action this case's resolution created or attached to. No foreign key: actions are never
    # deleted, and SQLite could add the column only by rebuilding the whole table.
    action_id: Mapped[int | None] = mapped_column(BigId)

    feedback: Mapped[Feedback | None] = relationship(lazy="raise")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        Index(None, "team", "state"),
        Index(None, "team", "opened_at"),
        Index(None, "rule_key", "state"),
        Index("uq_cases_active_rule", "active_rule", unique=True),
        # "mine" lists and App Home: a person's cases.
        Index(None, "assignee", "state"),
        # A change to a grouped message re-renders every case the message shows.
        Index(None, "slack_channel", "slack_ts"),
        Index(None, "customer", "opened_at"),
        Index(None, "category", "team", "opened_at"),
        Index(None, "action_id"),
        # Open lists (`/feedback list`, App Home) read a team's unresolved cases oldest first; among
        # 50k mostly resolved cases the full (team, opened_at) index reads every row to test its state.
        Index(
            "ix_cases_unresolved_team_opened_at",
            "team",
            "opened_at",
            "id",
            sqlite_where=UNRESOLVED,
            postgresql_where=UNRESOLVED,
        ),
    )

    @property
    def ref(self) -> str:
        return f"FB-{self.id}"


class CaseEvent(Base):
    """Append-only timeline: who did what to a case, from where, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events", lazy="raise")

    __table_args__ = (
        Index(None, "case_id", "kind", "at"),
        Index(None, "kind", "at"),
    )


class CorrectiveAction(Base):
    """What changes so a cause does not happen again, shown as CA-<id>; changed only through bot.cases.actions."""

    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(32))  # process | people | technology | other
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))
    # planned | done | verified | not_verified | inconclusive | dropped
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped when a not-verified action is reopened: escalation and verification posts are keyed by round.
    round: Mapped[int] = mapped_column(Integer, default=1)
    planned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    live_at: Mapped[datetime | None]
    # csat | nps | ces when born from a threshold case on that metric: verified on it too.
    metric: Mapped[str | None] = mapped_column(String(8))
    # The touchpoints of its cases, if they had any: the complaint rate is measured through them.
    touchpoints: Mapped[list[str] | None]
    verification: Mapped[dict[str, Any] | None]
    verified_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index(None, "team", "state"),
        Index(None, "state", "live_at"),
        Index(None, "owner", "state"),
        Index(None, "cause", "state"),
    )

    @property
    def ref(self) -> str:
        return f"CA-{self.id}"


class ActionEvent(Base):
    """Append-only timeline of a corrective action, like a case's."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_actions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index(None, "action_id", "id"),)


class Silence(Base):
    """A bounded silence of a team's threshold rules, shown as S-<id>; changed only by bot.alerts.silences."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team: Mapped[str] = mapped_column(String(64))
    # The RULE as typed (lower case): matched against the team's rules when they are evaluated, so a rule
    # added to the YAML during the silence is silenced too.
    pattern: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Set when it ends, early (unsilence: the person) or by time (the system actor, at ends_at).
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_source: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # "team:pattern" until it ends, then NULL: the unique index lets two people silencing the same rules at
    # once start one silence, not two.
    active_key: Mapped[str | None] = mapped_column(String(270))

    __table_args__ = (
        Index("uq_silences_active_key", "active_key", unique=True),
        # A team's active silences at an instant (every rule evaluation) and the expiry scan: both seek
        # `ended_at IS NULL` first, so ended silences piling up over the years are never read.
        Index(None, "team", "ended_at", "ends_at"),
        Index(None, "ended_at", "ends_at"),
    )

    @property
    def ref(self) -> str:
        return f"S-{self.id}"


class SilencedBreach(Base):
    """A breach a silence kept from opening a case: one row per rule and episode within a silence."""

    __tablename__ = "silenced_breaches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    silence_id: Mapped[int] = mapped_column(ForeignKey("silences.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(64))
    rule_key: Mapped[str] = mapped_column(String(200))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    # The latest reading while it lasted.
    value: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    recovered_at: Mapped[datetime | None]
    # "silence_id:rule_key" while the episode lasts, NULL once the rule recovered or the silence ended: each
    # evaluation updates the one open row (ON CONFLICT on this unique key), whichever replica runs it.
    open_key: Mapped[str | None] = mapped_column(String(230))

    __table_args__ = (
        Index("uq_silenced_breaches_open_key", "open_key", unique=True),
        Index(None, "silence_id"),
        # `stats`: a team's breaches recorded in a period.
        Index(None, "team", "first_at"),
    )


class OutboxMessage(Base):
    """Everything the bot will post, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Unique per post (e.g. "case:12:open"): enqueuing twice is a no-op, so delivery is exactly once.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending | sending | delivered | grouped | parked | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index(None, "state", "not_before"),
        # Alert-storm grouping counts a channel's recent case posts.
        Index(None, "channel", "created_at"),
    )


class Claim(Base):
    """One row per scheduled fire; the primary key makes the first replica to insert it the only one."""

    __tablename__ = "claims"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # team key, or "*"
    fire_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(128))


class AuditLog(Base):
    """Who looked at, exported or removed customer data, and when (SPEC §11); read by `loopbot audit`."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "customer"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # a Slack user id, "cli", or "loopbot" (jobs)
    kind: Mapped[str] = mapped_column(String(32))  # one of bot.privacy.audit's kinds
    detail: Mapped[str] = mapped_column(Text)  # never a customer identifier
    customer: Mapped[str | None] = mapped_column(String(200))  # a lookup's; erased or purged later
