"""/feedback chart end to end: the ack at once, the PNG through files v2 into the channel, no data, mistakes."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import Bot, database_url, running_bot
from tests.e2e.test_slack_flow import CH, ephemeral_for
from tests.factories import item

SUPER, LEADER, AGENT = "U0SUPER1", "U0LEADER1", "U0AGENT1"


@pytest.fixture(params=["sqlite", "postgresql"])
def bot(request, tmp_path, emu: SlackEmulator) -> Iterator[Bot]:  # noqa: ANN001
    with (
        database_url(request.param, tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu) as b,
    ):
        yield b


def uploads(bot: Bot, channel: str) -> list[dict]:
    return [m for m in bot.emu.messages(channel) if m.get("files")]


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_a_chart_is_acknowledged_at_once_then_shared_in_the_channel(bot: Bot) -> None:
    now = datetime.now(UTC)
    bot.ingest(
        *(
            item(score=s, submitted_at=(now - timedelta(days=d)).isoformat())
            for d, s in [(1, 5), (1, 4), (2, 2), (3, 5), (3, 5), (9, 1), (10, 4)]
        )
    )
    bot.emu.slash_command("chart csat 14d", SUPER, CH)
    ephemeral_for(bot, SUPER, "Drawing the csat chart for Delivery Ops, last 14d")
    [shared] = bot.emu.wait_for(
        lambda: uploads(bot, CH), timeout=30, message="no chart in the channel"
    )
    complete = bot.emu.calls_to("files.completeUploadExternal")
    assert [c.args.get("channel_id") for c in complete] == [CH]
    assert (
        "CSAT of Delivery Ops, last 14d" in shared["text"] and "from 7 responses" in shared["text"]
    )
    [f] = shared["files"]
    assert f["title"] == "CSAT — Delivery Ops, last 14d" and f["name"].startswith(
        "csat-delivery-14d-"
    )
    assert png_size(bot.emu.file(f["id"])["content"]) == (1200, 675)


def test_leaders_chart_all_teams_and_an_empty_period_gets_a_friendly_note(bot: Bot) -> None:
    bot.ingest(item(score=1, comment="late again"))  # a case, never resolved: no Pareto to draw
    bot.emu.slash_command("chart pareto all 7d", LEADER, CH)
    ephemeral_for(bot, LEADER, "No resolved cases for All teams in the last 7d")
    bot.emu.slash_command("chart volume all", LEADER, CH)
    [shared] = bot.emu.wait_for(lambda: uploads(bot, CH), timeout=30)
    assert (
        "Volume of All teams" in shared["text"]
        and "1 responses and 1 cases opened" in shared["text"]
    )


def test_mistakes_and_permissions_get_usage_and_nothing_is_drawn(bot: Bot) -> None:
    bot.emu.slash_command("chart csat all", SUPER, CH)
    ephemeral_for(bot, SUPER, "Only leaders can ask for charts for all teams")
    bot.emu.slash_command("chart csat support", SUPER, CH)
    ephemeral_for(bot, SUPER, "Only supervisors of Support")
    bot.emu.slash_command("chart happiness", LEADER, CH)
    ephemeral_for(bot, LEADER, "`happiness` is not a chart")
    bot.emu.slash_command("chart csat 800d", LEADER, CH)
    ephemeral_for(bot, LEADER, "A period runs from 1d to 730d")
    bot.emu.slash_command("chart", LEADER, CH)
    ephemeral_for(bot, LEADER, "Say which chart")
    bot.emu.slash_command("chart csat nosuchteam", LEADER, CH)
    ephemeral_for(bot, LEADER, "There is no team `nosuchteam`")
    assert bot.emu.calls_to("files.getUploadURLExternal") == []


def test_a_slow_chart_does_not_hold_up_other_commands(bot: Bot) -> None:
    bot.ingest(item(score=2))
    bot.emu.hang("files.getUploadURLExternal", seconds=6)
    bot.emu.slash_command("chart csat", SUPER, CH)
    ephemeral_for(bot, SUPER, "Drawing the csat chart")
    # The chart worker is held inside Slack's answer now.
    bot.emu.wait_for(lambda: bot.emu.in_flight("files.getUploadURLExternal") >= 1, timeout=30)
    bot.emu.slash_command("list", AGENT, CH)
    ephemeral_for(bot, AGENT, "Open cases of Delivery Ops")
    assert (
        bot.emu.in_flight("files.getUploadURLExternal") == 1
    )  # answered while the chart was still on its way
    assert uploads(bot, CH) == []
    bot.emu.wait_for(lambda: uploads(bot, CH), timeout=60)
