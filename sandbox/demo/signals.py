"""The demo's SPC story (SPEC §9): support's slow CSAT slide, drawn by quota so that it signals by rule 4
(8 days in a row below the centre line) whatever the hour and weekday a sandbox starts at."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date

from bot.scores import SATISFIED_FROM

SLIDE_TEAM = "support"
# The slide: support's unhappy share rises by SLIDE_DEPTH from SLIDE_START days before `now` to
# SLIDE_FLAT days before it, then creeps on by SLIDE_CREEP a day. CSAT loses 0.65 points per point
# of unhappy share (the happy and unhappy mixes score 90 % and 25 % satisfied).
SLIDE_START = 14.0
SLIDE_FLAT = 10.0
SLIDE_DEPTH = 0.055
SLIDE_CREEP = 0.0015


def slide(days_ago: float) -> float:
    """How much support's unhappy share has risen `days_ago` (0 before the slide began).

    Sized against support's daily sigma (about 4.5 CSAT points on a weekday's ~66 responses, 5.4 on a
    weekend day's ~45): the last eight completed days sit some 0.2-1.2σ below the centre line (a thin
    day nearer it), all below it for rule 4, and at most two of the last five beyond 1σ, where rule 3
    needs four. Checked over 500 random starts and generator seeds (tests/storage/test_demo_signals.py
    keeps a few): the wobble of the week was halved to 0.01 for that margin.
    """
    if days_ago >= SLIDE_START:
        return 0.0
    if days_ago >= SLIDE_FLAT:
        return SLIDE_DEPTH * (SLIDE_START - days_ago) / (SLIDE_START - SLIDE_FLAT)
    return SLIDE_DEPTH + SLIDE_CREEP * (SLIDE_FLAT - days_ago)


class Quota:
    """CSAT satisfied (4-5) or not by error diffusion rather than by independent chance, per local day.

    Each local day's count of satisfied responses is its expected count rounded (within half a response),
    so the day's CSAT follows the team's curve. Left to binomial chance (about ±1σ a day), a slide small
    enough to keep rules 1-3 quiet breaks its run of 8 days, or trips rule 3 first, about every other
    sandbox start. Which score inside the class is still drawn, one draw per response as before.
    """

    def __init__(self) -> None:
        self._carried: dict[date, float] = {}

    def draw(self, rng: random.Random, day: date, weights: Sequence[float]) -> int:
        """A CSAT score (1-5) for a response of local `day`, its mix given by `weights`."""
        cut = SATISFIED_FROM - 1
        share = sum(weights[cut:]) / sum(weights)
        before = self._carried.get(day, 0.5)  # from 0.5: the day's count rounds its expected count
        after = before + share
        self._carried[day] = after
        if len(self._carried) > 3:  # an hour's items can straddle midnight; older days are done
            del self._carried[min(self._carried)]
        if math.floor(after) > math.floor(before):
            return rng.choices(range(SATISFIED_FROM, 6), weights[cut:])[0]
        return rng.choices(range(1, SATISFIED_FROM), weights[:cut])[0]
