"""What a chart shows, as plain picklable data: the SQL layer fills it, the renderer draws it, the comment describes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

KINDS = ("csat", "nps", "ces", "volume", "ttr", "pareto", "sla")


@dataclass(frozen=True)
class Scope:
    """Whose data and when: a chart's title and time axis come from here."""

    title: str  # "Delivery Ops" or "All teams"
    period: str  # as typed: "30d", "12w"
    since: datetime  # UTC, inclusive
    until: datetime  # UTC, exclusive
    tz: str  # IANA zone of the time axis: the team's, UTC for all teams


@dataclass(frozen=True)
class ControlChart:
    """A daily csat / nps / ces series with its control limits (bot.charts.control).

    Every local day of the period is listed; a day with no responses has value, lower and upper None
    (drawn as a gap, not a zero). Limits depend on each day's n, so they step from day to day.
    """

    scope: Scope
    metric: str  # csat | nps | ces
    days: tuple[date, ...]
    n: tuple[int, ...]
    value: tuple[
        float | None, ...
    ]  # csat: % satisfied (0-100); nps: -100..100; ces: mean score (1-7)
    centre: float
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    out_of_control: tuple[bool, ...]  # value outside [lower, upper]
    # The raw sums the values came from, so the comment can compare weeks exactly:
    # csat (satisfied, 0, 0), nps (promoters, detractors, 0), ces (sum of scores, sum of squares, 0).
    sums: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class VolumeChart:
    scope: Scope
    days: tuple[date, ...]  # every local day of the period
    responses: tuple[int, ...]  # feedback submitted that day
    cases: tuple[int, ...]  # cases opened that day


@dataclass(frozen=True)
class TtrBox:
    """One team's time-to-resolve distribution in hours (quartiles by linear interpolation, numpy's default)."""

    team: str  # key
    name: str  # shown
    n: int
    q1: float
    median: float
    q3: float
    whisker_low: float  # the lowest value >= q1 - 1.5 IQR
    whisker_high: float  # the highest value <= q3 + 1.5 IQR
    fliers: tuple[float, ...]  # values beyond the whiskers
    sla_hours: float  # the team's resolve SLA


@dataclass(frozen=True)
class TtrChart:
    scope: Scope
    boxes: tuple[TtrBox, ...]  # teams with at least one resolved case, in config order


@dataclass(frozen=True)
class ParetoChart:
    scope: Scope
    causes: tuple[str, ...]  # root causes, most frequent first (ties by name)
    counts: tuple[int, ...]
    cumulative_percent: tuple[float, ...]  # running share of the total, ending at 100


@dataclass(frozen=True)
class SlaSeries:
    """One team's weekly compliance; None for a week in which no deadline fell."""

    team: str
    name: str
    ack_percent: tuple[float | None, ...]
    ack_due: tuple[int, ...]
    resolve_percent: tuple[float | None, ...]
    resolve_due: tuple[int, ...]


@dataclass(frozen=True)
class SlaChart:
    scope: Scope
    weeks: tuple[date, ...]  # the Monday (local) starting each week that overlaps the period
    teams: tuple[SlaSeries, ...]  # in config order


@dataclass(frozen=True)
class GroupSeries:
    """One group of a breakdown: a segment, touchpoint, category or channel value, "(none)", or "other"."""

    name: str
    n: tuple[int, ...]  # responses per local day
    # csat / nps / ces per day, None under the chart's min_n (volume: always None, n is what is drawn)
    value: tuple[float | None, ...]
    total: int  # responses over the period
    overall: float | None  # the metric over the period; None under min_n (and for volume)
    folded: int = 0  # how many groups "other" holds; 0 for a group of its own

    @property
    def label(self) -> str:
        """The name as legends and comments show it: "other (3 groups)" says how much it hides."""
        if not self.folded:
            return self.name
        return f"{self.name} ({self.folded} group{'s' if self.folded != 1 else ''})"


@dataclass(frozen=True)
class BreakdownChart:
    """A daily csat / nps / ces / volume series per group (SPEC §9 "Breakdowns"), no control limits."""

    scope: Scope
    metric: str  # csat | nps | ces | volume
    by: str  # segment | touchpoint | category | channel
    days: tuple[date, ...]  # every local day of the period
    groups: tuple[GroupSeries, ...]  # largest first (ties by name), "other" last
    min_n: int  # a group's day (or period) with fewer responses shows its n and no value


ChartData = ControlChart | VolumeChart | TtrChart | ParetoChart | SlaChart | BreakdownChart
