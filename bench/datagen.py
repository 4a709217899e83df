"""Deterministic synthetic feedback for benchmarks: realistic score mixes, comments, some PII."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from bot.scores import SCALES

BENCH_CONFIG = {
    # The built-in SLA for everyone, and a tighter one for the vip segment (SPEC §9): escalations, overdue
    # counts and SLA compliance take the segment's path.
    "defaults": {"sla_by_segment": {"vip": {"ack": "10m", "resolve": "4h"}}},
    "leaders": ["U0LEADER1"],
    "leaders_channel": "C0LEADERS",
    "teams": {
        f"team{i:02d}": {
            "name": f"Team {i}",
            "channel": f"C0TEAM{i:02d}",
            "supervisors": [f"U0SUP{i:02d}"],
        }
        for i in range(20)
    },
    "categories": {
        "late_delivery": {"domain": "process", "keywords": ["late", "delay", "never arrived"]},
        "rude_staff": {"domain": "people", "keywords": ["rude", "impolite"]},
        "app_error": {"domain": "technology", "keywords": ["crash", "error", "bug"]},
        "billing": {"domain": "process", "keywords": ["charged", "refund", "invoice"]},
    },
    "routing": {"web": "team00", "app": "team01"},
}

_NEGATIVE = [
    "The parcel arrived two days late and nobody told me why.",
    "Driver was rude when I asked him to bring it upstairs.",
    "The app keeps showing an error when I try to track my order.",
    "I was charged twice, please call me on +44 20 7946 0958.",
    "Order never arrived, my card 4111 1111 1111 1111 was still charged.",
    "Support agent was impolite and hung up on me.",
    "App crash every time I open the delivery page.",
    "Still waiting for my refund, write to jane.doe@example.com.",
]
_NEUTRAL = [
    "It was okay, nothing special.",
    "Delivery on time but the box was a bit damaged.",
    "Took a while to find the right page, order #123456789 was fine in the end.",
]
_POSITIVE = [
    "Great service, the courier was friendly and quick!",
    "Everything arrived on time, thank you.",
    "Super easy to use, will order again.",
]


def _score(rng: random.Random, metric: str) -> int:
    low, high = SCALES[metric]
    # Skewed towards satisfied customers, as real survey data is.
    weights = {
        "csat": [6, 6, 12, 35, 41],
        "nps": [2, 2, 2, 3, 3, 6, 7, 12, 18, 22, 23],
        "ces": [30, 28, 17, 10, 7, 5, 3],
    }[metric]
    return rng.choices(range(low, high + 1), weights)[0]


def _position(metric: str, score: int) -> float:
    """Where the score sits from worst (0) to best (1): CES is better when lower."""
    low, high = SCALES[metric]
    position = (score - low) / (high - low)
    return 1 - position if metric == "ces" else position


def _comment(rng: random.Random, metric: str, score: int) -> str:
    if rng.random() < 0.35:
        return ""
    position = _position(metric, score)
    pool = _NEGATIVE if position < 0.4 else _NEUTRAL if position < 0.75 else _POSITIVE
    return rng.choice(pool)


def feedback(
    n: int, *, seed: int = 7, teams: int = 20, days: int = 730, end: datetime | None = None
) -> Iterator[dict]:
    """n API-shaped items spread evenly over `days` days before `end`."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC) - timedelta(minutes=10)
    span = days * 86_400
    metrics = ["csat"] * 5 + ["nps"] * 3 + ["ces"] * 2
    for i in range(n):
        metric = rng.choice(metrics)
        score = _score(rng, metric)
        submitted = end - timedelta(seconds=span * (n - i) / n + rng.random() * 60)
        item = {
            "id": f"b-{seed}-{i}",
            "submitted_at": submitted.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "metric": metric,
            "score": score,
            "team": f"team{rng.randrange(teams):02d}",
        }
        comment = _comment(rng, metric, score)
        if comment:
            item["comment"] = comment
        yield item


# Who answered, where and how (bench/seed.py stores these; the breakdowns and the customer view read them).
CUSTOMERS = 100_000
# Each customer is in one segment: a slice of the pool, cust-0 … cust-99999 in this order. None: the
# survey tool sent no segment for them.
_POOL = {"vip": 0.02, "business": 0.15, "consumer": 0.70, "trial": 0.08, None: 0.05}
# Responses by segment, for unhappy respondents and the others: VIP customers answer surveys more often
# than their share of customers and complain less; trial users complain most. So a breakdown by segment
# shows rates that differ, while the overall score mix stays the one _score draws.
_ANSWERS = {
    False: {"vip": 5, "business": 19, "consumer": 60, "trial": 9, None: 7},
    True: {"vip": 3, "business": 15, "consumer": 60, "trial": 16, None: 6},
}
# Ten touchpoints, skewed: a breakdown shows the eight largest and folds the rest into "other".
_TOUCHPOINTS = {
    "post-delivery": 30, "checkout": 18, "support-chat": 14, "support-call": 10, "returns": 8,
    "web": 6, "app": 6, "onboarding": 4, "billing": 2, "in-store": 2, None: 10,
}  # fmt: skip
_CHANNELS = {"email": 45, "sms": 20, "in-app": 20, "web": 10, "phone": 5, None: 8}


def _slices() -> dict[str | None, range]:
    slices, start = {}, 0
    for segment, share in _POOL.items():
        size = round(share * CUSTOMERS)
        slices[segment] = range(start, start + size)
        start += size
    return slices


_SLICES = _slices()


def _draw(weights: dict[str | None, int]) -> Callable[[random.Random], str | None]:
    values, cumulative = list(weights), list(accumulate(weights.values()))
    return lambda rng: rng.choices(values, cum_weights=cumulative)[0]


_SEGMENT = {unhappy: _draw(w) for unhappy, w in _ANSWERS.items()}
_TOUCHPOINT, _CHANNEL = _draw(_TOUCHPOINTS), _draw(_CHANNELS)


def respondent(rng: random.Random, metric: str, score: int) -> dict[str, str | None]:
    """The customer (one of CUSTOMERS, whose segment never changes), segment, touchpoint and channel of a
    response with this score."""
    segment = _SEGMENT[_position(metric, score) < 0.4](rng)
    return {
        "customer": f"cust-{rng.choice(_SLICES[segment])}",
        "segment": segment,
        "touchpoint": _TOUCHPOINT(rng),
        "channel": _CHANNEL(rng),
    }
