"""The database side of delivering the outbox: claiming posts, alert-storm grouping, recording results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.delivery import outbox
from bot.delivery.outbox import Claimed
from storage.models import Case, CorrectiveAction, OutboxMessage

# SPEC §5: more than 10 cases for one team within 5 minutes is a storm; the rest of the burst
# is posted as one grouped message per 5 minutes.
STORM_WINDOW = timedelta(minutes=5)
STORM_SINGLES = 10
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

    def claim(
        self, now: datetime, limit: int = 50, lane: outbox.Lane | None = None
    ) -> list[Claimed]:
        with self.sessions.begin() as s:
            return outbox.claim_due(s, now, limit, lane=lane)

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
