"""The jobs' posts from the outbox to Slack (the emulator): a late huddle's digest says what it would have said on
time, the weekly summary reaches the leaders' channel ahead of its chart, and the sandbox's digests go the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.deliveries import Deliveries
from bot.slack.client import make_client
from bot.slack.delivery.lanes import posts_worker
from bot.slack.delivery.worker import OutboxWorker
from config.cron import parse_cron
from config.settings import Settings
from jobs import huddle, periodic
from sandbox.run import post_digests
from slack_emulator import SlackEmulator
from tests.e2e.harness import CHANNELS, USERS
from tests.jobs.test_jobs import NINE_NEW_YORK, posts


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def worker(ctx, slack, cases) -> OutboxWorker:  # noqa: ANN001
    client = make_client(
        Settings(
            slack_bot_token=slack.bot_token,
            slack_app_token=slack.app_token,
            slack_api_url=slack.api_url,
        )
    )
    return posts_worker(
        Deliveries(ctx.sessions), cases, ctx.config, client, reads=ctx.reads, clock=ctx.clock
    )


def test_a_late_huddle_is_posted_once_with_the_period_up_to_its_fire(
    ctx, clock, worker, slack
) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(minutes=30)
    assert huddle.run(ctx, "delivery", NINE_NEW_YORK) is True
    assert worker.deliver_due() == 1
    [message] = slack.messages("C0DELIVERY")
    assert message["metadata"]["event_payload"]["key"] == "huddle:delivery:2026-03-09T13:00Z"
    assert message["text"].startswith("Huddle digest for Delivery Ops")
    # Friday 09:00 → Monday 09:00 in the team's zone, not up to 09:30 when it went out.
    shown = json.dumps(message["blocks"])
    assert "Fri 6 Mar 09:00" in shown and "Mon 9 Mar 09:00" in shown
    assert worker.deliver_due() == 0 and slack.messages("C0SUPPORT") == []


def test_the_weekly_summary_reaches_the_leaders_and_leaves_its_chart_to_the_chart_lane(
    ctx, clock, worker, slack, config, sessions
) -> None:  # noqa: ANN001
    ctx.config = config.model_copy(update={"weekly_summary": parse_cron("0 9 * * mon")})
    clock.at = datetime(2026, 3, 9, 9, 0, 5, tzinfo=UTC)
    assert periodic.weekly(ctx) is True
    assert worker.deliver_due() == 1
    [message] = slack.messages("C0LEADERS")
    assert message["text"].startswith("Weekly summary") and "2 teams" in message["text"]
    shown = json.dumps(message["blocks"])
    assert "Delivery Ops" in shown and "Support" in shown and "Mon 2 Mar" in shown
    [chart] = posts(sessions, "chart")
    assert chart.state == "pending"  # the chart lane's: tests/e2e/test_delivery_chart.py


def test_the_sandbox_opens_each_teams_channel_on_its_digest(
    ctx, clock, worker, slack, config
) -> None:  # noqa: ANN001
    post_digests(ctx.sessions, config, now=clock.at)
    assert worker.deliver_due() == 2
    for team in config.teams.values():
        [message] = slack.messages(team.channel)
        assert message["text"].startswith(f"Huddle digest for {team.name}")
