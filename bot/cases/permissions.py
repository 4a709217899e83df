"""Who may do what (SPEC §5): roles come from the YAML, decisions from this table."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import PermissionDenied
from config.teams import LoopbotConfig, Team


class Action(StrEnum):
    ACK = "acknowledge"
    ASSIGN_SELF = "assign yourself"
    ASSIGN_OTHER = "assign someone else"
    NOTE = "add a note"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CHART = "ask for charts"
    STATS = "ask for stats"


def is_leader(config: LoopbotConfig, user: str) -> bool:
    return user in config.leaders


def is_supervisor(team: Team, user: str) -> bool:
    return user in team.supervisors


def is_member(team: Team, user: str) -> bool:
    # A team that lists no members is open: anyone in its channel works its cases.
    return not team.members or user in team.members or user in team.supervisors


def allowed(config: LoopbotConfig, team: Team, user: str, action: Action) -> bool:
    if action in (Action.ASSIGN_SELF, Action.NOTE):
        return True
    if is_leader(config, user):
        return True
    if action is Action.ACK:
        return is_member(team, user)
    return is_supervisor(team, user)


def require(
    config: LoopbotConfig, team: Team, user: str, action: Action, subject: str = ""
) -> None:
    """Raise PermissionDenied saying who may do it instead."""
    if allowed(config, team, user, action):
        return
    what = f"{action} {subject}".strip()
    supervisors = _mentions(team.supervisors)
    if action is Action.ACK:
        who = f"members of {team.name}, its supervisors ({supervisors}) or leaders"
    elif action is Action.ASSIGN_OTHER:
        who = f"supervisors of {team.name} ({supervisors}) or leaders; you can assign it to yourself with `me`"
    else:
        who = f"supervisors of {team.name} ({supervisors}) or leaders"
    raise PermissionDenied(f"Only {who} can {what}.")


def _mentions(users: list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) if users else "none configured"
