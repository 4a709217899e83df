"""What the corrective-action core hands out (plain frozen records, never ORM rows) and how people write
an action's id, its owner and its dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from storage.models import ActionEvent, CorrectiveAction

STATES = ("planned", "done", "verified", "not_verified", "inconclusive", "dropped")
OPEN_STATES = ("planned", "done")
RESULTS = ("verified", "not_verified", "inconclusive")
MAX_WHYS = 5
_REF = re.compile(r"^\s*(?:ca-)?(\d{1,18})\s*$", re.IGNORECASE)
_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_action_ref(text: str | int) -> int:
    """CA-12, ca-12 and 12."""
    if isinstance(text, int):
        return text
    m = _REF.match(text or "")
    if not m:
        raise InvalidInput(f"{text!r} is not an action id; write it like CA-3.", field="attach")
    return int(m.group(1))


def parse_owner(text: str | None) -> str:
    owner = (text or "").strip()
    if not owner:
        raise InvalidInput("Pick who owns the corrective action.", field="owner")
    if not _USER.fullmatch(owner):
        raise InvalidInput(
            f"{owner!r} is not a Slack user: pick the owner from Slack's @ autocomplete "
            "(or write `me`).",
            field="owner",
        )
    return owner


def parse_when(text: str | None, tz: ZoneInfo, field_name: str) -> datetime:
    """`YYYY-MM-DD` (midnight in the team's zone) or an ISO-8601 timestamp with an offset (SPEC §8)."""
    value = (text or "").strip()
    example = "e.g. 2026-12-31 or 2026-12-31T17:00:00+01:00"
    if not value:
        raise InvalidInput(f"Give the {field_name} date ({example}).", field=field_name)
    try:
        if _DATE.fullmatch(value):
            return datetime.combine(datetime.fromisoformat(value).date(), time(), tz)
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a date: write YYYY-MM-DD ({example}).", field=field_name
        ) from None
    if when.tzinfo is None:
        raise InvalidInput(
            f"{value!r} has no UTC offset: write a date alone or a time with its offset ({example}).",
            field=field_name,
        )
    return when


def why_lines(text: str | list[str] | None) -> list[str]:
    """The 5 whys as lines: one per line of the modal's text, blanks dropped."""
    lines = text if isinstance(text, list) else (text or "").splitlines()
    whys = [line.strip().lstrip("-•*0123456789.) ").strip() for line in lines]
    whys = [w for w in whys if w]
    if len(whys) > MAX_WHYS:
        raise InvalidInput(
            f"Give at most {MAX_WHYS} whys, one per line; there are {len(whys)}.", field="whys"
        )
    return whys


@dataclass(frozen=True)
class NewAction:
    """A corrective action asked for while resolving a case: its text, owner and due date as given."""

    text: str
    owner: str | None
    due: str | None


@dataclass(frozen=True)
class ActionRecord:
    id: int
    team: str
    cause: str
    domain: str
    text: str
    owner: str
    state: str
    version: int
    round: int
    planned_at: datetime
    due_at: datetime
    live_at: datetime | None = None
    metric: str | None = None
    touchpoints: list[str] = field(default_factory=list)
    verification: dict[str, Any] | None = None
    verified_at: datetime | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None

    @property
    def ref(self) -> str:
        return f"CA-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def overdue(self, now: datetime) -> bool:
        return self.state == "planned" and self.due_at < now

    @classmethod
    def of(cls, row: CorrectiveAction) -> ActionRecord:
        return cls(
            id=row.id,
            team=row.team,
            cause=row.cause,
            domain=row.domain,
            text=row.text,
            owner=row.owner,
            state=row.state,
            version=row.version,
            round=row.round,
            planned_at=row.planned_at,
            due_at=row.due_at,
            live_at=row.live_at,
            metric=row.metric,
            touchpoints=list(row.touchpoints or []),
            verification=dict(row.verification) if row.verification else None,
            verified_at=row.verified_at,
            slack_channel=row.slack_channel,
            slack_ts=row.slack_ts,
        )


@dataclass(frozen=True)
class ActionEventRecord:
    id: int
    action_id: int
    kind: str
    actor: str
    source: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, event: ActionEvent) -> ActionEventRecord:
        return cls(
            id=event.id,
            action_id=event.action_id,
            kind=event.kind,
            actor=event.actor,
            source=event.source,
            at=event.at,
            details=dict(event.details or {}),
        )


@dataclass(frozen=True)
class LinkedCase:
    id: int
    state: str

    @property
    def ref(self) -> str:
        return f"FB-{self.id}"


@dataclass(frozen=True)
class ActionDetail:
    action: ActionRecord
    events: list[ActionEventRecord]
    cases: list[LinkedCase]


@dataclass(frozen=True)
class ActionChange:
    """What a call did: the action after the change and the event it wrote."""

    action: ActionRecord
    event: ActionEventRecord
