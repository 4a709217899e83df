"""What the case core hands out: plain, frozen records of a case and its events, never ORM entities, so that
renderers and handlers cannot lazy-load or change what they were given."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.cases.timings import Timings
from bot.errors import InvalidInput
from storage.models import Case, CaseEvent

_REF = re.compile(r"^\s*(?:fb-|#)?(\d{1,18})\s*$", re.IGNORECASE)


def parse_ref(text: str) -> int:
    """Accept FB-12, fb-12, #12 and 12 (SPEC §2)."""
    m = _REF.match(text or "")
    if not m:
        raise InvalidInput(f"{text!r} is not a case id; write it like FB-12", field="case")
    return int(m.group(1))


@dataclass(frozen=True)
class CaseRecord:
    id: int
    kind: str  # feedback | threshold
    team: str
    state: str  # open | acknowledged | resolved
    version: int
    severity: str
    opened_at: datetime
    assignee: str | None = None
    feedback_id: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    rule_key: str | None = None
    active_rule: str | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None

    @property
    def ref(self) -> str:
        return f"FB-{self.id}"

    @classmethod
    def of(cls, case: Case) -> CaseRecord:
        return cls(
            id=case.id,
            kind=case.kind,
            team=case.team,
            state=case.state,
            version=case.version,
            severity=case.severity,
            opened_at=case.opened_at,
            assignee=case.assignee,
            feedback_id=case.feedback_id,
            summary=dict(case.summary or {}),
            rule_key=case.rule_key,
            active_rule=case.active_rule,
            slack_channel=case.slack_channel,
            slack_ts=case.slack_ts,
        )


@dataclass(frozen=True)
class EventRecord:
    id: int
    case_id: int
    kind: str
    actor: str
    source: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, event: CaseEvent) -> EventRecord:
        return cls(
            id=event.id,
            case_id=event.case_id,
            kind=event.kind,
            actor=event.actor,
            source=event.source,
            at=event.at,
            details=dict(event.details or {}),
        )


@dataclass(frozen=True)
class CaseDetail:
    case: CaseRecord
    events: list[EventRecord]
    comment: str | None  # None once retention has purged the feedback
    timings: Timings


@dataclass(frozen=True)
class CaseChange:
    """What a lifecycle call did: the case after the change and the event it wrote."""

    case: CaseRecord
    event: EventRecord

    @classmethod
    def of(cls, case: Case, event: CaseEvent) -> CaseChange:
        return cls(CaseRecord.of(case), EventRecord.of(event))


@dataclass(frozen=True)
class NewFeedbackCase:
    feedback_id: int
    team: str
    metric: str
    score: int
    category: str | None
    segment: str | None
    customer: str | None
    submitted_at: datetime


# Told of every committed change: (the change, the state the case was in before it).
Observer = Callable[[CaseChange, str], None]
