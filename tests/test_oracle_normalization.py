"""Tests of oracle.normalization: hand values, invariants, independent loops, mpmath at 50
digits, float32 runs.

Error model (eps = 2^-52): correctly rounded + - * / sqrt err by eps/2 relative, NumPy's
float64 power by at most 2 ulp (2 eps); a sum of n terms errs by at most n eps/2 times the
sum of their magnitudes. Each test derives its bound from this in a comment.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle.normalization import (
    ORACLE,
    BatchNormTrain,
    batch_norm_eval,
    batch_norm_train,
    cosine_norm,
    layer_norm,
    lrn,
    standardize,
    weight_norm,
)

EPS = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps
mpmath.mp.dps = 50
M = mpmath.mpf


def _mp_standardize(values: np.ndarray, eps: float) -> tuple[list, mpmath.mpf]:
    """(x - mean) / sqrt(var + eps) of a flat array in mpmath; also returns sqrt(var + eps)."""
    xs = [M(float(v)) for v in values]
    mean = mpmath.fsum(xs) / len(xs)
    var = mpmath.fsum((v - mean) ** 2 for v in xs) / len(xs)
    s = mpmath.sqrt(var + M(eps))
    return [(v - mean) / s for v in xs], s


def _standardize_bound(values: np.ndarray, s: mpmath.mpf, xhat: np.ndarray) -> np.ndarray:
    """Absolute error bound of each standardized value (before any affine map).

    The computed mean errs by <= n eps/2 * mean|x|, i.e. n eps/2 * mean|x| / s in output
    units (the condition number of centring); the deviations, the n-term variance sum, the
    sqrt and the divide give <= (n/4 + 3) eps relative of |xhat|. Factor 2 for slack:
    2 eps (n/2 * mean|x|/s + (n/4 + 3) |xhat|)."""
    n = values.size
    centring = n / 2 * float(np.mean(np.abs(values)) / s)
    return 2 * EPS * (centring + (n / 4 + 3) * np.abs(xhat))


# ---------------------------------------------------------------- batch norm


def test_batch_norm_train_hand_values():
    # One channel, values [1, 3] (N = 2): mean 2, biased var 1, eps = 0: xhat = [-1, 1];
    # gamma 2, beta 0.5: y = [-1.5, 2.5].
    x = np.array([1.0, 3.0]).reshape(2, 1, 1, 1)
    out = batch_norm_train(x, np.array([2.0]), np.array([0.5]), np.array([0.0]), np.array([1.0]),
                           eps=0.0, momentum=0.125)
    assert isinstance(out, BatchNormTrain)
    np.testing.assert_array_equal(out.y.ravel(), [-1.5, 2.5])
    # torch convention, m = 1/8: mean 7/8 * 0 + 1/8 * 2 = 0.25; unbiased var 2/(2-1) = 2:
    # 7/8 * 1 + 1/8 * 2 = 1.125 (all dyadic: exact).
    np.testing.assert_array_equal(out.running_mean, [0.25])
    np.testing.assert_array_equal(out.running_var, [1.125])
    biased = batch_norm_train(x, None, None, np.array([0.0]), np.array([1.0]), eps=0.0,
                              momentum=0.125, running_var_unbiased=False)
    # biased var 1: 7/8 * 1 + 1/8 * 1 = 1; no affine: y = xhat.
    np.testing.assert_array_equal(biased.running_var, [1.0])
    np.testing.assert_array_equal(biased.y.ravel(), [-1.0, 1.0])


def _bn_loop(x, gamma, beta, eps):
    """Independent per-channel formulation with NumPy's own mean and var (ddof=0)."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        xc = x[:, c]
        y[:, c] = gamma[c] * (xc - xc.mean()) / np.sqrt(xc.var() + eps) + beta[c]
    return y


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5), (2, 2, 3, 2, 2)])
def test_batch_norm_train_matches_a_per_channel_loop(shape):
    rng = np.random.default_rng(20)
    x = rng.normal(loc=3.0, size=shape)
    c = shape[1]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    eps = 1e-3
    out = batch_norm_train(x, gamma, beta, np.zeros(c), np.ones(c), eps=eps, momentum=0.1)
    n = x.size // c
    # Both sides: the standardize bound with mean|x| / s <= ~5 here, |xhat| <= ~4: under
    # 2 eps (n/2 * 5 + (n/4 + 3) * 4) |gamma| + eps |y| per side; summed for the two sides.
    tol = 4 * EPS * ((n / 2 * 5 + (n / 4 + 3) * 4) * np.abs(gamma).max() + np.abs(beta).max())
    np.testing.assert_allclose(out.y, _bn_loop(x, gamma, beta, eps), rtol=0, atol=tol)


