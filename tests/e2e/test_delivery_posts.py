"""The posts lane against the emulator, one worker in the test's thread: each kind of post reaches Slack once
(case message, thread line, alert-storm group, digest, leaders' escalation, legacy pre-rendered post), and the
worker turns Slack's failures into waits, backoffs and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.alerts.escalations import Escalations
from bot.clock import utcnow
from bot.delivery import outbox
from bot.delivery.deliveries import STORM_SINGLES, Deliveries
from bot.reports.digest import Digests, enqueue_digest
from bot.slack.blocks.digest import digest_message
from bot.slack.client import make_client
from bot.slack.delivery.lanes import posts_worker
from bot.slack.delivery.worker import OutboxWorker
from config.settings import Settings
from slack_emulator import SlackEmulator
from storage.models import OutboxMessage
from tests.e2e.harness import CHANNELS, USERS
from tests.factories import item

CH, LEADERS, AGENT = "C0DELIVERY", "C0LEADERS", "U0AGENT1"
MONDAY_NINE = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 09:00 in New York, the delivery team's zone
HELLO = {"text": "hello"}


class Clock:
    """The real time, moved on by the test to get past a wait."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.shift


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu
        assert emu.internal_errors == []


def make_worker(slack: SlackEmulator, sessions, cases, config) -> OutboxWorker:  # noqa: ANN001
    client = make_client(
        Settings(
            slack_bot_token=slack.bot_token,
            slack_app_token=slack.app_token,
            slack_api_url=slack.api_url,
        )
    )
    client.timeout = 2  # the product's client, with a shorter wait for the hung calls below
    failed: list[str] = []
    worker = posts_worker(
        Deliveries(sessions),
        cases,
        config,
        client,
        reads=sessions,
        clock=Clock(),
        on_failed=failed.append,
    )
    worker.failed_kinds = failed  # type: ignore[attr-defined]
    return worker


@pytest.fixture
def worker(slack, sessions, cases, config) -> OutboxWorker:  # noqa: ANN001
    return make_worker(slack, sessions, cases, config)


def open_cases(ingestor, *items: dict) -> list[str]:  # noqa: ANN001
    now = utcnow()
    valid, errors = ingestor.validate(list(items), now)
    assert not errors
    return ingestor.store(valid, default_source="api", origin="api", now=now).cases


def key_of(message: dict) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key")


def case_id(ref: str) -> int:
    return int(ref.removeprefix("FB-"))


# -- case messages and their threads ------------------------------------------------------------


def test_a_case_is_posted_once_to_its_teams_channel_and_its_place_remembered(
    worker, slack, ingestor, cases
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1, comment="The parcel was late"))
    assert worker.deliver_due() == 1
    [message] = slack.messages(CH)
    assert ref in message["text"] and "The parcel was late" in json.dumps(message["blocks"])
    assert key_of(message) == f"case:{case_id(ref)}:open"
    case = cases.get(ref).case
    assert (case.slack_channel, case.slack_ts) == (CH, message["ts"])
    assert worker.deliver_due() == 0 and len(slack.messages(CH)) == 1


