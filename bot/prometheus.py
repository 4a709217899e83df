"""Prometheus metrics, one registry per process (tests build their own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.cases.model import CaseChange
from bot.delivery.parking import Parked

# Buckets from minutes to weeks: SLAs run from 15 minutes (ack) to several days (resolve).
_DURATION_BUCKETS = (
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    86400,
    2 * 86400,
    4 * 86400,
    7 * 86400,
)


class Prometheus:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.feedback_accepted = Counter(
            "loopbot_feedback_accepted", "Feedback items stored", ["team"], registry=r
        )
        self.feedback_duplicates = Counter(
            "loopbot_feedback_duplicates", "Feedback items skipped as already stored", registry=r
        )
        self.feedback_updated = Counter(
            "loopbot_feedback_updated",
            "Re-sent feedback items whose comment, score or fields changed",
            registry=r,
        )
        self.feedback_rejected = Counter(
            "loopbot_feedback_rejected",
            "Ingestion requests refused, by HTTP status",
            ["status"],
            registry=r,
        )
        self.cases_opened = Counter(
            "loopbot_cases_opened", "Cases opened", ["team", "kind"], registry=r
        )
        self.cases_acknowledged = Counter(
            "loopbot_cases_acknowledged",
            "Cases acknowledged (a resolve straight from open counts too)",
            ["team"],
            registry=r,
        )
        self.cases_resolved = Counter(
            "loopbot_cases_resolved", "Cases resolved", ["team"], registry=r
        )
        self.tta = Histogram(
            "loopbot_time_to_acknowledge_seconds",
            "Time from a case opening to its acknowledgement",
            ["team"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.ttr = Histogram(
            "loopbot_time_to_resolve_seconds",
            "Time from a case opening to its resolution",
            ["team"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.slack_errors = Counter(
            "loopbot_slack_api_errors",
            "Failed Slack Web API calls",
            ["method", "error"],
            registry=r,
        )
        self.posts_failed = Counter(
            "loopbot_slack_posts_failed",
            "Outbox posts Slack refused for good",
            ["kind"],
            registry=r,
        )

    def case_changed(self, change: CaseChange, before: str) -> None:
        team, kind = change.case.team, change.event.kind
        elapsed = (change.event.at - change.case.opened_at).total_seconds()
        if kind == "acknowledged" or (kind == "resolved" and before == "open"):
            self.cases_acknowledged.labels(team).inc()
            self.tta.labels(team).observe(elapsed)
        if kind == "resolved":
            self.cases_resolved.labels(team).inc()
            self.ttr.labels(team).observe(elapsed)

    def slack_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method, error).inc()

    def watch_outbox(
        self,
        counts: Callable[[], dict[str, int]],
        parked: Callable[[], list[Parked]] | None = None,
    ) -> None:
        """Report the outbox backlog and what waits on a fix, read from the database at each scrape (so every
        replica agrees)."""
        self.registry.register(_OutboxCollector(counts, parked))


class _OutboxCollector(Collector):
    def __init__(
        self, counts: Callable[[], dict[str, int]], parked: Callable[[], list[Parked]] | None
    ):
        self.counts = counts
        self.parked = parked

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "loopbot_outbox_messages", "Outbox posts by state", labels=["state"]
        )
        waiting = GaugeMetricFamily(
            "loopbot_outbox_parked_posts",
            "Posts waiting on a fix (the bot's token, an app scope, or a channel), by what waits and why",
            labels=["scope", "error"],
        )
        try:
            counts = self.counts()
            parked = self.parked() if self.parked is not None else []
        except Exception:  # a scrape during a database outage reports what it can
            return
        for state in ("pending", "sending", "delivered", "grouped", "failed", "parked"):
            family.add_metric([state], counts.get(state, 0))
        yield family
        for p in parked:
            waiting.add_metric([p.label, p.error], p.posts)
        yield waiting
