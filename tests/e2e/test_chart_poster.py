"""The chart worker against the emulator: an upload whose answer never came is found, not repeated; a channel
closed to the bot fails the chart and tells the person who asked; a 429 waits and still shares once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.cases.lifecycle import Cases
from bot.charts.request import ChartRequest
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.delivery.deliveries import Deliveries
from bot.slack.charts import ChartPoster
from bot.slack.client import make_client
from config.settings import Settings
from slack_emulator import SlackEmulator
from tests.e2e.harness import CHANNELS, USERS
from tests.storage.test_digest import feedback

NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
CH, CLOSED, LEADER = "C0DELIVERY", "C0RANDOM", "U0LEADER1"


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    r = Renderer()  # one worker process for the module: starting one takes a second
    yield r
    r.close()


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(
        channels={**CHANNELS, CLOSED: "random"}, users=USERS, not_in_channel={CLOSED}
    ) as emu:
        yield emu


@pytest.fixture
def poster(sessions, config, slack, renderer) -> ChartPoster:  # noqa: ANN001
    client = make_client(
        Settings(
            slack_bot_token=slack.bot_token,
            slack_app_token=slack.app_token,
            slack_api_url=slack.api_url,
        )
    )
    client.timeout = 2  # the product's client, with a shorter wait for the hung call below
    for day in range(5):
        feedback(sessions, "csat", 5 - day % 3, NOW - timedelta(days=day, hours=1))
    return ChartPoster(
        Deliveries(sessions),
        Cases(sessions, config),
        config,
        client,
        clock=Clock(),
        charts=Charts(sessions, sessions, config),
        renderer=renderer,
    )


def ask(poster: ChartPoster, channel: str = CH) -> str:
    req = ChartRequest("csat", ("delivery",), False, 7, "7d", NOW, user=LEADER)
    return poster.charts.request(req, channel=channel)


def shared(slack: SlackEmulator, channel: str = CH) -> list[dict]:
    return [f for m in slack.messages(channel) for f in m.get("files") or []]


def test_an_upload_that_timed_out_but_happened_is_not_shared_twice(poster, slack) -> None:  # noqa: ANN001
    key = ask(poster)
    slack.hang("files.completeUploadExternal", seconds=4)  # longer than the client waits
    assert poster.deliver_due() == 1
    assert (
        poster.deliveries.post_state(key) == "pending"
    )  # no answer: it will look before trying again
    slack.wait_for(lambda: shared(slack), timeout=10)  # Slack finished the upload after all
    poster.clock.at += timedelta(seconds=31)
    assert poster.deliver_due() == 1
    assert poster.deliveries.post_state(key) == "delivered"
    assert len(shared(slack)) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_channel_closed_to_the_bot_fails_the_chart_and_the_asker_hears_why(poster, slack) -> None:  # noqa: ANN001
    key = ask(poster, CLOSED)
    assert poster.deliver_due() == 1
    assert poster.deliveries.post_state(key) == "failed"
    assert poster.deliveries.post_error(key) == "not_in_channel"
    [dm] = slack.messages(LEADER)  # the bot's DM with the leader
    assert "could not post the csat chart" in dm["text"] and "/invite @Loopbot" in dm["text"]
    assert shared(slack, CLOSED) == []


def test_a_rate_limited_upload_waits_and_is_shared_once(poster, slack) -> None:  # noqa: ANN001
    key = ask(poster)
    slack.rate_limit(
        "files.getUploadURLExternal", times=2, retry_after=2
    )  # the client retries once itself
    poster.deliver_due()
    assert poster.deliveries.post_state(key) == "pending" and shared(slack) == []
    poster.clock.at += timedelta(seconds=1)
    assert poster.deliver_due() == 0  # Retry-After not over yet
    poster.clock.at += timedelta(seconds=1)
    assert poster.deliver_due() == 1
    assert poster.deliveries.post_state(key) == "delivered"
    [f] = shared(slack)
    assert f["name"].startswith("csat-delivery-7d-")
