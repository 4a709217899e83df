"""The durable outbox: posts are enqueued in the transaction of the change they report, then claimed and delivered."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    TextClause,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from bot.delivery import parking
from storage.models import OutboxMessage

# The kinds of post, each delivered by its handler in bot.slack.delivery. A payload is data, rendered when the
# post is delivered (so a renderer changes nothing already queued), except POST's.
CASE_OPEN = "case.open"  # {case_id}: the case's own message
CASE_EVENT = "case.event"  # {case_id, event_id}: the message updated in place, a line in its thread
DIGEST = "digest"  # {team, at}: the team's huddle digest of the period up to `at`
WEEKLY = "weekly"  # {at}: the weekly summary of the 7 days before `at`
ESCALATION = "escalation"  # {case_id, event_id}: the leaders' channel post of an `escalated` event
ACTION_OPEN = "action.open"  # {action_id}: a corrective action's own message
ACTION_EVENT = "action.event"  # {action_id, event_id}: its message updated in place, a thread line
# {action_id, event_id}: an overdue action told to its owner (a DM) or to the leaders' channel
ACTION_ESCALATION = "action.escalation"
SILENCE_START = "silence.start"  # {silence_id}: the team's channel told a silence started
SILENCE_END = "silence.end"  # {silence_id}: ... and that it ended, early or by time
# {text, blocks}: a message rendered when it was enqueued (digests, weekly summaries and leaders' escalation
# posts queued before they had kinds of their own). Charts: bot.charts.request.CHART_KIND.
POST = "post"


def enqueue(
    s: Session,
    *,
    key: str,
    kind: str,
    now: datetime,
    channel: str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add one post unless a post with this key exists already; True when it was added."""
    params = {
        "key": key,
        "kind": kind,
        "channel": channel,
        "payload": payload or {},
        "state": "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }
    return s.execute(_ENQUEUE, params).rowcount == 1


def _enqueue_statement() -> TextClause:
    # Written once as text (SQLite and PostgreSQL spell ON CONFLICT alike): SQLAlchemy cannot cache an
    # on_conflict_do_nothing() insert, and compiling it anew was a visible share of every case change.
    table = OutboxMessage.__table__
    names = ["key", "kind", "channel", "payload", "state", "attempts", "not_before", "created_at"]
    sql = (
        f"INSERT INTO outbox ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        "ON CONFLICT (key) DO NOTHING"
    )
    return text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))


_ENQUEUE = _enqueue_statement()


def enqueue_many(s: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """Bulk form of enqueue for keys known to be new (e.g. cases opened in this very transaction)."""
    if rows:
        s.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": None,
                    "payload": {},
                    **r,
                    "state": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for r in rows
            ],
        )


# -- delivery side -----------------------------------------------------------------------------

# A claimed post is hidden from other workers for this long; a worker that dies mid-post gives it
# back when the lease runs out (so a crash delays a post, never loses it).
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    channel: str | None
    payload: dict[str, Any]
    attempts: int  # including this one
    created_at: datetime
    probe: str | None = None  # a parked post tried again: the parking scope it tries for


# Waiting for a fix a person makes (bot.delivery.parking); retention keeps it, like a pending post.
PARKED = "parked"


@dataclass(frozen=True)
class Lane:
    """Which kinds of post a worker delivers: charts take seconds to draw, so they have a worker of their own
    and never hold up case messages."""

    only: tuple[str, ...] = ()
    excluding: tuple[str, ...] = ()

    def where(self) -> list[ColumnElement[bool]]:
        return ([OutboxMessage.kind.in_(self.only)] if self.only else []) + (
            [OutboxMessage.kind.not_in(self.excluding)] if self.excluding else []
        )

    def admits(self, kind: str) -> bool:
        return (not self.only or kind in self.only) and kind not in self.excluding


