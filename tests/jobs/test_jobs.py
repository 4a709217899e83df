"""The scheduled jobs on a fixed clock: a huddle is claimed and enqueued once, a missed one is caught up only
when less than an hour late, the weekly summary goes to the leaders' channel, and failures stay isolated."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.charts.request import CHART_KIND, ChartRequest
from bot.delivery import outbox
from config.cron import parse_cron
from jobs import huddle, periodic
from jobs.scheduler import Scheduler, catch_up, isolated
from storage.models import Claim, OutboxMessage

NINE_NEW_YORK = datetime(
    2026, 3, 9, 13, 0, tzinfo=UTC
)  # Monday 09:00 EDT, the delivery team's default huddle


def posts(sessions, kind: str | None = outbox.DIGEST) -> list[OutboxMessage]:  # noqa: ANN001
    """The outbox's posts of `kind` (None: of every kind)."""
    where = [] if kind is None else [OutboxMessage.kind == kind]
    with sessions.begin() as s:
        return list(s.scalars(select(OutboxMessage).where(*where).order_by(OutboxMessage.id)))


def test_a_huddle_fire_is_claimed_and_its_digest_enqueued_once(ctx, sessions, clock) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(seconds=2)
    assert huddle.run(ctx, "delivery") is True
    assert (
        huddle.run(ctx, "delivery") is False
    )  # a second replica, or the same fire after a restart
    [post] = posts(sessions)
    assert post.key == "huddle:delivery:2026-03-09T13:00Z"
    assert post.channel == "C0DELIVERY" and post.state == "pending"
    # The team and the period, composed and rendered when delivered (tests/jobs/test_job_posts.py).
    assert post.payload == {"team": "delivery", "at": NINE_NEW_YORK.isoformat()}
    with sessions.begin() as s:
        claim = s.get(Claim, ("huddle", "delivery", NINE_NEW_YORK))
        assert claim is not None and claim.claimed_by == "test"
    assert ctx.notified == [1]


def test_a_missed_huddle_is_posted_on_start_up_when_less_than_an_hour_late(
    ctx, sessions, clock
) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(minutes=59)
    assert huddle.catch_up(ctx, "delivery") is True
    assert [p.key for p in posts(sessions)] == ["huddle:delivery:2026-03-09T13:00Z"]
    assert huddle.catch_up(ctx, "delivery") is False  # posted already: nothing to catch up
    assert len(posts(sessions)) == 1


def test_a_missed_huddle_an_hour_late_or_more_is_skipped_with_one_log_line(
    ctx, sessions, clock, caplog
) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(hours=1)
    with caplog.at_level(logging.INFO, logger="loopbot.jobs.huddle"):
        assert huddle.catch_up(ctx, "delivery") is False
        assert (
            huddle.catch_up(ctx, "delivery") is False
        )  # a second start: the skip is not logged again
    assert posts(sessions) == []
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "delivery" in skipped[0] and "60 min late" in skipped[0]


def test_a_fire_whose_run_failed_is_posted_by_the_next_minutes_catch_up(
    ctx, sessions, clock, config
) -> None:  # noqa: ANN001
    # The huddle's and the weekly summary's own runs at 09:00 New York failed (the database was
    # down): nothing was claimed. The minutely catch-up posts both, once.
    ctx.config = config.model_copy(update={"weekly_summary": parse_cron("0 13 * * mon")})
    clock.at = NINE_NEW_YORK + timedelta(minutes=3)
    assert Scheduler(ctx).aps.get_job("catch_up") is not None  # registered, every minute
    catch_up(ctx)
    catch_up(ctx)
    assert [p.key for p in posts(sessions)] == ["huddle:delivery:2026-03-09T13:00Z"]
    weekly = ctx.config.weekly_summary.previous_fire(ctx.config.defaults_tz, clock.at)
    assert clock.at - weekly < huddle.CATCH_UP
    assert [p.key for p in posts(sessions, outbox.WEEKLY)] == [f"weekly:{weekly:%Y-%m-%dT%H:%MZ}"]


def test_the_digest_covers_the_period_up_to_the_fire_even_when_posted_late(
    ctx, sessions, clock
) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(minutes=30)
    huddle.run(ctx, "delivery", NINE_NEW_YORK)
    [post] = posts(sessions)
    assert post.payload["at"] == NINE_NEW_YORK.isoformat() and post.created_at == clock.at


def test_weekly_summary_is_enqueued_once_to_the_leaders_channel(
    ctx, sessions, clock, config
) -> None:  # noqa: ANN001
    ctx.config = config.model_copy(update={"weekly_summary": parse_cron("0 9 * * mon")})
    clock.at = datetime(2026, 3, 9, 9, 0, 5, tzinfo=UTC)
    assert periodic.weekly(ctx) is True
    assert periodic.weekly(ctx) is False
    [post] = posts(sessions, outbox.WEEKLY)
    assert post.key == "weekly:2026-03-09T09:00Z" and post.channel == "C0LEADERS"
    assert post.payload == {"at": "2026-03-09T09:00:00+00:00"}
    [chart] = posts(
        sessions, CHART_KIND
    )  # with the CSAT chart of all teams over the 4 weeks before the fire
    assert chart.key == "weekly:2026-03-09T09:00Z:chart" and chart.channel == "C0LEADERS"
    assert ChartRequest.from_payload(chart.payload) == ChartRequest(
        "csat", ("delivery", "support"), True, 28, "4w", datetime(2026, 3, 9, 9, tzinfo=UTC)
    )


def test_no_weekly_summary_without_a_schedule_or_a_leaders_channel(ctx, sessions, config) -> None:  # noqa: ANN001
    assert config.weekly_summary is None
    assert periodic.weekly(ctx) is False
    assert posts(sessions, None) == []


def test_minute_jobs_are_claimed_once_per_minute(ctx, sessions, clock) -> None:  # noqa: ANN001
    clock.at = NINE_NEW_YORK + timedelta(seconds=1)
    periodic.thresholds(ctx)
    periodic.escalations(ctx)
    clock.at = NINE_NEW_YORK + timedelta(seconds=40)  # the same minute, another replica
    periodic.thresholds(ctx)
    with sessions.begin() as s:
        fires = sorted((c.job, c.fire_at) for c in s.scalars(select(Claim)))
    assert fires == [("escalations", NINE_NEW_YORK), ("thresholds", NINE_NEW_YORK)]


def test_scheduler_registers_each_team_in_its_time_zone(ctx) -> None:  # noqa: ANN001
    scheduler = Scheduler(ctx)
    ids = {job.id for job in scheduler.aps.get_jobs()}
    assert {"huddle:delivery", "huddle:support", "thresholds", "escalations", "retention"} <= ids
    trigger = scheduler.aps.get_job("huddle:delivery").trigger
    after = datetime(2026, 3, 7, tzinfo=UTC)  # Saturday: the default huddle is mon-fri
    assert trigger.get_next_fire_time(None, after) == NINE_NEW_YORK
    assert scheduler.aps.get_job("huddle:support").trigger.get_next_fire_time(
        None, after
    ) == datetime(2026, 3, 9, 9, tzinfo=UTC)


def test_a_failing_job_is_logged_and_does_not_raise(caplog) -> None:  # noqa: ANN001
    def broken(team: str) -> None:
        raise RuntimeError(f"no digest for {team}")

    with caplog.at_level(logging.ERROR, logger="loopbot.jobs"):
        isolated("huddle:delivery", broken)("delivery")
    assert "job huddle:delivery failed" in caplog.text and "no digest for delivery" in caplog.text
