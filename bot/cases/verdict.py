"""Whether a corrective action worked: one-sided before/after tests, standardised by segment."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERIFIED, NOT_VERIFIED, INCONCLUSIVE = "verified", "not_verified", "inconclusive"
# An empty window has nothing to test whatever `min_n` says.
_AT_LEAST = 1

# The continued fraction stops when a step changes it by less than this: far below the 1e-10 the
# verdict needs: p-values agree with scipy's to ~1e-11 relative up to df = 10⁶.
_EPS = 1e-15
_FPMIN = 1e-300
# It converges in O(sqrt(df)) steps; this bound is only a guard against a bug, never reached.
_MAXIT = 1_000_000
# Stirling's series for log-gamma: B(2k) / (2k (2k - 1)), k = 1.., accurate past this argument.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_STIRLING_FROM = 10.0
# A sum of squares minus (sum)²/n that is this small relative to the sum of squares is rounding
# noise from identical scores, not spread: calling it spread would make equal windows "verified".
_NOISE = 1e-12


@dataclass(frozen=True)
class Share:
    """A proportion: `hits` of `n` responses (complaints of a category, or satisfied CSAT)."""

    n: int
    hits: int


@dataclass(frozen=True)
class Moments:
    """A mean: `n` responses, the sum of their scores and the sum of their squared scores."""

    n: int
    total: float
    squares: float


@dataclass(frozen=True)
class Verdict:
    """What verification found: the figures the action's thread shows, and the result."""

    test: str  # "z" (two-proportion z-test) or "welch" (Welch t-test)
    before: float  # rate (0..1) or mean of the before window
    after: float  # the after window standardised to the before window's segment mix
    n_before: int
    n_after: int
    statistic: float | None  # z or t, positive = improvement; None when too few responses
    p_value: float | None
    result: str  # VERIFIED | NOT_VERIFIED | INCONCLUSIVE


def proportions(
    before: Mapping[str, Share],
    after: Mapping[str, Share],
    *,
    lower_is_better: bool,
    min_n: int = 30,
    alpha: float = 0.05,
) -> Verdict:
    """One-sided pooled two-proportion z-test of before against the standardised after window."""
    for share in (*before.values(), *after.values()):
        if share.n < 0 or not 0 <= share.hits <= share.n:
            raise ValueError(f"a share needs 0 <= hits <= n, got {share}")
    n_b, hits_b = sum(s.n for s in before.values()), sum(s.hits for s in before.values())
    n_a, hits_a = sum(s.n for s in after.values()), sum(s.hits for s in after.values())
    weights = _weights({k: s.n for k, s in before.items()}, {k: s.n for k, s in after.items()})
    used = after if weights else {"": Share(n_a, hits_a)}
    weights = weights or {"": 1.0}
    rate_b = hits_b / n_b if n_b else 0.0
    rate_a = math.fsum(w * used[k].hits / used[k].n for k, w in weights.items()) if n_a else 0.0
    if n_b < max(min_n, _AT_LEAST) or n_a < max(min_n, _AT_LEAST):
        return Verdict("z", rate_b, rate_a, n_b, n_a, None, None, INCONCLUSIVE)
    # The null hypothesis is "nothing changed", so both windows share one rate: pool them.
    n_used = sum(used[k].n for k in weights)
    pooled = (hits_b + sum(used[k].hits for k in weights)) / (n_b + n_used)
    spread = (
        pooled
        * (1.0 - pooled)
        * (1.0 / n_b + math.fsum(w * w / used[k].n for k, w in weights.items()))
    )
    statistic, p = _one_sided(rate_b, rate_a, spread, lower_is_better, df=None)
    return Verdict("z", rate_b, rate_a, n_b, n_a, statistic, p, _result(p, alpha))


def means(
    before: Mapping[str, Moments],
    after: Mapping[str, Moments],
    *,
    lower_is_better: bool,
    min_n: int = 30,
    alpha: float = 0.05,
) -> Verdict:
    """One-sided Welch t-test of before against the standardised after window."""
    for moments in (*before.values(), *after.values()):
        if moments.n < 0:
            raise ValueError(f"moments need n >= 0, got {moments}")
    whole_b = _sum_moments(before.values())
    whole_a = _sum_moments(after.values())
    weights = _weights({k: m.n for k, m in before.items()}, {k: m.n for k, m in after.items()})
    used = after if weights else {"": whole_a}
    weights = weights or {"": 1.0}
    mean_b = whole_b.total / whole_b.n if whole_b.n else 0.0
    mean_a = (
        math.fsum(w * used[k].total / used[k].n for k, w in weights.items()) if whole_a.n else 0.0
    )
    if whole_b.n < max(min_n, _AT_LEAST) or whole_a.n < max(min_n, _AT_LEAST):
        return Verdict("welch", mean_b, mean_a, whole_b.n, whole_a.n, None, None, INCONCLUSIVE)
    # (variance of the mean, responses) per independent part: the before window, each after segment
    parts = [(_sample_variance(whole_b) / whole_b.n, whole_b.n)]
    parts += [
        (w * w * _sample_variance(used[k]) / used[k].n, used[k].n) for k, w in weights.items()
    ]
    spread = math.fsum(v for v, _ in parts)
    # Welch–Satterthwaite; a part of one response has no variance and no degree of freedom.
    df_denominator = math.fsum(v * v / (n - 1) for v, n in parts if n > 1)
    df = spread * spread / df_denominator if df_denominator > 0 else math.inf
    statistic, p = _one_sided(mean_b, mean_a, spread, lower_is_better, df=df)
    return Verdict("welch", mean_b, mean_a, whole_b.n, whole_a.n, statistic, p, _result(p, alpha))


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z; erfc keeps the far tail exact where 1 - Φ(z) would be 0."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` (> 0, not necessarily whole) degrees of freedom."""
    if df <= 0 or math.isnan(t):
        raise ValueError(f"student_t_sf needs df > 0 and a number, got t={t}, df={df}")
    square = t * t
    if math.isinf(square):
        return 0.0 if t > 0 else 1.0
    # P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); y = 1 - x is computed on its own so
    # that small t (x near 1) keeps its precision.
    x, y = df / (df + square), square / (df + square)
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, x, y)
    return tail if t >= 0 else 1.0 - tail