def claim_due(
    s: Session,
    now: datetime,
    limit: int = 50,
    lease: timedelta = LEASE,
    lane: Lane | None = None,
    held: Collection[str] = (),
) -> list[Claimed]:
    """Take up to `limit` due posts of the lane, oldest first, but none to the `held` channels (parked); each
    is claimed by a conditional UPDATE so of several workers or replicas exactly one gets it."""
    rows = s.execute(
        select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.not_before)
        .where(
            # "sending" past its lease: the worker that claimed it died before recording a result.
            OutboxMessage.state.in_(("pending", "sending")),
            OutboxMessage.not_before <= now,
            *(lane.where() if lane else ()),
            *(
                [or_(OutboxMessage.channel.is_(None), OutboxMessage.channel.not_in(held))]
                if held
                else []
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    won = [r.id for r in rows if _take(s, r.id, r.state, r.not_before, now + lease)]
    return _claimed(s, won)


def claim_waiting(
    s: Session, *where: ColumnElement[bool], now: datetime, lease: timedelta = LEASE
) -> list[Claimed]:
    """Claim the waiting posts that match `where`, due or not (a grouped post takes its whole burst);
    posts another worker is sending are left alone."""
    rows = s.execute(
        select(OutboxMessage.id, OutboxMessage.not_before)
        .where(OutboxMessage.state == "pending", *where)
        .order_by(OutboxMessage.id)
    ).all()
    return _claimed(s, [r.id for r in rows if _take(s, r.id, "pending", r.not_before, now + lease)])


def _claimed(s: Session, ids: list[int]) -> list[Claimed]:
    if not ids:
        return []
    found = s.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    )
    return [
        Claimed(m.id, m.key, m.kind, m.channel, dict(m.payload or {}), m.attempts, m.created_at)
        for m in found
    ]


def _take(s: Session, msg_id: int, state: str, seen: datetime, until: datetime) -> bool:
    # Conditional on what was read: of two workers taking the same post, one updates a row.
    return (
        s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == msg_id,
                OutboxMessage.state == state,
                OutboxMessage.not_before == seen,
            )
            .values(state="sending", not_before=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def mark_delivered(
    s: Session,
    ids: int | list[int],
    now: datetime,
    result: dict[str, Any] | None = None,
    state: str = "delivered",
) -> None:
    ids = [ids] if isinstance(ids, int) else ids
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(state=state, delivered_at=now, result=result, last_error=None)
        .execution_options(synchronize_session=False)
    )


def retry_at(
    s: Session, msg_id: int, at: datetime, error: str | None, *, count_attempt: bool = True
) -> None:
    """Back to pending until `at`; `count_attempt=False` when it waited on something else, not failed."""
    values: dict[str, Any] = {"state": "pending", "not_before": at, "last_error": error}
    if not count_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_failed(s: Session, msg_id: int, now: datetime, error: str) -> None:
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(state="failed", delivered_at=now, last_error=error)
        .execution_options(synchronize_session=False)
    )


def counts(s: Session) -> dict[str, int]:
    """Posts per state, for /metrics and /healthz."""
    return dict(
        s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
        .tuples()
        .all()
    )


# -- parked posts (bot.delivery.parking) ---------------------------------------------------------


@dataclass(frozen=True)
class ParkedRow:
    id: int
    kind: str
    channel: str | None
    error: str
    record: dict[str, Any]  # parking.record()
    not_before: datetime  # when it is tried again (only the oldest of its scope is)

    @property
    def scope(self) -> str:
        return self.record.get("parked_in") or self.channel or parking.EVERY_POST


def parked_rows(s: Session) -> list[ParkedRow]:
    """Every parked post, oldest first: a handful (one per fix waited for, and the posts that hit the same
    fix before it was known), so each round reads them all on the (state, not_before) index."""
    rows = s.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.channel,
            OutboxMessage.last_error,
            OutboxMessage.result,
            OutboxMessage.not_before,
        )
        .where(OutboxMessage.state == PARKED)
        .order_by(OutboxMessage.id)
    )
    return [
        ParkedRow(r.id, r.kind, r.channel, r.last_error or "", dict(r.result or {}), r.not_before)
        for r in rows
    ]


def claim_parked(
    s: Session, probes: list[ParkedRow], now: datetime, lease: timedelta = LEASE
) -> list[Claimed]:
    """Claim parked posts to try again, each marked with the scope its success reopens."""
    scopes = {p.id: p.scope for p in probes}
    won = [p.id for p in probes if _take(s, p.id, PARKED, p.not_before, now + lease)]
    return [replace(c, probe=scopes[c.id]) for c in _claimed(s, won)]


def park(s: Session, msg_id: int, error: str, record: dict[str, Any], at: datetime) -> None:
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(state=PARKED, not_before=at, last_error=error, result=record)
        .execution_options(synchronize_session=False)
    )


def repark(s: Session, msg_id: int, now: datetime) -> None:
    """A parked post claimed to be tried again, given back untried (the worker stopping)."""
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == msg_id)
        .values(state=PARKED, not_before=now, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def unpark(s: Session, ids: list[int], now: datetime) -> int:
    """Back to pending, due now: claimed in id order, they go out in the order they were queued."""
    if not ids:
        return 0
    return s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == PARKED)
        .values(state="pending", not_before=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def wake_parked(s: Session, now: datetime, lane: Lane | None = None) -> int:
    """Make the parked posts (of the lane) due now: each scope's oldest is tried at the next round."""
    return s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == PARKED, *(lane.where() if lane else ()))
        .values(not_before=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def previous_records(s: Session, ids: list[int]) -> dict[int, dict[str, Any] | None]:
    found = s.execute(
        select(OutboxMessage.id, OutboxMessage.result).where(OutboxMessage.id.in_(ids))
    )
    return {r.id: r.result for r in found}
