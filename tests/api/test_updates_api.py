"""Updates through POST /api/feedback over real HTTP (SPEC §10), as far as the case message in Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.delivery.deliveries import Deliveries
from bot.slack.client import make_client
from bot.slack.delivery.lanes import posts_worker
from bot.slack.delivery.worker import OutboxWorker
from config.settings import Settings
from slack_emulator import SlackEmulator
from storage.db import make_sessions
from storage.models import Feedback
from tests.e2e.harness import CHANNELS, USERS
from tests.factories import item

CH = "C0DELIVERY"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def worker(slack, sessions, cases, config) -> OutboxWorker:  # noqa: ANN001
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_app_token=slack.app_token,
        slack_api_url=slack.api_url,
    )
    return posts_worker(Deliveries(sessions), cases, config, make_client(settings), reads=sessions)


def test_the_answer_counts_new_duplicate_and_updated_items(api, engine):
    a, b = item(id="a", score=4), item(id="b", metric="nps", score=9, tags=["x"])
    with api.client() as c:
        first = c.post("/api/feedback", json=[a, b]).json()
        again = c.post(
            "/api/feedback",
            json=[a, {**b, "score": 3, "comment": "Support was rude"}, item(id="c")],
        ).json()
    assert first == {"accepted": 2, "duplicates": 0, "updated": 0, "cases": []}
    assert (again["accepted"], again["duplicates"], again["updated"]) == (1, 1, 1)
    assert len(again["cases"]) == 1  # b turned negative within 24 hours: its case opens now
    with make_sessions(engine)() as s:
        stored = s.scalars(select(Feedback).where(Feedback.external_id == "b")).one()
    assert (stored.score, stored.comment, stored.category) == (3, "Support was rude", "rude_staff")


def test_openapi_describes_updated_in_the_answer(api):
    with api.client() as c:
        op = c.get("/openapi.json").json()
    answer = op["paths"]["/api/feedback"]["post"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = op["components"]["schemas"][ref]
    assert {"accepted", "duplicates", "updated", "cases"} <= set(schema["required"])
    assert "update" in answer["description"] and "duplicate" in answer["description"]


def test_a_late_comment_updates_the_case_message_in_place_and_the_thread_says_so(
    api, slack, worker
):
    score_only = item(id="late-1", score=1)
    with api.client() as c:
        [ref] = c.post("/api/feedback", json=score_only).json()["cases"]
        assert worker.deliver_due() == 1
        [message] = slack.messages(CH)
        assert "_No comment._" in json.dumps(message["blocks"])
        late = {**score_only, "comment": "Never arrived & nobody called <!channel>"}
        answer = c.post("/api/feedback", json=late).json()
        assert answer == {"accepted": 0, "duplicates": 0, "updated": 1, "cases": []}
        assert c.post("/api/feedback", json=late).json()["duplicates"] == 1  # a retry
    assert worker.deliver_due() == 1  # one update: the retry posted nothing
    [shown] = slack.messages(CH)
    assert shown["ts"] == message["ts"] and ref in shown["text"]  # updated in place, not reposted
    blocks = json.dumps(shown["blocks"])
    assert "Never arrived &amp; nobody called &lt;!channel&gt;" in blocks
    assert "late_delivery" in blocks and "Response updated" in blocks
    [line] = slack.replies(CH, message["ts"])
    assert line["text"].startswith(":pencil2: Response updated at ")
    assert line["text"].endswith("via the API: comment added; category — → late_delivery")