def test_batch_norm_momentum_conventions_are_equivalent():
    rng = np.random.default_rng(21)
    x = rng.normal(size=(5, 4, 3))
    args = (x, rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), rng.uniform(1, 2, 4))
    # torch m = 1/8 and Keras/Flax m = 7/8 are exact complements, so keep/take factors are the
    # same floats and every result is bit-identical.
    a = batch_norm_train(*args, eps=1e-5, momentum=0.125, momentum_on="batch")
    b = batch_norm_train(*args, eps=1e-5, momentum=0.875, momentum_on="running")
    for fa, fb in zip(a, b, strict=True):
        np.testing.assert_array_equal(fa, fb)


def test_batch_norm_running_variance_bias_factor():
    rng = np.random.default_rng(22)
    x = rng.normal(size=(3, 2, 2, 2))  # n = 3 * 2 * 2 = 12 values per channel
    n = 12
    common = dict(eps=1e-5, momentum=1.0)  # torch convention, m = 1: new = the batch value
    rm, rv = np.zeros(2), np.ones(2)
    unbiased = batch_norm_train(x, None, None, rm, rv, **common)
    biased = batch_norm_train(x, None, None, rm, rv, running_var_unbiased=False, **common)
    per_channel = x.transpose(1, 0, 2, 3).reshape(2, -1)
    # NumPy's var with ddof 0 / 1 as the independent reference: each an n-term sum of squares
    # after a centring (<= (n/2 + 3) eps relative for this well-centred data): 2x for both sides.
    tol = 2 * (n / 2 + 3) * EPS
    np.testing.assert_allclose(biased.running_var, per_channel.var(axis=1), rtol=tol, atol=0)
    np.testing.assert_allclose(unbiased.running_var, per_channel.var(axis=1, ddof=1), rtol=tol,
                               atol=0)
    # The two stored variances differ by exactly the factor n/(n-1) up to two divisions.
    np.testing.assert_allclose(unbiased.running_var / biased.running_var, n / (n - 1),
                               rtol=2 * EPS, atol=0)
    np.testing.assert_allclose(unbiased.running_mean, per_channel.mean(axis=1), rtol=0,
                               atol=n * EPS)


def test_batch_norm_unbiased_needs_two_values():
    x = np.ones((1, 3, 1, 1))
    with pytest.raises(ValueError):
        batch_norm_train(x, None, None, np.zeros(3), np.ones(3), eps=1e-5, momentum=0.1)
    out = batch_norm_train(x, None, None, np.zeros(3), np.ones(3), eps=1e-5, momentum=0.1,
                           running_var_unbiased=False)
    np.testing.assert_array_equal(out.y, 0.0)  # x - mean = 0 exactly


def test_batch_norm_eval_equals_train_with_batch_statistics():
    rng = np.random.default_rng(23)
    x = rng.normal(loc=-2.0, size=(4, 3, 2, 5))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    per_channel = x.transpose(1, 0, 2, 3).reshape(3, -1)
    mean, var = per_channel.mean(axis=1), per_channel.var(axis=1)
    train = batch_norm_train(x, gamma, beta, np.zeros(3), np.ones(3), eps=1e-3, momentum=0.1)
    evaluated = batch_norm_eval(x, gamma, beta, mean, var, eps=1e-3)
    # Same mathematics; the statistics come from different summation orders: the standardize
    # bound (n = 40, mean|x|/s <= 3, |xhat| <= 4) for each side, times |gamma|, plus |beta|.
    n = 40
    tol = 4 * EPS * ((n / 2 * 3 + (n / 4 + 3) * 4) * np.abs(gamma).max() + np.abs(beta).max())
    np.testing.assert_allclose(evaluated, train.y, rtol=0, atol=tol)


def test_batch_norm_eval_hand_values():
    # (x - 1) / sqrt(3 + 1) * 2 + 1 for x = [1, 5]: [0, 4] / 2 * 2 + 1 = [1, 5].
    x = np.array([1.0, 5.0]).reshape(2, 1)
    y = batch_norm_eval(x, np.array([2.0]), np.array([1.0]), np.array([1.0]), np.array([3.0]),
                        eps=1.0)
    np.testing.assert_array_equal(y.ravel(), [1.0, 5.0])


