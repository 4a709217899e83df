"""The chart lane against the emulator: an upload whose answer never came is found, not repeated; a channel
closed to the bot fails the chart and tells the person who asked; a 429 waits and still shares once; a chart
that cannot be drawn is tried a few times, then the asker hears why; the lane takes charts only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.charts.request import CHART_KIND, ChartRequest
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.delivery import outbox
from bot.delivery.deliveries import Deliveries
from bot.slack.client import make_client
from bot.slack.delivery.chart import DRAW_ATTEMPTS
from bot.slack.delivery.lanes import charts_worker
from bot.slack.delivery.worker import OutboxWorker
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
def charts(sessions, config) -> Charts:  # noqa: ANN001
    for day in range(5):
        feedback(sessions, "csat", 5 - day % 3, NOW - timedelta(days=day, hours=1))
    return Charts(sessions, sessions, config)


@pytest.fixture
def worker(sessions, config, slack, renderer, charts) -> OutboxWorker:  # noqa: ANN001
    client = make_client(
        Settings(
            slack_bot_token=slack.bot_token,
            slack_app_token=slack.app_token,
            slack_api_url=slack.api_url,
        )
    )
    client.timeout = 2  # the product's client, with a shorter wait for the hung call below
    return charts_worker(
        Deliveries(sessions), config, client, charts=charts, renderer=renderer, clock=Clock()
    )


def ask(charts: Charts, channel: str = CH) -> str:
    req = ChartRequest("csat", ("delivery",), False, 7, "7d", NOW, user=LEADER)
    return charts.request(req, channel=channel)


def shared(slack: SlackEmulator, channel: str = CH) -> list[dict]:
    return [f for m in slack.messages(channel) for f in m.get("files") or []]


def test_an_upload_that_timed_out_but_happened_is_not_shared_twice(worker, charts, slack) -> None:  # noqa: ANN001
    key = ask(charts)
    slack.hang("files.completeUploadExternal", seconds=4)  # longer than the client waits
    assert worker.deliver_due() == 1
    assert (
        worker.deliveries.post_state(key) == "pending"
    )  # no answer: it will look before trying again
    slack.wait_for(lambda: shared(slack), timeout=10)  # Slack finished the upload after all
    worker.clock.at += timedelta(seconds=31)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(key) == "delivered"
    assert len(shared(slack)) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_channel_closed_to_the_bot_fails_the_chart_and_the_asker_hears_why(
    worker, charts, slack
) -> None:  # noqa: ANN001
    key = ask(charts, CLOSED)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(key) == "failed"
    assert worker.deliveries.post_error(key) == "not_in_channel"
    [dm] = slack.messages(LEADER)  # the bot's DM with the leader
    assert "could not post the csat chart" in dm["text"] and "/invite @Loopbot" in dm["text"]
    assert shared(slack, CLOSED) == []


def test_a_rate_limited_upload_waits_and_is_shared_once(worker, charts, slack) -> None:  # noqa: ANN001
    key = ask(charts)
    slack.rate_limit(
        "files.getUploadURLExternal", times=2, retry_after=2
    )  # the client retries once itself
    worker.deliver_due()
    assert worker.deliveries.post_state(key) == "pending" and shared(slack) == []
    worker.clock.at += timedelta(seconds=1)
    assert worker.deliver_due() == 0  # Retry-After not over yet
    worker.clock.at += timedelta(seconds=1)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(key) == "delivered"
    [f] = shared(slack)
    assert f["name"].startswith("csat-delivery-7d-")


def test_a_chart_that_cannot_be_drawn_is_tried_a_few_times_then_the_asker_hears_why(
    worker, sessions, slack
) -> None:  # noqa: ANN001
    # Asked for a team since removed from the configuration: reading its numbers fails at every attempt.
    req = ChartRequest("csat", ("returns",), False, 7, "7d", NOW, user=LEADER)
    with sessions.begin() as s:
        outbox.enqueue(
            s, key="chart:gone", kind=CHART_KIND, channel=CH, payload=req.payload(), now=NOW
        )
    for attempt in range(1, DRAW_ATTEMPTS + 1):
        assert worker.deliver_due() == 1, f"attempt {attempt} was not due"
        expected = "failed" if attempt == DRAW_ATTEMPTS else "pending"
        assert worker.deliveries.post_state("chart:gone") == expected
        worker.clock.at += timedelta(minutes=10)  # past any backoff
    assert worker.deliveries.post_error("chart:gone") == "could not draw the chart: NotFound"
    [dm] = slack.messages(LEADER)
    assert "could not post the csat chart" in dm["text"] and "/invite" not in dm["text"]
    assert shared(slack) == [] and slack.calls_to("files.getUploadURLExternal") == []


def test_the_chart_lane_takes_charts_only(worker, charts, sessions, slack) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        outbox.enqueue(
            s, key="a-post", kind=outbox.POST, channel=CH, payload={"text": "hi"}, now=NOW
        )
    key = ask(charts)
    assert worker.deliver_due() == 1
    assert worker.deliver_due() == 0
    assert worker.deliveries.post_state(key) == "delivered"
    assert worker.deliveries.post_state("a-post") == "pending"  # the other lane's
    assert [m for m in slack.messages(CH) if not m.get("files")] == []
