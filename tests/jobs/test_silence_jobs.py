"""The end of silences as a job: claimed per minute so one replica ends each once, catching up after a restart;
the start and end posts reach the team's channel (the emulator) exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.alerts.silences import Silences
from bot.delivery.deliveries import Deliveries
from bot.slack.client import make_client
from bot.slack.delivery.lanes import posts_worker
from bot.slack.delivery.worker import OutboxWorker
from config.settings import Settings
from jobs import periodic
from jobs.context import JobContext
from jobs.scheduler import Scheduler
from slack_emulator import SlackEmulator
from storage.models import Claim, OutboxMessage
from tests.e2e.harness import CHANNELS, USERS
from tests.storage.test_silences import rules_config

SUPER, LEADER = "U0SUPER1", "U0LEADER1"
MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def sctx(ctx: JobContext) -> JobContext:
    """The job context with a config whose delivery team has rules to silence."""
    config = rules_config()
    silences = Silences(ctx.sessions, config, reads=ctx.reads)
    notified: list[int] = ctx.notified  # type: ignore[attr-defined]
    return replica(replace(ctx, config=config, silences=silences), ctx.replica, notified)


def replica(ctx: JobContext, name: str, notified: list[int]) -> JobContext:
    """Another replica's context on the same database; wake-ups of both are counted in `notified`."""
    other = replace(ctx, replica=name, notify=lambda: notified.append(1))
    other.notified = notified  # type: ignore[attr-defined]
    return other


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def worker(sctx, slack, cases) -> OutboxWorker:  # noqa: ANN001
    client = make_client(
        Settings(
            slack_bot_token=slack.bot_token,
            slack_app_token=slack.app_token,
            slack_api_url=slack.api_url,
        )
    )
    return posts_worker(
        Deliveries(sctx.sessions),
        cases,
        sctx.config,
        client,
        reads=sctx.reads,
        silences=sctx.silences,
        clock=sctx.clock,
    )


def silence_posts(sessions) -> list[str]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(OutboxMessage.key)
                .where(OutboxMessage.key.like("silence:%"))
                .order_by(OutboxMessage.id)
            )
        )


def test_one_replica_ends_a_silence_in_the_minute_it_runs_out(sctx, clock) -> None:  # noqa: ANN001
    sctx.silences.start("delivery", "csat", "1h", "courier strike", SUPER, "command", clock.at)
    other = replica(sctx, "other", sctx.notified)
    clock.at += HOUR - MIN
    periodic.silences(sctx)
    assert silence_posts(sctx.sessions) == ["silence:1:start"] and sctx.notified == []
    clock.at += MIN + timedelta(seconds=55)
    periodic.silences(other)  # the first replica to fire this minute claims it ...
    periodic.silences(sctx)  # ... and the second finds the minute taken
    assert silence_posts(sctx.sessions) == ["silence:1:start", "silence:1:end"]
    with sctx.sessions() as s:
        [claim] = s.scalars(
            select(Claim).where(Claim.job == "silences", Claim.fire_at > clock.at - MIN)
        )
        assert claim.claimed_by == "other"
    assert sctx.notified == [1]  # the other replica's context shares the list
    ended = sctx.silences.get("S-1").silence
    assert ended.expired and ended.ended_at == ended.ends_at


def test_after_a_restart_the_first_run_ends_what_ran_out_meanwhile(sctx, clock) -> None:  # noqa: ANN001
    start = clock.at
    for rule, length in (("csat", "1h"), ("cases", "2h"), ("all", "1d")):
        sctx.silences.start("delivery", rule, length, "outage", LEADER, "command", start)
    clock.at = start + 3 * HOUR  # down from before the first ended until after the second did
    periodic.silences(sctx)
    assert silence_posts(sctx.sessions)[3:] == ["silence:1:end", "silence:2:end"]
    assert [s.ref for s in sctx.silences.list(None, clock.at)] == ["S-3"]
    clock.at += MIN
    periodic.silences(sctx)
    assert len(silence_posts(sctx.sessions)) == 5


def test_start_and_end_are_posted_in_the_channel_once(sctx, clock, worker, slack) -> None:  # noqa: ANN001
    start = clock.at  # Monday 9 March 07:30 EDT for the delivery team
    sctx.silences.start("delivery", "csat", "4h", "courier <strike>", SUPER, "command", start)
    assert worker.deliver_due() == 1
    clock.at = start + HOUR
    sctx.silences.end("S-1", LEADER, "command", clock.at)
    assert worker.deliver_due() == 1
    clock.at = start + 5 * HOUR
    periodic.silences(sctx)  # ended already: time adds nothing
    assert worker.deliver_due() == 0
    first, second = slack.messages("C0DELIVERY")
    assert first["metadata"]["event_payload"]["key"] == "silence:1:start"
    assert first["text"] == (
        "S-1: CSAT alerts of Delivery Ops silenced until Mon 9 Mar 11:30 EDT by <@U0SUPER1> — "
        "courier &lt;strike&gt;"
    )
    assert second["metadata"]["event_payload"]["key"] == "silence:1:end"
    assert (
        second["text"]
        == "S-1: the silence of CSAT alerts of Delivery Ops ended early by <@U0LEADER1>"
    )
    assert slack.messages("C0SUPPORT") == []


def test_a_silence_that_runs_out_is_announced_as_ended(sctx, clock, worker, slack) -> None:  # noqa: ANN001
    sctx.silences.start("delivery", "all", "90m", "maintenance", SUPER, "command", clock.at)
    clock.at += 2 * HOUR
    periodic.silences(sctx)
    assert worker.deliver_due() == 2
    assert [m["text"] for m in slack.messages("C0DELIVERY")][1] == (
        "S-1: the silence of All alerts of Delivery Ops ended"
    )


def test_the_scheduler_runs_the_job_every_minute_before_the_rules(sctx) -> None:  # noqa: ANN001
    job = Scheduler(sctx).aps.get_job("silences")
    assert job is not None and str(job.trigger.fields[-1]) == "55"  # second=55
