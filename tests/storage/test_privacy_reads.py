"""`privacy: team` on a real database (SPEC §11): a private team's cases are left out of every cross-team
listing (lists, App Home) and of another team's case messages (repeats) for whoever may not see them."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.cases import opening
from bot.cases.model import NewFeedbackCase
from bot.errors import PermissionDenied
from bot.reports.overview import Overview
from config.loader import parse_config
from config.teams import LoopbotConfig
from storage.db import make_read_sessions
from storage.models import Case, Feedback
from tests.conftest import CONFIG

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
AGENT, SUPER, OTHER_SUPER, LEADER, STRANGER = (
    "U0AGENT1",
    "U0SUPER1",
    "U0SUPER2",
    "U0LEADER1",
    "U0STRANGER",
)
_ids = itertools.count(1)


def config_with(**privacy: str) -> LoopbotConfig:
    data = copy.deepcopy(CONFIG)
    for team, value in privacy.items():
        data["teams"][team]["privacy"] = value
    return parse_config(data, "test")


def open_case(sessions, config, team: str, customer: str | None = None) -> Case:  # noqa: ANN001
    with sessions.begin() as s:
        fid = s.execute(
            insert(Feedback).returning(Feedback.id),
            {
                "source": "test", "external_id": f"p-{next(_ids)}", "team": team, "metric": "csat",
                "score": 1, "submitted_at": T0, "received_at": T0, "customer": customer,
            },
        ).scalar_one()  # fmt: skip
        new = NewFeedbackCase(fid, team, "csat", 1, None, None, customer, T0)
        [case] = opening.open_feedback_cases(s, config, [new], "api", T0)
        return case


def refs(listed) -> list[str]:  # noqa: ANN001
    return sorted(row.ref for row in listed)


@pytest.fixture
def private_delivery(sessions) -> tuple[LoopbotConfig, str, str]:  # noqa: ANN001
    config = config_with(delivery="team")
    hidden = open_case(sessions, config, "delivery")
    shown = open_case(sessions, config, "support")
    return config, hidden.ref, shown.ref


def test_lists_leave_a_private_teams_cases_to_those_who_may_see_them(engine, private_delivery):  # noqa: ANN001
    config, hidden, shown = private_delivery
    overview = Overview(make_read_sessions(engine), config)
    for user in (STRANGER, OTHER_SUPER):
        for kind in ("open", "all", "overdue", "mine"):
            listed = overview.list_cases(team=None, filter=kind, user=user)
            assert hidden not in refs(listed.rows)
        assert refs(overview.list_cases(team=None, filter="all", user=user).rows) == [shown]
        assert overview.list_cases(team=None, filter="all", user=user).total == 1
        with pytest.raises(PermissionDenied, match="The cases of Delivery Ops are private"):
            overview.list_cases(team="delivery", filter="open", user=user)
    for user in (AGENT, SUPER, LEADER):
        assert refs(overview.list_cases(team=None, filter="all", user=user).rows) == sorted(
            [hidden, shown]
        )
        assert refs(overview.list_cases(team="delivery", filter="open", user=user).rows) == [hidden]


def test_app_home_shows_a_private_teams_cases_only_to_those_who_may_see_them(
    engine, sessions, private_delivery
):  # noqa: ANN001
    config, hidden, shown = private_delivery
    overview = Overview(make_read_sessions(engine), config)
    # Assigned to a stranger by hand: still not theirs to see while the team is private.
    with sessions.begin() as s:
        s.query(Case).filter(Case.team == "delivery").update({"assignee": STRANGER})
    home = overview.home(STRANGER)
    assert hidden not in refs([*home.assigned, *home.team_open])
    assert [h.team for h in home.headlines] == ["support"]
    member = overview.home(AGENT)
    assert refs(member.team_open) == [hidden] and [h.team for h in member.headlines] == ["delivery"]
    assert hidden in refs(overview.home(LEADER).team_open)


def test_an_open_team_is_listed_for_anyone_as_before(engine, sessions):  # noqa: ANN001
    config = config_with()
    cases = [open_case(sessions, config, team).ref for team in ("delivery", "support")]
    overview = Overview(make_read_sessions(engine), config)
    assert refs(overview.list_cases(team=None, filter="all", user=STRANGER).rows) == sorted(cases)
    assert len(overview.list_cases(team="delivery", filter="open", user=STRANGER).rows) == 1


def test_repeats_name_a_private_teams_cases_only_on_that_teams_own_messages(sessions):  # noqa: ANN001
    config = config_with(delivery="team")
    first = open_case(sessions, config, "delivery", customer="C-9")
    elsewhere = open_case(sessions, config, "support", customer="C-9")
    # Posted in support's channel: nothing of delivery's case, not even that there is one.
    assert "customer" not in elsewhere.summary.get("repeat", {})
    again = open_case(sessions, config, "delivery", customer="C-9")
    assert again.summary["repeat"]["customer"] == [first.ref, elsewhere.ref]
    assert again.summary["repeat"]["customer_count"] == 3
    # Open teams keep naming each other's cases.
    open_config = config_with()
    later = open_case(sessions, open_config, "support", customer="C-9")
    assert later.summary["repeat"]["customer"] == [first.ref, elsewhere.ref, again.ref]