# ---------------------------------------------------------------- layer norm, standardize


def test_layer_norm_zero_mean_unit_variance():
    rng = np.random.default_rng(24)
    x = rng.normal(loc=5.0, scale=3.0, size=(4, 6, 8))
    y = layer_norm(x, np.ones((6, 8)), np.zeros((6, 8)), normalized_ndim=2, eps=0.0)
    y_plain = layer_norm(x, None, None, normalized_ndim=2, eps=0.0)
    np.testing.assert_array_equal(y, y_plain)  # gamma 1, beta 0 are exact identities
    n = 48
    # Per sample the standardize bound (mean|x|/s <= 3, |xhat| <= 4) gives each y an error
    # <= 2 eps (n/2 * 3 + (n/4 + 3) * 4); the mean of y inherits it, the variance twice it
    # (times |xhat| <= 4) plus its own n-term sum.
    per = 2 * EPS * (n / 2 * 3 + (n / 4 + 3) * 4)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, rtol=0, atol=per + n * EPS)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1.0, rtol=0, atol=8 * per + n * EPS)


def test_layer_norm_affine_and_hand_values():
    # Row [1, 2, 3, 4]: mean 2.5, var (2.25 + .25 + .25 + 2.25)/4 = 1.25, eps = 0.
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    gamma, beta = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 0.0, -1.0])
    s = np.sqrt(1.25)
    expected = gamma * (x - 2.5) / s + beta
    # Four roundings at most on each side (sqrt, divide, multiply, add) on values <= 6.
    np.testing.assert_allclose(layer_norm(x, gamma, beta, normalized_ndim=1, eps=0.0), expected,
                               rtol=0, atol=6 * 4 * EPS)
    with pytest.raises(ValueError):
        layer_norm(x, np.ones(3), None, normalized_ndim=1, eps=1e-5)


def test_layer_norm_against_mpmath_with_offset_data():
    rng = np.random.default_rng(25)
    # Mean 1e3, std 1: centring is ill-conditioned (mean|x| / s = 1e3); the two-pass variance
    # keeps the error within the stated bound (E[x^2] - E[x]^2 would lose ~1e6 eps).
    x = rng.normal(loc=1e3, scale=1.0, size=(3, 4, 5))
    gamma, beta = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    eps = 1e-5
    y = layer_norm(x, gamma, beta, normalized_ndim=2, eps=eps)
    for i in range(3):
        xhat, s = _mp_standardize(x[i].ravel(), eps)
        triples = zip(gamma.flat, xhat, beta.flat, strict=True)
        truth = [M(float(g)) * v + M(float(b)) for g, v, b in triples]
        xh = np.array([float(v) for v in xhat])
        # Standardize bound times |gamma|, then the affine's two roundings (eps/2 |y| each).
        bound = _standardize_bound(x[i].ravel(), s, xh) * np.abs(gamma.ravel())
        bound = bound + EPS * np.abs(np.array([float(t) for t in truth]))
        err = np.array([float(abs(M(float(a)) - t)) for a, t in zip(y[i].flat, truth, strict=True)])
        assert np.all(err <= bound)


def test_standardize_hand_values_and_axes():
    # Column [1, 3]: mean 2, biased var 1, eps 0: [-1, 1].  Column [2, 2]: 0 / sqrt(0 + 1) = 0.
    x = np.array([[1.0, 2.0], [3.0, 2.0]])
    np.testing.assert_array_equal(standardize(x[:, :1], eps=0.0).ravel(), [-1.0, 1.0])
    np.testing.assert_array_equal(standardize(x, eps=1.0)[:, 1], [0.0, 0.0])
    rng = np.random.default_rng(26)
    z = rng.normal(size=(3, 4, 5))
    # A tuple of axes, given in any order or negative, reduces the same axes.
    np.testing.assert_array_equal(standardize(z, axis=(2, 0), eps=1e-5),
                                  standardize(z, axis=(-3, -1), eps=1e-5))


def test_standardize_against_mpmath():
    rng = np.random.default_rng(27)
    x = rng.normal(loc=-50.0, scale=4.0, size=(30, 3))
    for eps in (0.0, 1e-5):
        y = standardize(x, axis=0, eps=eps)
        for j in range(3):
            xhat, s = _mp_standardize(x[:, j], eps)
            xh = np.array([float(v) for v in xhat])
            pairs = zip(y[:, j], xhat, strict=True)
            err = np.array([float(abs(M(float(a)) - t)) for a, t in pairs])
            assert np.all(err <= _standardize_bound(x[:, j], s, xh))


