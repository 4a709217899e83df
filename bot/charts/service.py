"""Charts on demand: a request is queued in the outbox at once; its numbers are read when the chart worker takes it."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.cases.permissions import named_team
from bot.charts import data, groups
from bot.charts.localtime import period_bounds
from bot.charts.model import KINDS, ChartData, Scope
from bot.charts.request import CHART_KIND, ChartRequest
from bot.delivery import outbox
from bot.privacy import audit
from config.teams import LoopbotConfig, Team


class Charts:
    def __init__(
        self, sessions: sessionmaker[Session], reads: sessionmaker[Session], config: LoopbotConfig
    ):
        self.sessions = sessions
        self.reads = reads
        self.config = config

    def request(self, req: ChartRequest, *, channel: str, key: str | None = None) -> str:
        """Queue the chart for `channel`; returns the outbox key. `key` makes a repeated request a no-op."""
        if req.kind not in KINDS:
            raise ValueError(f"unknown chart kind {req.kind!r}")
        groups.check_breakdown(req.kind, req.by)  # refused before anything is queued
        for team in req.teams:
            named_team(
                self.config, team
            )  # an unknown key raises NotFound before anything is queued
        key = key or f"chart:{uuid.uuid4().hex}"
        with self.sessions.begin() as s:
            added = outbox.enqueue(
                s, key=key, kind=CHART_KIND, channel=channel, payload=req.payload(), now=req.until
            )
            # A chart is the one export there is (SPEC §11): the audit log says who took which.
            if added and req.user:
                audit.record(s, actor=req.user, kind=audit.EXPORT, now=req.until, detail=_what(req))
        return key

    def build(self, req: ChartRequest) -> ChartData | None:
        """The chart's numbers, or None when its period holds nothing to draw."""
        teams = [named_team(self.config, key) for key in req.teams]
        tz = ZoneInfo(teams[0].timezone if len(teams) == 1 and not req.all_teams else "UTC")
        since, days = period_bounds(tz, req.days, req.until)
        scope = Scope(
            title=self.title(req, teams), period=req.period, since=since, until=req.until, tz=tz.key
        )
        with self.reads.begin() as s:
            if req.by is not None:
                return groups.breakdown_chart(s, scope, teams, req.kind, req.by, days)
            if req.kind in ("csat", "nps", "ces"):
                return data.control_chart(s, scope, teams, req.kind, days)
            if req.kind == "volume":
                return data.volume_chart(s, scope, teams, days)
            if req.kind == "ttr":
                return data.ttr_chart(s, scope, teams)
            if req.kind == "pareto":
                return data.pareto_chart(s, scope, teams)
            return data.sla_chart(s, scope, teams)

    @staticmethod
    def title(req: ChartRequest, teams: list[Team]) -> str:
        return "All teams" if req.all_teams else ", ".join(t.name for t in teams)


def _what(req: ChartRequest) -> str:
    """chart csat by segment of delivery, support, last 30d (aggregates: no customer is named)."""
    by = f" by {req.by}" if req.by else ""
    teams = "all teams" if req.all_teams else ", ".join(req.teams)
    return f"chart {req.kind}{by} of {teams}, last {req.period}"
