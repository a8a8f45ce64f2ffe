"""Tests of oracle.blocks against an independent composition (scipy.signal.correlate for
every convolution, np.maximum for ReLU, a sliding-window view for the max pool), plus hand
values: the notes' identity argument for residual blocks, the notes' Inception shapes, and
the NCHW vs NHWC flattening order.

Error model (eps = 2^-52): a conv output summing M products errs by at most M eps/2 times
the sum of the magnitudes (bias included); two evaluations differ by twice that. ReLU is
1-Lipschitz, so an input error passes through it unchanged, and a later conv maps an input
error bound E to conv(E, |w|). ``_bound`` propagates these bounds through each block.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from oracle import _canon
from oracle.autodiff import Dual
from oracle.blocks import (
    ORACLE,
    flatten_fc,
    inception_block,
    residual_block,
    residual_projection,
)

EPS = np.finfo(np.float64).eps


def _ref_conv(x, w, b=None, stride=1):
    """'same' (padding k//2) strided cross-correlation with scipy, per (n, o, c)."""
    k = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (k[0] // 2,) * 2, (k[1] // 2,) * 2))
    out = []
    for n in range(x.shape[0]):
        maps = []
        for o in range(w.shape[0]):
            acc = sum(signal.correlate(xp[n, c], w[o, c], mode="valid", method="direct")
                      for c in range(x.shape[1]))
            maps.append(acc[::stride, ::stride] + (0.0 if b is None else b[o]))
        out.append(maps)
    return np.array(out)


def _conv_bound(x_abs, err_in, w, b, stride=1):
    """Error bound of a conv output given |x| and the error bound of x: own rounding of the
    two evaluations (M eps times the magnitudes) plus the propagated input error."""
    m = w[0].size + 1
    mag = _ref_conv(x_abs, np.abs(w), None if b is None else np.abs(b), stride)
    return m * EPS * mag + _ref_conv(err_in, np.abs(w), None, stride)


def _relu(z):
    return np.maximum(z, 0.0)


def _ref_maxpool3(x):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3)).max(axis=(-2, -1))


# ---------------------------------------------------------------- residual block


def _params(rng, c_in, c_out, k=3):
    return (rng.standard_normal((c_out, c_in, k, k)) / k, rng.standard_normal(c_out),
            rng.standard_normal((c_out, c_out, k, k)) / k, rng.standard_normal(c_out))


def _ref_residual(x, w1, b1, w2, b2, shortcut, ws, stride):
    a1 = _relu(_ref_conv(x, w1, b1, stride))
    z2 = _ref_conv(a1, w2, b2)
    if shortcut == "identity":
        sc = x
    elif shortcut == "projection":
        sc = np.einsum("nchw,oc->nohw", x[:, :, ::stride, ::stride], ws[:, :, 0, 0])
    else:
        sc = np.zeros_like(z2)
        sc[:, :x.shape[1]] = x[:, :, ::stride, ::stride]
    e1 = _conv_bound(np.abs(x), np.zeros_like(x), w1, b1, stride)
    e2 = _conv_bound(np.abs(a1), e1, w2, b2)
    e_sc = 0.0  # identity / zero padding copy x exactly
    if shortcut == "projection":  # c_in products per output
        e_sc = x.shape[1] * EPS * np.einsum("nchw,oc->nohw", np.abs(x[:, :, ::stride, ::stride]),
                                            np.abs(ws[:, :, 0, 0]))
    # The final add rounds once on each side: eps/2 |z2 + sc| each.
    return _relu(z2 + sc), e2 + e_sc + EPS * (np.abs(z2) + np.abs(sc))


@pytest.mark.parametrize("shortcut,stride,c_in,c_out", [
    ("identity", 1, 4, 4), ("projection", 2, 3, 5), ("projection", 1, 4, 4),
    ("zero_pad", 2, 3, 5), ("zero_pad", 1, 4, 4),
])
def test_residual_block_matches_composition(shortcut, stride, c_in, c_out):
    rng = np.random.default_rng(c_in * 10 + c_out + stride)
    x = rng.standard_normal((2, c_in, 7, 6))
    w1, b1, w2, b2 = _params(rng, c_in, c_out)
    ws = rng.standard_normal((c_out, c_in, 1, 1)) if shortcut == "projection" else None
    got = residual_block(x, w1, b1, w2, b2, shortcut=shortcut, ws=ws, stride=stride)
    want, bound = _ref_residual(x, w1, b1, w2, b2, shortcut, ws, stride)
    assert got.shape == (2, c_out, len(range(0, 7, stride)), len(range(0, 6, stride)))
    assert np.all(np.abs(got - want) <= bound)


