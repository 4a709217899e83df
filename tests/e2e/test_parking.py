"""Slack errors a person can fix park posts instead of failing them, against the emulator: what waits, what
/healthz and /metrics say, and that after the fix every post goes out once and in order; errors no fix
changes still fail; a case message deleted in Slack is posted again."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_api
from bot.delivery import outbox
from bot.prometheus import Prometheus
from bot.slack.delivery.case_event import DELETED_NOTE
from config.settings import Settings
from slack_emulator import SlackEmulator
from storage.models import OutboxMessage
from tests.e2e.harness import CHANNELS, USERS
from tests.e2e.test_delivery_posts import AGENT, CH, case_id, key_of, make_worker, open_cases
from tests.factories import item

SUPPORT, LEADERS = "C0SUPPORT", "C0LEADERS"
FIRST, LONGEST = timedelta(seconds=60), timedelta(seconds=240)


@pytest.fixture
def slack():
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def worker(slack, sessions, cases, config):  # noqa: ANN001, ANN201
    w = make_worker(slack, sessions, cases, config)
    w.park_retry = (FIRST, LONGEST)
    return w


def health(engine, worker, ingestor) -> tuple[dict, str]:  # noqa: ANN001
    """/healthz and /metrics as `loopbot run` serves them."""
    prometheus = Prometheus()
    prometheus.watch_outbox(worker.deliveries.counts, worker.deliveries.parked)
    api = create_api(Settings(), engine, ingestor, prometheus, deliveries=worker.deliveries)
    with TestClient(api) as c:
        got = c.get("/healthz")
        assert got.status_code == 200  # degraded, not down: nothing to restart for
        return got.json(), c.get("/metrics").text


def thread_texts(slack: SlackEmulator, channel: str, ts: str) -> list[str]:
    return [r["text"] for r in slack.replies(channel, ts)]


def posts_to(slack: SlackEmulator, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


ERRORS = {
    "not_in_channel": "C0DELIVERY",
    "channel_not_found": "C0DELIVERY",
    "is_archived": "C0DELIVERY",
    "invalid_auth": "all",
    "token_revoked": "all",
    "account_inactive": "all",
    "missing_scope": "lane:loopbot-outbox",
}


@pytest.mark.parametrize("error", ERRORS)
def test_a_fixable_error_parks_the_posts_and_after_the_fix_each_goes_out_once_in_order(
    error, worker, slack, ingestor, cases, engine
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1, comment="late again"))
    cases.acknowledge(ref, actor=AGENT, source="button")
    slack.fail("chat.postMessage", error)  # until cleared: the operator has not fixed it yet
    assert worker.deliver_due() == 2
    key = f"case:{case_id(ref)}:open"
    assert worker.deliveries.post_state(key) == "parked"
    assert worker.deliveries.post_error(key) == error
    assert worker.failed_kinds == []
    # The thread line was given back untried: it must not overtake its case message.
    assert worker.deliveries.counts() == {"parked": 1, "pending": 1}
    assert len(slack.calls_to("chat.postMessage")) == 1

    # More work meanwhile waits behind it, unattempted (for a token error, every team's does).
    cases.assign(ref, "U0AGENT2", actor="U0SUPER1", source="button")
    [other] = open_cases(ingestor, item(score=1, team="support"))
    calls = len(slack.calls)
    assert worker.deliver_due() == (1 if ERRORS[error].startswith("C0") else 0)
    if ERRORS[error] == "all" or ERRORS[error].startswith("lane:"):
        assert len(slack.calls) == calls  # not even tried
    else:  # another channel's post goes out (here it too meets the fault: parked in its channel)
        assert worker.deliveries.post_state(f"case:{case_id(other)}:open") == "parked"

    shown, metrics = health(engine, worker, ingestor)
    [parked] = [p for p in shown["parked"] if p["error"] == error and p["channel"] in (CH, None)]
    assert shown["status"] == "degraded" and "failures" not in shown
    assert parked["posts"] >= 3 and parked["fix"]  # the case message and the two lines behind it
    assert 'loopbot_outbox_messages{state="parked"}' in metrics
    label = "all" if ERRORS[error] == "all" else ERRORS[error]
    assert f'loopbot_outbox_parked_posts{{error="{error}",scope="{label}"}}' in metrics

    # Tried again after a minute, then two: the post alone, not the ones behind it.
    worker.clock.shift += FIRST - timedelta(seconds=1)
    calls = len(slack.calls)
    assert worker.deliver_due() == 0 and len(slack.calls) == calls
    worker.clock.shift += timedelta(seconds=2)
    assert worker.deliver_due() >= 1
    assert worker.deliveries.post_state(key) == "parked"
    scope = {"all": "*"}.get(ERRORS[error], ERRORS[error])
    [again] = [p for p in worker.deliveries.parked() if p.scope == scope]
    assert again.next_retry - worker.clock() > FIRST  # doubled

    slack.clear_faults()  # fixed
    worker.clock.shift += LONGEST
    while worker.deliver_due():
        pass
    [message] = [m for m in slack.messages(CH) if ref in m["text"]]
    assert key_of(message) == key
    lines = thread_texts(slack, CH, message["ts"])
    assert len(lines) == 2 and "Acknowledged" in lines[0] and "Assigned" in lines[1]
    assert [m for m in slack.messages(SUPPORT) if other in m["text"]]
    counts = worker.deliveries.counts()
    assert set(counts) == {"delivered"} and worker.failed_kinds == []
    assert worker.deliveries.parked() == []
    shown, _ = health(engine, worker, ingestor)
    assert shown["status"] == "ok"


def test_a_channel_the_bot_was_removed_from_waits_alone_and_goes_out_at_start_up(
    worker, slack, ingestor, cases
) -> None:  # noqa: ANN001
    slack.workspace.not_in_channel = frozenset({SUPPORT})
    [theirs] = open_cases(ingestor, item(score=1, team="support"))
    [ours] = open_cases(ingestor, item(score=1))
    assert worker.deliver_due() == 2
    assert worker.deliveries.post_state(f"case:{case_id(theirs)}:open") == "parked"
    assert [m for m in slack.messages(CH) if ours in m["text"]]
    cases.acknowledge(theirs, actor="U0SUPER2", source="command")
    cases.acknowledge(ours, actor=AGENT, source="command")
    assert worker.deliver_due() == 1  # delivery's line; support's waits behind its case message
    assert len(posts_to(slack, SUPPORT)) == 1
    [parked] = worker.deliveries.parked()
    assert (parked.channel, parked.error, parked.posts) == (SUPPORT, "not_in_channel", 2)
    assert "/invite @Loopbot" in parked.fix

    slack.workspace.not_in_channel = frozenset()  # invited back, then `loopbot run` restarted
    worker.poll_s = (
        60  # only the start-up retry can send it in time: the next retry is a minute away
    )
    worker.start()
    try:
        slack.wait_for(lambda: worker.deliveries.counts() == {"delivered": 4}, timeout=10)
    finally:
        worker.stop()
    [message] = slack.messages(SUPPORT)
    assert theirs in message["text"] and len(slack.replies(SUPPORT, message["ts"])) == 1


def test_a_change_to_a_case_whose_message_is_parked_elsewhere_waits_beside_it(
    worker, slack, ingestor, cases, sessions
) -> None:  # noqa: ANN001
    # A systemic case is posted to the leaders' channel while its changes are queued for the team's.
    [ref] = open_cases(ingestor, item(score=1))
    key = f"case:{case_id(ref)}:open"
    with sessions.begin() as s:
        s.query(OutboxMessage).filter_by(key=key).update({"channel": LEADERS})
    slack.workspace.not_in_channel = frozenset({LEADERS})
    cases.acknowledge(ref, actor=AGENT, source="button")
    assert worker.deliver_due() == 2
    assert worker.deliveries.counts() == {"parked": 2}
    [parked] = worker.deliveries.parked()
    assert (parked.channel, parked.posts) == (LEADERS, 2)
    slack.workspace.not_in_channel = frozenset()
    worker.clock.shift += FIRST
    assert worker.deliver_due() == 1 and worker.deliver_due() == 1
    [message] = slack.messages(LEADERS)
    assert ref in message["text"] and len(slack.replies(LEADERS, message["ts"])) == 1
    assert worker.deliveries.counts() == {"delivered": 2}


def test_an_error_no_fix_changes_still_fails_and_is_logged_loudly_without_the_content(
    worker, slack, ingestor, caplog
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1, comment="my address is 1 Secret Lane"))
    slack.fail("chat.postMessage", "invalid_blocks", times=1)
    with caplog.at_level(logging.WARNING, logger="loopbot.outbox"):
        assert worker.deliver_due() == 1
    key = f"case:{case_id(ref)}:open"
    assert worker.deliveries.post_state(key) == "failed" and worker.failed_kinds == ["case.open"]
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert key in line.getMessage() and "case.open" in line.getMessage()
    assert "invalid_blocks" in line.getMessage() and "Secret Lane" not in caplog.text
    assert worker.deliveries.parked() == []


def test_a_deleted_case_message_is_posted_again_and_updated_from_then_on(
    worker, slack, ingestor, cases
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    worker.deliver_due()
    [first] = slack.messages(CH)
    slack.workspace.delete(CH, first["ts"])  # someone deleted it in Slack
    cases.acknowledge(ref, actor=AGENT, source="button")
    assert worker.deliver_due() == 1
    [again] = slack.messages(CH)
    assert again["ts"] != first["ts"] and ref in again["text"]
    assert "Acknowledged by <@U0AGENT1>" in json.dumps(again["blocks"])
    note, line = thread_texts(slack, CH, again["ts"])
    assert note == DELETED_NOTE and "Acknowledged" in line
    assert cases.get(ref).case.slack_ts == again["ts"]
    cases.assign(ref, "U0AGENT2", actor="U0SUPER1", source="button")
    assert worker.deliver_due() == 1
    assert [m["ts"] for m in slack.messages(CH)] == [
        again["ts"]
    ]  # updated, not posted a third time
    assert "Assigned" in thread_texts(slack, CH, again["ts"])[-1]
    assert "<@U0AGENT2>" in json.dumps(slack.message(CH, again["ts"])["blocks"])
    assert worker.deliveries.counts() == {"delivered": 3}


def test_a_repost_whose_answer_was_lost_is_found_not_posted_twice(
    worker, slack, ingestor, cases
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    worker.deliver_due()
    [first] = slack.messages(CH)
    slack.workspace.delete(CH, first["ts"])
    cases.acknowledge(ref, actor=AGENT, source="button")
    slack.hang("chat.postMessage", seconds=4)  # the copy is made, its answer comes too late
    worker.deliver_due()
    slack.wait_for(lambda: slack.messages(CH), timeout=10)
    worker.clock.shift += timedelta(seconds=31)
    assert worker.deliver_due() == 1
    [again] = slack.messages(CH)
    assert cases.get(ref).case.slack_ts == again["ts"]
    assert len(thread_texts(slack, CH, again["ts"])) == 2


def test_a_post_parked_by_a_worker_told_to_stop_keeps_its_place(
    worker, slack, ingestor, sessions
) -> None:  # noqa: ANN001
    slack.workspace.not_in_channel = frozenset({CH})
    [ref] = open_cases(ingestor, item(score=1))
    worker.deliver_due()
    worker.clock.shift += FIRST
    worker.stop()  # never started: stops at once, giving back what it claims
    assert worker.deliver_due() == 1
    key = f"case:{case_id(ref)}:open"
    assert worker.deliveries.post_state(key) == outbox.PARKED
    assert worker.deliveries.parked()[0].next_retry <= worker.clock()
