"""Posts give way to people waiting on an answer: the notifier waits while a Slack request is being handled,
a bounded time per post, so a burst of clicks is answered first and the posts still all go out."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_bolt import Ack, BoltRequest
from slack_sdk import WebClient

from bot.cases import Cases
from bot.delivery import Deliveries
from bot.slack.answering import Answering
from bot.slack.app import LoopbotApp
from bot.slack.client import make_client
from bot.slack.emulator import SlackEmulator
from bot.slack.notifier import Notifier
from config.settings import Settings
from tests.e2e.harness import CHANNELS, USERS
from tests.storage.test_cases import open_case


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu


def notifier(sessions, config, slack: SlackEmulator, defer_to) -> Notifier:  # noqa: ANN001
    client = make_client(Settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url))
    return Notifier(Deliveries(sessions), Cases(sessions, config), config, client, defer_to=defer_to)


def test_while_someone_waits_on_an_answer_each_post_waits_its_turn_and_all_still_go_out(sessions, config, slack, ingestor):  # noqa: ANN001
    for i in range(3):
        open_case(ingestor, comment=f"late {i}")
    asked: list[float] = []
    started = time.monotonic()
    sent = notifier(sessions, config, slack, defer_to=lambda: asked.append(time.monotonic()) or True).deliver_due()
    took = time.monotonic() - started
    assert sent == 3 and len(slack.messages("C0DELIVERY")) == 3
    # Three posts, each after the longest wait: the requests never end here, and the posts are not starved.
    assert took >= 3 * Notifier.DEFER_S and len(asked) >= 3


def test_with_nobody_waiting_posts_go_out_without_asking_twice(sessions, config, slack, ingestor):  # noqa: ANN001
    for i in range(3):
        open_case(ingestor, comment=f"late {i}")
    asked: list[bool] = []
    assert notifier(sessions, config, slack, defer_to=lambda: asked.append(False) or False).deliver_due() == 3
    assert asked == [False] * 3


def test_a_request_counts_as_waiting_from_dispatch_to_its_answer(slack) -> None:  # noqa: ANN001
    answering, seen = Answering(), []
    app = LoopbotApp(answering, client=WebClient(token=slack.bot_token, base_url=slack.api_url), signing_secret="secret",
                     token_verification_enabled=False, request_verification_enabled=False, process_before_response=True)

    @app.command("/feedback")
    def command(ack: Ack) -> None:
        seen.append(answering.busy())
        ack("ok")

    response = app.dispatch(BoltRequest(body="command=%2Ffeedback&text=list&user_id=U1&channel_id=C1&team_id=T1",
                                        headers={"content-type": ["application/x-www-form-urlencoded"]}))
    assert response.status == 200 and seen == [True] and not answering.busy()