def test_residual_projection_takes_ws_positionally():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 3, 5, 4))
    w1, b1, w2, b2 = _params(rng, 3, 5)
    ws = rng.standard_normal((5, 3, 1, 1))
    np.testing.assert_array_equal(
        residual_projection(x, w1, b1, w2, b2, ws, stride=2),
        residual_block(x, w1, b1, w2, b2, shortcut="projection", ws=ws, stride=2))


def test_residual_block_learns_identity_easily():
    # Notes 004: with z_{l+2} = 0 (w2 = 0, b2 = 0) and a_l >= 0 (post-ReLU),
    # g(z_{l+2} + a_l) = g(a_l) = a_l: the block is exactly the identity.
    rng = np.random.default_rng(30)
    x = _relu(rng.standard_normal((2, 4, 5, 5)))
    w1, b1, _, _ = _params(rng, 4, 4)
    got = residual_block(x, w1, b1, np.zeros((4, 4, 3, 3)), np.zeros(4))
    np.testing.assert_array_equal(got, x)


def test_residual_block_argument_errors():
    rng = np.random.default_rng(31)
    x = rng.standard_normal((1, 3, 4, 4))
    w1, b1, w2, b2 = _params(rng, 3, 5)
    with pytest.raises(ValueError):
        residual_block(x, w1, b1, w2, b2)  # identity with 3 -> 5 channels
    with pytest.raises(ValueError):
        residual_block(x, w1, b1, w2, b2, shortcut="projection")  # ws missing
    with pytest.raises(ValueError):
        residual_block(x, w1, b1, w2, b2, shortcut="sum")


# ---------------------------------------------------------------- inception block


def _inception_params(rng, c, c1, r3, c3, r5, c5, cp):
    def w(o, i, k):
        return rng.standard_normal((o, i, k, k)) / k

    return [w(c1, c, 1), rng.standard_normal(c1), w(r3, c, 1), rng.standard_normal(r3),
            w(c3, r3, 3), rng.standard_normal(c3), w(r5, c, 1), rng.standard_normal(r5),
            w(c5, r5, 5), rng.standard_normal(c5), w(cp, c, 1), rng.standard_normal(cp)]


def test_inception_matches_composition():
    rng = np.random.default_rng(32)
    x = rng.standard_normal((2, 3, 6, 7))
    p = _inception_params(rng, 3, 2, 3, 4, 2, 3, 2)
    got = inception_block(x, *p)
    zero = np.zeros_like(x)
    parts, bounds = [], []
    # 1x1 branch
    parts.append(_relu(_ref_conv(x, p[0], p[1])))
    bounds.append(_conv_bound(np.abs(x), zero, p[0], p[1]))
    # reduce -> kxk branches
    for wr, br, wk, bk in ((p[2], p[3], p[4], p[5]), (p[6], p[7], p[8], p[9])):
        a = _relu(_ref_conv(x, wr, br))
        e = _conv_bound(np.abs(x), zero, wr, br)
        parts.append(_relu(_ref_conv(a, wk, bk)))
        bounds.append(_conv_bound(np.abs(a), e, wk, bk))
    # pool projection (the pool itself is exact)
    pooled = _ref_maxpool3(x)
    parts.append(_relu(_ref_conv(pooled, p[10], p[11])))
    bounds.append(_conv_bound(np.abs(pooled), zero, p[10], p[11]))
    want, bound = np.concatenate(parts, axis=1), np.concatenate(bounds, axis=1)
    assert got.shape == (2, 2 + 4 + 3 + 2, 6, 7)
    assert np.all(np.abs(got - want) <= bound)


def test_inception_notes_shapes():
    # Notes 004: 28x28x192 in; branches 64 (1x1), 128 (3x3), 32 (5x5), 32 (pool) -> 256.
    # Reduce widths 96 and 16 are GoogLeNet's inception (3a).
    rng = np.random.default_rng(33)
    x = _relu(rng.standard_normal((1, 192, 28, 28)))
    p = _inception_params(rng, 192, 64, 96, 128, 16, 32, 32)
    y = inception_block(x, *p)
    assert y.shape == (1, 256, 28, 28)
    assert np.all(y >= 0)