def test_a_change_updates_the_message_in_place_and_adds_one_thread_line(
    worker, slack, ingestor, cases
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    worker.deliver_due()
    [message] = slack.messages(CH)
    cases.acknowledge(ref, actor=AGENT, source="button")
    assert worker.deliver_due() == 1
    assert "Acknowledged by <@U0AGENT1>" in json.dumps(slack.message(CH, message["ts"])["blocks"])
    [line] = slack.replies(CH, message["ts"])
    assert "Acknowledged" in line["text"] and key_of(line).startswith(f"case:{case_id(ref)}:")


def test_a_change_waits_for_its_cases_message_and_fails_when_that_failed_for_good(
    sessions, cases, config, ingestor
) -> None:  # noqa: ANN001
    with SlackEmulator(channels=CHANNELS, users=USERS) as slack:
        worker = make_worker(slack, sessions, cases, config)
        [ref] = open_cases(ingestor, item(score=1))
        slack.rate_limit("chat.postMessage", times=2, retry_after=3)  # the client retries once
        cases.acknowledge(ref, actor=AGENT, source="command")
        assert worker.deliver_due() == 2
        assert worker.deliveries.counts() == {"pending": 2}  # the message waits out the 429...
        worker.clock.shift += timedelta(seconds=3)
        assert worker.deliver_due() == 2  # ...and the thread line waited for the message
        [message] = slack.messages(CH)
        assert len(slack.replies(CH, message["ts"])) == 1
        [closed] = open_cases(ingestor, item(score=1, team="support"))
        cases.acknowledge(closed, actor="U0SUPER2", source="command")
        # An error no fix changes (a channel the bot is not in parks instead: test_parking.py).
        slack.fail("chat.postMessage", "invalid_blocks", times=1)
        assert worker.deliver_due() == 2
        assert worker.deliveries.post_error(f"case:{case_id(closed)}:open") == "invalid_blocks"
        assert worker.deliveries.counts()["failed"] == 2
        assert worker.failed_kinds == ["case.open", "case.event"]
        assert slack.messages("C0SUPPORT") == []


def test_thread_lines_go_out_in_timeline_order_whatever_order_their_retries_fall_due(
    sessions, cases, config, ingestor
) -> None:  # noqa: ANN001
    with SlackEmulator(channels=CHANNELS, users=USERS) as slack:
        worker = make_worker(slack, sessions, cases, config)

        def later(seconds: int) -> None:
            worker.clock.shift += timedelta(seconds=seconds)
            worker.deliver_due()

        [ref] = open_cases(ingestor, item(score=1, comment="late"))
        slack.fail("chat.postMessage", "internal_error", times=1)  # Slack away for a moment
        worker.deliver_due()
        with (
            sessions.begin() as s
        ):  # its backoff, made 3 s: as if Slack stayed away a little longer
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.key == f"case:{case_id(ref)}:open")
                .values(not_before=worker.clock() + timedelta(seconds=3))
            )
        cases.acknowledge(ref, actor=AGENT, source="button")
        worker.deliver_due()  # waits for the message: looks again at +2 s
        worker.clock.shift += timedelta(seconds=1)
        cases.assign(ref, "U0AGENT2", actor="U0SUPER1", source="button")
        worker.deliver_due()  # waits too: looks again at +3 s, with the message
        for _ in range(4):
            later(1)
        [message] = slack.messages(CH)
        lines = [key_of(r) for r in slack.replies(CH, message["ts"])]
        events = [int(k.rsplit(":", 1)[1]) for k in lines]
        assert len(events) == 2 and events == sorted(events), lines
        assert worker.deliveries.counts() == {"delivered": 3}


def test_an_alert_storm_posts_ten_cases_then_the_rest_as_one_grouped_message(
    worker, slack, ingestor
) -> None:  # noqa: ANN001
    refs = open_cases(ingestor, *[item(score=1, comment=f"storm {i}") for i in range(13)])
    assert worker.deliver_due() == 13
    *singles, group = slack.messages(CH)
    assert len(singles) == STORM_SINGLES
    assert "more cases for Delivery Ops" in json.dumps(group["blocks"])
    assert [r for r in refs if f"*{r}*" in json.dumps(group["blocks"])] == refs[STORM_SINGLES:]
    assert worker.deliveries.counts() == {"delivered": 10, "grouped": 3}
    assert worker.deliveries.message_cases(CH, group["ts"]) == [case_id(r) for r in refs[10:]]


# -- Slack's failures -----------------------------------------------------------------------------


def test_a_post_whose_answer_never_came_is_looked_for_and_not_posted_twice(
    worker, slack, ingestor
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    slack.hang("chat.postMessage", seconds=4)  # longer than the client waits
    worker.deliver_due()
    key = f"case:{case_id(ref)}:open"
    assert worker.deliveries.post_state(key) == "pending"
    slack.wait_for(lambda: slack.messages(CH), timeout=10)  # Slack posted it after all
    assert worker.deliver_due() == 0  # not before Slack has had time to finish it
    worker.clock.shift += timedelta(seconds=31)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(key) == "delivered" and len(slack.messages(CH)) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_5xx_backs_off_and_a_429_waits_its_retry_after(worker, slack, ingestor) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    key = f"case:{case_id(ref)}:open"
    slack.server_error("chat.postMessage", times=2)  # the client retries once itself
    worker.deliver_due()
    assert worker.deliveries.post_state(key) == "pending"
    assert worker.deliveries.post_error(key) == "internal_error"
    assert worker.deliver_due() == 0  # backing off: 2 ** attempts seconds at most
    slack.rate_limit("chat.postMessage", times=2, retry_after=2)
    worker.clock.shift += timedelta(seconds=2)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_error(key) == "ratelimited (Retry-After 2s)"
    worker.clock.shift += timedelta(seconds=1)
    assert worker.deliver_due() == 0
    worker.clock.shift += timedelta(seconds=1)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(key) == "delivered"
    # One message, though each retry looked for it first (a 500 may come after the post was made).
    assert len(slack.messages(CH)) == 1 and worker.failed_kinds == []
    assert len(slack.calls_to("conversations.history")) == 2


def test_an_error_slack_will_repeat_fails_the_post_for_good(worker, slack, ingestor) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1))
    slack.fail("chat.postMessage", "invalid_blocks", times=1)
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_state(f"case:{case_id(ref)}:open") == "failed"
    assert worker.deliveries.post_error(f"case:{case_id(ref)}:open") == "invalid_blocks"
    assert worker.failed_kinds == ["case.open"]


