"""The huddle digest job: at each team's cron, claim the fire and enqueue the digest of the period up to it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.delivery import claims
from bot.reports.digest import enqueue_digest
from jobs.context import JobContext

log = logging.getLogger("loopbot.jobs.huddle")

JOB = "huddle"
# SPEC §6: a huddle missed while Loopbot was down is still posted when it is less than this late.
CATCH_UP = timedelta(hours=1)


def post_key(team_key: str, fire_at: datetime) -> str:
    return f"huddle:{team_key}:{fire_at:%Y-%m-%dT%H:%MZ}"


def run(ctx: JobContext, team_key: str, fire_at: datetime | None = None) -> bool:
    """Post the digest of `team_key` for the fire at `fire_at` (default: its latest fire); True when this
    call claimed the fire, False when it was claimed already (another replica, or a run before a restart)."""
    now = ctx.clock()
    team = ctx.config.teams[team_key]
    fire_at = fire_at or team.huddle.previous_fire(team.tz, now)
    with ctx.sessions.begin() as s:
        if not claims.claim(s, job=JOB, scope=team_key, fire_at=fire_at, now=now, by=ctx.replica):
            return False
        # Claim and post commit together: a crash before the commit leaves both undone, after it both done.
        # The digest covers the period up to the fire time, not to whenever it goes out: a late post says the same.
        enqueue_digest(s, team, at=fire_at, now=now, key=post_key(team_key, fire_at))
    log.info("huddle digest of %s for %s enqueued", team_key, f"{fire_at:%Y-%m-%d %H:%M}Z")
    ctx.notify()
    return True


def catch_up(ctx: JobContext, team_key: str) -> bool:
    """At start-up and every minute: post the team's latest huddle if its fire went by unposted
    (Loopbot was down, or its database when the job ran) and it is less than an hour late."""
    now = ctx.clock()
    team = ctx.config.teams[team_key]
    last = team.huddle.previous_fire(team.tz, now)
    with ctx.reads.begin() as s:
        if claims.claimed(s, job=JOB, scope=team_key, fire_at=last):
            return False
    late = now - last
    if late >= CATCH_UP:
        with ctx.sessions.begin() as s:
            # Claimed as skipped, so the skip is logged once, not at every start.
            if claims.claim(
                s, job=JOB, scope=team_key, fire_at=last, now=now, by=f"skipped by {ctx.replica}"
            ):
                log.info(
                    "huddle of %s at %s was missed (Loopbot or its database was down); %s late, over an hour: skipped",
                    team_key,
                    f"{last:%Y-%m-%d %H:%M}Z",
                    _minutes(late),
                )
        return False
    log.info(
        "huddle of %s at %s was missed (Loopbot or its database was down); posting it %s late",
        team_key,
        f"{last:%Y-%m-%d %H:%M}Z",
        _minutes(late),
    )
    return run(ctx, team_key, last)


def _minutes(late: timedelta) -> str:
    return f"{int(late.total_seconds() // 60)} min"
