"""SPC rules on synthetic series: every Western Electric rule on both sides, runs broken by a day not judged,
days under min n, baselines too thin to judge, and limits against hand arithmetic."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from bot.alerts import spc
from bot.alerts.spc import Counts, Point, Signal

DAY0 = date(2026, 3, 2)


def series(*zs: float | None) -> list[Point]:
    """Consecutive days around centre 0 with sigma 1, so each value is its z; None: a day not judged."""
    return spc.with_rules(
        [
            Point(DAY0 + timedelta(days=i), 50, z)
            if z is None
            else Point(DAY0 + timedelta(days=i), 50, z, 0.0, 1.0)
            for i, z in enumerate(zs)
        ]
    )


def marks(*zs: float | None) -> list[set[tuple[int, str]]]:
    return [{(s.rule, s.side) for s in p.marks} for p in series(*zs)]


def holding_last(*zs: float | None) -> set[tuple[int, str]]:
    return {(s.rule, s.side) for s in series(*zs)[-1].holding}


# -- the four rules, both sides --------------------------------------------------------------------------


@pytest.mark.parametrize("sign, side", [(1, "above"), (-1, "below")])
def test_rule_1_a_day_beyond_3_sigma(sign: int, side: str) -> None:
    assert marks(0, sign * 3.2, sign * 0.5) == [set(), {(1, side)}, set()]
    assert marks(sign * 3.0) == [set()]  # on the limit is not beyond it


@pytest.mark.parametrize("sign, side", [(1, "above"), (-1, "below")])
def test_rule_2_two_of_three_days_beyond_2_sigma(sign: int, side: str) -> None:
    z = sign * 2.5
    assert marks(z, 0, z) == [set(), set(), {(2, side)}]
    assert marks(z, z) == [set(), {(2, side)}]
    assert marks(z, 0, 0, z) == [set()] * 4  # 2 of 4: too far apart
    assert marks(z, -z, 0) == [set()] * 3  # one on each side is no pattern


@pytest.mark.parametrize("sign, side", [(1, "above"), (-1, "below")])
def test_rule_3_four_of_five_days_beyond_1_sigma(sign: int, side: str) -> None:
    z = sign * 1.5
    assert marks(z, z, 0, z, z)[-1] == {(3, side)}
    assert marks(z, z, z, z)[-1] == {(3, side)}
    assert marks(z, z, 0, 0, z, z) == [set()] * 6  # 4 of 6 is not 4 of 5
    assert marks(z, z, z, 0.5 * sign, 0)[-1] == set()


@pytest.mark.parametrize("sign, side", [(1, "above"), (-1, "below")])
def test_rule_4_eight_days_in_a_row_on_one_side(sign: int, side: str) -> None:
    z = sign * 0.4
    found = marks(*[z] * 9)
    assert found[:7] == [set()] * 7
    assert found[7] == found[8] == {(4, side)}
    assert marks(*[z] * 7) == [set()] * 7
    assert marks(*[z] * 4, 0.0, *[z] * 4)[-1] == set()  # a day on the centre line ends the run
    assert marks(*[z] * 4, -z, *[z] * 4)[-1] == set()


def test_a_day_breaking_several_rules_lists_each() -> None:
    # Seven days above by 1.2σ, then one beyond 3σ: rules 1, 3 and 4 at once, and 2 needs two beyond 2σ.
    assert marks(*[1.2] * 7, 3.5)[-1] == {(1, "above"), (3, "above"), (4, "above")}


# -- consecutive days: a day not judged breaks every run ----------------------------------------------------


def test_a_missing_day_breaks_runs_of_every_rule() -> None:
    assert marks(2.5, None, 2.5)[-1] == set()  # rule 2 across the gap
    assert marks(1.5, 1.5, None, 1.5, 1.5)[-1] == set()  # rule 3
    assert marks(*[0.4] * 7, None, 0.4)[-1] == set()  # rule 4: 8 of 9 days, not in a row
    assert marks(None, 2.5, 2.5)[-1] == {(2, "above")}  # after the gap, the days count again
    assert marks(*[0.4] * 3, None, *[0.4] * 8)[-1] == {(4, "above")}


def test_a_day_under_min_responses_is_not_judged_and_breaks_the_run() -> None:
    # 20 baseline days of 100 responses at 80 %, then days at 75 %: below the centre line, and
    # rule 4 once 8 of them follow each other.
    base, low = [Counts(100, 80)] * 20, Counts(100, 75)

    def judged(*days: Counts) -> list[Point]:
        counts = [*base, *days]
        return spc.judge("p", DAY0, counts, baseline_days=56, judge_from=20, min_responses=10)

    assert Signal(4, "below") in judged(*[low] * 9)[-1].holding
    points = judged(*[low] * 4, Counts(9, 0), *[low] * 4)
    assert [p.judged for p in points] == [True] * 4 + [False] + [True] * 4
    assert points[4].value == 0.0 and points[4].marks == () and points[4].holding == ()
    assert all(Signal(4, "below") not in p.holding for p in points)


# -- what an alert reads: patterns holding at the latest judged day ------------------------------------------


def test_holding_keeps_a_pattern_while_it_lasts_marks_only_the_days_in_it() -> None:
    last = series(2.5, 2.5, 0.0)[-1]
    assert last.marks == () and last.holding == (Signal(2, "above"),)
    assert holding_last(2.5, 2.5, 0.0, 0.0) == set()
    assert holding_last(1.5, 1.5, 1.5, 1.5, 0.2) == {(3, "above")}  # still 4 of the last 5


def test_active_reads_the_bad_side_at_the_latest_judged_day() -> None:
    points = series(*[-0.5] * 8, None)  # the last day is not judged: the one before it counts
    assert spc.latest(points) == points[7]
    assert spc.active(points, "below") == (Signal(4, "below"),)
    assert spc.active(points, "above") == ()
    assert spc.active(series(-3.5, *[-0.5] * 7), "below") == (Signal(4, "below"),)
    assert spc.active(series(*[-0.5] * 7, -3.5), "below") == (
        Signal(1, "below"),
        Signal(4, "below"),
    )  # rule 1 first
    assert spc.active(series(None, None), "below") == ()
    assert spc.latest(series(None)) is None


# -- limits from the baseline weeks before each day ---------------------------------------------------------


def test_p_chart_limits_from_the_baseline_before_each_day() -> None:
    # 14 days at 80 % of 100 responses, then a day of 64 with 40 satisfied (62.5 %).
    counts = [Counts(100, 80)] * 14 + [Counts(64, 40)]
    (p,) = spc.judge("p", DAY0, counts, baseline_days=14, judge_from=14, min_responses=10)
    # σ = 100·√(0.8·0.2/64) = 5: limits 65 and 95; 62.5 is 3.5σ below.
    assert (p.day, p.centre, p.sigma, p.lower, p.upper) == (
        DAY0 + timedelta(days=14),
        pytest.approx(80.0),
        pytest.approx(5.0),
        pytest.approx(65.0),
        pytest.approx(95.0),
    )
    assert p.value == 62.5 and p.z == pytest.approx(-3.5)
    assert p.marks == (Signal(1, "below"),)


def test_the_baseline_is_only_the_days_before_the_point() -> None:
    # Days 0-13 at 90 %, days 14-27 at 70 %: day 28's 14-day baseline is the 70 % days alone.
    counts = [Counts(100, 90)] * 14 + [Counts(100, 70)] * 14 + [Counts(100, 70)]
    (p,) = spc.judge("p", DAY0, counts, baseline_days=14, judge_from=28, min_responses=10)
    assert p.centre == pytest.approx(70.0)
    (q,) = spc.judge("p", DAY0, counts, baseline_days=28, judge_from=28, min_responses=10)
    assert q.centre == pytest.approx(80.0)


def test_nps_uses_the_trinomial_variance() -> None:
    # 50 % promoters, 20 % detractors: centre 30, σ² = 0.7 − 0.3² = 0.61, a day of 100: σ = 100·√0.0061.
    counts = [Counts(100, 50, 20)] * 10 + [Counts(100, 20, 40)]
    (p,) = spc.judge("nps", DAY0, counts, baseline_days=70, judge_from=10, min_responses=10)
    assert p.centre == pytest.approx(30.0)
    assert p.sigma == pytest.approx(100 * math.sqrt(0.0061))  # 7.81
    assert p.value == -20.0 and p.marks == (Signal(1, "below"),)


def test_ces_uses_the_pooled_within_day_sigma() -> None:
    # Baseline days of scores 1 and 3 (sum 4, squares 10): mean 2, within-day σ = √2 (2 per day, 1 df).
    counts = [Counts(2, 4, 10)] * 10 + [Counts(8, 30, 116)]  # a day of 8 with mean 3.75
    (p,) = spc.judge("mean", DAY0, counts, baseline_days=70, judge_from=10, min_responses=2)
    assert p.centre == pytest.approx(2.0)
    assert p.sigma == pytest.approx(0.5)  # √2 / √8
    assert (p.lower, p.upper) == (pytest.approx(0.5), pytest.approx(3.5))
    assert p.marks == (Signal(1, "above"),)


def test_a_baseline_with_too_little_data_judges_nothing() -> None:
    thin = [Counts(100, 80)] * (spc.MIN_BASELINE_DAYS - 1) + [Counts(5, 4)] * 5 + [Counts(100, 10)]
    (p,) = spc.judge("p", DAY0, thin, baseline_days=56, judge_from=len(thin) - 1, min_responses=10)
    assert not p.judged and p.centre is None and p.marks == () and p.value == 10.0
    enough = [Counts(100, 80)] * spc.MIN_BASELINE_DAYS + [Counts(100, 10)]
    (q,) = spc.judge(
        "p", DAY0, enough, baseline_days=56, judge_from=len(enough) - 1, min_responses=10
    )
    assert q.judged and q.marks == (Signal(1, "below"),)
    # No variation at all (every response satisfied): any other day would be "beyond 3σ".
    flat = [Counts(100, 100)] * 20 + [Counts(100, 99)]
    (r,) = spc.judge("p", DAY0, flat, baseline_days=56, judge_from=20, min_responses=10)
    assert not r.judged


def test_words_name_each_rule() -> None:
    assert spc.words(Signal(1, "below")) == "a day beyond the lower 3σ limit"
    assert spc.words(Signal(1, "above")) == "a day beyond the upper 3σ limit"
    assert spc.words(Signal(2, "below")) == "2 of 3 days beyond 2σ below the centre line"
    assert spc.words(Signal(3, "above")) == "4 of 5 days beyond 1σ above the centre line"
    assert spc.words(Signal(4, "below")) == "8 days in a row below the centre line"
