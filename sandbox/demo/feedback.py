"""Deterministic, realistic raw survey responses for the demo: team score mixes, drift, seasonality, comments, PII."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import scores
from bot.scores import SCALES
from sandbox.demo.improvements import IMPROVEMENTS
from sandbox.demo.signals import Quota, slide
from sandbox.demo.words import (
    CARRIERS,
    CHANNELS,
    COMPLAINTS,
    FIRST,
    GENERIC_PRAISE,
    LAST,
    NEUTRAL,
    PII,
    PLANS,
    PRAISE,
    SEGMENTS,
)

HOUR = timedelta(hours=1)
# A regular who complains three times in a month: the first complaint of the team after each mark (days
# before `now`) is theirs, so the last one, in the last hours, is their third case in 30 days.
REPEAT_CUSTOMER = "CUST-20417"
REPEAT_TEAM = "delivery"
REPEAT_DAYS = (26.0, 11.0, 0.6)

# Score weights of a happy and of an unhappy population; a team's mix at a moment is the blend of the two by its
# share of unhappy customers, so one number (bad share) drives every metric the same way.
_GOOD = {
    "csat": [1, 2, 7, 35, 55],
    "nps": [1, 1, 1, 1, 1, 2, 3, 9, 17, 30, 34],
    "ces": [38, 30, 16, 8, 4, 3, 1],
}
_BAD = {
    "csat": [30, 25, 20, 15, 10],
    "nps": [8, 6, 7, 8, 9, 12, 12, 12, 10, 9, 7],
    "ces": [5, 8, 12, 15, 20, 20, 20],
}

# Responses by local hour (people answer surveys in the day and evening), scaled to a mean of 1.
_HOURLY_RAW = [
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.8,
    1.2,
    1.5,
    1.6,
    1.6,
    1.7,
    1.6,
    1.5,
    1.5,
    1.5,
    1.6,
    1.7,
    1.6,
    1.3,
    1.0,
    0.7,
    0.4,
]
HOURLY = [w * 24 / sum(_HOURLY_RAW) for w in _HOURLY_RAW]


@dataclass(frozen=True)
class Profile:
    """How one team's customers answer: volume, metric mix, what they complain about, and how that drifts."""

    volume: float  # responses per day on an average day
    weekend: float  # weekend volume relative to the weekly mean (weekdays make up the rest)
    metrics: tuple[float, float, float]  # csat, nps, ces shares
    source: str
    touchpoints: tuple[str, ...]
    topics: Mapping[str, float]  # complaint topic (a demo category) -> weight
    bad_share: Callable[[float], float]  # days before `now` -> share of unhappy customers
    # (topic, days before `now` it went live, effect) of the corrective actions that changed the feedback
    changes: tuple[tuple[str, float, float], ...] = ()
    # CSAT drawn by quota (sandbox.demo.signals.Quota): each local day follows bad_share closely
    quota: bool = False


def _delivery_bad(days_ago: float) -> float:
    # A carrier problem two weeks ago: unhappy share ramps from 14 % to 38 % over two days and stays there.
    return 0.14 + 0.24 * min(1.0, max(0.0, (14 - days_ago) / 2))


def _support_bad(days_ago: float) -> float:
    # Stable, with a small weekly wobble, until a slow slide of the last two weeks (SPC rule 4, SPEC §9).
    return 0.09 + 0.01 * math.sin(2 * math.pi * days_ago / 7) + slide(days_ago)


def _billing_bad(days_ago: float) -> float:
    return (
        0.10 + 0.22 * min(days_ago, 60) / 60
    )  # a new invoicing system steadily wins customers back


def _changes(team: str) -> tuple[tuple[str, float, float], ...]:
    return tuple(
        (imp.cause, imp.live, imp.effect)
        for imp in IMPROVEMENTS
        if imp.team == team and imp.live is not None and imp.effect != 1
    )


