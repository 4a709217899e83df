"""Statistical process control of daily points (SPEC §9): centre line and sigma, Western Electric rules 1-4.

Pure and stdlib-only: the SQL layer (bot.alerts.spc_reads) hands in one `Counts` per local day, the rule
evaluation (bot.alerts.spc_rules) and the control charts (bot.charts.control) read the verdicts.

How a day of n responses spreads around the centre line, per kind of metric:
- "p" (CSAT = share satisfied, complaints = share of responses that are complaints of a category): a
  p-chart, σᵢ = √(p̄(1 − p̄)/nᵢ), in percent;
- "nps": each response scores +1, 0 or −1, with the trinomial variance σ² = (p₊ + p₋) − (p₊ − p₋)²,
  so σᵢ = 100·√(σ²/nᵢ);
- "mean" (CES): an X̄ chart, σᵢ = σ/√nᵢ with σ the pooled within-day standard deviation
  √(Σ within-day sums of squares / Σ(nᵢ − 1)): days differ in mean, and sigma must not absorb that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Kind = Literal["p", "nps", "mean"]
Side = Literal["above", "below"]
KINDS: dict[str, Kind] = {"csat": "p", "complaints": "p", "nps": "nps", "ces": "mean"}
# The side on which each metric gets worse: a signal there opens a case (SPEC §9).
BAD_SIDE: dict[str, Side] = {"csat": "below", "nps": "below", "ces": "above", "complaints": "above"}
LIMIT = 3.0  # the control limits are at ±3σ
# rule: (judged over the last k consecutive days, at least m of them, beyond this many σ on one side)
WESTERN_ELECTRIC: dict[int, tuple[int, int, float]] = {
    1: (1, 1, 3.0),
    2: (3, 2, 2.0),
    3: (5, 4, 1.0),
    4: (8, 8, 0.0),
}
# Shewhart limits want 20-25 subgroups; a baseline with fewer days of min_responses judges nothing.
MIN_BASELINE_DAYS = 10


@dataclass(frozen=True)
class Counts:
    """One day's sums. p: (successes, 0); nps: (promoters, detractors); mean: (Σ score, Σ score²)."""

    n: int
    first: int = 0
    second: int = 0


@dataclass(frozen=True)
class Spread:
    """Centre line and the standard deviation of one response, in the value's unit."""

    centre: float
    one: float

    def sigma(self, n: int) -> float:
        """The standard deviation of a day's value over n responses."""
        return self.one / math.sqrt(n)


@dataclass(frozen=True)
class Signal:
    rule: int  # 1-4, WESTERN_ELECTRIC
    side: Side


@dataclass(frozen=True)
class Point:
    """One local day. Judged: enough responses and a usable baseline; then centre and sigma are set.

    `marks`: the rules this day completes (it is itself beyond the rule's zone), as a chart marks them.
    `holding`: the rules whose pattern holds over the consecutive days ending here, as an alert reads them.
    """

    day: date
    n: int
    value: float | None
    centre: float | None = None
    sigma: float | None = None
    marks: tuple[Signal, ...] = ()
    holding: tuple[Signal, ...] = ()

    @property
    def judged(self) -> bool:
        return self.sigma is not None

    @property
    def lower(self) -> float | None:
        return None if self.sigma is None else self.centre - LIMIT * self.sigma  # type: ignore[operator]

    @property
    def upper(self) -> float | None:
        return None if self.sigma is None else self.centre + LIMIT * self.sigma  # type: ignore[operator]

    @property
    def z(self) -> float | None:
        if self.sigma is None or self.value is None:
            return None
        return (self.value - self.centre) / self.sigma  # type: ignore[operator]


# -- the maths of one kind ------------------------------------------------------------------------------


def value(kind: Kind, c: Counts) -> float | None:
    """The day's value: % for p and NPS, the mean score for CES; None without responses."""
    if not c.n:
        return None
    if kind == "p":
        return 100 * c.first / c.n
    if kind == "nps":
        return 100 * (c.first - c.second) / c.n
    return c.first / c.n


