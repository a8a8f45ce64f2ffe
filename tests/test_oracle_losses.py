"""Tests of oracle.losses: hand values, invariants, mpmath at 50 digits, float32 runs.

Error model for the tolerances (eps = 2^-52): a correctly rounded + - * / errs by eps/2
relative; NumPy's float64 exp/log/log1p by at most 2 ulp (<= 2 eps relative); a sum of n
terms of one sign errs by at most n * eps/2 relative (recursive summation bound; NumPy's
pairwise sum is better). The bound of each test is derived in its comment.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle.losses import (
    ORACLE,
    binary_cross_entropy,
    cross_entropy,
    mse,
    sequence_cross_entropy,
)

EPS = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps
mpmath.mp.dps = 50

M = mpmath.mpf


def _mp_logsumexp(row) -> mpmath.mpf:
    return mpmath.log(mpmath.fsum(mpmath.exp(M(float(v))) for v in row))


# ---------------------------------------------------------------- mse


def test_mse_hand_values():
    y = np.array([1.0, 2.0, 3.0])
    t = np.array([0.0, 2.0, 5.0])
    # d = [1, 0, -2], d^2 = [1, 0, 4]: sum 5, mean 5/3.
    np.testing.assert_array_equal(mse(y, t, reduction="none"), [1.0, 0.0, 4.0])
    assert mse(y, t, reduction="sum") == 5.0
    assert mse(y, t) == 5.0 / 3.0
    # weight decay 0.5 * (1 + 4 + 0 + 1) = 3: 5/3 + 3 = 14/3 (rounding of 5/3 and the add).
    w = np.array([[1.0, 2.0], [0.0, -1.0]])
    np.testing.assert_allclose(mse(y, t, w, weight_decay=0.5), 14.0 / 3.0, rtol=EPS, atol=0)
    # A sequence of weight arrays contributes the sum of all their squares (same 6).
    ws = (np.array([1.0, 2.0]), np.array([[0.0], [-1.0]]))
    assert mse(y, t, ws, reduction="sum", weight_decay=0.5) == 5.0 + 3.0


def test_mse_rejects_bad_arguments():
    y = np.zeros(3)
    with pytest.raises(ValueError):
        mse(y, y, np.ones(2), reduction="none", weight_decay=0.1)
    with pytest.raises(ValueError):
        mse(y, np.zeros(4))
    with pytest.raises(ValueError):
        mse(y, y, reduction="batchmean")


def test_mse_against_mpmath():
    rng = np.random.default_rng(10)
    y = rng.normal(scale=10.0, size=(7, 5))
    t = rng.normal(scale=10.0, size=(7, 5))
    w = rng.normal(size=(3, 4))
    pairs = zip(y.flat, t.flat, strict=True)
    truth_sum = mpmath.fsum((M(float(a)) - M(float(b))) ** 2 for a, b in pairs)
    penalty = mpmath.fsum(M(float(v)) ** 2 for v in w.flat)
    lam = 0.01
    truth = truth_sum / y.size + M(lam) * penalty
    got = mse(y, t, w, weight_decay=lam)
    # Every term is >= 0: d = y - t (eps/2), d*d (2 * eps/2 + eps/2), a 35-term sum (35 eps/2),
    # the mean's divide, the 12-term penalty sum, the product and the final add:
    # (1.5 + 35 + 12) / 2 + 3 < 30 eps relative.
    assert abs(M(float(got)) - truth) <= 30 * EPS * truth


# ---------------------------------------------------------------- binary cross-entropy


def test_bce_hand_values():
    # p = 1/2, t = 1: -log(1/2) = log 2.  p = 1/4, t = 0: -log(3/4) = log(4/3).
    # p = 1/2, t = 1/2: -(1/2 log 1/2 + 1/2 log 1/2) = log 2.
    p = np.array([0.5, 0.25, 0.5])
    t = np.array([1.0, 0.0, 0.5])
    expected = [np.log(2.0), np.log(4.0 / 3.0), np.log(2.0)]
    got = binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=4 * EPS, atol=0)
    # Logits: z = 0 gives p = 1/2 and max(0,0) - 0*t + log1p(1) = log 2 for every t.
    z = np.zeros(3)
    np.testing.assert_allclose(
        binary_cross_entropy(z, t, reduction="none", from_logits=True), np.log(2.0),
        rtol=2 * EPS, atol=0,
    )


def test_bce_logits_extremes_are_exact():
    z = np.array([800.0, 800.0, -800.0, -800.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    # z=800,t=1: 800 - 800 + log1p(e^-800 -> 0) = 0;  z=800,t=0: 800 + 0 = 800;
    # z=-800,t=1: 0 + 800 + 0 = 800;                  z=-800,t=0: 0 - 0 + 0 = 0.
    # (The true values differ from these by e^-800 ~ 1e-348, below float64's range.)
    got = binary_cross_entropy(z, t, reduction="none", from_logits=True)
    np.testing.assert_array_equal(got, [0.0, 800.0, 800.0, 0.0])


def test_bce_logits_equals_probabilities_at_sigmoid():
    rng = np.random.default_rng(11)
    z = rng.uniform(-5, 5, size=300)
    t = rng.uniform(0, 1, size=300)
    p = 1 / (1 + np.exp(-z))
    from_logits = binary_cross_entropy(z, t, reduction="none", from_logits=True)
    from_probs = binary_cross_entropy(p, t, reduction="none")
    # p carries <= 3 eps relative error dp; dL/dp = -t/p + (1-t)/(1-p), so the probability
    # form moves by <= 3 eps (t + (1-t) p/(1-p)) <= 3 eps (1 + e^z); each form adds <= 4 eps
    # relative of L itself.  Bound: 8 eps (1 + e^z + L).
    tol = 8 * EPS * (1 + np.exp(z) + from_probs)
    assert np.all(np.abs(from_logits - from_probs) <= tol)


def test_bce_against_mpmath():
    rng = np.random.default_rng(12)
    n = 200
    p = np.concatenate([rng.uniform(0, 1, size=n - 4), [1e-7, 1 - 1e-7, 1e-300, 0.5]])
    t = rng.uniform(0, 1, size=n)
    truth = mpmath.fsum(
        -(M(float(b)) * mpmath.log(M(float(a))) + (1 - M(float(b))) * mpmath.log1p(-M(float(a))))
        for a, b in zip(p, t, strict=True)
    ) / n
    # Terms >= 0; per element: log/log1p 2 eps, 1 - t eps/2, two products and an add eps/2
    # each -> 4.5 eps; the mean of n terms n eps/2 more: (n/2 + 5) eps relative.
    got = binary_cross_entropy(p, t)
    assert abs(M(float(got)) - truth) <= (n / 2 + 5) * EPS * truth

    z = np.concatenate([rng.normal(scale=20.0, size=n - 4), [700.0, -700.0, 0.0, 1e-8]])
    terms = []
    magnitude = []
    for a, b in zip(z, t, strict=True):
        za, tb = M(float(a)), M(float(b))
        terms.append(mpmath.log1p(mpmath.exp(-abs(za))) + max(za, 0) - za * tb)
        magnitude.append(abs(za) + abs(za * tb) + terms[-1])
    truth = mpmath.fsum(terms) / n
    # Per element |error| <= 2 eps (|max(z,0)| + |z t| + log1p term + L) (the product, the
    # difference, log1p(exp) at 4 eps relative, the add); the mean adds n eps/2 * mean(L).
    bound = 2 * EPS * mpmath.fsum(magnitude) / n + n * EPS / 2 * truth
    got = binary_cross_entropy(z, t, from_logits=True)
    assert abs(M(float(got)) - truth) <= bound


# ---------------------------------------------------------------- cross-entropy


def test_cross_entropy_hand_values():
    # softmax(log [1, 2, 3]) = [1/6, 1/3, 1/2].  Class 2: -log(1/2) = log 2; class 0: log 6.
    z = np.log(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]))
    got = cross_entropy(z, np.array([2, 0]), reduction="none")
    np.testing.assert_allclose(got, [np.log(2.0), np.log(6.0)], rtol=8 * EPS, atol=0)
    # Probability target [1/2, 1/2, 0]: 1/2 log 6 + 1/2 log 3.
    t = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    expected = 0.5 * np.log(6.0) + 0.5 * np.log(3.0)
    np.testing.assert_allclose(cross_entropy(z, t), expected, rtol=8 * EPS, atol=0)


def test_cross_entropy_integer_and_one_hot_agree_exactly():
    rng = np.random.default_rng(13)
    z = rng.normal(scale=5.0, size=(9, 6))
    labels = rng.integers(0, 6, size=9)
    one_hot = np.eye(6)[labels]
    # One-hot rows multiply every other log-probability by exactly 0: the sums are exact.
    for reduction in ("none", "sum", "mean"):
        a = cross_entropy(z, labels, reduction=reduction)
        b = cross_entropy(z, one_hot, reduction=reduction)
        np.testing.assert_array_equal(a, b)


def test_cross_entropy_reductions_are_consistent():
    rng = np.random.default_rng(14)
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    per = cross_entropy(z, labels, reduction="none")
    assert per.shape == (5,) and np.all(per > 0)
    assert cross_entropy(z, labels, reduction="sum") == np.sum(per)
    assert cross_entropy(z, labels, reduction="mean") == np.mean(per)


def test_cross_entropy_rejects_bad_targets():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError):
        cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError):
        cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError):
        cross_entropy(z, np.zeros((2, 4)))


def test_cross_entropy_against_mpmath():
    rng = np.random.default_rng(15)
    n, c = 12, 7
    z = rng.normal(scale=50.0, size=(n, c))
    z[0] = [700.0, -700.0, 0.0, 1.0, 2.0, 3.0, 699.0]
    labels = rng.integers(0, c, size=n)
    t = rng.dirichlet(np.ones(c), size=n)
    lse = [_mp_logsumexp(row) for row in z]
    int_truth = [lse[i] - M(float(z[i, labels[i]])) for i in range(n)]
    prob_truth = [
        mpmath.fsum(M(float(t[i, j])) * (lse[i] - M(float(z[i, j]))) for j in range(c))
        for i in range(n)
    ]
    # Each -log_softmax entry errs by <= 2 eps (D + C + 6) relative (see the activation tests;
    # D = the row's spread); probability targets add C products and a C-term sum of
    # nonnegative terms: + (C + 1) eps.  Per-sample relative bounds:
    spread = z.max(axis=1) - z.min(axis=1)
    rel = 2 * EPS * (spread + c + 6) + (c + 1) * EPS
    got = cross_entropy(z, labels, reduction="none")
    for g, tr, r in zip(got, int_truth, rel, strict=True):
        assert abs(M(float(g)) - tr) <= r * tr
    got = cross_entropy(z, t, reduction="none")
    for g, tr, r in zip(got, prob_truth, rel, strict=True):
        assert abs(M(float(g)) - tr) <= r * tr
    # Mean over n >= 0 samples: + n eps/2 + eps/2 on top of the worst sample bound.
    mean_truth = mpmath.fsum(int_truth) / n
    bound = (rel.max() + (n + 1) * EPS / 2) * mean_truth
    assert abs(M(float(cross_entropy(z, labels))) - mean_truth) <= bound


# ---------------------------------------------------------------- sequence cross-entropy


def test_sequence_cross_entropy_hand_values():
    # T = 2, N = 2, C = 2, all logits 0: every step and sample costs log 2.
    # mean: L_t = log 2 per step, L = 2 log 2.  sum: L_t = 2 log 2, L = 4 log 2.
    z = np.zeros((2, 2, 2))
    target = np.array([[0, 1], [1, 1]])
    assert sequence_cross_entropy(z, target) == 2 * np.log(2.0)
    assert sequence_cross_entropy(z, target, reduction="sum") == 4 * np.log(2.0)


def test_sequence_cross_entropy_against_mpmath_loops():
    rng = np.random.default_rng(16)
    steps, n, c = 4, 3, 5
    z = rng.normal(scale=4.0, size=(steps, n, c))
    target = rng.integers(0, c, size=(steps, n))
    per = [
        [_mp_logsumexp(z[s, i]) - M(float(z[s, i, target[s, i]])) for i in range(n)]
        for s in range(steps)
    ]
    mean_truth = mpmath.fsum(mpmath.fsum(row) / n for row in per)
    sum_truth = mpmath.fsum(mpmath.fsum(row) for row in per)
    # Per sample 2 eps (D + C + 6) relative, D the largest row spread of the data; all terms
    # are >= 0, so the per-step and total sums add (T*N + 2) eps/2.
    spread = (z.max(axis=2) - z.min(axis=2)).max()
    rel = 2 * EPS * (spread + c + 6) + (steps * n + 2) * EPS / 2
    got_mean = sequence_cross_entropy(z, target, reduction="mean")
    got_sum = sequence_cross_entropy(z, target, reduction="sum")
    assert abs(M(float(got_mean)) - mean_truth) <= rel * mean_truth
    assert abs(M(float(got_sum)) - sum_truth) <= rel * sum_truth


def test_sequence_cross_entropy_rejects_bad_arguments():
    z = np.zeros((2, 3, 4))
    with pytest.raises(ValueError):
        sequence_cross_entropy(z, np.zeros((2, 3), dtype=int), reduction="none")
    with pytest.raises(ValueError):
        sequence_cross_entropy(z, np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError):
        sequence_cross_entropy(z, np.zeros((2, 3)))


# ---------------------------------------------------------------- lower precision


def _float32_cases(rng: np.random.Generator) -> dict:
    y, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    p, pt = rng.uniform(0.05, 0.95, size=(4, 3)), rng.uniform(size=(4, 3))
    return {
        "loss.mse": ((y, t, rng.normal(size=(2, 2))), {"weight_decay": 0.1}),
        "loss.binary_cross_entropy": ((p, pt), {}),
        "loss.binary_cross_entropy/logits": ((y, pt), {"from_logits": True}),
        "loss.cross_entropy": ((y, rng.integers(0, 3, size=4)), {}),
        "loss.cross_entropy/probs": ((y, rng.dirichlet(np.ones(3), size=4)), {}),
        "loss.sequence_cross_entropy": ((y.reshape(2, 2, 3), rng.integers(0, 3, (2, 2))), {}),
    }


@pytest.mark.parametrize("case", sorted(_float32_cases(np.random.default_rng(0))))
def test_runs_in_float32(case):
    args, kwargs = _float32_cases(np.random.default_rng(17))[case]
    fn = ORACLE[case.split("/")[0]]
    with _canon.compute_dtype(np.float32):
        low = fn(*args, **kwargs)
    assert low.dtype == np.float32
    # O(1) well-conditioned data, nonnegative sums of <= 12 terms, <= ~20 roundings in all
    # (plus the float32 rounding of the inputs, eps32/2 each): 32 eps32 relative.
    np.testing.assert_allclose(low, fn(*args, **kwargs), rtol=32 * EPS32, atol=0)