PROFILES: dict[str, Profile] = {
    "delivery": Profile(
        130,
        0.85,
        (0.65, 0.12, 0.23),
        "medallia",
        ("post-delivery", "driver-rating"),
        {
            "late_delivery": 45,
            "damaged_item": 20,
            "rude_staff": 15,
            "app_error": 8,
            "website_bug": 4,
            "vague": 8,
        },
        _delivery_bad,
        _changes("delivery"),
    ),
    "support": Profile(
        100,
        0.75,
        (0.6, 0.15, 0.25),
        "zendesk",
        ("help-center", "live-chat"),
        {
            "rude_staff": 30,
            "app_error": 22,
            "website_bug": 18,
            "billing_error": 8,
            "late_delivery": 8,
            "vague": 14,
        },
        _support_bad,
        _changes("support"),
        quota=True,
    ),
    "billing": Profile(
        80,
        0.6,
        (0.65, 0.1, 0.25),
        "typeform",
        ("invoice-email",),
        {"billing_error": 55, "website_bug": 15, "rude_staff": 8, "app_error": 8, "vague": 14},
        _billing_bad,
        _changes("billing"),
    ),
}
DEFAULT_PROFILE = Profile(100, 0.75, (0.6, 0.2, 0.2), "survey", (), {"vague": 1}, lambda _: 0.12)


def profile(team: str) -> Profile:
    return PROFILES.get(team, DEFAULT_PROFILE)


def history(
    rng: random.Random, *, teams: Mapping[str, str], now: datetime, days: int = 60
) -> Iterator[dict[str, Any]]:
    """Raw items for `teams` (key -> IANA zone) submitted in [now - days, now), in submission order."""
    for _, _, items in history_by_hour(rng, teams=teams, now=now, days=days):
        yield from items


def history_by_hour(
    rng: random.Random,
    *,
    teams: Mapping[str, str],
    now: datetime,
    days: int = 60,
) -> Iterator[tuple[datetime, datetime, list[dict[str, Any]]]]:
    """The same items as `history`, as (hour start, hour end, items of that hour); the last hour ends at `now`."""
    _aware(now)
    zones = {key: ZoneInfo(tz) for key, tz in teams.items()}
    start = now - timedelta(days=days)
    serial = 0
    slot = start
    marks = [d for d in REPEAT_DAYS if d < days]
    quotas = {key: Quota() for key in zones if profile(key).quota}
    while slot < now:
        end = min(slot + HOUR, now)
        # Whole seconds in [slot, end): survey tools send whole seconds, and each item stays inside the window.
        lo, hi = math.ceil(slot.timestamp()), math.ceil(end.timestamp())
        items: list[tuple[int, int, dict[str, Any]]] = []
        for key, tz in zones.items():
            prof = profile(key)
            local = (slot + (end - slot) / 2).astimezone(tz)
            expected = prof.volume / 24 * HOURLY[local.hour] * _day_factor(prof, local.weekday())
            expected *= (end - slot) / HOUR
            for _ in range(_poisson(rng, expected)):
                if hi <= lo:
                    break
                second = rng.randrange(lo, hi)
                serial += 1
                submitted = datetime.fromtimestamp(second, tz)
                days_ago = (now - submitted).total_seconds() / 86_400
                ext_id = f"demo-{key}-{second}-{serial}"
                item = _item(rng, key, prof, submitted, days_ago, ext_id, quotas.get(key))
                if key == REPEAT_TEAM and marks and days_ago < marks[0] and _negative(item):
                    # Set after the draws, so the rest of the history is the same as without it.
                    item["customer"] = REPEAT_CUSTOMER
                    marks.pop(0)
                items.append((second, serial, item))
        items.sort(key=lambda t: (t[0], t[1]))
        yield slot, end, [it for _, _, it in items]
        slot = end


