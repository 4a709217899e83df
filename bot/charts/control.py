"""Control limits for daily CSAT, NPS and CES, each day's limits widened or narrowed by that day's n.

All three are Shewhart charts at ±3 sigma with the centre line taken from the period itself (what a team
asks is "which days of this period were unusual for this period"); the maths is bot.alerts.spc's:
- CSAT is a proportion: a p-chart, p̄ ± 3·√(p̄(1 − p̄)/nᵢ), in percent;
- NPS scores each response +1 (promoter), 0 (passive) or −1 (detractor), so one response has the trinomial
  variance σ² = (p₊ + p₋) − (p₊ − p₋)², and a day's NPS has limits NPS̄ ± 3·100·√(σ²/nᵢ);
- CES is a mean of scores: an X̄ chart, x̿ ± 3·σ/√nᵢ, with σ the pooled within-day standard deviation
  (√(Σ within-day sums of squares / Σ(nᵢ − 1))): days vary in mean, and the limits must not absorb that.
Limits are clipped to the metric's scale. A day with no responses has no value and no limits.

`rule_marks` applies the Western Electric rules of SPC alerts to the same period-based limits, so a chart
marks which rule each flagged day broke. SPC alert rules judge each day against the baseline weeks before
it instead (bot.alerts.spc_rules): a chart over a period can mark days an alert did not, and the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.alerts import spc

SIGMAS = spc.LIMIT
KINDS: dict[str, spc.Kind] = {"csat": "p", "nps": "nps", "ces": "mean"}
SCALE = {"csat": (0, 100), "nps": (-100, 100), "ces": (1, 7)}


@dataclass(frozen=True)
class Limits:
    value: tuple[float | None, ...]
    centre: float
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]

    @property
    def out_of_control(self) -> tuple[bool, ...]:
        return tuple(
            v is not None and (v < lo or v > hi)  # type: ignore[operator]
            for v, lo, hi in zip(self.value, self.lower, self.upper)
        )


def p_chart(satisfied: Sequence[int], n: Sequence[int]) -> Limits:
    """CSAT: % of responses scoring 4 or 5 per day."""
    return limits("csat", list(zip(satisfied, [0] * len(n))), n)


def nps_chart(promoters: Sequence[int], detractors: Sequence[int], n: Sequence[int]) -> Limits:
    """NPS: % promoters − % detractors per day."""
    return limits("nps", list(zip(promoters, detractors)), n)


def xbar_chart(sums: Sequence[int], squares: Sequence[int], n: Sequence[int]) -> Limits:
    """CES: the mean score per day."""
    return limits("ces", list(zip(sums, squares)), n)


def limits(metric: str, sums: Sequence[Sequence[int]], n: Sequence[int]) -> Limits:
    """The period's limits from each day's (first, second) sums, as ControlChart.sums holds them."""
    if len(sums) != len(n):
        raise ValueError("one n per day")
    kind, (low, high) = KINDS[metric], SCALE[metric]
    counts = _counts(sums, n)
    period = spc.spread(kind, counts)
    if period is None:
        raise ValueError("the period holds no response")
    half = [SIGMAS * period.sigma(c.n) if c.n else None for c in counts]
    return Limits(
        value=tuple(spc.value(kind, c) for c in counts),
        centre=period.centre,
        lower=tuple(None if h is None else max(low, period.centre - h) for h in half),
        upper=tuple(None if h is None else min(high, period.centre + h) for h in half),
    )


def rule_marks(
    metric: str, sums: Sequence[Sequence[int]], n: Sequence[int]
) -> tuple[tuple[int, ...], ...]:
    """Per day, the Western Electric rules (1-4, either side) the day completes against the period's
    centre line and sigma; the days are consecutive, and a day without responses breaks every run."""
    kind = KINDS[metric]
    counts = _counts(sums, n)
    period = spc.spread(kind, counts)
    usable = period is not None and period.one > 0
    first = date(2000, 1, 1)  # the rules need consecutive days, not their dates
    points = [
        spc.Point(first + timedelta(days=i), c.n, spc.value(kind, c))
        if not c.n or not usable
        else spc.Point(
            first + timedelta(days=i),
            c.n,
            spc.value(kind, c),
            period.centre,  # type: ignore[union-attr]
            period.sigma(c.n),  # type: ignore[union-attr]
        )
        for i, c in enumerate(counts)
    ]
    return tuple(tuple(sorted({m.rule for m in p.marks})) for p in spc.with_rules(points))


def _counts(sums: Sequence[Sequence[int]], n: Sequence[int]) -> list[spc.Counts]:
    return [spc.Counts(m, int(s[0]), int(s[1])) for s, m in zip(sums, n)]