def test_a_post_of_an_unknown_kind_fails_for_good(worker, sessions) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        outbox.enqueue(s, key="what", kind="mystery", channel=CH, now=utcnow())
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_error("what") == "unknown outbox kind 'mystery'"
    assert worker.failed_kinds == ["mystery"]


def test_a_stopping_worker_gives_back_what_it_claimed(worker, slack, sessions) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        outbox.enqueue(s, key="later", kind=outbox.POST, channel=CH, payload=HELLO, now=utcnow())
    worker.stop()  # never started: it stops at once
    assert worker.deliver_due() == 1
    [claim] = worker.deliveries.claim(worker.clock())
    assert claim.key == "later" and claim.attempts == 1  # given back without counting an attempt
    assert slack.messages(CH) == []


def test_a_running_worker_delivers_when_woken_and_stops_cleanly(worker, slack, ingestor) -> None:  # noqa: ANN001
    worker.poll_s = 60  # only the wake-up can get it going in time
    worker.start()
    try:
        [ref] = open_cases(ingestor, item(score=1))
        worker.wake()
        slack.wait_for(lambda: any(ref in m["text"] for m in slack.messages(CH)), timeout=10)
    finally:
        worker.stop()
    assert not worker._thread.is_alive()


# -- digests, escalations and posts rendered before the upgrade ----------------------------------------


def test_a_digest_queued_by_the_core_function_is_posted_once_to_its_teams_channel(
    worker, slack, sessions, config
) -> None:  # noqa: ANN001
    team = config.teams["delivery"]
    with sessions.begin() as s:
        key = enqueue_digest(s, team, at=MONDAY_NINE, now=utcnow())
        assert enqueue_digest(s, team, at=MONDAY_NINE, now=utcnow()) == key  # the same period
    assert worker.deliver_due() == 1
    [message] = slack.messages(CH)
    assert key_of(message) == key == f"digest:delivery:{MONDAY_NINE.isoformat()}"
    assert message["text"].startswith("Huddle digest for Delivery Ops")
    # Composed when delivered, for the period up to `at`: Friday 09:00 → Monday 09:00 in New York.
    shown = json.dumps(message["blocks"])
    assert "Fri 6 Mar 09:00" in shown and "Mon 9 Mar 09:00" in shown
    assert worker.deliver_due() == 0 and slack.messages("C0SUPPORT") == []


def test_a_digest_of_a_team_no_longer_configured_fails_for_good(worker, sessions, config) -> None:  # noqa: ANN001
    gone = config.teams["support"].model_copy(update={"key": "returns"})
    with sessions.begin() as s:
        key = enqueue_digest(s, gone, at=MONDAY_NINE, now=utcnow())
    assert worker.deliver_due() == 1
    assert worker.deliveries.post_error(key) == "there is no team 'returns' any more"
    assert worker.failed_kinds == ["digest"]


def test_a_post_rendered_before_the_upgrade_is_still_delivered_as_it_was(
    worker, slack, sessions, config
) -> None:  # noqa: ANN001
    # What the huddle job queued before digests had a kind of their own: the message itself.
    team = config.teams["delivery"]
    message = digest_message(
        Digests(sessions, config).for_team("delivery", MONDAY_NINE), team, now=MONDAY_NINE
    )
    with sessions.begin() as s:
        outbox.enqueue(
            s,
            key="huddle:delivery:2026-03-09T13:00Z",
            kind="post",
            channel=CH,
            payload=message,
            now=utcnow(),
        )
    assert worker.deliver_due() == 1
    [posted] = slack.messages(CH)
    blocks = [{k: v for k, v in b.items() if k != "block_id"} for b in posted["blocks"]]
    assert (posted["text"], blocks) == (message["text"], message["blocks"])  # Slack adds block ids
    assert key_of(posted) == "huddle:delivery:2026-03-09T13:00Z"


def test_an_escalation_past_twice_the_sla_reaches_the_case_thread_and_the_leaders_channel(
    worker, slack, sessions, cases, config, ingestor
) -> None:  # noqa: ANN001
    [ref] = open_cases(ingestor, item(score=1, comment="never arrived"))
    worker.deliver_due()
    [message] = slack.messages(CH)
    later = utcnow() + timedelta(minutes=31)  # delivery's ack SLA is 15m: past twice it
    escalations = Escalations(sessions, config, cases)
    assert [level for _, level in escalations.run(later)] == ["ack", "ack_leaders"]
    worker.clock.shift = timedelta(minutes=31)
    assert worker.deliver_due() == 3  # two thread lines, one leaders' post
    [leaders] = slack.messages(LEADERS)
    assert leaders["text"].startswith(f"Escalation: {ref} (Delivery Ops)")
    assert "<@U0LEADER1>" in json.dumps(leaders["blocks"])
    assert key_of(leaders) == f"case:{case_id(ref)}:escalation:ack_leaders:leaders"
    assert len(slack.replies(CH, message["ts"])) == 2
