"""Who may see a team's cases (SPEC §11): `privacy: team` keeps them to its members, supervisors and leaders;
`open`, the default, leaves SPEC §5 as it was."""

from __future__ import annotations

import copy

import pytest

from bot.cases.permissions import Action, allowed, may_see, private, require, visible
from bot.errors import PermissionDenied
from config.loader import parse_config
from config.teams import LoopbotConfig
from tests.conftest import CONFIG

AGENT, SUPER, OTHER_SUPER, LEADER, STRANGER = (
    "U0AGENT1",
    "U0SUPER1",
    "U0SUPER2",
    "U0LEADER1",
    "U0STRANGER",
)


def config_with(**privacy: str) -> LoopbotConfig:
    data = copy.deepcopy(CONFIG)
    for team, value in privacy.items():
        data["teams"][team]["privacy"] = value
    return parse_config(data, "test")


@pytest.mark.parametrize("user", [AGENT, "U0AGENT2", SUPER, LEADER])
def test_members_supervisors_and_leaders_see_a_private_team(user: str) -> None:
    config = config_with(delivery="team")
    team = config.teams["delivery"]
    assert may_see(config, team, user)
    require(config, team, user, Action.SEE, "FB-1")  # does not raise


@pytest.mark.parametrize("user", [STRANGER, OTHER_SUPER])
def test_anyone_else_is_refused_with_whose_cases_and_whom_to_ask(user: str) -> None:
    config = config_with(delivery="team")
    team = config.teams["delivery"]
    assert not may_see(config, team, user)
    with pytest.raises(PermissionDenied) as refused:
        require(config, team, user, Action.SEE, "FB-7")
    assert refused.value.message == (
        "FB-7 belongs to Delivery Ops, whose cases are private to its members, supervisors and "
        "leaders. Ask a supervisor of Delivery Ops (U0SUPER1) to add you to its members if you "
        "need to see them."
    )
    assert private(team).message.startswith("The cases of Delivery Ops are private to its members")


def test_an_open_team_is_seen_by_anyone_as_before() -> None:
    config = config_with()
    assert config.teams["delivery"].privacy == "open"
    for user in (STRANGER, OTHER_SUPER, AGENT):
        assert may_see(config, config.teams["delivery"], user)
        assert allowed(config, config.teams["delivery"], user, Action.NOTE)
        assert allowed(config, config.teams["delivery"], user, Action.ASSIGN_SELF)


def test_a_private_team_without_members_is_seen_by_its_supervisors_and_leaders_only() -> None:
    # support lists no members: open, anyone acknowledges; private, nobody but its supervisors.
    open_support = config_with().teams["support"]
    assert allowed(config_with(), open_support, STRANGER, Action.ACK)
    config = config_with(support="team")
    team = config.teams["support"]
    assert [
        u for u in (STRANGER, AGENT, SUPER, OTHER_SUPER, LEADER) if may_see(config, team, u)
    ] == [
        OTHER_SUPER,
        LEADER,
    ]
    assert not allowed(config, team, STRANGER, Action.ACK)


def test_writing_into_or_taking_a_private_case_needs_seeing_it() -> None:
    config = config_with(delivery="team")
    team = config.teams["delivery"]
    for action in (Action.NOTE, Action.ASSIGN_SELF):
        assert allowed(config, team, AGENT, action)
        assert not allowed(config, team, STRANGER, action)
        with pytest.raises(PermissionDenied, match="private to its members"):
            require(config, team, STRANGER, action, "FB-2")
    # What only supervisors may do still says so, private team or not.
    with pytest.raises(PermissionDenied, match="Only supervisors of Delivery Ops"):
        require(config, team, STRANGER, Action.RESOLVE, "FB-2")


def test_cross_team_listings_cover_the_teams_one_may_see() -> None:
    config = config_with(delivery="team")
    every = list(config.teams.values())
    assert [t.key for t in visible(config, every, STRANGER)] == ["support"]
    assert [t.key for t in visible(config, every, OTHER_SUPER)] == ["support"]
    assert [t.key for t in visible(config, every, AGENT)] == ["delivery", "support"]
    assert [t.key for t in visible(config, every, LEADER)] == ["delivery", "support"]
    both = config_with(delivery="team", support="team")
    assert visible(both, both.teams.values(), STRANGER) == []
