"""The database side of delivering the outbox: claiming posts, alert-storm grouping, recording results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.delivery import outbox, parking
from bot.delivery.outbox import Claimed
from storage.models import Case, CorrectiveAction, OutboxMessage

# SPEC §5: more than 10 cases for one team within 5 minutes is a storm; the rest of the burst
# is posted as one grouped message per 5 minutes.
STORM_WINDOW = timedelta(minutes=5)
STORM_SINGLES = 10
# Posts not sent yet and not parked: held back by a parked one when in its scope.
WAITING = ("pending", "sending")
# /healthz reports posts that failed for good within this window as "degraded".
FAILED_SHOWN = timedelta(hours=24)


@dataclass(frozen=True)
class Single:
    """Post this case on its own."""


@dataclass(frozen=True)
class Group:
    """Post the burst as one message now."""


@dataclass(frozen=True)
class Wait:
    """Hold the post until the next grouped message is due."""

    until: datetime


StormPlan = Single | Group | Wait


class Deliveries:
    """Each method is one unit of work, so a Slack call never runs inside a database transaction."""

    def __init__(self, sessions: sessionmaker[Session], reads: sessionmaker[Session] | None = None):
        self.sessions = sessions
        self.reads = reads or sessions  # for the checks that write nothing
        # The lanes of the workers delivering through this (by name): what a missing scope holds back.
        self.lanes: dict[str, outbox.Lane] = {}

    def claim(
        self, now: datetime, limit: int = 50, lane: outbox.Lane | None = None, name: str = ""
    ) -> list[Claimed]:
        """The lane's due posts, but none a parked post holds back (the worker `name`'s lane, a channel, or
        every post), and the oldest parked post of each scope when its retry is due."""
        with self.sessions.begin() as s:
            parked = outbox.parked_rows(s)
            if not parked:
                return outbox.claim_due(s, now, limit, lane=lane)
            scopes = {p.scope for p in parked}
            blocking = scopes & {parking.EVERY_POST, parking.LANE + name}
            probes = _probes(parked, lane, now, only=blocking or None)
            taken = outbox.claim_parked(s, probes, now)
            if blocking:
                return taken
            channels = [
                c for c in scopes if c != parking.EVERY_POST and not c.startswith(parking.LANE)
            ]
            due = outbox.claim_due(s, now, limit, lane=lane, held=channels)
            return sorted(taken + due, key=lambda c: c.id)

    def park(
        self,
        claims: list[Claimed],
        now: datetime,
        error: str,
        scope: str,
        *,
        needed: str | None = None,
        first: timedelta = parking.FIRST_RETRY,
        longest: timedelta = parking.LONGEST_RETRY,
    ) -> datetime:
        """Park the posts until a fix; returns when they are tried again."""
        at = now
        with self.sessions.begin() as s:
            previous = outbox.previous_records(s, [c.id for c in claims])
            for c in claims:
                record = parking.record(previous.get(c.id), scope, now, needed)
                at = now + parking.next_retry(record["tries"], first, longest)
                outbox.park(s, c.id, error, record, at)
        return at

    def repark(self, claim: Claimed, now: datetime) -> None:
        with self.sessions.begin() as s:
            outbox.repark(s, claim.id, now)

    def unpark(self, scope: str, now: datetime) -> int:
        """A post of `scope` got through: the posts parked in it go out now, in order."""
        with self.sessions.begin() as s:
            ids = [p.id for p in outbox.parked_rows(s) if p.scope == scope]
            return outbox.unpark(s, ids, now)

    def wake_parked(self, now: datetime, lane: outbox.Lane | None = None) -> int:
        """Try the parked posts now (at start-up, and `loopbot outbox retry`)."""
        with self.sessions.begin() as s:
            return outbox.wake_parked(s, now, lane)

    def parked(self) -> list[parking.Parked]:
        """What waits on a fix, one entry per scope, longest waiting first."""
        with self.reads.begin() as s:
            rows = outbox.parked_rows(s)
            if not rows:
                return []
            held = dict(
                s.execute(
                    select(OutboxMessage.channel, func.count())
                    .where(OutboxMessage.state.in_(WAITING))
                    .group_by(OutboxMessage.channel)
                )
                .tuples()
                .all()
            )
            by_scope: dict[str, list[outbox.ParkedRow]] = {}
            for r in rows:
                by_scope.setdefault(r.scope, []).append(r)
            behind = {scope: self._behind(s, scope, held) for scope in by_scope}
        found = []
        for scope, parked in by_scope.items():
            oldest = parked[0]  # the one tried again, so its error is the latest word
            found.append(
                parking.Parked(
                    scope=scope,
                    error=oldest.error,
                    posts=len(parked) + behind[scope],
                    since=min(datetime.fromisoformat(p.record["since"]) for p in parked),
                    next_retry=oldest.not_before,
                    needed=oldest.record.get("needed"),
                )
            )
        return sorted(found, key=lambda p: p.since)

    def _behind(self, s: Session, scope: str, held: dict[str | None, int]) -> int:
        """Posts not parked themselves but held back by `scope`."""
        if scope == parking.EVERY_POST:
            return sum(held.values())
        if not scope.startswith(parking.LANE):
            return held.get(scope, 0)
        lane = self.lanes.get(scope.removeprefix(parking.LANE))
        if lane is None:  # another process's worker (check-config): its lane is not known here
            return 0
        return s.scalar(select(func.count()).where(OutboxMessage.state.in_(WAITING), *lane.where()))

    def parked_for(self, key: str) -> tuple[str, str] | None:
        """(Slack's error, scope) when the post `key` is parked: a change to its case waits with it."""
        with self.reads.begin() as s:
            row = s.execute(
                select(OutboxMessage.state, OutboxMessage.last_error, OutboxMessage.result).where(
                    OutboxMessage.key == key
                )
            ).first()
        if row is None or row.state != outbox.PARKED:
            return None
        return row.last_error or "", (row.result or {}).get("parked_in") or parking.EVERY_POST

    def moved(self, channel: str, old_ts: str, new_ts: str) -> None:
        """A case (or action) message deleted in Slack was posted again: update the new one from now on."""
        with self.sessions.begin() as s:
            for table in (Case, CorrectiveAction):
                s.execute(
                    update(table)
                    .where(table.slack_channel == channel, table.slack_ts == old_ts)
                    .values(slack_ts=new_ts)
                    .execution_options(synchronize_session=False)
                )

    def plan(self, claim: Claimed, now: datetime) -> StormPlan:
        """A case post is one of a storm when 10 or more cases of its channel opened in the 5 minutes before it."""
        with self.reads.begin() as s:
            before = s.scalar(
                select(func.count()).where(
                    OutboxMessage.channel == claim.channel,
                    OutboxMessage.kind == outbox.CASE_OPEN,
                    OutboxMessage.created_at >= claim.created_at - STORM_WINDOW,
                    OutboxMessage.id < claim.id,
                )
            )
            if before < STORM_SINGLES:
                return Single()
            last_group = s.scalar(
                select(func.max(OutboxMessage.delivered_at)).where(
                    OutboxMessage.channel == claim.channel, OutboxMessage.state == "grouped"
                )
            )
        if last_group is not None and last_group > now - STORM_WINDOW:
            return Wait(last_group + STORM_WINDOW)
        return Group()

    def claim_burst(self, channel: str, now: datetime) -> list[Claimed]:
        """Every pending case post of the channel, due or held back, claimed for one grouped message."""
        with self.sessions.begin() as s:
            return outbox.claim_waiting(
                s, OutboxMessage.kind == outbox.CASE_OPEN, OutboxMessage.channel == channel, now=now
            )

    def posted(
        self, claims: list[Claimed], channel: str, ts: str, now: datetime, *, grouped: bool = False
    ) -> None:
        """Slack took the case (or action) message(s): remember where, so later changes update it in place."""
        result = {"channel": channel, "ts": ts}
        with self.sessions.begin() as s:
            case_ids = [c.payload["case_id"] for c in claims if c.kind == outbox.CASE_OPEN]
            if case_ids:
                s.execute(
                    update(Case)
                    .where(Case.id.in_(case_ids))
                    .values(slack_channel=channel, slack_ts=ts)
                    .execution_options(synchronize_session=False)
                )
            action_ids = [c.payload["action_id"] for c in claims if c.kind == outbox.ACTION_OPEN]
            if action_ids:
                s.execute(
                    update(CorrectiveAction)
                    .where(CorrectiveAction.id.in_(action_ids))
                    .values(slack_channel=channel, slack_ts=ts)
                    .execution_options(synchronize_session=False)
                )
            outbox.mark_delivered(
                s, [c.id for c in claims], now, result, state="grouped" if grouped else "delivered"
            )

    def done(self, claim: Claimed, now: datetime, result: dict[str, Any] | None = None) -> None:
        with self.sessions.begin() as s:
            outbox.mark_delivered(s, claim.id, now, result)

    def retry(
        self, claims: list[Claimed], at: datetime, error: str | None, *, count_attempt: bool = True
    ) -> None:
        with self.sessions.begin() as s:
            for c in claims:
                outbox.retry_at(s, c.id, at, error, count_attempt=count_attempt)

    def failed(self, claims: list[Claimed], now: datetime, error: str) -> None:
        with self.sessions.begin() as s:
            for c in claims:
                outbox.mark_failed(s, c.id, now, error)

    def open_post_state(self, case_id: int) -> str | None:
        """State of the case's own message post (None when there is none): events wait for it."""
        return self.post_state(f"case:{case_id}:open")

    def earlier_change_waits(self, case_id: int, post_id: int) -> datetime | None:
        """When an earlier change of the case, not in Slack yet, is due again (None if there is none):
        thread lines go out in timeline order, so a change waits behind it. Only posts not yet sent
        are read, through the (state, not_before) index: a handful, however big the outbox."""
        with self.reads.begin() as s:
            return s.scalar(
                select(func.min(OutboxMessage.not_before)).where(
                    OutboxMessage.state.in_((*WAITING, outbox.PARKED)),
                    OutboxMessage.kind == outbox.CASE_EVENT,
                    OutboxMessage.id < post_id,
                    OutboxMessage.payload["case_id"].as_integer() == case_id,
                )
            )

    def post_state(self, key: str) -> str | None:
        with self.reads.begin() as s:
            return s.scalar(select(OutboxMessage.state).where(OutboxMessage.key == key))

    def post_error(self, key: str) -> str | None:
        with self.reads.begin() as s:
            return s.scalar(select(OutboxMessage.last_error).where(OutboxMessage.key == key))

    def message_cases(self, channel: str, ts: str) -> list[int]:
        """Cases shown by one Slack message: one for a case message, several for a grouped one."""
        with self.reads.begin() as s:
            return list(
                s.scalars(
                    select(Case.id)
                    .where(Case.slack_channel == channel, Case.slack_ts == ts)
                    .order_by(Case.id)
                )
            )

    def recently_failed(self, now: datetime | None = None) -> list[tuple[str | None, str, int]]:
        """(channel, Slack's error, posts) of the posts that failed for good within FAILED_SHOWN, latest first."""
        since = (now or utcnow()) - FAILED_SHOWN
        with self.reads.begin() as s:
            return [
                (channel, error, n)
                for channel, error, n in s.execute(
                    select(OutboxMessage.channel, OutboxMessage.last_error, func.count())
                    .where(OutboxMessage.state == "failed", OutboxMessage.delivered_at >= since)
                    .group_by(OutboxMessage.channel, OutboxMessage.last_error)
                    .order_by(func.max(OutboxMessage.delivered_at).desc())
                    .limit(20)
                )
            ]

    def counts(self) -> dict[str, int]:
        with self.reads.begin() as s:
            return outbox.counts(s)


def _probes(
    parked: list[outbox.ParkedRow],
    lane: outbox.Lane | None,
    now: datetime,
    only: set[str] | None = None,
) -> list[outbox.ParkedRow]:
    """The oldest parked post of each scope (of `only`) in the lane, when its retry is due: one call tells
    whether the fix was made, and the rest wait behind it so they keep their order."""
    first: dict[str, outbox.ParkedRow] = {}
    for p in parked:
        if (lane is None or lane.admits(p.kind)) and (only is None or p.scope in only):
            first.setdefault(p.scope, p)
    return [p for p in first.values() if p.not_before <= now]


def parked_at(database_url: str) -> list[parking.Parked] | None:
    """What is parked in the database at `database_url` (check-config); None when it cannot be read (not
    reachable, or not created or migrated yet: then nothing can be parked there)."""
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        url = make_url(database_url)
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite and not Path(url.database or "").is_file():
            return None  # connecting would create an empty file
        args = {} if sqlite else {"connect_timeout": 5}
        engine = create_engine(url, poolclass=NullPool, connect_args=args)
    except (SQLAlchemyError, ValueError, ImportError):
        return None
    try:
        return Deliveries(sessionmaker(engine)).parked()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
