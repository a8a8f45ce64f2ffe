"""The accuracy fixes of issue 16, on the cases the issue names, against closed forms and
hand-computed values (never the oracle's own outputs): the softmax shift, soft-target BCE
from logits, centring on data with a large common offset, L2 norms beyond the square's
range, k-max on unsigned integers, and LRN's two even-size windows. And that the reference
run is the only one that compensates (the naive runs of the agreement rule stay plain) and
that the compensated code still runs on dual numbers."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from oracle import _canon, _reference, autodiff
from oracle import activations as A
from oracle import losses as L
from oracle import normalization as N
from oracle import pooling as P
from oracle import regularization as R

EPS = 2.0**-52


def ulps(got: float, want: float) -> float:
    return abs(got - want) / math.ulp(want)


def test_two_sum_is_exact():
    for a, b in ((700.25, -1e-13), (0.3, 699.7), (1e300, -1e-300), (-2.5, 2.5)):
        s, e = _reference.two_sum(np.float64(a), np.float64(b))
        assert s == a + b
        assert Fraction(float(s)) + Fraction(float(e)) == Fraction(a) + Fraction(b)


def test_softmax_of_a_large_gap_is_exact_to_an_ulp():
    # softmax([x, 0]) for x = 700.1: [1 / (1 + e^-x), e^-x / (1 + e^-x)]; e^-700.1 by math.exp
    # of the exact gap (700.1 - 0 = 700.1 is exact), the oracle's shift is x_2 - x_1.
    x = np.array([[700.1, 0.0], [0.3, -699.7]])
    got = A.softmax(x)
    small = math.exp(-700.1) / (1 + math.exp(-700.1))
    assert ulps(got[0, 1], small) <= 2
    # 0.3 - (-699.7) rounds in float64 (the exact gap of the two float64 values needs more
    # bits), which exp turns into ~200 ulp; the compensated shift keeps the exact gap.
    with mpmath.workdps(40):
        gap = mpmath.mpf(0.3) + mpmath.mpf(699.7)
        small = mpmath.exp(-gap)
        want_p = float(small / (1 + small))
        want_log = float(-gap - mpmath.log1p(small))
    assert ulps(got[1, 1], want_p) <= 4
    assert ulps(A.log_softmax(x)[1, 1], want_log) <= 2


def test_masked_logits_still_give_zero():
    # -inf logits (masks) are in the domain: probability 0, log-probability -inf.
    x = np.array([[1.0, -np.inf, 0.5], [-np.inf, 2.0, -np.inf]])
    p = A.softmax(x)
    assert p[0, 1] == 0 and p[1, 0] == 0 and p[1, 1] == 1
    assert p[0, 0] == pytest.approx(1 / (1 + math.exp(-0.5)), rel=4 * EPS)
    lp = A.log_softmax(x)
    assert lp[0, 1] == -np.inf and lp[1, 1] == 0
    assert not np.isnan(p).any() and not np.isnan(lp).any()


def test_cross_entropy_of_the_winning_class_is_log1p_of_the_rest():
    z = np.array([[355.07795287, 205.7499381, -532.0]])
    # loss = log(1 + e^(z1 - z0) + e^(z2 - z0)) for target 0; the gaps in exact arithmetic
    rest = math.exp(math.fsum([205.7499381, -355.07795287])) + math.exp(
        math.fsum([-532.0, -355.07795287]))
    got = L.cross_entropy(z, np.array([0]), reduction="none")[0]
    assert ulps(got, math.log1p(rest)) <= 4


def test_bce_from_logits_with_a_soft_target_near_one():
    # z = 700, t = 1 - 2^-39: loss = z (1 - t) + log1p(e^-z) = 700 * 2^-39 + e^-700 (exact)
    z, t = np.array([700.0]), np.array([1 - 2.0**-39])
    want = 700 * 2.0**-39 + math.log1p(math.exp(-700))
    got = L.binary_cross_entropy(z, t, from_logits=True, reduction="none")[0]
    assert ulps(got, want) <= 2
    # negative logits: -z t + log1p(e^z)
    got = L.binary_cross_entropy(-z, 1 - t, from_logits=True, reduction="none")[0]
    assert ulps(got, want) <= 2


@pytest.mark.parametrize("fn", ["layer", "batch", "standardize"])
def test_centring_on_a_large_common_offset(fn):
    # 1e4 + (-1e-3, 0, 1e-3): deviations are exactly those of the float64 inputs from their
    # exact mean; standardized (eps = 0) they are d / sqrt(mean d^2).
    x = np.array([1e4 - 1e-3, 1e4, 1e4 + 1e-3])
    with mpmath.workdps(40):
        xs = [mpmath.mpf(v) for v in x]
        mean = mpmath.fsum(xs) / 3
        d = [v - mean for v in xs]
        sd = mpmath.sqrt(mpmath.fsum(di * di for di in d) / 3)
        want = [float(di / sd) for di in d]
    if fn == "layer":
        got = N.layer_norm(x[None], None, None, normalized_ndim=1, eps=0.0)[0]
    elif fn == "batch":
        got = N.batch_norm_train(x.reshape(3, 1), None, None, np.zeros(1), np.ones(1), eps=0.0,
                                 momentum=0.1).y[:, 0]
    else:
        got = N.standardize(x[:, None], axis=0, eps=0.0)[:, 0]
    # normwise: against the output's scale (1); the one-pass oracle was ~1e-9 off here
    assert max(abs(g - w) for g, w in zip(got, want)) <= 8 * EPS


def test_constant_group_centres_to_exactly_zero():
    x = np.full((1, 5), 0.1 + 1e4)
    assert np.all(N.layer_norm(x, None, None, normalized_ndim=1, eps=1e-5) == 0)


@pytest.mark.parametrize("scale", [1e-160, 1e-300, 1e200, 2.0**-1070])
def test_l2_beyond_the_squares_range(scale):
    # sqrt(3^2 + 4^2) = 5, scaled: the result is 5 * scale (to the ulp).
    w = np.array([3.0, 4.0]) * scale
    assert ulps(float(R.l2(w)), 5 * scale) <= 1
    assert ulps(float(R.l2([w[:1], w[1:]])), 5 * scale) <= 1
    x = w.reshape(1, 1, 1, 2)
    assert ulps(float(P.l2_pool(x, kernel=(1, 2), mean=False)[0, 0, 0, 0]), 5 * scale) <= 1
    rms = math.sqrt(12.5) * scale
    assert ulps(float(P.l2_pool(x, kernel=(1, 2))[0, 0, 0, 0]), rms) <= 2


def test_kmax_on_unsigned_integers_and_nan():
    x = np.array([[0, 255, 3, 255, 7]], dtype=np.uint8)
    np.testing.assert_array_equal(P.kmax_pool(x, k=2), [[255, 255]])
    np.testing.assert_array_equal(P.kmax_pool(x, k=3), [[255, 255, 7]])
    np.testing.assert_array_equal(P.kmax_pool(x, k=4), [[255, 3, 255, 7]])
    assert P.kmax_pool(x, k=1).dtype == np.uint8
    y = np.array([np.nan, 1.0, 1.0, -np.inf])
    np.testing.assert_array_equal(P.kmax_pool(y, k=2), [1.0, 1.0])  # ties: lower index
    np.testing.assert_array_equal(P.kmax_pool(y, k=3), [1.0, 1.0, -np.inf])  # NaN last
    with pytest.raises(TypeError, match="real numbers"):
        P.kmax_pool(np.array([1 + 2j, 3j]), k=1)


def test_kmax_along_an_outer_axis_keeps_order():
    x = np.array([[1, 9], [5, 2], [3, 4]], dtype=np.int64)
    np.testing.assert_array_equal(P.kmax_pool(x, k=2, axis=0), [[5, 9], [3, 4]])


@pytest.mark.parametrize("window, lo, hi", [("torch", 1, 0), ("onnx", 0, 1)])
def test_lrn_even_window(window, lo, hi):
    # size 2: torch sums channels [c - 1, c], ONNX [c, c + 1] (zero padding at the ends).
    a = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    got = N.lrn(a, size=2, alpha=2.0, beta=1.0, k=1.0, window=window)[0, :, 0]
    sq = [1.0, 4.0, 9.0]
    for c in range(3):
        s = sum(sq[j] for j in range(c - lo, c + hi + 1) if 0 <= j < 3)
        assert got[c] == pytest.approx(a[0, c, 0] / (1 + 2.0 / 2 * s), rel=4 * EPS)
    odd_t = N.lrn(a, size=3, alpha=0.5, beta=0.75, k=2.0, window="torch")
    odd_o = N.lrn(a, size=3, alpha=0.5, beta=0.75, k=2.0, window="onnx")
    np.testing.assert_array_equal(odd_t, odd_o)
    with pytest.raises(ValueError, match="window"):
        N.lrn(a, size=2, alpha=1.0, beta=1.0, k=1.0, window="tf")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_low_dtypes_keep_the_plain_formulas():
    # The naive run of the agreement rule models a kernel: no compensation outside float64.
    x = np.array([[700.1, 0.0, 3.0]])
    with _canon.compute_dtype(np.float32):
        assert not _reference.reference()
        got = A.softmax(x)
        assert got.dtype == np.float32
        xf = x.astype(np.float32)
        shifted = xf - xf.max()
        np.testing.assert_array_equal(got, np.exp(shifted) / (1 + np.exp(shifted)[0, 1:].sum()))
        w = np.array([3e20, 4e20])
        assert np.isinf(R.l2(w))  # float32 squares overflow, as in a float32 kernel
    assert _reference.reference()


def test_compensated_forms_run_on_duals():
    # d/dx_0 log_softmax(x)_1 = -softmax(x)_0, at a large gap where the shift rounds.
    x = np.array([0.3, -699.7, 1.0])
    u = np.array([1.0, 0.0, 0.0])
    (_,), (tangent,) = autodiff.jvp(lambda v: A.log_softmax(v), [x], None, {0: u})
    np.testing.assert_allclose(tangent, -A.softmax(x)[0] + u, rtol=1e-15, atol=1e-300)
    # d/dw l2(w) = w / ||w|| at tiny scale (the scaling is a constant for the tangent)
    w = np.array([3e-200, 4e-200])
    (_,), (t2,) = autodiff.jvp(R.l2, [w], None, {0: np.array([1.0, 0.0])})
    assert float(t2) == pytest.approx(0.6, rel=4 * EPS)
    # d/dz of BCE from logits with a soft target: sigmoid(z) - t
    z, t = np.array([3.0, -2.0]), np.array([0.9, 0.2])
    (_,), (t3,) = autodiff.jvp(lambda v: L.binary_cross_entropy(v, t, from_logits=True,
                                                                reduction="sum"),
                               [z], None, {0: np.ones(2)})
    want = sum(1 / (1 + math.exp(-zi)) - ti for zi, ti in zip(z, t))
    assert float(t3) == pytest.approx(want, rel=8 * EPS)
    # layer norm's derivative along a constant shift is 0 (shift invariance), exactly
    xs = np.array([[1e4 - 1e-3, 1e4, 1e4 + 2e-3]])
    (_,), (t4,) = autodiff.jvp(lambda v: N.layer_norm(v, None, None, normalized_ndim=1,
                                                      eps=0.0), [xs], None, {0: np.ones((1, 3))})
    assert np.max(np.abs(t4)) <= 1e-9 * np.max(np.abs(xs - xs.mean())) ** -1


def test_power_rule_compensates_the_exponent_rounding():
    # d/dx x^y = y x^(y - 1); at x = 1e-130, y = -1.3 the exponent y - 1 rounds and
    # |log x| ~ 300 turns that into ~1e-13 relative. Closed form: y x^y / x (exact inputs).
    x, y = np.array([1e-130]), np.array([-1.3])
    res = autodiff.dual_arith(x, np.ones(1), y, None, op="pow")
    with mpmath.workdps(40):
        want = float(mpmath.mpf(-1.3) * mpmath.mpf(1e-130) ** (mpmath.mpf(-1.3) - 1))
    assert ulps(float(res.tangent[0]), want) <= 4