def _weights(before_n: Mapping[str, int], after_n: Mapping[str, int]) -> dict[str, float]:
    """Direct standardisation: the before window's shares of the segments both windows have."""
    common = sorted(k for k, n in before_n.items() if n > 0 and after_n.get(k, 0) > 0)
    total = sum(before_n[k] for k in common)
    return {k: before_n[k] / total for k in common}


def _sum_moments(parts: Iterable[Moments]) -> Moments:
    items = list(parts)
    return Moments(
        sum(m.n for m in items),
        math.fsum(m.total for m in items),
        math.fsum(m.squares for m in items),
    )


def _sample_variance(m: Moments) -> float:
    if m.n < 2:
        return 0.0
    deviations = m.squares - m.total * m.total / m.n
    if deviations <= _NOISE * abs(m.squares):
        return 0.0
    return deviations / (m.n - 1)


def _one_sided(
    before: float, after: float, spread: float, lower_is_better: bool, *, df: float | None
) -> tuple[float, float]:
    """The statistic (positive = improvement) and its upper-tail p-value, normal or Student's t."""
    gain = before - after if lower_is_better else after - before
    if spread <= 0:
        # Nothing varies: any difference is certain, and no difference is no evidence at all.
        if abs(gain) <= _NOISE * max(1.0, abs(before), abs(after)):
            return 0.0, 1.0
        return (math.inf, 0.0) if gain > 0 else (-math.inf, 1.0)
    statistic = gain / math.sqrt(spread)
    if df is None or math.isinf(df):
        return statistic, normal_sf(statistic)
    return statistic, student_t_sf(statistic, df)


def _result(p: float, alpha: float) -> str:
    # The p-value is the upper tail of "after improved", so a small one can only mean improvement.
    return VERIFIED if p < alpha else NOT_VERIFIED


def _incomplete_beta(a: float, b: float, x: float, y: float) -> float:
    """The regularised incomplete beta I_x(a, b), with y = 1 - x given as precisely as x."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    # log of the one near 1 through the other, which is small and so precise: at df = 10⁶ the
    # rounding of x itself, times a, would otherwise cost digits.
    log_x = math.log1p(-y) if x > 0.5 else math.log(x)
    log_y = math.log1p(-x) if y > 0.5 else math.log(y)
    log_front = a * log_x + b * log_y - _log_beta(a, b)
    # The continued fraction converges fast only below this point; above it use the symmetry
    # I_x(a, b) = 1 - I_y(b, a) (Numerical Recipes §6.4).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, y) / b


def _log_beta(a: float, b: float) -> float:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), without the cancellation at large df."""
    small, large = sorted((a, b))
    if large < _STIRLING_FROM:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(large) and lgamma(large + small) are both ~ large·log(large) and cancel to a few units,
    # losing digits with every power of ten of df; their difference by Stirling's series does not.
    difference = (
        (large - 0.5) * math.log1p(small / large)
        + small * math.log(large + small)
        - small
        + _stirling_tail(large + small)
        - _stirling_tail(large)
    )
    return math.lgamma(small) - difference


def _stirling_tail(x: float) -> float:
    """lgamma(x) - ((x - ½)·log x - x + ½·log 2π): the Bernoulli series, to ~1e-17 for x >= 10."""
    inverse, square = 1.0 / x, 1.0 / (x * x)
    return inverse * math.fsum(c * square**k for k, c in enumerate(_STIRLING))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by modified Lentz (NR `betacf`)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, _nonzero(1.0 - qab * x / qap)
    d = 1.0 / d
    h = d
    for m in range(1, _MAXIT + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 / _nonzero(1.0 + numerator * d)
            c = _nonzero(1.0 + numerator / c)
            step = d * c
            h *= step
        if abs(step - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def _nonzero(value: float) -> float:
    return value if abs(value) >= _FPMIN else _FPMIN
