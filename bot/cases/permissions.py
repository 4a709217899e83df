"""Who may do what (SPEC §5): roles come from the YAML, decisions from this table."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.errors import NotFound, PermissionDenied
from config.teams import LoopbotConfig, Team


class Action(StrEnum):
    ACK = "acknowledge"
    ASSIGN_SELF = "assign yourself"
    ASSIGN_OTHER = "assign someone else"
    NOTE = "add a note"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    PLAN = "plan corrective actions for"
    DONE = "mark done"
    DROP = "drop"
    REOPEN_ACTION = "reopen"
    CHART = "ask for charts"
    STATS = "ask for stats"
    SEE = "see"


def is_leader(config: LoopbotConfig, user: str) -> bool:
    return user in config.leaders


def is_supervisor(team: Team, user: str) -> bool:
    return user in team.supervisors


def is_member(team: Team, user: str) -> bool:
    # A team that lists no members is open: anyone in its channel works its cases. Not a private team:
    # without a member list, only its supervisors (and leaders) see its cases.
    if not team.members and team.privacy == "open":
        return True
    return user in team.members or user in team.supervisors


def may_see(config: LoopbotConfig, team: Team, user: str) -> bool:
    """`privacy: team` (SPEC §11) keeps a team's cases to its members, supervisors and leaders."""
    return team.privacy == "open" or is_leader(config, user) or is_member(team, user)


def visible(config: LoopbotConfig, teams: Iterable[Team], user: str) -> list[Team]:
    """The teams of `teams` whose cases `user` may see: what cross-team listings cover."""
    return [team for team in teams if may_see(config, team, user)]


# What anyone may do to an open team's case, and only those who may see it to a private team's.
_SEEING = (Action.SEE, Action.ASSIGN_SELF, Action.NOTE)


def allowed(config: LoopbotConfig, team: Team, user: str, action: Action) -> bool:
    if action in _SEEING:
        return may_see(config, team, user)
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
    if action in _SEEING:
        raise private(team, subject)
    what = f"{action} {subject}".strip()
    supervisors = "{users}"
    if action is Action.ACK:
        who = f"members of {team.name}, its supervisors ({supervisors}) or leaders"
    elif action is Action.DONE:
        who = f"its owner, supervisors of {team.name} ({supervisors}) or leaders"
    elif action is Action.ASSIGN_OTHER:
        who = f"supervisors of {team.name} ({supervisors}) or leaders; you can assign it to yourself with `me`"
    else:
        who = f"supervisors of {team.name} ({supervisors}) or leaders"
    raise PermissionDenied(f"Only {who} can {what}.", users=team.supervisors)


def private(team: Team, subject: str = "") -> PermissionDenied:
    """The refusal for a private team's cases: whose they are and whom to ask, nothing of the cases."""
    whose = (
        f"{subject} belongs to {team.name}, whose cases are"
        if subject
        else (f"The cases of {team.name} are")
    )
    return PermissionDenied(
        f"{whose} private to its members, supervisors and leaders. Ask a supervisor of "
        f"{team.name} ({{users}}) to add you to its members if you need to see them.",
        users=team.supervisors,
    )


def named_team(config: LoopbotConfig, key: str) -> Team:
    """The team a person named, or the error that lists the teams there are."""
    team = config.teams.get(key)
    if team is None:
        known = ", ".join(f"`{k}`" for k in config.teams)
        raise NotFound(f"There is no team `{key}`. Teams: {known}.", field="team")
    return team


def report_scope(
    config: LoopbotConfig, user: str, action: Action, team: str | None, *, all_teams: bool = False
) -> tuple[list[Team], bool]:
    """The teams a stats or chart request covers, and whether it is all of them: a named team (or the
    channel's) needs its supervisors or a leader; all teams are for leaders; with neither, a supervisor
    gets the teams they supervise."""
    if team is not None and not all_teams:
        named = named_team(config, team)
        require(config, named, user, action)
        return [named], False
    if is_leader(config, user):
        return list(config.teams.values()), True
    mine = [t for t in config.teams.values() if is_supervisor(t, user)]
    if not all_teams and mine:
        return mine, len(mine) > 1
    if mine:
        raise PermissionDenied(
            f"Only leaders can {action} for all teams; ask for one of yours: "
            f"{', '.join(f'`{t.key}`' for t in mine)}."
        )
    raise PermissionDenied(f"Only supervisors (for their own team) and leaders can {action}.")
