"""Core errors name people and times as data; the Slack edge renders mentions and the team's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.cases.checks import SYSTEM_ACTOR
from bot.errors import AlreadyDone, PermissionDenied
from bot.slack.blocks.notice import error_text

AT = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def test_slack_shows_the_person_as_a_mention_and_the_time_in_the_teams_zone() -> None:
    error = AlreadyDone(
        "FB-3 was already acknowledged by {user} at {at}.", user="U0AGENT1", at=AT, tz=NEW_YORK
    )
    assert (
        error_text(error) == "FB-3 was already acknowledged by <@U0AGENT1> at Fri 4 Dec 09:05 EST."
    )
    assert error.message == "FB-3 was already acknowledged by U0AGENT1 at 2026-12-04T09:05-05:00."
    assert error.by == "U0AGENT1"


def test_the_system_and_lists_of_people_and_typed_braces() -> None:
    by_bot = AlreadyDone("done by {user}", user=SYSTEM_ACTOR)
    assert error_text(by_bot) == "done by Loopbot"
    who = PermissionDenied("Only supervisors ({users}) can resolve '{x}'.", users=["U0S1", "U0S2"])
    assert error_text(who) == "Only supervisors (<@U0S1>, <@U0S2>) can resolve '{x}'."
    nobody = PermissionDenied("Only supervisors ({users}) can resolve it.")
    assert nobody.message == "Only supervisors (none configured) can resolve it."
