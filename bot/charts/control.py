"""Control limits for daily CSAT, NPS and CES, each day's limits widened or narrowed by that day's n.

All three are Shewhart charts at ±3 sigma with the centre line taken from the period itself (what a team
asks is "which days of this period were unusual for this period"):
- CSAT is a proportion: a p-chart, p̄ ± 3·√(p̄(1 − p̄)/nᵢ), in percent;
- NPS scores each response +1 (promoter), 0 (passive) or −1 (detractor), so one response has the trinomial
  variance σ² = (p₊ + p₋) − (p₊ − p₋)², and a day's NPS has limits NPS̄ ± 3·100·√(σ²/nᵢ);
- CES is a mean of scores: an X̄ chart, x̿ ± 3·σ/√nᵢ, with σ the pooled within-day standard deviation
  (√(Σ within-day sums of squares / Σ(nᵢ − 1))): days vary in mean, and the limits must not absorb that.
Limits are clipped to the metric's scale. A day with no responses has no value and no limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SIGMAS = 3.0


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
    p = sum(satisfied) / sum(n)
    return _limits(
        [100 * k / m if m else None for k, m in zip(satisfied, n)],
        100 * p,
        [100 * SIGMAS * math.sqrt(p * (1 - p) / m) if m else None for m in n],
        0,
        100,
    )


def nps_chart(promoters: Sequence[int], detractors: Sequence[int], n: Sequence[int]) -> Limits:
    """NPS: % promoters − % detractors per day."""
    total = sum(n)
    up, down = sum(promoters) / total, sum(detractors) / total
    variance = (up + down) - (up - down) ** 2
    return _limits(
        [100 * (pr - de) / m if m else None for pr, de, m in zip(promoters, detractors, n)],
        100 * (up - down),
        [100 * SIGMAS * math.sqrt(variance / m) if m else None for m in n],
        -100,
        100,
    )


def xbar_chart(sums: Sequence[int], squares: Sequence[int], n: Sequence[int]) -> Limits:
    """CES: the mean score per day."""
    within = sum(q - s * s / m for s, q, m in zip(sums, squares, n) if m)  # Σ Σ (x − x̄ᵢ)²
    freedom = sum(m - 1 for m in n if m)
    sigma = math.sqrt(within / freedom) if freedom > 0 else 0.0
    return _limits(
        [s / m if m else None for s, m in zip(sums, n)],
        sum(sums) / sum(n),
        [SIGMAS * sigma / math.sqrt(m) if m else None for m in n],
        1,
        7,
    )


def _limits(
    value: list[float | None], centre: float, half: list[float | None], low: float, high: float
) -> Limits:
    if len(value) != len(half):
        raise ValueError("one n per day")
    return Limits(
        value=tuple(value),
        centre=centre,
        lower=tuple(None if h is None else max(low, centre - h) for h in half),
        upper=tuple(None if h is None else min(high, centre + h) for h in half),
    )
