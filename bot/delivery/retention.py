"""Retention (SPEC §6): feedback past retention_days is deleted; cases keep their timeline, not the verbatim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import claims
from config.teams import LoopbotConfig
from storage.models import Feedback, OutboxMessage

# Delivered posts are kept this long (for /metrics, /healthz and looking back at what was sent).
KEEP_POSTS = timedelta(days=30)
BATCH = 5_000


@dataclass(frozen=True)
class Purged:
    feedback: int
    posts: int
    claims: int

    def __str__(self) -> str:
        return f"{self.feedback:,} feedback rows, {self.posts:,} delivered posts, {self.claims:,} old claims deleted"


class Retention:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, batch: int = BATCH):
        self.sessions = sessions
        self.config = config
        self.batch = batch

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.config.retention_days)

    def purge(self, now: datetime) -> Purged:
        """Delete in batches, each its own transaction, so ingestion and clicks never wait long for the lock.
        A case whose feedback goes keeps its summary and timeline: the foreign key sets feedback_id NULL."""
        cutoff = self.cutoff(now)
        oldest = select(Feedback.id).where(Feedback.submitted_at < cutoff).limit(self.batch)
        feedback = self._in_batches(
            lambda s: (
                s.execute(
                    delete(Feedback)
                    .where(Feedback.id.in_(oldest.scalar_subquery()))
                    .execution_options(synchronize_session=False)
                ).rowcount
            )
        )
        done = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state.in_(("delivered", "grouped", "failed")),
                OutboxMessage.delivered_at < now - KEEP_POSTS,
            )
            .limit(self.batch)
        )
        posts = self._in_batches(
            lambda s: (
                s.execute(
                    delete(OutboxMessage)
                    .where(OutboxMessage.id.in_(done.scalar_subquery()))
                    .execution_options(synchronize_session=False)
                ).rowcount
            )
        )
        with self.sessions.begin() as s:
            old_claims = claims.prune(s, now - claims.KEEP)
        return Purged(feedback, posts, old_claims)

    def _in_batches(self, step) -> int:  # noqa: ANN001 - a callable(Session) -> rows deleted
        total = 0
        while True:
            with self.sessions.begin() as s:
                n = step(s)
            total += n
            if n < self.batch:
                return total
