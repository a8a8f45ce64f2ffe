"""Tests of oracle.activations: hand values, invariants, mpmath at 50 digits, float32 runs.

Tolerance rules used below (eps = float64 machine epsilon 2^-52, so one correctly rounded
operation errs by at most eps/2 relative, and NumPy's float64 transcendentals (exp, log1p,
tanh) are taken to err by at most 2 ulp <= 2 eps relative):
* sigmoid: exp (2 eps) + one add and one divide (eps/2 each)           -> 4 eps relative.
* tanh: one transcendental                                             -> 2 eps relative.
* leaky_relu: one product                                              -> eps/2 relative.
* softmax / log_softmax: see ``_softmax_tol`` / ``_log_softmax_tol``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle.activations import ORACLE, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh

EPS = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps
TINY = np.finfo(np.float64).tiny
mpmath.mp.dps = 50


def _mp(a: np.ndarray) -> list:
    return [mpmath.mpf(float(v)) for v in np.ravel(a)]


def _rel_err(actual: np.ndarray, truth: list) -> np.ndarray:
    """|actual - truth| / |truth| per element, computed in mpmath, as float."""
    out = []
    for a, t in zip(np.ravel(actual), truth, strict=True):
        d = abs(mpmath.mpf(float(a)) - t)
        out.append(float(d / abs(t)) if t != 0 else float(d))
    return np.array(out).reshape(np.shape(actual))


def _extreme_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random values of every magnitude up to 700, both signs, plus 0 and +-700 exactly."""
    mags = 10.0 ** rng.uniform(-8, np.log10(700), size=n)
    x = mags * rng.choice([-1.0, 1.0], size=n)
    return np.concatenate([x, [0.0, 700.0, -700.0, 1e-300, -1e-300]])


# ---------------------------------------------------------------- hand values


def test_sigmoid_hand_values():
    # sigmoid(0) = 1/2; sigmoid(log 3) = 1/(1 + 1/3) = 3/4; sigmoid(-log 3) = 1/(1 + 3) = 1/4.
    got = sigmoid(np.array([0.0, np.log(3.0), -np.log(3.0)]))
    np.testing.assert_allclose(got, [0.5, 0.75, 0.25], rtol=4 * EPS, atol=0)


def test_sigmoid_saturates_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = sigmoid(np.array([1000.0, -1000.0, np.inf, -np.inf]))
    # 1/(1 + e^-1000) rounds to 1; e^-1000 underflows to 0, so the negative side is 0.
    np.testing.assert_array_equal(got, [1.0, 0.0, 1.0, 0.0])


def test_tanh_hand_value():
    # tanh(log 2) = (2 - 1/2) / (2 + 1/2) = 1.5 / 2.5 = 0.6
    np.testing.assert_allclose(tanh(np.log(2.0)), 0.6, rtol=4 * EPS, atol=0)


def test_relu_and_leaky_relu_hand_values():
    x = np.array([-2.0, 0.0, 3.0, -np.inf])
    # relu: max(x, 0); relu(-inf) = 0 (not nan).
    np.testing.assert_array_equal(relu(x), [0.0, 0.0, 3.0, 0.0])
    # slope 0.25 (exact in binary): -2 * 0.25 = -0.5, 0 * 0.25 = 0, 3 stays.
    np.testing.assert_array_equal(leaky_relu(x[:3], slope=0.25), [-0.5, 0.0, 3.0])


def test_softmax_and_log_softmax_hand_values():
    # exp(0), exp(log 2), exp(log 3) = 1, 2, 3; the sum is 6: softmax = 1/6, 1/3, 1/2.
    x = np.log(np.array([1.0, 2.0, 3.0]))
    # log(x) is rounded (<= eps/2 relative, |log 3| < 1.1): ~2 eps of input error, +few ulps.
    np.testing.assert_allclose(softmax(x), [1 / 6, 1 / 3, 1 / 2], rtol=8 * EPS, atol=0)
    expected = np.log(np.array([1 / 6, 1 / 3, 1 / 2]))
    np.testing.assert_allclose(log_softmax(x), expected, rtol=8 * EPS, atol=0)


