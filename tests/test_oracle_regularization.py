"""Tests of oracle.regularization: mpmath at 50 digits for the penalties, hand values for
the group penalty, the total loss of notes 003, dropout, the soft threshold (checked as an
argmin by its optimality conditions and by scipy), and early-stopping hand cases.

Error model (eps = 2^-52): a sum of n non-negative terms, each rounded once, errs by at most
n eps relative (n-1 additions and n roundings of eps/2); sqrt halves a relative error and
adds eps/2.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import optimize

from oracle import _canon
from oracle.autodiff import Dual
from oracle.regularization import (
    ORACLE,
    EarlyStop,
    dropout,
    early_stopping,
    early_stopping_epochs,
    group_penalty,
    groups_along,
    l1,
    l2,
    l2_squared,
    prox_gradient_step,
    prox_l1,
    total_loss,
    total_loss_2,
)

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50
M = mpmath.mpf


def _weights(rng):
    return [rng.standard_normal((4, 3, 3, 3)) * 10.0 ** rng.uniform(-3, 3, (4, 3, 3, 3)),
            rng.standard_normal((10, 5)), rng.standard_normal(7)]


def _mp_entries(ws):
    return [M(float(v)) for w in ws for v in np.ravel(w)]


# ---------------------------------------------------------------- l1, l2, l2 squared


def test_penalties_vs_mpmath():
    ws = _weights(np.random.default_rng(20))
    entries = _mp_entries(ws)
    n = len(entries)
    truth_l1 = mpmath.fsum(abs(v) for v in entries)
    truth_sq = mpmath.fsum(v * v for v in entries)
    assert abs(M(float(l1(ws))) - truth_l1) <= n * EPS * truth_l1
    assert abs(M(float(l2_squared(ws))) - truth_sq) <= n * EPS * truth_sq
    # sqrt of a value with relative error n eps: n eps / 2 + eps / 2.
    truth_l2 = mpmath.sqrt(truth_sq)
    assert abs(M(float(l2(ws))) - truth_l2) <= (n + 1) * EPS / 2 * truth_l2
    # A single array is the one-element sequence.
    assert l1(ws[1]) == l1([ws[1]])


def test_penalty_hand_values_and_zero():
    # [3, -4]: l1 = 7, l2^2 = 25, l2 = 5 (all exact).
    w = np.array([3.0, -4.0])
    assert (l1(w), l2_squared(w), l2(w)) == (7.0, 25.0, 5.0)
    assert l2(np.zeros(3)) == 0.0
    with pytest.raises(ValueError):
        l1([])


# ---------------------------------------------------------------- group regularization


def test_group_penalty_hand_values():
    # Rows as groups of [[3, 4], [1, 0]]: squared norms 25 and 1 -> 26 (notes' form);
    # norms 5 and 1 -> 6 (group lasso).
    w = np.array([[3.0, 4.0], [1.0, 0.0]])
    rows = groups_along(w.shape, 0)
    np.testing.assert_array_equal(rows, [[0, 0], [1, 1]])
    assert group_penalty(w, rows) == 26.0
    assert group_penalty(w, rows, form="lasso") == 6.0
    # Columns: squares 10 and 16 (the squares form sums all grouped squares: 26 again);
    # norms sqrt(10) + 4.
    cols = groups_along(w.shape, 1)
    assert group_penalty(w, cols) == 26.0
    np.testing.assert_allclose(group_penalty(w, cols, form="lasso"), np.sqrt(10) + 4,
                               rtol=EPS, atol=0)  # two roundings (sqrt, add) of eps/2
    # A negative id leaves an entry out: only row 0 counts -> 25 and 5.
    ids = np.array([[0, 0], [-1, -1]])
    assert (group_penalty(w, ids), group_penalty(w, ids, form="lasso")) == (25.0, 5.0)
    assert group_penalty(w, np.full((2, 2), -1)) == 0.0
    with pytest.raises(ValueError):
        group_penalty(w, rows.astype(float))


def test_group_lasso_vs_mpmath():
    rng = np.random.default_rng(21)
    w = rng.standard_normal((6, 3, 3, 3))
    got = group_penalty(w, groups_along(w.shape, 0), form="lasso")
    truth = mpmath.fsum(mpmath.sqrt(mpmath.fsum(M(float(v)) ** 2 for v in f.ravel()))
                        for f in w)
    # Each norm: (27 + 1) eps / 2 relative; the sum of 6 non-negative norms adds 6 eps.
    assert abs(M(float(got)) - truth) <= (14 + 6) * EPS * truth


def test_total_loss_hand_value():
    # loss_D = 1.5; W1 = [1, -2], W2 = [[3], [4]]. lambda_R * sum of squares:
    # 0.5 * (1 + 4 + 9 + 16) = 15. Groups: W1 one group per entry (1 + 4 = 5), W2 one group
    # (squares 9 + 16 = 25): lambda_g * (5 + 25) = 0.25 * 30 = 7.5. Total 1.5 + 15 + 7.5 = 24.
    w1, w2 = np.array([1.0, -2.0]), np.array([[3.0], [4.0]])
    groups = [np.array([0, 1]), np.zeros((2, 1), int)]
    got = total_loss(1.5, [w1, w2], lambda_r=0.5, lambda_g=0.25, groups=groups)
    assert got == 24.0
    # Lasso groups: W1 norms 1 + 2 = 3, W2 norm 5: 0.25 * 8 = 2; R = l1 = 10: 0.5 * 10 = 5.
    got = total_loss(1.5, [w1, w2], lambda_r=0.5, lambda_g=0.25, groups=groups,
                     penalty="l1", group_form="lasso")
    assert got == 1.5 + 5 + 2
    # A layer without a group term, and no group term at all.
    assert total_loss(1.5, [w1, w2], lambda_r=0.5, lambda_g=0.25,
                      groups=[None, groups[1]]) == 1.5 + 15 + 0.25 * 25
    assert total_loss(1.5, [w1, w2], lambda_r=0.5, lambda_g=0.0) == 16.5
    with pytest.raises(ValueError):
        total_loss(1.5, [w1, w2], lambda_r=0.5, lambda_g=0.25)


def test_total_loss_2_is_total_loss_of_two_layers():
    w1, w2 = np.array([1.0, -2.0]), np.array([[3.0], [4.0]])
    g2 = np.zeros((2, 1), int)
    kw = {"lambda_r": 0.5, "lambda_g": 0.25, "penalty": "l1", "group_form": "lasso"}
    assert total_loss_2(1.5, w1, w2, None, g2, **kw) == total_loss(
        1.5, [w1, w2], groups=[None, g2], **kw) == 1.5 + 5 + 0.25 * 5
    # No group ids at all: no group term (lambda_g must then be 0).
    kw["lambda_g"] = 0.0
    assert total_loss_2(1.5, w1, w2, None, None, **kw) == 1.5 + 5


# ---------------------------------------------------------------- dropout


def test_dropout_exact_given_mask():
    rng = np.random.default_rng(22)
    x = 1 + np.abs(rng.standard_normal((3, 4, 5)))
    mask = rng.random((3, 4, 5)) > 0.3
    y = dropout(x, mask, p=0.3)
    np.testing.assert_array_equal(y[~mask], 0.0)
    # Kept: x / 0.7, one rounded division of exact operands (0.7 = 1 - 0.3 rounded once:
    # its relative error eps/2 too): |y - x/(1-p)| <= eps * |y|.
    for got, xv in zip(y[mask], x[mask], strict=True):
        truth = M(float(xv)) / (1 - M(0.3))
        assert abs(M(float(got)) - truth) <= EPS * abs(truth)
    # p = 1/2 is dyadic: exactly 2x.
    np.testing.assert_array_equal(dropout(x, mask, p=0.5), np.where(mask, 2 * x, 0.0))


def test_dropout_mask_broadcast_inf_and_p1():
    x = np.array([[np.inf, 1.0], [2.0, np.nan]])[None]  # (1, 2, 2)
    channel_mask = np.array([[1], [0]])  # whole rows kept / dropped (Dropout2d-like)
    y = dropout(x, channel_mask, p=0.5)
    np.testing.assert_array_equal(y, [[[np.inf, 2.0], [0.0, 0.0]]])  # NaN dropped -> 0
    np.testing.assert_array_equal(dropout(x, np.zeros((2, 2)), p=1.0), np.zeros((1, 2, 2)))
    np.testing.assert_array_equal(dropout(x[:, :1], np.ones((1, 2)), p=0.0), x[:, :1])
    with pytest.raises(ValueError):
        dropout(x, np.ones((2, 2)), p=1.0)
    with pytest.raises(ValueError):
        dropout(x, np.full((2, 2), 0.5), p=0.5)


# ---------------------------------------------------------------- proximal operator


def test_prox_l1_hand_values():
    # lam = 1: -3 -> -2, -1 and 0.5 and 1 are in the dead zone, 3 -> 2.
    w = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(prox_l1(w, lam=1.0), [-2, 0, 0, 0, 0, 2])
    # ISTA step: w - lr*grad = [1, -0.25]; threshold lr*lam = 0.5 -> [0.5, 0].
    got = prox_gradient_step(np.array([1.5, 0.25]), np.array([1.0, 1.0]), lr=0.5, lam=1.0)
    np.testing.assert_array_equal(got, [0.5, 0.0])
    with pytest.raises(ValueError):
        prox_l1(w, lam=-1.0)


def test_prox_l1_is_the_argmin():
    rng = np.random.default_rng(23)
    w = rng.standard_normal(40) * 3
    lam = 0.75
    u = prox_l1(w, lam=lam)
    # Optimality of 1/2 (u - w)^2 + lam |u|: 0 in u - w + lam * d|u|, i.e.
    # u != 0: u - w + lam sign(u) = 0 (one rounded subtraction: |.| <= eps/2 |w|);
    # u == 0: |w| <= lam.
    nz = u != 0
    assert np.all(np.abs(u[nz] - w[nz] + lam * np.sign(u[nz])) <= EPS / 2 * np.abs(w[nz]))
    assert np.all(np.abs(w[~nz]) <= lam)
    # Independent: scipy's bounded Brent minimizer finds the same point. Its bracket stops
    # at 2 * tol1, tol1 = sqrt(eps) |x| + xatol / 3 (scipy's fminbound rule), and it cannot
    # tell apart points whose objectives differ by less than ~4 eps f; by strong convexity
    # (modulus 1) those lie within sqrt(2 * 4 eps f) of the argmin. The soft threshold is
    # never worse than scipy's point (up to 4 eps of the objective).
    for wi, ui in zip(w, u, strict=True):
        def f(t, wi=wi):
            return 0.5 * (t - wi) ** 2 + lam * abs(t)

        res = optimize.minimize_scalar(f, bounds=(-10, 10), method="bounded",
                                       options={"xatol": 1e-10})
        tol1 = np.sqrt(EPS) * abs(res.x) + 1e-10 / 3
        assert abs(res.x - ui) <= 2 * tol1 + np.sqrt(8 * EPS * f(res.x))
        assert f(ui) <= f(res.x) + 4 * EPS * f(res.x)


# ---------------------------------------------------------------- early stopping


def test_early_stopping_hand_cases():
    scores = [3.0, 2.0, 1.0, 1.5, 1.6, 1.7]
    # Best at epoch 2 (0-based); epochs 3, 4 do not improve: wait 1, 2 >= patience 2 ->
    # stop after epoch 4.
    assert early_stopping(scores, patience=2) == EarlyStop(4, 2)
    # patience 0 stops at the first non-improving epoch (3); patience 5 never stops.
    assert early_stopping(scores, patience=0) == EarlyStop(3, 2)
    assert early_stopping(scores, patience=5) == EarlyStop(None, 2)
    # mode max on the negated scores is the same run.
    assert early_stopping([-s for s in scores], patience=2, mode="max") == EarlyStop(4, 2)
    # min_delta 0.1: 0.95 + 0.1 = 1.05 is not < 1.0, nor is 0.91 + 0.1 = 1.01: no
    # improvement after epoch 0 -> stop after epoch 2 with patience 2; 0.85 would have been.
    assert early_stopping([1.0, 0.95, 0.91, 0.85], patience=2, min_delta=0.1) \
        == EarlyStop(2, 0)
    assert early_stopping([1.0, 0.85, 0.8], patience=1, min_delta=-0.1) == EarlyStop(2, 1)
    # Equal scores never improve; a later improvement resets the wait.
    assert early_stopping([2.0, 2.0, 1.0, 1.0, 1.0], patience=2) == EarlyStop(4, 2)
    assert early_stopping([5.0], patience=0) == EarlyStop(None, 0)
    with pytest.raises(ValueError):
        early_stopping([], patience=1)


def test_early_stopping_epochs_as_an_array():
    got = early_stopping_epochs(scores=[3.0, 2.0, 1.0, 1.5, 1.6, 1.7], patience=2, mode="min",
                                min_delta=0.0)
    np.testing.assert_array_equal(got, [4.0, 2.0])
    assert got.dtype == np.float64
    never = early_stopping_epochs(scores=[3.0, 2.0], patience=5, mode="min", min_delta=0.0)
    np.testing.assert_array_equal(never, [-1.0, 1.0])  # -1: never stopped


# ---------------------------------------------------------------- dtypes and registry


def test_float32_compute_dtype():
    w = np.random.default_rng(24).standard_normal((3, 4))
    with _canon.compute_dtype(np.float32):
        for value in (l1(w), l2(w), l2_squared(w), group_penalty(w, groups_along(w.shape, 0)),
                      dropout(w, w > 0, p=0.3), prox_l1(w, lam=0.5),
                      total_loss(np.float32(1), [w], lambda_r=0.1, lambda_g=0.0)):
            assert np.asarray(value).dtype == np.float32


def test_registry_ids():
    assert set(ORACLE) == {"reg.l1", "reg.l2", "reg.l2_squared", "reg.group", "reg.total_loss",
                           "reg.dropout", "reg.prox_l1", "reg.early_stopping"}


# ---------------------------------------------------------------- dual numbers (kinks)


def test_dual_subgradient_conventions():
    # l1 and l2 at w = 0: tangent 0 (abs'(0) = 0; the norm's minimum-norm subgradient).
    zero = Dual(np.zeros(3), np.array([1.0, -2.0, 3.0]))
    assert l1(zero).tangent == 0.0 and l2(zero).tangent == 0.0
    # l2 away from 0: d||w|| = <w, t> / ||w||; [3, 4] . [1, 1] / 5 = 7/5 (one division).
    np.testing.assert_allclose(l2(Dual(np.array([3.0, 4.0]), np.ones(2))).tangent, 1.4,
                               rtol=EPS, atol=0)
    # Soft threshold, lam = 1: slope 1 where |w| > 1, 0 on [-1, 1] (both ends included).
    w = Dual(np.array([-3.0, -1.0, 0.0, 1.0, 3.0]), np.ones(5))
    np.testing.assert_array_equal(prox_l1(w, lam=1.0).tangent, [1, 0, 0, 0, 1])
    # Dropout: mask / (1 - p) times the tangent; p = 1/2 (dyadic): 2 t or 0.
    t = np.array([1.0, 2.0, 3.0])
    got = dropout(Dual(np.ones(3), t), np.array([1, 0, 1]), p=0.5).tangent
    np.testing.assert_array_equal(got, [2.0, 0.0, 6.0])
