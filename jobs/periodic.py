"""The every-minute jobs (threshold rules, escalations of cases and actions, verification of fixes, silences
running out), the weekly summary and the daily retention purge."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from bot.charts.request import CHART_KIND
from bot.delivery import claims, outbox
from bot.reports.weekly import weekly_chart
from jobs.context import JobContext
from jobs.huddle import CATCH_UP

log = logging.getLogger("loopbot.jobs")


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _claim(ctx: JobContext, job: str, fire_at: datetime) -> bool:
    with ctx.sessions.begin() as s:
        return claims.claim(s, job=job, scope="*", fire_at=fire_at, now=ctx.clock(), by=ctx.replica)


def thresholds(ctx: JobContext) -> None:
    """Every minute, by one replica: evaluate every team's rules."""
    now = ctx.clock()
    if _claim(ctx, "thresholds", _minute(now)):
        evaluate_now(ctx, None, now)


def evaluate_now(ctx: JobContext, teams: Iterable[str] | None, now: datetime | None = None) -> None:
    """Evaluate the rules of `teams` (all when None) now; also run right after an ingestion, unclaimed:
    a breach's case is opened once whoever evaluates (the unique active_rule), so a repeat is harmless."""
    report = ctx.thresholds.evaluate(now or ctx.clock(), teams)
    for case in report.opened:
        ctx.opened(case.team, "threshold")
    if report.opened or report.recovered:
        ctx.notify()


def escalations(ctx: JobContext) -> None:
    """Every minute, by one replica: escalate what is past its SLA (each case and level once, see bot.alerts.escalations)."""
    now = ctx.clock()
    if _claim(ctx, "escalations", _minute(now)) and ctx.escalations.run(now):
        ctx.notify()


def action_escalations(ctx: JobContext) -> None:
    """Every minute, by one replica: overdue corrective actions, each level once (bot.alerts.action_escalations)."""
    now = ctx.clock()
    if _claim(ctx, "action_escalations", _minute(now)) and ctx.action_escalations.run(now):
        ctx.notify()


def verification(ctx: JobContext) -> None:
    """Every minute, by one replica: verify the done actions whose after window closed (bot.cases.verification)."""
    now = ctx.clock()
    if _claim(ctx, "verification", _minute(now)) and ctx.verifier.run(now):
        ctx.notify()


def silences(ctx: JobContext) -> None:
    """Every minute, by one replica: end the silences whose time is up and tell their channels (each once;
    after a restart the first run catches up on every one that ran out meanwhile)."""
    now = ctx.clock()
    if (
        _claim(ctx, "silences", _minute(now))
        and ctx.silences is not None
        and ctx.silences.expire(now)
    ):
        ctx.notify()


def weekly(ctx: JobContext, fire_at: datetime | None = None) -> bool:
    """The weekly summary to the leaders' channel, once per fire."""
    now = ctx.clock()
    config = ctx.config
    if config.leaders_channel is None or config.weekly_summary is None:
        return False
    fire_at = fire_at or config.weekly_summary.previous_fire(config.defaults_tz, now)
    with ctx.sessions.begin() as s:
        if not claims.claim(s, job="weekly", scope="*", fire_at=fire_at, now=now, by=ctx.replica):
            return False
        key = f"weekly:{fire_at:%Y-%m-%dT%H:%MZ}"
        # Composed and rendered when it goes out (bot.slack.delivery.weekly): the 7 days before the fire.
        outbox.enqueue(
            s,
            key=key,
            kind=outbox.WEEKLY,
            channel=config.leaders_channel,
            payload={"at": fire_at.isoformat()},
            now=now,
        )
        # Drawn and shared by the chart worker, after the table.
        chart = weekly_chart(config, fire_at)
        outbox.enqueue(
            s,
            key=f"{key}:chart",
            kind=CHART_KIND,
            channel=config.leaders_channel,
            payload=chart.payload(),
            now=now,
        )
    log.info("weekly summary for %s enqueued", f"{fire_at:%Y-%m-%d %H:%M}Z")
    ctx.notify()
    return True


def weekly_catch_up(ctx: JobContext) -> bool:
    """The latest weekly summary, if its fire went by unposted and it is less than an hour late (as a
    huddle's: the fire's claim makes it once, whoever posts it)."""
    config, now = ctx.config, ctx.clock()
    if config.leaders_channel is None or config.weekly_summary is None:
        return False
    last = config.weekly_summary.previous_fire(config.defaults_tz, now)
    if now - last >= CATCH_UP:
        return False
    with ctx.reads.begin() as s:
        if claims.claimed(s, job="weekly", scope="*", fire_at=last):
            return False
    log.info("weekly summary of %s was missed; posting it now", f"{last:%Y-%m-%d %H:%M}Z")
    return weekly(ctx, last)


def retention(ctx: JobContext) -> None:
    """Daily, by one replica: purge feedback past retention_days with every copy of its customer's data
    (what `loopbot purge` runs too), and old delivery records."""
    now = ctx.clock()
    if _claim(ctx, "retention", now.replace(hour=0, minute=0, second=0, microsecond=0)):
        purged = ctx.retention.purge(now)
        log.info("retention: %s", purged)
