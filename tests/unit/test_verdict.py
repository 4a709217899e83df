"""Verifying a corrective action (SPEC §8): hand-computed tests, segment mix, scipy as reference."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats

from bot.cases.verdict import (
    INCONCLUSIVE,
    NOT_VERIFIED,
    VERIFIED,
    Moments,
    Share,
    Verdict,
    means,
    normal_sf,
    proportions,
    student_t_sf,
)


def moments(scores: list[float]) -> Moments:
    return Moments(len(scores), math.fsum(scores), math.fsum(s * s for s in scores))


def spread(n: int, mean: float, variance: float) -> Moments:
    """Moments of n scores with this mean and sample variance: squares = (n-1)·s² + total²/n."""
    total = n * mean
    return Moments(n, total, (n - 1) * variance + total * total / n)


# --- proportions: the two-proportion z-test ------------------------------------------------------


def test_complaint_rate_down_from_81_to_32_per_1000_is_verified() -> None:
    verdict = proportions({"": Share(1000, 81)}, {"": Share(1000, 32)}, lower_is_better=True)
    pooled = (81 + 32) / 2000  # 0.0565
    se = math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))  # sqrt(0.0565·0.9435·0.002)
    z = (0.081 - 0.032) / se  # 0.049 / 0.010325
    assert z == pytest.approx(4.7456, abs=1e-4)
    assert verdict.test == "z"
    assert (verdict.before, verdict.after) == (0.081, 0.032)
    assert (verdict.n_before, verdict.n_after) == (1000, 1000)
    assert verdict.statistic == pytest.approx(z, rel=1e-12)
    assert verdict.p_value == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)), rel=1e-12)
    assert verdict.p_value == pytest.approx(1.04e-6, rel=0.01)
    assert verdict.result == VERIFIED


def test_csat_up_from_70_to_74_percent_is_verified_when_higher_is_better() -> None:
    verdict = proportions({"": Share(1000, 700)}, {"": Share(1000, 740)}, lower_is_better=False)
    se = math.sqrt(0.72 * 0.28 * 0.002)  # pooled 1440/2000 = 0.72; se = 0.020080
    assert verdict.statistic == pytest.approx(0.04 / se, rel=1e-12)  # z = 1.992
    assert verdict.p_value == pytest.approx(0.02319, abs=1e-5)
    assert verdict.result == VERIFIED


def test_a_change_in_the_wrong_direction_is_not_verified() -> None:
    # The same CSAT rise read as a complaint rate: it went up, so z is negative and p = 1 - 0.023.
    verdict = proportions({"": Share(1000, 700)}, {"": Share(1000, 740)}, lower_is_better=True)
    assert verdict.statistic == pytest.approx(-0.04 / math.sqrt(0.72 * 0.28 * 0.002), rel=1e-12)
    assert verdict.p_value == pytest.approx(1 - 0.02319, abs=1e-5)
    assert verdict.result == NOT_VERIFIED


def test_a_small_drop_is_not_significant() -> None:
    verdict = proportions({"": Share(1000, 81)}, {"": Share(1000, 75)}, lower_is_better=True)
    pooled = 156 / 2000
    z = 0.006 / math.sqrt(pooled * (1 - pooled) * 0.002)  # 0.006 / 0.011989 = 0.50
    assert verdict.statistic == pytest.approx(z, rel=1e-12)
    assert verdict.p_value == pytest.approx(0.3084, abs=1e-4)
    assert verdict.result == NOT_VERIFIED


@pytest.mark.parametrize(
    ("before", "after", "min_n", "result"),
    [
        (Share(29, 5), Share(1000, 0), 30, INCONCLUSIVE),
        (Share(1000, 80), Share(29, 0), 30, INCONCLUSIVE),
        (Share(30, 10), Share(30, 0), 30, VERIFIED),
        (Share(29, 10), Share(29, 0), 20, VERIFIED),
        (Share(1000, 80), Share(1000, 10), 1001, INCONCLUSIVE),
    ],
)
def test_inconclusive_under_min_n_responses_in_either_window(
    before: Share, after: Share, min_n: int, result: str
) -> None:
    verdict = proportions({"": before}, {"": after}, lower_is_better=True, min_n=min_n)
    assert verdict.result == result
    assert (verdict.statistic is None) == (result == INCONCLUSIVE)
    assert (verdict.p_value is None) == (result == INCONCLUSIVE)
    assert verdict.before == before.hits / before.n  # still shown: "8.1 % → 3.2 % (n 29 → …)"


def test_inconclusive_counts_the_window_total_not_one_segment() -> None:
    before = {"vip": Share(20, 5), "": Share(20, 5)}  # 40 in all, 20 per segment
    after = {"vip": Share(20, 0), "": Share(20, 0)}
    assert proportions(before, after, lower_is_better=True).result == VERIFIED


def test_empty_windows_are_inconclusive_and_show_zero() -> None:
    verdict = proportions({}, {}, lower_is_better=True, min_n=0)
    assert verdict == Verdict("z", 0.0, 0.0, 0, 0, None, None, INCONCLUSIVE)


@pytest.mark.parametrize("hits", [0, 100])
def test_proportions_without_variance_and_without_change_have_p_one(hits: int) -> None:
    # Pooled 0 % or 100 %: the standard error is 0 and nothing moved; no division by zero.
    for lower in (True, False):
        verdict = proportions({"": Share(100, hits)}, {"": Share(100, hits)}, lower_is_better=lower)
        assert (verdict.statistic, verdict.p_value, verdict.result) == (0.0, 1.0, NOT_VERIFIED)


def test_two_segments_standardise_the_after_window_by_hand() -> None:
    before = {"vip": Share(200, 30), "std": Share(800, 50)}  # weights 0.2 and 0.8
    after = {"vip": Share(400, 40), "std": Share(600, 24)}  # rates 10 % and 4 %; raw 6.4 %
    verdict = proportions(before, after, lower_is_better=True)
    standardised = 0.2 * 0.10 + 0.8 * 0.04  # 0.052
    pooled = (80 + 64) / 2000  # 0.072
    se = math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 0.2**2 / 400 + 0.8**2 / 600))
    z = (0.08 - standardised) / se  # 0.028 / 0.012032 = 2.327
    assert verdict.before == 0.08
    assert verdict.after == pytest.approx(standardised, rel=1e-12)
    assert verdict.statistic == pytest.approx(z, rel=1e-12)
    assert verdict.p_value == pytest.approx(normal_sf(z), rel=1e-12)
    assert verdict.p_value == pytest.approx(0.00998, abs=1e-5)
    assert (verdict.n_before, verdict.n_after, verdict.result) == (1000, 1000, VERIFIED)


def test_a_vip_heavy_after_window_does_not_fake_an_improvement() -> None:
    # VIPs complain at 5 %, standard customers at 15 %, in both windows: nothing changed. The
    # after window just had 90 % VIPs instead of 50 %, so its raw rate fell from 10 % to 6 %.
    before = {"vip": Share(500, 25), "standard": Share(500, 75)}
    after = {"vip": Share(900, 45), "standard": Share(100, 15)}
    raw = proportions({"": Share(1000, 100)}, {"": Share(1000, 60)}, lower_is_better=True)
    assert (raw.after, raw.result) == (0.06, VERIFIED)  # what a plain test would have said

    verdict = proportions(before, after, lower_is_better=True)
    assert verdict.before == 0.1
    assert verdict.after == pytest.approx(0.5 * 0.05 + 0.5 * 0.15, rel=1e-12)  # = before
    assert verdict.statistic == pytest.approx(0.0, abs=1e-9)
    assert verdict.p_value == pytest.approx(0.5, abs=1e-9)
    assert verdict.result == NOT_VERIFIED


def test_segments_only_one_window_has_are_left_out_of_the_weights() -> None:
    before = {"vip": Share(100, 10), "std": Share(300, 30), "new": Share(600, 90)}
    after = {
        "vip": Share(200, 10),
        "std": Share(200, 4),
        "new": Share(0, 0),
        "trial": Share(50, 40),
    }
    verdict = proportions(before, after, lower_is_better=True)
    # Only vip and std are in both (an empty segment is absent): weights 100/400 and 300/400.
    assert verdict.after == pytest.approx(0.25 * 0.05 + 0.75 * 0.02, rel=1e-12)
    assert (verdict.before, verdict.n_before, verdict.n_after) == (0.13, 1000, 450)
    pooled = (130 + 14) / (1000 + 400)  # the after responses as used: vip and std only
    se = math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 0.25**2 / 200 + 0.75**2 / 200))
    assert verdict.statistic == pytest.approx((0.13 - 0.0275) / se, rel=1e-12)


def test_no_common_segment_falls_back_to_the_plain_after_rate() -> None:
    before = {"vip": Share(500, 50)}
    after = {"standard": Share(300, 12), "trial": Share(100, 8)}
    verdict = proportions(before, after, lower_is_better=True)
    assert verdict.after == 20 / 400
    assert verdict == proportions({"": Share(500, 50)}, {"": Share(400, 20)}, lower_is_better=True)


@pytest.mark.parametrize(
    ("n_b", "hits_b", "n_a", "hits_a"),
    [
        (1000, 81, 1000, 32),
        (412, 33, 398, 13),
        (30, 3, 31, 7),
        (5000, 2500, 80, 30),
        (1000, 500, 1000, 10),
    ],
)
@pytest.mark.parametrize("lower", [True, False])
def test_z_test_matches_the_textbook_and_scipy_normal_tail(
    n_b: int, hits_b: int, n_a: int, hits_a: int, lower: bool
) -> None:
    verdict = proportions({"": Share(n_b, hits_b)}, {"": Share(n_a, hits_a)}, lower_is_better=lower)
    p_b, p_a, pooled = hits_b / n_b, hits_a / n_a, (hits_b + hits_a) / (n_b + n_a)
    z = (p_b - p_a) / math.sqrt(pooled * (1 - pooled) * (1 / n_b + 1 / n_a))
    z = z if lower else -z
    assert verdict.statistic == pytest.approx(z, rel=1e-12)
    assert verdict.p_value == pytest.approx(stats.norm.sf(z), rel=1e-9)


def test_p_exactly_alpha_is_not_verified() -> None:
    before, after = {"": Share(412, 33)}, {"": Share(398, 20)}
    p = proportions(before, after, lower_is_better=True).p_value
    assert p is not None and 0.01 < p < 0.2
    assert proportions(before, after, lower_is_better=True, alpha=p).result == NOT_VERIFIED
    assert proportions(before, after, lower_is_better=True, alpha=p * 1.0001).result == VERIFIED


def test_shares_must_be_possible() -> None:
    with pytest.raises(ValueError, match="hits"):
        proportions({"": Share(10, 11)}, {"": Share(10, 1)}, lower_is_better=True)


# --- means: the Welch t-test ---------------------------------------------------------------------


def test_ces_mean_down_from_5_to_4_is_verified() -> None:
    before, after = spread(50, 5.0, 4.0), spread(40, 4.0, 2.25)
    verdict = means({"": before}, {"": after}, lower_is_better=True)
    var_b, var_a = 4.0 / 50, 2.25 / 40  # 0.08 and 0.05625
    t = (5.0 - 4.0) / math.sqrt(var_b + var_a)  # 1 / 0.369121 = 2.709
    df = (var_b + var_a) ** 2 / (var_b**2 / 49 + var_a**2 / 39)  # 0.0185641 / 0.000211738 = 87.67
    assert (t, df) == (pytest.approx(2.7091, abs=1e-4), pytest.approx(87.67, abs=0.01))
    assert verdict.test == "welch"
    assert (verdict.before, verdict.after) == (pytest.approx(5.0), pytest.approx(4.0))
    assert (verdict.n_before, verdict.n_after) == (50, 40)
    assert verdict.statistic == pytest.approx(t, rel=1e-9)
    assert verdict.p_value == pytest.approx(stats.t.sf(t, df), rel=1e-9)
    assert verdict.p_value == pytest.approx(0.00406, abs=1e-5)
    assert verdict.result == VERIFIED


def test_nps_mean_up_is_verified_only_when_higher_is_better() -> None:
    before, after = spread(200, 6.0, 9.0), spread(200, 6.8, 9.0)
    t = 0.8 / math.sqrt(9.0 / 200 + 9.0 / 200)  # 0.8 / 0.3 = 2.667, df = 398
    up = means({"": before}, {"": after}, lower_is_better=False)
    assert up.statistic == pytest.approx(t, rel=1e-9)
    assert up.p_value == pytest.approx(stats.t.sf(t, 398), rel=1e-9)
    assert up.result == VERIFIED
    down = means({"": before}, {"": after}, lower_is_better=True)
    assert down.statistic == pytest.approx(-t, rel=1e-9)
    assert down.p_value == pytest.approx(1 - up.p_value, rel=1e-9)
    assert down.result == NOT_VERIFIED


def test_means_inconclusive_under_min_n() -> None:
    verdict = means({"": spread(29, 5.0, 1.0)}, {"": spread(500, 1.0, 1.0)}, lower_is_better=True)
    assert (verdict.statistic, verdict.p_value, verdict.result) == (None, None, INCONCLUSIVE)
    assert verdict.before == pytest.approx(5.0)
    assert (
        means(
            {"": spread(29, 5.0, 1.0)}, {"": spread(500, 1.0, 1.0)}, lower_is_better=True, min_n=29
        ).result
        == VERIFIED
    )


@pytest.mark.parametrize("score", [3.0, 3.3, 0.1])
def test_identical_scores_have_p_one_not_a_rounding_verdict(score: float) -> None:
    # 40 × 3.3 summed in floating point leaves a tiny non-zero "variance"; it must count as none.
    before, after = moments([score] * 40), moments([score] * 50)
    for lower in (True, False):
        verdict = means({"": before}, {"": after}, lower_is_better=lower)
        assert (verdict.statistic, verdict.p_value, verdict.result) == (0.0, 1.0, NOT_VERIFIED)


def test_zero_variance_with_a_real_change_is_certain() -> None:
    before, after = moments([4.0] * 40), moments([3.0] * 40)
    better = means({"": before}, {"": after}, lower_is_better=True)
    assert (better.statistic, better.p_value, better.result) == (math.inf, 0.0, VERIFIED)
    worse = means({"": before}, {"": after}, lower_is_better=False)
    assert (worse.statistic, worse.p_value, worse.result) == (-math.inf, 1.0, NOT_VERIFIED)


def test_welch_with_segments_and_a_one_response_segment_by_hand() -> None:
    before = {"a": spread(40, 5.0, 4.0), "b": spread(10, 6.0, 1.0)}  # weights 0.8 and 0.2
    after = {"a": spread(39, 4.0, 2.0), "b": Moments(1, 7.0, 49.0)}  # b: one response, no variance
    verdict = means(before, after, lower_is_better=True)
    mean_b = (200 + 60) / 50  # 5.2
    whole_b = before["a"].squares + before["b"].squares  # sum of squares of all 50
    var_b = (whole_b - 260**2 / 50) / 49 / 50
    mean_a = 0.8 * 4.0 + 0.2 * 7.0  # 4.6; the raw after mean would be (156 + 7) / 40 = 4.075
    var_a = 0.8**2 * 2.0 / 39  # b adds 0.2² · 0 / 1
    t = (mean_b - mean_a) / math.sqrt(var_b + var_a)
    df = (var_b + var_a) ** 2 / (var_b**2 / 49 + var_a**2 / 38)  # b has no degree of freedom
    assert (verdict.before, verdict.after) == (pytest.approx(mean_b), pytest.approx(mean_a))
    assert verdict.statistic == pytest.approx(t, rel=1e-9)
    assert verdict.p_value == pytest.approx(stats.t.sf(t, df), rel=1e-9)
    assert verdict.result == VERIFIED


def test_welch_without_common_segments_tests_the_plain_after_window() -> None:
    rng = random.Random(7)
    scores = [float(rng.randint(1, 7)) for _ in range(90)]
    before = {"vip": moments([float(rng.randint(2, 7)) for _ in range(60)])}
    verdict = means(
        before, {"x": moments(scores[:30]), "y": moments(scores[30:])}, lower_is_better=True
    )
    assert verdict.after == pytest.approx(sum(scores) / 90, rel=1e-12)
    plain = means({"": before["vip"]}, {"": moments(scores)}, lower_is_better=True)
    assert (verdict.statistic, verdict.p_value) == (
        pytest.approx(plain.statistic, rel=1e-12),
        pytest.approx(plain.p_value, rel=1e-12),
    )


def test_a_segment_mix_shift_does_not_move_the_standardised_mean() -> None:
    before = {"vip": spread(100, 2.0, 1.0), "std": spread(100, 5.0, 1.0)}
    after = {"vip": spread(180, 2.0, 1.0), "std": spread(20, 5.0, 1.0)}
    verdict = means(before, after, lower_is_better=True)
    assert verdict.after == pytest.approx(verdict.before) == pytest.approx(3.5)
    assert verdict.result == NOT_VERIFIED


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lower", [True, False])
def test_welch_matches_scipy_ttest_ind(seed: int, lower: bool) -> None:
    rng = random.Random(seed)
    n_b, n_a = rng.randint(30, 2000), rng.randint(30, 2000)
    top = rng.choice([7, 10])  # CES 1-7, NPS 0-10
    shift = rng.choice([-1, 0, 1])
    before = [float(rng.randint(1, top)) for _ in range(n_b)]
    after = [
        float(min(top, max(0, rng.randint(1, top) + rng.choice([0, shift])))) for _ in range(n_a)
    ]
    verdict = means({"": moments(before)}, {"": moments(after)}, lower_is_better=lower)
    # scipy's t is (after - before) / se; "after is smaller" is alternative="less".
    ref = stats.ttest_ind(
        after, before, equal_var=False, alternative="less" if lower else "greater"
    )
    assert verdict.statistic == pytest.approx(-ref.statistic if lower else ref.statistic, rel=1e-9)
    assert verdict.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_the_same_data_gives_the_same_verdict_in_any_segment_order() -> None:
    rng = random.Random(11)
    segments = ["vip", "std", "", "trial"]
    before = {s: moments([rng.uniform(0, 10) for _ in range(rng.randint(5, 80))]) for s in segments}
    after = {s: moments([rng.uniform(0, 10) for _ in range(rng.randint(5, 80))]) for s in segments}
    first = means(before, after, lower_is_better=False)
    assert means(before, after, lower_is_better=False) == first
    assert (
        means(dict(reversed(before.items())), dict(reversed(after.items())), lower_is_better=False)
        == first
    )
    shares = {s: Share(m.n, m.n // 3) for s, m in before.items()}
    assert proportions(shares, dict(reversed(shares.items())), lower_is_better=True) == proportions(
        shares, shares, lower_is_better=True
    )


# --- the distributions ---------------------------------------------------------------------------


@pytest.mark.parametrize("df", [1, 1.5, 2, 2.5, 3, 4.7, 9.99, 10, 29.3, 100, 1000, 2500.5, 10_000])
def test_student_t_tail_matches_scipy(df: float) -> None:
    for t in (-30, -3, -1, -0.1, 0, 1e-6, 0.1, 1, 1.645, 1.96, 3, 10, 30, 200):
        assert student_t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=1e-9), (t, df)


@pytest.mark.parametrize("df", [1e5, 1e6])
def test_student_t_tail_keeps_its_digits_at_large_df(df: float) -> None:
    # Weeks of responses from a big team: log-gamma differences there need Stirling's series.
    for t in (-3, -1, 0.1, 1, 1.96, 3, 10, 30):
        assert student_t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=1e-9), (t, df)


def test_student_t_tail_at_the_edges() -> None:
    assert student_t_sf(0.0, 7) == 0.5
    assert student_t_sf(math.inf, 3) == 0.0
    assert student_t_sf(-math.inf, 3) == 1.0
    assert student_t_sf(1e200, 3) == 0.0  # t² overflows
    with pytest.raises(ValueError):
        student_t_sf(1.0, 0)


def test_normal_tail_matches_scipy_far_out() -> None:
    for z in (-8, -1.5, 0, 0.5, 1.645, 4.7456, 12, 30):
        assert normal_sf(z) == pytest.approx(stats.norm.sf(z), rel=1e-12)
