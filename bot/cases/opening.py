"""Opening cases, inside the caller's unit of work: one per negative response (ingestion) or per rule breach
(threshold rules), each with its `opened` event and its post to the team's channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import scores
from bot.cases.checks import SYSTEM_ACTOR, team_of
from bot.cases.model import NewFeedbackCase
from bot.cases.repeats import note_repeats
from bot.delivery.outbox import enqueue_many
from config.fields import segment_key
from config.teams import LoopbotConfig
from storage.models import Case, CaseEvent


def open_feedback_cases(
    s: Session, config: LoopbotConfig, new: Sequence[NewFeedbackCase], source: str, now: datetime
) -> list[Case]:
    """Open one case per negative response, inside the caller's ingestion transaction; each notes its
    repeats (bot.cases.repeats)."""
    cases = _open(
        s,
        config,
        [
            Case(
                kind="feedback",
                team=n.team,
                state="open",
                version=1,
                severity=scores.severity(n.metric, n.score),
                opened_at=now,
                feedback_id=n.feedback_id,
                customer=n.customer,
                category=n.category,
                segment=segment_key(n.segment),
                summary={
                    "metric": n.metric,
                    "score": n.score,
                    "category": n.category,
                    "segment": n.segment,
                    "customer": n.customer,
                    "submitted_at": n.submitted_at.isoformat(),
                },
            )
            for n in new
        ],
        source,
        now,
    )
    note_repeats(s, config, cases, now)
    return cases


def open_threshold_case(
    s: Session,
    config: LoopbotConfig,
    *,
    team: str,
    rule_key: str,
    severity: str,
    summary: dict[str, Any],
    source: str,
    now: datetime,
) -> Case | None:
    """Open the case of a rule's breach inside the caller's unit of work; None when the breach has its case
    already. The unique `active_rule` decides, so of two evaluations at once (replicas) only one opens it."""
    case = Case(
        kind="threshold",
        team=team,
        state="open",
        version=1,
        severity=severity,
        opened_at=now,
        summary=summary,
        rule_key=rule_key,
        active_rule=rule_key,
    )
    try:
        # A savepoint: PostgreSQL aborts the whole transaction on an error; this keeps the rest of the unit.
        with s.begin_nested():
            _open(s, config, [case], source, now)
    except IntegrityError:
        return None
    return case


def open_systemic_case(
    s: Session,
    config: LoopbotConfig,
    *,
    team: str,
    rule_key: str,
    summary: dict[str, Any],
    channel: str,
    source: str,
    now: datetime,
) -> Case | None:
    """Open a cause's systemic case, posted to `channel` (the leaders'); None when it has one already."""
    case = Case(
        kind="systemic",
        team=team,
        state="open",
        version=1,
        severity="high",
        opened_at=now,
        summary=summary,
        rule_key=rule_key,
        active_rule=rule_key,
        category=summary.get("cause"),
    )
    try:
        with s.begin_nested():
            _open(s, config, [case], source, now, channel=channel)
    except IntegrityError:
        return None
    return case


def _open(
    s: Session,
    config: LoopbotConfig,
    cases: list[Case],
    source: str,
    now: datetime,
    *,
    channel: str | None = None,
) -> list[Case]:
    """The one opening path: the rows, an `opened` event each, and each case's post to its team's channel
    (or to `channel`)."""
    if not cases:
        return []
    channels = {c.team: channel or team_of(config, c.team).channel for c in cases}
    s.add_all(cases)
    s.flush()
    s.execute(
        insert(CaseEvent),
        [
            {
                "case_id": c.id,
                "kind": "opened",
                "actor": SYSTEM_ACTOR,
                "source": source,
                "at": now,
                "details": {},
            }
            for c in cases
        ],
    )
    enqueue_many(
        s,
        [
            {
                "key": f"case:{c.id}:open",
                "kind": "case.open",
                "channel": channels[c.team],
                "payload": {"case_id": c.id},
            }
            for c in cases
        ],
        now,
    )
    return cases
