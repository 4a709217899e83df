"""Opening cases, inside the caller's unit of work: one per negative response (ingestion) or per rule breach
(threshold rules), each with its `opened` event and its post; updated responses carried to their cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import scores
from bot.cases import timeline
from bot.cases.checks import SYSTEM_ACTOR, team_of
from bot.cases.model import NewFeedbackCase
from bot.cases.repeats import note_repeats
from bot.delivery.outbox import enqueue_many
from config.fields import segment_key
from config.teams import LoopbotConfig
from storage.models import Case, CaseEvent

# The event of a response updated after its case opened (SPEC §10); details: {"changes": {field: …}}.
RESPONSE_UPDATED = "response_updated"
# Feedback ids per statement, far below either backend's limit on bound parameters.
_CHUNK = 1_000


@dataclass(frozen=True)
class ChangedResponse:
    """A stored response that a re-send changed: its case, the response as it is now, and what changed
    (field → "added", "changed", "removed", or {"from", "to"} for score, category and segment)."""

    case: Case
    response: NewFeedbackCase
    changes: dict[str, Any]


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


def cases_of_responses(s: Session, feedback_ids: Sequence[int]) -> dict[int, Case]:
    """The cases of these responses, by feedback id (most responses have none)."""
    found: dict[int, Case] = {}
    for i in range(0, len(feedback_ids), _CHUNK):
        chunk = feedback_ids[i : i + _CHUNK]
        for case in s.scalars(select(Case).where(Case.feedback_id.in_(chunk)).order_by(Case.id)):
            found[case.feedback_id] = case
    return found


def follow_responses(
    s: Session,
    config: LoopbotConfig,
    changed: Sequence[ChangedResponse],
    source: str,
    now: datetime,
) -> None:
    """Bring the cases of changed responses up to date inside the caller's unit of work. What the case
    message shows follows the response (score, severity, category, segment, customer); a `response_updated`
    event says what changed and is posted like any case event (the message updated in place, a line in its
    thread). The case's state is the people's: a response no longer negative leaves its case as it was.
    No version bump, so a person changing the case at that moment loses no race over it; and the segment
    its deadlines follow stays the one it opened with."""
    for c in changed:
        case, r = c.case, c.response
        case.summary = {
            **(case.summary or {}),
            "score": r.score,
            "category": r.category,
            "segment": r.segment,
            "customer": r.customer,
        }
        case.severity = scores.severity(r.metric, r.score)
        case.category, case.customer = r.category, r.customer
        # A team removed from the YAML has no channel; the post then goes where the message is.
        team = config.teams.get(case.team)
        channel = team.channel if team is not None else case.slack_channel
        details = {"changes": c.changes}
        timeline.record(s, channel, case, RESPONSE_UPDATED, SYSTEM_ACTOR, source, now, details)


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