def live(rng: random.Random, *, teams: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """One fresh item submitted at `now`, for a live trickle: its team is picked by current volume, and its
    score follows that team's mix today, so now and then it is negative and opens a case."""
    _aware(now)
    keys = list(teams)
    weights = []
    for key in keys:
        prof, local = profile(key), now.astimezone(ZoneInfo(teams[key]))
        weights.append(prof.volume * HOURLY[local.hour] * _day_factor(prof, local.weekday()))
    key = rng.choices(keys, weights)[0]
    submitted = now.astimezone(ZoneInfo(teams[key])).replace(microsecond=0)
    ext_id = f"live-{key}-{int(now.timestamp() * 1000)}-{rng.randrange(10**6):06d}"
    return _item(rng, key, profile(key), submitted, 0.0, ext_id)


# -- one item ------------------------------------------------------------------------------------------------


def _item(
    rng: random.Random,
    team: str,
    prof: Profile,
    submitted: datetime,
    days_ago: float,
    ext_id: str,
    quota: Quota | None = None,
) -> dict[str, Any]:
    metric = rng.choices(scores.METRICS, prof.metrics)[0]
    bad, topics = _mix(prof, days_ago)
    weights = [(1 - bad) * g + bad * b for g, b in zip(_GOOD[metric], _BAD[metric])]
    low, high = SCALES[metric]
    if metric == "csat" and quota is not None:
        score = quota.draw(rng, submitted.date(), weights)
    else:
        score = rng.choices(range(low, high + 1), weights)[0]
    item: dict[str, Any] = {
        "source": prof.source,
        "id": ext_id,
        "team": team,
        "metric": metric,
        "score": score,
        # In the team's own offset, as a survey tool in that region would send it.
        "submitted_at": submitted.isoformat(timespec="seconds"),
        "customer": f"CUST-{rng.randrange(10_000, 100_000)}",
        "segment": rng.choices(*SEGMENTS)[0],
        "channel": rng.choices(*CHANNELS)[0],
    }
    if prof.touchpoints:
        item["touchpoint"] = rng.choice(prof.touchpoints)
    mood = _mood(metric, score)
    topic = rng.choices(list(topics), list(topics.values()))[0] if mood == "negative" else None
    comment = _comment(rng, team, mood, topic)
    if comment is not None:
        item["comment"] = comment
    attributes = _attributes(rng, team, topic)
    if attributes:
        item["attributes"] = attributes
    if item["segment"] == "vip":
        item["tags"] = ["vip"]
    return item


def _mix(prof: Profile, days_ago: float) -> tuple[float, Mapping[str, float]]:
    """The unhappy share and the complaint topics `days_ago`: a change live by then scales its topic, and
    the unhappy customers that topic accounted for."""
    bad, topics = prof.bad_share(days_ago), prof.topics
    for topic, since, effect in prof.changes:
        if days_ago < since and topic in topics:
            bad *= 1 + (effect - 1) * topics[topic] / sum(topics.values())
            topics = {**topics, topic: topics[topic] * effect}
    return bad, topics


def _negative(item: dict[str, Any]) -> bool:
    return _mood(item["metric"], item["score"]) == "negative"


def _mood(metric: str, score: int) -> str:
    low, high = SCALES[metric]
    position = (score - low) / (high - low)
    if metric == "ces":
        position = 1 - position  # high effort is bad
    return "negative" if position < 0.45 else "neutral" if position < 0.75 else "positive"


def _comment(rng: random.Random, team: str, mood: str, topic: str | None) -> str | None:
    """None when the key is left out; "" as some survey tools send an unanswered text box."""
    answered = {"negative": 0.8, "neutral": 0.45, "positive": 0.35}[mood]
    if rng.random() >= answered:
        return "" if rng.random() < 0.25 else None
    if mood == "negative":
        text = rng.choice(COMPLAINTS[topic or "vague"])
    elif mood == "neutral":
        text = rng.choice(NEUTRAL)
    else:
        text = rng.choice(PRAISE.get(team, GENERIC_PRAISE))
    if mood != "positive" and rng.random() < 0.05:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        text += rng.choice(PII).format(first=first, last=last, n=rng.randrange(10, 99))
    return text


def _attributes(rng: random.Random, team: str, topic: str | None) -> dict[str, Any] | None:
    if team == "delivery":
        delay = (
            rng.choice((1, 2, 2, 3, 5)) if topic == "late_delivery" else rng.choice((0, 0, 0, 0, 1))
        )
        return {"carrier": rng.choice(CARRIERS), "delivery_delay_days": delay}
    if team == "billing":
        return {"plan": rng.choice(PLANS), "invoice_amount": round(rng.uniform(9, 240), 2)}
    return None


# -- helpers -------------------------------------------------------------------------------------------------


def _day_factor(prof: Profile, weekday: int) -> float:
    if weekday >= 5:
        return prof.weekend
    return (7 - 2 * prof.weekend) / 5  # weekdays carry the rest, so the weekly mean stays `volume`


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small hourly means here (well under 30).
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (e.g. datetime.now(UTC))")