# ---------------------------------------------------------------- flatten + FC


def test_flatten_fc_hand_value_and_nhwc_order():
    # x[0] = [[[0, 1], [2, 3]], [[4, 5], [6, 7]]] (C=2, H=W=2) flattens to 0..7 in C order;
    # w picks entries 1 and 6 (c0 h0 w1 and c1 h1 w0): y = [1 + 0.5, 6 - 0.5].
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    w = np.zeros((2, 8))
    w[0, 1], w[1, 6] = 1.0, 1.0
    np.testing.assert_array_equal(flatten_fc(x, w, np.array([0.5, -0.5])), [[1.5, 5.5]])
    # The documented NHWC permutation: w_nhwc[:, (h*W + w')*C + c] = w[:, (c*H + h)*W + w'].
    rng = np.random.default_rng(34)
    x = rng.standard_normal((3, 4, 2, 5))
    w = rng.standard_normal((6, 40))
    c_, h_, w_ = np.meshgrid(range(4), range(2), range(5), indexing="ij")
    w_nhwc = np.empty_like(w)
    w_nhwc[:, ((h_ * 5 + w_) * 4 + c_).ravel()] = w[:, ((c_ * 2 + h_) * 5 + w_).ravel()]
    nhwc = x.transpose(0, 2, 3, 1).reshape(3, -1) @ w_nhwc.T
    # Same 40 products, different summation order: <= 40 eps sum|products| apart.
    scale = np.abs(x).reshape(3, -1) @ np.abs(w).T
    assert np.all(np.abs(flatten_fc(x, w) - nhwc) <= 40 * EPS * scale)


def test_float32_compute_dtype():
    rng = np.random.default_rng(35)
    x = rng.standard_normal((1, 2, 4, 4))
    w1, b1, w2, b2 = _params(rng, 2, 2)
    with _canon.compute_dtype(np.float32):
        assert residual_block(x, w1, b1, w2, b2).dtype == np.float32
        p = _inception_params(rng, 2, 1, 1, 1, 1, 1, 1)
        assert inception_block(x, *p).dtype == np.float32
        assert flatten_fc(x, np.ones((3, 32))).dtype == np.float32


def test_registry_ids():
    assert set(ORACLE) == {"block.residual", "block.inception", "block.flatten_fc"}


# ---------------------------------------------------------------- dual numbers


def test_dual_jvp_matches_exact_central_difference():
    # Inputs on a dyadic grid (multiples of 2^-8, |.| <= 2) and tangents in {-2..2} with
    # h = 2^-20: every x +- h t is exact. Away from ReLU kinks the block is a cubic
    # polynomial in (x, w1, b1, w2, b2) (x*w1 inside, times w2), so the central difference
    # is exact except for the cubic term: h^2 conv(mask * conv(tx, tw1), tw2), bounded by
    # h^2 conv(conv(|tx|, |tw1|), |tw2|). Rounding: each evaluation errs by E (bounded as in
    # ``_ref_residual``), giving E / h, and the JVP's own rounding, below that.
    rng = np.random.default_rng(36)

    def grid(shape):
        return np.round(rng.uniform(-2, 2, shape) * 256) / 256

    x, (w1, b1, w2, b2) = grid((2, 3, 5, 5)), [grid(s) for s in
                                              [(3, 3, 3, 3), (3,), (3, 3, 3, 3), (3,)]]
    args = [x, w1, b1, w2, b2]
    tangents = [rng.integers(-2, 3, np.shape(a)).astype(float) for a in args]
    h = 2.0**-20
    got = residual_block(*[Dual(a, t) for a, t in zip(args, tangents, strict=True)]).tangent
    plus = residual_block(*[a + h * t for a, t in zip(args, tangents, strict=True)])
    minus = residual_block(*[a - h * t for a, t in zip(args, tangents, strict=True)])
    fd = (plus - minus) / (2 * h)
    _, err = _ref_residual(np.abs(x) + 8 * h, np.abs(w1), np.abs(b1), np.abs(w2), np.abs(b2),
                           "identity", None, 1)
    cubic = h * h * _ref_conv(_ref_conv(np.abs(tangents[0]), np.abs(tangents[1])),
                              np.abs(tangents[3]))
    assert np.all(np.abs(got - fd) <= 2 * err / h + cubic)
