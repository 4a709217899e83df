"""Erasure (SPEC §11): a customer's responses deleted and every copy of their identifier and words taken out,
in one unit of work; their cases keep an `[erased]` marker, and their Slack messages are updated to show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.cases import timeline
from bot.clock import utcnow
from bot.errors import InvalidInput
from bot.privacy import audit
from bot.privacy.scrub import ERASED, Needles, scrub_cases, summary_like, sweep
from config.teams import LoopbotConfig
from storage.models import (
    ActionEvent,
    AuditLog,
    Case,
    CaseEvent,
    CorrectiveAction,
    Feedback,
    OutboxMessage,
    Silence,
)

# The timeline event an erasure leaves on each of the customer's cases: its post updates the case message.
ERASED_EVENT = "erased"
# Staff text outside case timelines that may name a customer: corrective actions and silences.
_STAFF_TEXT = (
    CorrectiveAction.__table__.c.text,
    ActionEvent.__table__.c.details,
    Silence.__table__.c.reason,
)


@dataclass(frozen=True)
class Erased:
    responses: int  # feedback rows deleted
    cases: int  # cases now marked [erased]
    events: int  # timeline lines that quoted the customer, scrubbed
    posts: int  # rendered posts in the outbox that quoted them, scrubbed
    texts: int  # corrective actions, their timelines and silences that named them, scrubbed
    lookups: int  # audit entries of lookups of the customer, now [erased]

    def __str__(self) -> str:
        return (
            f"{self.responses:,} responses deleted; {self.cases:,} cases marked {ERASED}; "
            f"{self.events:,} timeline lines, {self.posts:,} outbox posts and {self.texts:,} other "
            f"texts scrubbed; {self.lookups:,} audit lookups anonymised"
        )


class Erasure:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig):
        self.sessions = sessions
        self.config = config

    def erase(
        self, customer: str, *, actor: str, source: str, now: datetime | None = None
    ) -> Erased:
        """Erase `customer` (the identifier exactly as the survey tool sent it), all or nothing. The audit
        entry it leaves counts what went and never names the customer."""
        customer = customer.strip()
        if not customer:
            raise InvalidInput("Name the customer: --customer ID.", field="customer")
        now = now or utcnow()
        with self.sessions.begin() as s:
            responses = s.execute(
                select(Feedback.id, Feedback.comment).where(Feedback.customer == customer)
            ).all()
            ids = [r.id for r in responses]
            needles = Needles([customer], [r.comment for r in responses])
            cases = _cases(s, customer)
            scrubbed, events = scrub_cases(
                s,
                [(c.id, c.summary, needles) for c in cases],
                marker=ERASED,
                customer=ERASED,
            )
            for i in range(0, len(ids), 1_000):
                s.execute(delete(Feedback).where(Feedback.id.in_(ids[i : i + 1_000])))
            # Quotes in other cases' timelines, rendered posts and other staff text: found wherever they are.
            events += sweep(s, CaseEvent.__table__.c.details, needles, ERASED)
            posts = sweep(s, OutboxMessage.__table__.c.payload, needles, ERASED)
            texts = sum(sweep(s, column, needles, ERASED) for column in _STAFF_TEXT)
            lookups = s.execute(
                update(AuditLog)
                .where(AuditLog.customer == customer)
                .values(customer=ERASED)
                .execution_options(synchronize_session=False)
            ).rowcount
            for case in cases:
                # Posted like any case change: the message is updated in place (no comment, the marker
                # instead) and the thread says when. A team gone from the YAML: where the message is.
                team = self.config.teams.get(case.team)
                channel = team.channel if team is not None else case.slack_channel
                timeline.record(s, channel, case, ERASED_EVENT, actor, source, now, {})
            erased = Erased(len(ids), scrubbed, events, posts, texts, lookups)
            audit.record(s, actor=actor, kind=audit.ERASE, now=now, detail=str(erased))
        return erased


def _cases(s: Session, customer: str) -> list[Case]:
    """The customer's cases: by the column opening copies the customer into, or by the summary (cases opened
    before the column existed). A case's response has the case's customer, so its own cases are all here."""
    found = s.scalars(
        select(Case)
        .where(
            or_(
                Case.customer == customer,
                cast(Case.summary, Text).like(summary_like("customer", customer), escape="!"),
            )
        )
        .order_by(Case.id)
    ).all()
    return [
        c for c in found if c.customer == customer or (c.summary or {}).get("customer") == customer
    ]