def test_log_softmax_is_stable_for_huge_spreads():
    # The divergences notes' probe: [1000, 0, -1000] -> [0, -1000, -2000] exactly
    # (log1p(e^-1000 + e^-2000) underflows to 0 and the shifts are exact).
    got = log_softmax(np.array([1000.0, 0.0, -1000.0]))
    np.testing.assert_array_equal(got, [0.0, -1000.0, -2000.0])
    np.testing.assert_array_equal(softmax(np.array([1000.0, 0.0, -1000.0])), [1.0, 0.0, 0.0])


def test_log_softmax_keeps_relative_accuracy_near_zero():
    # log_softmax([0, -40])[0] = -log(1 + e^-40) = -e^-40 + O(e^-80): log(1 + s) would give 0.
    got = log_softmax(np.array([0.0, -40.0]))[0]
    truth = -mpmath.log1p(mpmath.exp(-40))
    assert abs(got - float(truth)) <= 4 * EPS * abs(float(truth))


# ---------------------------------------------------------------- invariants


def test_sigmoid_symmetry():
    rng = np.random.default_rng(1)
    x = rng.normal(scale=5.0, size=200)
    # sigmoid(-x) = 1 - sigmoid(x): each side errs by <= 4 eps relative of a value <= 1, and
    # 1 - s adds eps/2: 4 + 4 + 1/2 < 9 eps absolute.
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=9 * EPS)


def test_sigmoid_is_softmax_of_two():
    rng = np.random.default_rng(2)
    x = rng.normal(scale=10.0, size=100)
    pairs = np.stack([x, np.zeros_like(x)], axis=1)
    # softmax([x, 0])[0] = e^x / (e^x + 1) = sigmoid(x). The shifts x - 0 and 0 - x are
    # exact, so each side is one exp (2 eps), an add and a divide: <= 3 eps relative each,
    # 6 eps for the difference; 8 eps with slack.
    np.testing.assert_allclose(softmax(pairs, axis=1)[:, 0], sigmoid(x), rtol=8 * EPS, atol=0)


def test_softmax_sums_to_one_and_is_positive():
    rng = np.random.default_rng(3)
    x = rng.normal(scale=30.0, size=(20, 50))
    p = softmax(x, axis=1)
    assert np.all(p >= 0)
    # The numerators are the same rounded exps that form the denominator 1 + s, so their
    # errors cancel in the sum; left: s's n-term sum (n eps/2), n divisions (eps/2 each) and
    # this n-term check sum (n eps/2): (3n/2 + 1) eps, n = 50 -> 76 eps; 100 eps for slack.
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=100 * EPS)


def test_softmax_shift_invariance_is_exact():
    # Quarter-integers shifted by 1024 stay exact in float64, so x - max is bit-identical and
    # the outputs must be bit-identical too.
    rng = np.random.default_rng(4)
    x = rng.integers(-400, 400, size=(6, 9)) / 4.0
    np.testing.assert_array_equal(softmax(x + 1024.0), softmax(x))
    np.testing.assert_array_equal(log_softmax(x - 1024.0), log_softmax(x))


def test_log_softmax_equals_log_of_softmax_where_safe():
    rng = np.random.default_rng(5)
    x = rng.normal(scale=3.0, size=(10, 7))
    # Moderate inputs (spread D < ~40): softmax errs by <= (2D + n + 4) eps relative, and log
    # turns that into the same absolute error, plus 2 eps * |log p| for the log itself.
    d = (x.max(axis=1, keepdims=True) - x.min(axis=1, keepdims=True))
    lhs, rhs = log_softmax(x), np.log(softmax(x))
    n = x.shape[1]
    tol = 2 * EPS * (2 * d + n + 4 + np.abs(rhs))
    assert np.all(np.abs(lhs - rhs) <= tol)


def test_axis_argument():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 4, 5))
    last = np.moveaxis(softmax(np.moveaxis(x, 1, -1)), -1, 1)
    np.testing.assert_array_equal(softmax(x, axis=1), last)
    np.testing.assert_array_equal(log_softmax(x, axis=0), log_softmax(x, axis=-3))


