"""A chart asked for, as the outbox keeps it until the chart worker draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CHART_KIND = "chart"  # the outbox kind, delivered on a lane of its own (bot.slack.delivery.chart)


@dataclass(frozen=True)
class ChartRequest:
    """Everything needed to draw the same chart again on a retry: the period is fixed when it is asked for."""

    kind: str  # one of bot.charts.model.KINDS
    teams: tuple[str, ...]  # team keys, in config order
    all_teams: bool
    days: int
    period: str  # as typed: "30d", "12w"
    until: datetime  # when it was asked for
    user: str | None = (
        None  # who asked (told if there is no data); None for the weekly summary's chart
    )
    by: str | None = None  # a breakdown: segment | touchpoint | category | channel (SPEC §9)

    def payload(self) -> dict[str, Any]:
        # "by" only when set: payloads of plain charts stay as they were, and old rows still read.
        extra = {"by": self.by} if self.by is not None else {}
        return {
            "kind": self.kind,
            "teams": list(self.teams),
            "all": self.all_teams,
            "days": self.days,
            "period": self.period,
            "until": self.until.isoformat(),
            "user": self.user,
            **extra,
        }

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> ChartRequest:
        return cls(
            kind=p["kind"],
            teams=tuple(p["teams"]),
            all_teams=p["all"],
            days=p["days"],
            period=p["period"],
            until=datetime.fromisoformat(p["until"]),
            user=p.get("user"),
            by=p.get("by"),
        )
