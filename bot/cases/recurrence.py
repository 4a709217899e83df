"""Systemic causes (SPEC §8): the case a cause gets in the leaders' channel when it is resolved again and
again with no corrective action, and its end when one is planned; inside the caller's unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, distinct, exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases import timeline
from bot.cases.opening import open_systemic_case
from config.fields import fmt_duration
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent, CorrectiveAction


def systemic_key(team: str, cause: str) -> str:
    return f"systemic:{team}:{cause}"


def resolutions(s: Session, team: str, cause: str, since: datetime) -> list[int]:
    """Cases of `team` whose resolution since `since` named `cause`, duplicates left out (SPEC §8)."""
    details = CaseEvent.details
    query = (
        select(distinct(CaseEvent.case_id))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.kind == "resolved",
            CaseEvent.at >= since,
            Case.team == team,
            Case.kind != "systemic",
            details["root_cause"].as_string() == cause,
            or_(
                details["outcome"].as_string().is_(None),
                details["outcome"].as_string() != "duplicate",
            ),
        )
        .order_by(CaseEvent.case_id)
    )
    return list(s.scalars(query))


def check_systemic(
    s: Session, config: LoopbotConfig, team: Team, cause: str, *, source: str, now: datetime
) -> Case | None:
    """Open the cause's systemic case in the leaders' channel once it was resolved `systemic_after` times in
    the window with no open action for it; the unique active rule opens it once until an action is planned."""
    if cause == "other":  # no category, no owner: nothing one action could address
        return None
    cases = resolutions(s, team.key, cause, now - team.recurrence_window)
    if len(cases) < team.systemic_after:
        return None
    has_action = s.scalar(
        select(
            exists().where(
                and_(
                    CorrectiveAction.team == team.key,
                    CorrectiveAction.cause == cause,
                    CorrectiveAction.state.in_(("planned", "done")),
                )
            )
        )
    )
    if has_action:
        return None
    category = config.categories.get(cause)
    summary = {
        "cause": cause,
        "count": len(cases),
        "window": fmt_duration(team.recurrence_window),
        "cases": [f"FB-{i}" for i in cases[-10:]],
        "owner": category.owner if category else None,
        "team_name": team.name,
    }
    return open_systemic_case(
        s,
        config,
        team=team.key,
        rule_key=systemic_key(team.key, cause),
        summary=summary,
        channel=config.leaders_channel or team.channel,
        source=source,
        now=now,
    )


def close_systemic(
    s: Session,
    config: LoopbotConfig,
    team: Team,
    action: CorrectiveAction,
    *,
    actor: str,
    source: str,
    now: datetime,
) -> Case | None:
    """Planning an action for a cause resolves its open systemic case (the leaders asked for exactly that)."""
    key = systemic_key(team.key, action.cause)
    case = s.scalars(select(Case).where(Case.active_rule == key)).one_or_none()
    if case is None:
        return None
    won = s.execute(
        update(Case)
        .where(Case.id == case.id, Case.active_rule == key, Case.version == case.version)
        .values(active_rule=None, state="resolved", version=case.version + 1, action_id=action.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        return None
    for name, value in {
        "active_rule": None,
        "state": "resolved",
        "version": case.version + 1,
        "action_id": action.id,
    }.items():
        set_committed_value(case, name, value)
    details = {
        "outcome": "fixed",
        "root_cause": action.cause,
        "domain": action.domain,
        "action": f"Corrective action CA-{action.id} planned: {action.text}",
        "corrective": f"CA-{action.id}",
    }
    timeline.record(s, case.slack_channel, case, "resolved", actor, source, now, details)
    return case