def test_ties_use_the_first_max_and_stay_exact():
    # Two equal maxima: both shifted values are 0, softmax = [1/2, 1/2, ~0].
    got = softmax(np.array([5.0, 5.0, -100.0]))
    np.testing.assert_allclose(got, [0.5, 0.5, np.exp(-105.0) / 2], rtol=4 * EPS, atol=0)


# ---------------------------------------------------------------- mpmath at 50 digits


def test_elementwise_against_mpmath():
    rng = np.random.default_rng(7)
    x = _extreme_inputs(rng, 400)
    mx = _mp(x)
    sig_truth = [1 / (1 + mpmath.exp(-v)) for v in mx]
    assert np.all(_rel_err(sigmoid(x), sig_truth) <= 4 * EPS)
    assert np.all(_rel_err(tanh(x), [mpmath.tanh(v) for v in mx]) <= 2 * EPS)
    leaky_truth = [v if v > 0 else mpmath.mpf(0.01) * v for v in mx]
    # slope 0.01 is itself rounded; the truth uses the same float64 slope, so eps/2.
    assert np.all(_rel_err(leaky_relu(x, slope=0.01), leaky_truth) <= EPS / 2)
    np.testing.assert_array_equal(relu(x), np.where(x > 0, x, 0.0))


def _softmax_truth(row: np.ndarray) -> tuple[list, list]:
    mx = _mp(row)
    lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in mx))
    return [mpmath.exp(v - lse) for v in mx], [v - lse for v in mx]


def _softmax_tol(row: np.ndarray) -> float:
    """Relative error bound of each softmax entry: the shift x_j - m is one rounding, so an
    absolute error of eps/2 * |x_j - m| in the exponent, i.e. that much relative after exp
    (D = max |x_j - m| bounds it); exp itself 2 eps; the denominator 1 + s sums n terms each
    carrying the same kind of error (<= (D + 2 + n) eps); one division eps/2. With a factor 2
    for the ulp-vs-eps slack: 2 * eps * (2 D + n + 4)."""
    d = row.max() - row.min()
    return 2 * EPS * (2 * d + row.size + 4)


def test_softmax_and_log_softmax_against_mpmath():
    rng = np.random.default_rng(8)
    rows = [rng.normal(scale=s, size=n) for s, n in ((1, 5), (30, 12), (300, 8), (700, 6))]
    rows.append(np.array([700.0, -700.0, 699.5, 0.0]))
    rows.append(np.array([1e-3, -2e-3, 0.0, 5e-4]))
    for row in rows:
        p_truth, lp_truth = _softmax_truth(row)
        p = softmax(row)
        err = np.array([abs(mpmath.mpf(float(a)) - t) for a, t in zip(p, p_truth, strict=True)])
        # Entries below the normal range (exp(-1400) etc.) underflow: absolute floor TINY.
        bound = _softmax_tol(row) * np.array([float(t) for t in p_truth]) + TINY
        assert np.all(err <= bound), (row, err / bound)
        # log_softmax: the max entry is -log1p(s) with s carrying <= (D + n + 2) eps relative;
        # every other entry is (x_j - m) - log1p(s) with both parts of one sign, so its
        # relative error is below the same bound: 2 * eps * (D + n + 6) relative.
        d = row.max() - row.min()
        rel = _rel_err(log_softmax(row), lp_truth)
        assert np.all(rel <= 2 * EPS * (d + row.size + 6)), (row, rel)


# ---------------------------------------------------------------- lower precision


@pytest.mark.parametrize("op_id", sorted(ORACLE))
def test_runs_in_float32(op_id):
    rng = np.random.default_rng(9)
    x = rng.normal(scale=3.0, size=(4, 6))
    kwargs = {"slope": 0.2} if op_id == "act.leaky_relu" else {}
    fn = ORACLE[op_id]
    with _canon.compute_dtype(np.float32):
        low = fn(x, **kwargs)
    assert low.dtype == np.float32
    # Fewer than 10 roundings per entry on O(1) values with a spread of ~20: the softmax rule
    # above scaled to float32, 2 * eps32 * (2 * 20 + 6 + 4) = 100 eps32, relative to max(1,|y|).
    ref = fn(x, **kwargs)
    np.testing.assert_allclose(low, ref, rtol=100 * EPS32, atol=100 * EPS32)