# ---------------------------------------------------------------- weight norm, cosine norm


def test_weight_norm_hand_values():
    # Row (3, 4) has norm 5: g = 10 gives (6, 8).
    np.testing.assert_array_equal(weight_norm(np.array([[3.0, 4.0]]), np.array([10.0])),
                                  [[6.0, 8.0]])
    # axis=1: one norm per column: column (3, 4) -> 5, g 5: (3, 4); column (0, 2) -> 2, g 3:
    # (0, 3).
    v = np.array([[3.0, 0.0], [4.0, 2.0]])
    np.testing.assert_array_equal(weight_norm(v, np.array([5.0, 3.0]), axis=1),
                                  [[3.0, 0.0], [4.0, 3.0]])
    # axis=None: the whole tensor's norm 5 and a scalar g = 2: (1.2, 1.6).
    np.testing.assert_allclose(weight_norm(np.array([[3.0, 4.0]]), np.array(2.0), axis=None),
                               [[1.2, 1.6]], rtol=EPS, atol=0)


@pytest.mark.parametrize("axis", [0, 1, -1, 3])
def test_weight_norm_slice_norms_equal_g(axis):
    rng = np.random.default_rng(28)
    v = rng.normal(size=(3, 4, 2, 5))
    g = rng.normal(size=v.shape[axis])
    w = weight_norm(v, g, axis=axis)
    vm, wm = np.moveaxis(v, axis, 0), np.moveaxis(w, axis, 0)
    norms = np.sqrt((wm.reshape(len(g), -1) ** 2).sum(axis=1))
    # <= 40-term sums of squares twice (the oracle's and this check's), a sqrt and a divide:
    # (40 + 4) eps relative.
    np.testing.assert_allclose(norms, np.abs(g), rtol=44 * EPS, atol=0)
    # Each slice is v's slice rescaled by g/||v||: w * ||v|| / g recovers v.
    vnorm = np.sqrt((vm.reshape(len(g), -1) ** 2).sum(axis=1))
    back = wm * (vnorm / g).reshape(-1, 1, 1, 1)
    np.testing.assert_allclose(back, vm, rtol=48 * EPS, atol=0)


def test_cosine_norm_hand_values():
    # x0 = (1, 0), x1 = (1, 1); w rows (1, 0), (0, 2), (3, 3).
    # cos(x0, w) = 1, 0, 3/(3 sqrt 2) = 1/sqrt2;  cos(x1, w) = 1/sqrt2, 2/(2 sqrt2), 6/(sqrt2 *
    # 3 sqrt2) = 1.
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    w = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    r = 1 / np.sqrt(2.0)
    np.testing.assert_allclose(cosine_norm(x, w), [[1.0, 0.0, r], [r, r, 1.0]], rtol=0,
                               atol=4 * EPS)


def test_cosine_norm_matches_a_loop_and_is_scale_invariant():
    rng = np.random.default_rng(29)
    x, w = rng.normal(size=(5, 7)), rng.normal(size=(3, 7))
    y = cosine_norm(x, w)
    loop = np.array([[np.dot(wo, xn) / (np.linalg.norm(wo) * np.linalg.norm(xn)) for wo in w]
                     for xn in x])
    # A 7-term dot product (abs error 7 eps/2 * |w||x| <= 4 eps in cosine units, by
    # Cauchy-Schwarz) and two 7-term norms, sqrt, product, divide: < 16 eps per side.
    np.testing.assert_allclose(y, loop, rtol=0, atol=32 * EPS)
    assert np.all(np.abs(y) <= 1 + 16 * EPS)
    # Scaling by powers of two is exact, so the result is bit-identical.
    np.testing.assert_array_equal(cosine_norm(4.0 * x, 0.125 * w), y)


# ---------------------------------------------------------------- local response normalization


