"""Retention (SPEC §6, §11): past retention_days a response is deleted and every copy of its customer's
identifier and words goes with it (bot.privacy.scrub); cases keep their metrics, times, states and what staff
wrote. Also forgets old delivered posts and claims. The daily job and `loopbot purge` both run `purge`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.checks import SYSTEM_ACTOR
from bot.delivery import claims
from bot.delivery.outbox import POST
from bot.privacy import audit
from bot.privacy.scrub import REMOVED, Needles, scrub_cases
from config.teams import LoopbotConfig
from storage.models import AuditLog, Case, Feedback, OutboxMessage

# Delivered posts are kept this long (for /metrics, /healthz and looking back at what was sent).
KEEP_POSTS = timedelta(days=30)
BATCH = 5_000
# A summary that still names a customer, as json.dumps writes it (a repeat's "customer" is a list of refs).
_NAMES_CUSTOMER = '%"customer": "%'


@dataclass(frozen=True)
class Purged:
    feedback: int
    posts: int
    claims: int
    cases: int = 0  # cases whose customer identifier went
    events: int = 0  # timeline lines whose quotes of a customer went
    lookups: int = 0  # audit entries of lookups whose customer went

    def __str__(self) -> str:
        return (
            f"{self.feedback:,} feedback rows deleted; customer data removed from {self.cases:,} "
            f"cases, {self.events:,} timeline lines and {self.lookups:,} audit lookups; "
            f"{self.posts:,} delivered posts, {self.claims:,} old claims deleted"
        )


class Retention:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, batch: int = BATCH):
        self.sessions = sessions
        self.config = config
        self.batch = batch

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.config.retention_days)

    def purge(self, now: datetime, actor: str = SYSTEM_ACTOR) -> Purged:
        """Delete and scrub in batches, each its own transaction, so ingestion and clicks never wait long
        for the lock. A case whose response goes loses its customer in the same batch: the foreign key sets
        its feedback_id NULL, and after that nothing would say whose it was."""
        cutoff = self.cutoff(now)
        feedback = cases = events = 0
        while True:
            with self.sessions.begin() as s:
                n, c, e = self._responses(s, cutoff)
            feedback, cases, events = feedback + n, cases + c, events + e
            if n < self.batch:
                break
        # Cases whose response went before retention took copies too (or by any other way).
        c, e = self._orphans()
        cases, events = cases + c, events + e
        posts = self._in_batches(lambda s: _old_posts(s, cutoff, now - KEEP_POSTS, self.batch))
        with self.sessions.begin() as s:
            lookups = s.execute(
                update(AuditLog)
                .where(AuditLog.at < cutoff, AuditLog.customer.is_not(None))
                .values(customer=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            old_claims = claims.prune(s, now - claims.KEEP)
            purged = Purged(feedback, posts, old_claims, cases, events, lookups)
            # Every run asked for by a person; the daily job's only when it removed customer data.
            if actor != SYSTEM_ACTOR or feedback or cases or events or lookups:
                audit.record(s, actor=actor, kind=audit.PURGE, now=now, detail=str(purged))
        return purged

    def _responses(self, s: Session, cutoff: datetime) -> tuple[int, int, int]:
        """One batch of responses past the cutoff: their cases scrubbed, then the rows deleted."""
        rows = s.execute(
            select(Feedback.id, Feedback.customer, Feedback.comment)
            .where(Feedback.submitted_at < cutoff)
            .limit(self.batch)
        ).all()
        if not rows:
            return 0, 0, 0
        by_id = {r.id: r for r in rows}
        ids = list(by_id)
        found = []
        for i in range(0, len(ids), 1_000):
            found += s.execute(
                select(Case.id, Case.summary, Case.feedback_id).where(
                    Case.feedback_id.in_(ids[i : i + 1_000])
                )
            ).all()
        copies = [
            (
                c.id,
                c.summary,
                Needles([by_id[c.feedback_id].customer], [by_id[c.feedback_id].comment]),
            )
            for c in found
        ]
        cases, events = scrub_cases(s, copies, marker=REMOVED, customer=None)
        for i in range(0, len(ids), 1_000):
            s.execute(
                delete(Feedback)
                .where(Feedback.id.in_(ids[i : i + 1_000]))
                .execution_options(synchronize_session=False)
            )
        return len(ids), cases, events

    def _orphans(self) -> tuple[int, int]:
        """Feedback cases without their response that still name its customer, a batch at a time (by id,
        so a row Python finds nothing to change in is passed, not read again)."""
        after, cases, events = 0, 0, 0
        while True:
            with self.sessions.begin() as s:
                found = s.execute(
                    select(Case.id, Case.summary, Case.customer)
                    .where(
                        Case.id > after,
                        Case.kind == "feedback",
                        Case.feedback_id.is_(None),
                        or_(
                            Case.customer.is_not(None),
                            cast(Case.summary, Text).like(_NAMES_CUSTOMER),
                        ),
                    )
                    .order_by(Case.id)
                    .limit(self.batch)
                ).all()
                copies = [
                    (c.id, c.summary, Needles([c.customer, (c.summary or {}).get("customer")]))
                    for c in found
                    if c.customer or (c.summary or {}).get("customer")
                ]
                c, e = scrub_cases(s, copies, marker=REMOVED, customer=None)
            cases, events = cases + c, events + e
            if len(found) < self.batch:
                return cases, events
            after = found[-1].id

    def _in_batches(self, step: Callable[[Session], int]) -> int:
        total = 0
        while True:
            with self.sessions.begin() as s:
                n = step(s)
            total += n
            if n < self.batch:
                return total


def _old_posts(s: Session, cutoff: datetime, delivered_before: datetime, limit: int) -> int:
    """Posts delivered (or given up) long ago, and posts rendered when queued (kind "post": they may quote
    a customer) from before the cutoff, whatever their state but being sent."""
    done = or_(
        (OutboxMessage.state.in_(("delivered", "grouped", "failed")))
        & (OutboxMessage.delivered_at < delivered_before),
        (OutboxMessage.kind == POST)
        & (OutboxMessage.created_at < cutoff)
        & (OutboxMessage.state != "sending"),
    )
    oldest = select(OutboxMessage.id).where(done).limit(limit)
    return s.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    ).rowcount