def spread(kind: Kind, days: Sequence[Counts]) -> Spread | None:
    """Centre and one response's sigma from the pooled days; None when they hold no response."""
    total = sum(c.n for c in days)
    if not total:
        return None
    if kind == "p":
        p = sum(c.first for c in days) / total
        return Spread(100 * p, 100 * math.sqrt(p * (1 - p)))
    if kind == "nps":
        up, down = sum(c.first for c in days) / total, sum(c.second for c in days) / total
        return Spread(100 * (up - down), 100 * math.sqrt(max(0.0, (up + down) - (up - down) ** 2)))
    within = sum(c.second - c.first * c.first / c.n for c in days if c.n)  # Σ Σ (x − x̄ᵢ)²
    freedom = sum(c.n - 1 for c in days if c.n)
    one = math.sqrt(max(0.0, within) / freedom) if freedom > 0 else 0.0
    return Spread(sum(c.first for c in days) / total, one)


# -- judging daily points against their baselines -------------------------------------------------------


def judge(
    kind: Kind,
    first_day: date,
    counts: Sequence[Counts],
    *,
    baseline_days: int,
    judge_from: int,
    min_responses: int,
) -> list[Point]:
    """Points for counts[judge_from:], one per consecutive local day (counts[0] is `first_day`).

    Each point is judged against the `baseline_days` days just before it: it needs min_responses responses
    itself, and its baseline at least MIN_BASELINE_DAYS days of min_responses and some variation. A day
    that is not judged breaks every run: the rules count consecutive days.
    """
    points = []
    for i in range(judge_from, len(counts)):
        c, day = counts[i], first_day + timedelta(days=i)
        base = counts[max(0, i - baseline_days) : i]
        s = spread(kind, base)
        usable = (
            s is not None
            and s.one > 0  # no variation at all: any change would be "beyond 3σ"
            and sum(1 for b in base if b.n >= min_responses) >= MIN_BASELINE_DAYS
        )
        if c.n >= min_responses and usable:
            points.append(Point(day, c.n, value(kind, c), s.centre, s.sigma(c.n)))  # type: ignore[union-attr]
        else:
            points.append(Point(day, c.n, value(kind, c)))
    return with_rules(points)


def with_rules(points: Sequence[Point]) -> list[Point]:
    """The points with their marks and holding patterns; `points` are consecutive days."""
    zs = [p.z for p in points]
    return [
        Point(p.day, p.n, p.value, p.centre, p.sigma, marks(zs, i), holding(zs, i))
        for i, p in enumerate(points)
    ]


def holding(zs: Sequence[float | None], i: int) -> tuple[Signal, ...]:
    """Rules whose pattern holds over the run of judged days ending at i (None: a day not judged).

    A pattern holds while its last k days still meet it, even when day i itself is ordinary: 4 of the
    last 5 days beyond 1σ is still true after one quiet day, and an alert must not recover and fire again
    between two days of one shift.
    """
    if zs[i] is None:
        return ()
    start = i
    while start > 0 and zs[start - 1] is not None:
        start -= 1
    found = []
    for rule, (k, m, zone) in WESTERN_ELECTRIC.items():
        tail = zs[max(start, i - k + 1) : i + 1]
        for side, sign in (("above", 1), ("below", -1)):
            if sum(1 for z in tail if sign * z > zone) >= m:  # type: ignore[operator]
                found.append(Signal(rule, side))  # type: ignore[arg-type]
    return tuple(found)


def marks(zs: Sequence[float | None], i: int) -> tuple[Signal, ...]:
    """The holding rules that day i itself takes part in: the days a chart marks."""
    z = zs[i]
    return tuple(
        s
        for s in holding(zs, i)
        if z is not None and (z if s.side == "above" else -z) > WESTERN_ELECTRIC[s.rule][2]
    )


def latest(points: Sequence[Point]) -> Point | None:
    """The last judged point, if any."""
    return next((p for p in reversed(points) if p.judged), None)


def active(points: Sequence[Point], bad: Side) -> tuple[Signal, ...]:
    """Signals on the bad side holding at the latest judged day, rule 1 first; () when none."""
    last = latest(points)
    return tuple(s for s in last.holding if s.side == bad) if last is not None else ()


def words(signal: Signal) -> str:
    """A rule as people read it: "8 days in a row below the centre line"."""
    if signal.rule == 1:
        return f"a day beyond the {'upper' if signal.side == 'above' else 'lower'} 3σ limit"
    k, m, zone = WESTERN_ELECTRIC[signal.rule]
    where = f"{signal.side} the centre line"
    if signal.rule == 4:
        return f"{k} days in a row {where}"
    return f"{m} of {k} days beyond {zone:g}σ {where}"
