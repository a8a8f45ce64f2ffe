"""The statistical tests of the aug family's random draws, and their power.

Every test runs at the suite's per-test false-alarm rate ALPHA (conformance.statistics). The
power functions compute, for a stated plausible bug, the probability that the test rejects:
the spec docstrings quote them and tests/test_planted_augmentation.py checks both the
numbers and that a planted bug of that kind is caught by the real suite.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from conformance.statistics import ALPHA

# Below this expected count a chi-square cell is pooled with the other small cells.
MIN_EXPECTED = 5.0


def binomial_pvalues(n: int, p0: float) -> np.ndarray:
    """The two-sided exact binomial test's p-value for every count k = 0..n (scipy's
    binomtest definition: the mass of outcomes no more likely than k)."""
    pmf = stats.binom.pmf(np.arange(n + 1), n, p0)
    order = np.sort(pmf)
    cum = np.cumsum(order)
    idx = np.searchsorted(order, pmf * (1 + 1e-7), side="right") - 1
    return np.minimum(1.0, cum[idx])


def binomial_power(n: int, p0: float, p1: float, alpha: float = ALPHA) -> float:
    """P(two-sided binomial test of p0 rejects at alpha) when the true probability is p1."""
    reject = binomial_pvalues(n, p0) < alpha
    return float(stats.binom.pmf(np.arange(n + 1), n, p1)[reject].sum())


def chisquare_power(n: int, p0: np.ndarray, p1: np.ndarray, alpha: float = ALPHA) -> float:
    """Power of Pearson's test of the cell probabilities p0 against the truth p1, by the
    noncentral chi-square approximation (lambda = n sum (p1 - p0)^2 / p0). Mass of p1 where
    p0 is 0 is an outcome the law forbids: the check rejects it outright (power 1 once such
    an outcome is likely: P = 1 - (1 - mass)^n)."""
    p0, p1 = np.ravel(p0), np.ravel(p1)
    allowed = p0 > 0
    forbidden = float(p1[~allowed].sum())
    df = int(allowed.sum()) - 1
    lam = n * float(np.sum((p1[allowed] - p0[allowed]) ** 2 / p0[allowed]))
    power = float(stats.ncx2.sf(stats.chi2.isf(alpha, df), df, lam)) if df > 0 else 0.0
    return 1.0 - (1.0 - power) * (1.0 - forbidden) ** n


def ks_power_lower_bound(n: int, f0: float, f1: float, alpha: float = ALPHA) -> float:
    """A lower bound on the power of the one-sample KS test at alpha when at some point x*
    the true CDF is f1 and the tested one f0: D_n >= |F_n(x*) - f0| with n F_n(x*) ~
    Binomial(n, f1), so P(reject) >= P(|F_n(x*) - f0| > the critical D)."""
    crit = float(stats.kstwo.isf(alpha, n))
    k = np.arange(n + 1)
    return float(stats.binom.pmf(k, n, f1)[np.abs(k / n - f0) > crit].sum())


def variance_power(n: int, ratio: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided chi-square test of a known-mean normal sample's variance when
    the true standard deviation is ``ratio`` times the stated one: n s^2 / sigma^2 ~
    ratio^2 chi2(n)."""
    lo, hi = stats.chi2.ppf(alpha / 2, n), stats.chi2.isf(alpha / 2, n)
    r2 = ratio * ratio
    return float(stats.chi2.cdf(lo / r2, n) + stats.chi2.sf(hi / r2, n))


def variance_pvalue(z: np.ndarray, sigma: float) -> float:
    """Two-sided chi-square test that z (mean 0 known) has standard deviation sigma."""
    n = z.size
    stat = float(np.sum((z.astype(np.float64) / sigma) ** 2))
    return float(min(1.0, 2 * min(stats.chi2.cdf(stat, n), stats.chi2.sf(stat, n))))


def pooled_chisquare(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int, float]:
    """Pearson's test with the cells of expected count < MIN_EXPECTED pooled into one
    (statistic, degrees of freedom, p-value). An observation in a cell the law gives
    probability 0 is impossible under it: p-value 0."""
    observed, expected = np.ravel(observed).astype(float), np.ravel(expected).astype(float)
    if np.any(observed[expected <= 0] > 0):
        return math.inf, 0, 0.0
    big = expected >= MIN_EXPECTED
    small = (expected > 0) & ~big
    obs = np.append(observed[big], observed[small].sum()) if small.any() else observed[big]
    exp = np.append(expected[big], expected[small].sum()) if small.any() else expected[big]
    if obs.size < 2:
        return 0.0, 0, 1.0
    stat = float(np.sum((obs - exp) ** 2 / exp))
    df = obs.size - 1
    return stat, df, float(stats.chi2.sf(stat, df))


def bonferroni(pvalues: list[float]) -> float:
    """One p-value for several tests at once (the union bound): min(1, k min p)."""
    return float(min(1.0, len(pvalues) * min(pvalues)))
