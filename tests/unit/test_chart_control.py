"""Control limits against hand arithmetic: p-chart, NPS trinomial and X̄ with pooled sigma, each day's own n."""

from __future__ import annotations

import math

import pytest

from bot.charts import control


def test_p_chart_limits_follow_each_days_n() -> None:
    # p̄ = 220/300; σᵢ = √(p̄(1 − p̄)/nᵢ)
    c = control.p_chart([90, 50, 80, 1], [100, 100, 100, 0 + 1])
    p = 221 / 301
    assert c.centre == pytest.approx(100 * p)
    assert c.value == pytest.approx((90.0, 50.0, 80.0, 100.0))
    s100 = math.sqrt(p * (1 - p) / 100)
    assert c.lower[0] == pytest.approx(100 * (p - 3 * s100))  # 60.1 %
    assert c.upper[0] == pytest.approx(100 * (p + 3 * s100))  # 86.6 %
    assert (c.lower[3], c.upper[3]) == (0, 100)  # n = 1: ±3σ is wider than the scale, clipped
    assert c.out_of_control == (True, True, False, False)  # 90 % above, 50 % below


def test_p_chart_numbers_written_out() -> None:
    c = control.p_chart([90, 50, 80], [100, 100, 100])
    assert c.centre == pytest.approx(73.3333, abs=1e-4)
    assert c.lower[1] == pytest.approx(60.0668, abs=1e-3)
    assert c.upper[1] == pytest.approx(86.5998, abs=1e-3)


def test_a_day_without_responses_is_a_gap() -> None:
    c = control.p_chart([3, 0, 1], [4, 0, 2])
    assert c.value[1] is None and c.lower[1] is None and c.upper[1] is None
    assert c.out_of_control[1] is False
    assert c.centre == pytest.approx(100 * 4 / 6)


def test_nps_limits_use_the_trinomial_variance() -> None:
    # 100 responses a day; day 1: 60 promoters, 10 detractors (NPS 50); day 2 the other way round (−50).
    c = control.nps_chart([60, 10], [10, 60], [100, 100])
    assert c.centre == pytest.approx(0.0)
    # p₊ = p₋ = 0.35: σ² = 0.7 − 0² = 0.7; limits ±3·100·√(0.7/100) = ±25.10
    assert c.upper[0] == pytest.approx(25.0998, abs=1e-4)
    assert c.lower[0] == pytest.approx(-25.0998, abs=1e-4)
    assert c.value == (50.0, -50.0)
    assert c.out_of_control == (True, True)


def test_nps_with_ten_responses_stays_in_control() -> None:
    c = control.nps_chart([6, 1], [1, 6], [10, 10])
    assert c.upper[0] == pytest.approx(300 * math.sqrt(0.07))  # 79.37
    assert c.out_of_control == (False, False)


def test_xbar_limits_use_the_pooled_within_day_sigma() -> None:
    # day 1: scores 1, 2, 3 (sum 6, squares 14); day 2: 5, 7 (sum 12, squares 74)
    c = control.xbar_chart([6, 12], [14, 74], [3, 2])
    # within-day: (14 − 36/3) + (74 − 144/2) = 4 over 2 + 1 degrees of freedom: σ = √(4/3)
    assert c.centre == pytest.approx(3.6)
    assert c.lower[0] == pytest.approx(3.6 - 3 * math.sqrt(4 / 3) / math.sqrt(3))  # 1.6
    assert c.upper[0] == pytest.approx(5.6)
    assert c.upper[1] == pytest.approx(min(7, 3.6 + 3 * math.sqrt(4 / 3) / math.sqrt(2)))  # 6.05
    assert c.value == (2.0, 6.0)
    assert c.out_of_control == (False, False)


def test_xbar_marks_a_day_far_from_the_rest() -> None:
    # 9 days of mean 2 (scores 1 and 3), one of mean 6 (5 and 7): σ = √2 within days
    sums, squares, n = [4] * 9 + [12], [10] * 9 + [74], [2] * 10
    c = control.xbar_chart(sums, squares, n)
    assert c.centre == pytest.approx(48 / 20)
    assert c.out_of_control[-1] is True
    assert not any(c.out_of_control[:-1])