def _lrn_loop(x, size, alpha, beta, k):
    """Independent formulation: explicit clipped window per channel."""
    c_total = x.shape[1]
    out = np.empty_like(x)
    for c in range(c_total):
        lo, hi = max(0, c - size // 2), min(c_total - 1, c + (size - 1) // 2)
        s = (x[:, lo : hi + 1] ** 2).sum(axis=1)
        out[:, c] = x[:, c] / (k + alpha / size * s) ** beta
    return out


def _lrn_rel_bound(size: int, beta: float) -> float:
    """Relative bound: squares eps/2, a size-term positive sum size eps/2, alpha/size and its
    product eps, + k eps/2: the base errs by <= (size/2 + 2) eps; the power scales that by
    beta and adds 2 eps; the divide eps/2. Factor 2 for slack."""
    return 2 * EPS * (beta * (size / 2 + 2) + 3)


def test_lrn_hand_values():
    # size 1: a / (k + alpha a^2)^beta; a = 2, k = 1, alpha = 0.75, beta = 0.5: 2 / 4^0.5 = 1.
    x = np.full((1, 1, 1, 1), 2.0)
    assert lrn(x, size=1, alpha=0.75, beta=0.5, k=1.0).item() == 1.0
    # size 2 looks at channels c-1 and c (torch's asymmetric window), alpha/size = 1, k = 0,
    # beta = 1, channels (1, 2): b0 = 1 / 1^2 = 1; b1 = 2 / (1 + 4) = 0.4.
    x = np.array([1.0, 2.0]).reshape(1, 2, 1, 1)
    got = lrn(x, size=2, alpha=2.0, beta=1.0, k=0.0).ravel()
    np.testing.assert_allclose(got, [1.0, 0.4], rtol=EPS, atol=0)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
def test_lrn_matches_an_independent_loop(size):
    rng = np.random.default_rng(30 + size)
    x = rng.normal(size=(2, 6, 3, 2))
    alpha, beta, k = 1e-2, 0.75, 2.0
    np.testing.assert_allclose(lrn(x, size=size, alpha=alpha, beta=beta, k=k),
                               _lrn_loop(x, size, alpha, beta, k),
                               rtol=2 * _lrn_rel_bound(size, beta), atol=0)


def test_lrn_against_mpmath():
    rng = np.random.default_rng(31)
    x = rng.normal(scale=3.0, size=(1, 5, 2, 2))
    size, alpha, beta, k = 3, 0.5, 0.75, 1.0
    y = lrn(x, size=size, alpha=alpha, beta=beta, k=k)
    for c in range(5):
        window = range(max(0, c - 1), min(4, c + 1) + 1)
        for h in range(2):
            for w in range(2):
                s = mpmath.fsum(M(float(x[0, j, h, w])) ** 2 for j in window)
                truth = M(float(x[0, c, h, w])) / (M(k) + M(alpha) / size * s) ** M(beta)
                err = abs(M(float(y[0, c, h, w])) - truth)
                assert err <= _lrn_rel_bound(size, beta) * abs(truth)


# ---------------------------------------------------------------- lower precision


def _float32_cases(rng: np.random.Generator) -> dict:
    x = rng.normal(size=(4, 3, 2, 2))
    c3 = (rng.normal(size=3), rng.normal(size=3))
    stats = (rng.normal(size=3), rng.uniform(0.5, 2, size=3))
    return {
        "norm.batch_norm_train": ((x, *c3, *stats), {"eps": 1e-3, "momentum": 0.1}),
        "norm.batch_norm_eval": ((x, *c3, *stats), {"eps": 1e-3}),
        "norm.layer_norm": ((x, rng.normal(size=(2, 2)), None), {"normalized_ndim": 2,
                                                                  "eps": 1e-5}),
        "norm.weight_norm": ((x, rng.uniform(0.5, 2, size=4)), {"axis": 0}),
        "norm.cosine_norm": ((x.reshape(4, 12), rng.normal(size=(5, 12))), {}),
        "norm.standardize": ((x.reshape(8, 6),), {"axis": 0, "eps": 1e-5}),
        "norm.lrn": ((x,), {"size": 3, "alpha": 0.1, "beta": 0.75, "k": 2.0}),
    }


@pytest.mark.parametrize("op_id", sorted(ORACLE))
def test_runs_in_float32(op_id):
    args, kwargs = _float32_cases(np.random.default_rng(32))[op_id]
    fn = ORACLE[op_id]
    with _canon.compute_dtype(np.float32):
        low = _canon.flatten_outputs(fn(*args, **kwargs))
    ref = _canon.flatten_outputs(fn(*args, **kwargs))
    for lo, hi in zip(low, ref, strict=True):
        assert lo.dtype == np.float32
        # O(1) data, <= 16-term reductions: the standardize bound in float32 with n = 16,
        # mean|x|/s ~ 1, |xhat| <= 3: 2 eps32 (8 + 7 * 3) < 64 eps32, relative to max(1, |y|).
        scale = np.maximum(1.0, np.abs(hi))
        assert np.all(np.abs(lo - hi) <= 64 * EPS32 * scale)
