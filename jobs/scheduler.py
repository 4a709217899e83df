"""APScheduler 3 BackgroundScheduler for `loopbot run`: one huddle job per team in its time zone, threshold
rules, escalations, verification of fixes and the end of silences every minute, the weekly summary, and the
daily retention purge."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.feedback.ingest import IngestResult
from jobs import huddle, periodic
from jobs.context import JobContext

log = logging.getLogger("loopbot.jobs")


def isolated(name: str, fn: Callable[..., Any]) -> Callable[..., None]:
    """A failing run is logged with the job named and the next fire comes as usual (one team's failure is
    its own job's, never the others')."""

    @functools.wraps(fn)
    def run(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("job %s failed; it runs again at its next fire", name)

    return run


def catch_up(ctx: JobContext) -> None:
    """Every team's latest huddle and the weekly summary, if missed and less than an hour late."""
    for key in ctx.config.teams:
        isolated(f"huddle:{key} catch-up", huddle.catch_up)(ctx, key)
    isolated("weekly catch-up", periodic.weekly_catch_up)(ctx)


class Scheduler:
    def __init__(self, ctx: JobContext):
        self.ctx = ctx
        self.aps = BackgroundScheduler(
            timezone=UTC,
            # DESIGN rule 8: a fire that piles up behind a slow one runs once, never two at a time.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self._pending: set[str] = set()  # teams with feedback not evaluated yet (after_ingest)
        self._lock = threading.Lock()
        self._register()

    def _add(
        self,
        job_id: str,
        fn: Callable[..., Any],
        trigger: CronTrigger,
        args: Iterable[Any] = (),
        **kw: Any,
    ) -> None:
        self.aps.add_job(
            isolated(job_id, fn),
            trigger,
            args=[self.ctx, *args],
            id=job_id,
            name=job_id,
            replace_existing=True,
            **kw,
        )

    def _register(self) -> None:
        config = self.ctx.config
        for key, team in config.teams.items():
            # The trigger works in the team's wall time, so 07:30 stays 07:30 across daylight-saving changes.
            self._add(
                f"huddle:{key}",
                huddle.run,
                team.huddle.trigger(team.tz),
                [key],
                misfire_grace_time=int(huddle.CATCH_UP.total_seconds()),
            )
        self._add("thresholds", periodic.thresholds, CronTrigger(second=0, timezone=UTC))
        self._add("escalations", periodic.escalations, CronTrigger(second=30, timezone=UTC))
        self._add(
            "action_escalations", periodic.action_escalations, CronTrigger(second=40, timezone=UTC)
        )
        self._add("verification", periodic.verification, CronTrigger(second=15, timezone=UTC))
        # Just before the rule evaluation at :00: the channel hears a silence ended before a breach it kept
        # quiet opens its case (evaluation itself never applies a silence past its end).
        self._add("silences", periodic.silences, CronTrigger(second=55, timezone=UTC))
        if config.weekly_summary is not None and config.leaders_channel is not None:
            self._add(
                "weekly",
                periodic.weekly,
                config.weekly_summary.trigger(config.defaults_tz),
                misfire_grace_time=3600,
            )
        # A huddle or weekly fire that went by unposted (its run failed: the database was down) is
        # posted within a minute of the database answering again, as one missed while Loopbot was down
        # is at start-up. After the fire's own job, which runs at :00.
        self._add("catch_up", catch_up, CronTrigger(second=45, timezone=UTC))
        self._add(
            "retention",
            periodic.retention,
            CronTrigger(hour=3, minute=17, timezone=UTC),
            misfire_grace_time=6 * 3600,
        )

    def start(self) -> None:
        catch_up(self.ctx)
        self.aps.start()
        log.info("scheduler started: %d job(s)", len(self.aps.get_jobs()))

    def after_ingest(self, result: IngestResult) -> None:
        """Evaluate the threshold rules of the teams that got feedback soon, off the request path. Ingestion
        may come many times a second: teams gather in one pending set, and one job at a time evaluates them."""
        for team, oldest in result.oldest_by_team.items():
            self.ctx.thresholds.spc.touched(team, oldest)
        with self._lock:
            first = not self._pending
            self._pending.update(result.accepted_by_team)
            self._pending.update(result.updated_by_team)  # a changed score moves the rates too
        if first and self.aps.running:
            # Up to one run in progress and one queued behind it; the queued one takes whatever gathered.
            self.aps.add_job(
                isolated("thresholds after ingestion", self._evaluate_pending),
                id="thresholds:ingested",
                replace_existing=True,
                max_instances=2,
                misfire_grace_time=None,
            )

    def _evaluate_pending(self) -> None:
        with self._lock:
            keys, self._pending = self._pending, set()
        if keys:
            periodic.evaluate_now(self.ctx, sorted(keys))

    def stop(self) -> None:
        """Let running jobs finish (they are short), then stop."""
        if self.aps.running:
            self.aps.shutdown(wait=True)
