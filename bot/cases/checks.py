"""What a person asks of a case, checked against the case as loaded: state and permission, plain functions.

Each returns the columns the change sets, completes the event's details, or raises what to tell the person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.permissions import Action, require
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition, NotFound
from bot.feedback.pii import mask
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent

OUTCOMES = ("fixed", "workaround", "no_action", "duplicate")
MAX_TEXT = 3_000  # Slack shows a section text of at most 3,000 characters
MAX_WHY = 300  # one "why" is one short line
SYSTEM_ACTOR = "loopbot"
# Events that put a case in its current state (used to say "resolved by … at …").
STATE_EVENTS = {
    "open": ("opened", "reopened"),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
}


def acknowledge(
    s: Session, case: Case, team: Team, config: LoopbotConfig, actor: str
) -> dict[str, Any]:
    require(config, team, actor, Action.ACK, case.ref)
    if case.state == "acknowledged":
        raise already(s, case, team, "acknowledged")
    if case.state == "resolved":
        raise not_in(s, case, team, "acknowledge it", hint="reopen it first")
    return {"state": "acknowledged"}


def assign(
    s: Session,
    case: Case,
    team: Team,
    config: LoopbotConfig,
    actor: str,
    assignee: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    require(
        config,
        team,
        actor,
        Action.ASSIGN_SELF if assignee == actor else Action.ASSIGN_OTHER,
        case.ref,
    )
    if case.state == "resolved":
        raise not_in(s, case, team, "assign it", hint="reopen it first")
    if case.assignee == assignee:
        raise AlreadyDone(f"{case.ref} is already assigned to {{user}}.", user=assignee)
    details["previous"] = case.assignee
    return {"assignee": assignee}


def resolve(
    s: Session,
    case: Case,
    team: Team,
    config: LoopbotConfig,
    actor: str,
    *,
    outcome: str,
    root_cause: str,
    action: str,
    rationale: str | None,
    whys: list[str],
    details: dict[str, Any],
) -> dict[str, Any]:
    require(config, team, actor, Action.RESOLVE, case.ref)
    if case.state == "resolved":
        raise already(s, case, team, "resolved")
    causes = (*config.categories, "other")
    if outcome not in OUTCOMES:
        raise InvalidInput(
            f"Outcome {outcome!r} is not one of {', '.join(OUTCOMES)}.", field="outcome"
        )
    if root_cause not in causes:
        raise InvalidInput(
            f"Root cause {root_cause!r} is not one of {', '.join(causes)}.", field="root_cause"
        )
    category = config.categories.get(root_cause)
    details["domain"] = category.domain if category is not None else "other"
    details["action"] = required_text(action, "action", "Say what was done for the customer.")
    if outcome == "no_action":
        details["rationale"] = required_text(
            rationale, "rationale", "Outcome no_action needs a rationale: why is nothing done?"
        )
    elif rationale and rationale.strip():
        # Kept for every outcome (SPEC §8): why this outcome is the right one is worth reading later too.
        details["rationale"] = required_text(rationale, "rationale", "")
    if whys:
        details["whys"] = [required_text(w, "whys", "")[:MAX_WHY] for w in whys]
    return {"state": "resolved"}


def reopen(
    s: Session,
    case: Case,
    team: Team,
    config: LoopbotConfig,
    actor: str,
    reason: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    require(config, team, actor, Action.REOPEN, case.ref)
    if case.state != "resolved":
        raise not_in(s, case, team, "reopen it", hint="only resolved cases can be reopened")
    details["reason"] = required_text(
        reason, "reason", "Say why the case is reopened, e.g. `reopen FB-12 customer wrote again`."
    )
    return {"state": "open"}


# -- what to tell the person -------------------------------------------------------------------------


def team_of(config: LoopbotConfig, key: str) -> Team:
    team = config.teams.get(key)
    if team is None:
        # The case belongs to a team since removed from the YAML: say so rather than crash.
        raise NotFound(
            f"Team {key!r} is no longer configured; add it back to the YAML to work its cases."
        )
    return team


def no_case(case_id: int) -> NotFound:
    return NotFound(f"There is no case FB-{case_id}. `list` shows the open ones.", field="case")


def last_event(s: Session, case: Case, kinds: tuple[str, ...]) -> CaseEvent | None:
    return s.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(kinds))
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )


def already(s: Session, case: Case, team: Team, state: str) -> AlreadyDone:
    last = last_event(s, case, STATE_EVENTS[state])
    if last is None:
        return AlreadyDone(f"{case.ref} is already {state}.")
    return AlreadyDone(
        f"{case.ref} was already {state} by {{user}} at {{at}}.",
        user=last.actor,
        at=last.at,
        tz=team.tz,
    )


def not_in(s: Session, case: Case, team: Team, doing: str, hint: str) -> InvalidTransition:
    last = last_event(s, case, STATE_EVENTS[case.state])
    by = " (by {user} at {at})" if last else ""
    return InvalidTransition(
        f"{case.ref} is {case.state}{by}, so you cannot {doing}; {hint}.", **_by(last, team)
    )


def lost_race(s: Session, case: Case, team: Team, kind: str) -> InvalidTransition:
    """Someone changed the case between our read and our UPDATE: say who, and what it is now."""
    s.refresh(case)
    state = {"acknowledged": "acknowledged", "resolved": "resolved", "reopened": "open"}.get(kind)
    if state is not None and case.state == state:
        return already(s, case, team, state)
    last = last_event(s, case, ("acknowledged", "resolved", "reopened", "assigned"))
    by = " by {user} at {at}" if last else ""
    return InvalidTransition(
        f"{case.ref} was just changed{by} (it is now {case.state}); look at it again and retry.",
        **_by(last, team),
    )


def _by(event: CaseEvent | None, team: Team) -> dict[str, Any]:
    return {} if event is None else {"user": event.actor, "at": event.at, "tz": team.tz}


def required_text(value: str | None, field: str, hint: str) -> str:
    """Text staff wrote (a note, an action, a rationale, a why, a reason…), as it is stored and shown:
    required, not too long for Slack, and PII-masked like comments (SPEC §11), since people quote
    customers. Every piece of staff text of cases, corrective actions and silences comes through here."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(hint, field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"The {field} is {len(text)} characters long; keep it under {MAX_TEXT}.", field=field
        )
    return mask(text)
