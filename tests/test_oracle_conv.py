"""Tests of oracle.conv: hand values (the notes' edge detector on a 6x6 image, transposed
convolution), an explicit 7-nested-loop conv2d, scipy.signal.correlate, the adjoint identity
<conv(x, w), y> = <x, conv_transpose(y, w)> in 1-D, 2-D and 3-D, and speed.

Error model (eps = 2^-52): a dot product of M terms computed in any order errs by at most
M eps/2 times the sum of the magnitudes of its products (standard bound, M eps/2 < 0.01).
Two different orders therefore differ by at most M eps * sum|products|; each test computes
sum|products| as the same operation applied to absolute values.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from scipy import signal

from oracle import _canon
from oracle.autodiff import Dual
from oracle.conv import (
    EDGE_KERNEL,
    ORACLE,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    depthwise_conv2d,
    edge_detect,
)

EPS = np.finfo(np.float64).eps


def _loop_conv2d(x, w, b, stride, pad, dil, groups):
    """Seven nested loops straight from the definition (zero padding, cross-correlation)."""
    n_b, c_in, h, wd = x.shape
    c_out, c_g, kh, kw = w.shape
    oh = (h + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    y = np.zeros((n_b, c_out, oh, ow))
    per_group = c_out // groups
    for n in range(n_b):
        for o in range(c_out):
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0 if b is None else b[o]
                    for c in range(c_g):
                        for u in range(kh):
                            for v in range(kw):
                                r = i * stride - pad + u * dil
                                q = j * stride - pad + v * dil
                                if 0 <= r < h and 0 <= q < wd:
                                    acc += w[o, c, u, v] * x[n, (o // per_group) * c_g + c, r, q]
                    y[n, o, i, j] = acc
    return y


@pytest.mark.parametrize("stride,pad,dil,groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 2), (3, 1, 1, 2), (2, 0, 2, 1),
])
def test_conv2d_matches_nested_loops(stride, pad, dil, groups):
    rng = np.random.default_rng(stride * 10 + pad + dil + groups)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    b = rng.standard_normal(4)
    got = conv2d(x, w, b, stride=stride, padding=pad, dilation=dil, groups=groups)
    want = _loop_conv2d(x, w, b, stride, pad, dil, groups)
    scale = _loop_conv2d(np.abs(x), np.abs(w), np.abs(b), stride, pad, dil, groups)
    m = (4 // groups) * 3 * 2 + 1  # products per output, plus the bias
    assert np.all(np.abs(got - want) <= m * EPS * scale)


def test_conv_matches_scipy_correlate_1d_2d_3d():
    rng = np.random.default_rng(11)
    for fn, spatial, kernel in [(conv1d, (9,), (3,)), (conv2d, (6, 7), (3, 2)),
                                (conv3d, (4, 5, 4), (2, 3, 2))]:
        x = rng.standard_normal((2, 3) + spatial)
        w = rng.standard_normal((2, 3) + kernel)
        want = np.zeros((2, 2) + tuple(s - k + 1 for s, k in zip(spatial, kernel, strict=True)))
        scale = np.zeros_like(want)
        for n, o in itertools.product(range(2), range(2)):
            for c in range(3):
                want[n, o] += signal.correlate(x[n, c], w[o, c], mode="valid", method="direct")
                scale[n, o] += signal.correlate(np.abs(x[n, c]), np.abs(w[o, c]), mode="valid",
                                                method="direct")
        m = 3 * int(np.prod(kernel))
        assert np.all(np.abs(fn(x, w) - want) <= m * EPS * scale)


def test_same_padding_odd_kernel_equals_scipy_same():
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((1, 1, 6, 5)), rng.standard_normal((1, 1, 3, 5))
    want = signal.correlate(x[0, 0], w[0, 0], mode="same", method="direct")
    scale = signal.correlate(np.abs(x[0, 0]), np.abs(w[0, 0]), mode="same", method="direct")
    assert np.all(np.abs(conv2d(x, w, padding="same")[0, 0] - want) <= 15 * EPS * scale)


def test_same_padding_even_kernel_pads_after():
    # k=2, stride 1: total padding 1, all after: y[i] = 2 x[i] + 3 x[i+1], x[4] = 0.
    x = np.array([1.0, 2.0, 3.0, 4.0])[None, None]
    w = np.array([2.0, 3.0])[None, None]
    np.testing.assert_array_equal(conv1d(x, w, padding="same")[0, 0], [8, 13, 18, 8])
    # k=3, s=2 on n=6: total max((3-1)*2 + 3 - 6, 0) = 1 -> (0, 1): windows start 0, 2, 4.
    x6 = np.arange(6.0)[None, None]
    np.testing.assert_array_equal(conv1d(x6, np.ones((1, 1, 3)), stride=2, padding="same")
                                  [0, 0], [0 + 1 + 2, 2 + 3 + 4, 4 + 5])


def test_conv_transpose_hand_values():
    # x = [1, 2], w = [1, 1, 1], stride 2: full map of (2-1)*2 + 3 = 5 entries,
    # 1*w at 0..2 and 2*w at 2..4: [1, 1, 3, 2, 2].
    x = np.array([1.0, 2.0])[None, None]
    w = np.ones((1, 1, 3))
    np.testing.assert_array_equal(conv_transpose1d(x, w, stride=2)[0, 0], [1, 1, 3, 2, 2])
    # padding 1 crops one entry each side: [1, 3, 2].
    np.testing.assert_array_equal(conv_transpose1d(x, w, stride=2, padding=1)[0, 0], [1, 3, 2])
    # output_padding 1 extends the full map by one zero before cropping: [1, 3, 2, 2].
    np.testing.assert_array_equal(
        conv_transpose1d(x, w, stride=2, padding=1, output_padding=1)[0, 0], [1, 3, 2, 2])


ADJOINT_CASES = [  # (rank, spatial, kernel, stride, pad, dil, groups)
    (1, (11,), 3, 2, 1, 1, 1), (1, (10,), 2, 3, 0, 2, 2),
    (2, (7, 8), 3, 2, 1, 1, 1), (2, (6, 6), 3, 1, 2, 2, 2), (2, (8, 7), 2, 3, 1, 1, 1),
    (2, (5, 5), 1, 2, 0, 1, 2),
    (3, (5, 4, 6), 3, 2, 1, 1, 1), (3, (4, 5, 4), 2, 1, 0, 2, 2),
]


@pytest.mark.parametrize("case", ADJOINT_CASES)
def test_adjoint_identity(case):
    r, spatial, k, s, p, d, g = case
    conv = {1: conv1d, 2: conv2d, 3: conv3d}[r]
    conv_t = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}[r]
    rng = np.random.default_rng(sum(spatial) + k + s)
    c_in, c_out = 2 * g, 2 * g
    x = rng.standard_normal((2, c_in) + spatial)
    w = rng.standard_normal((c_out, c_in // g) + (k,) * r)
    y_shape = conv(x, w, stride=s, padding=p, dilation=d, groups=g).shape
    v = rng.standard_normal(y_shape)
    # output_padding restores the rows a strided conv drops, so conv_t(v) has x's shape.
    op = tuple((n + 2 * p - d * (k - 1) - 1) % s for n in spatial)
    back = conv_t(v, w, stride=s, padding=p, output_padding=op, dilation=d, groups=g)
    assert back.shape == x.shape
    lhs = np.sum(conv(x, w, stride=s, padding=p, dilation=d, groups=g) * v)
    rhs = np.sum(x * back)
    # Both sides are sums of the same products x*w*v (M = their count) in different orders.
    mag = np.sum(conv(np.abs(x), np.abs(w), stride=s, padding=p, dilation=d, groups=g)
                 * np.abs(v))
    m = v.size * (c_in // g) * k**r + x.size
    assert abs(lhs - rhs) <= m * EPS * mag


def test_depthwise_is_one_conv_per_channel():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((6, 1, 3, 3))  # multiplier 2
    b = rng.standard_normal(6)
    got = depthwise_conv2d(x, w, b, stride=2, padding=1)
    for c, m in itertools.product(range(3), range(2)):
        o = c * 2 + m
        want = _loop_conv2d(x[:, c:c + 1], w[o:o + 1], b[o:o + 1], 2, 1, 1, 1)
        scale = _loop_conv2d(np.abs(x[:, c:c + 1]), np.abs(w[o:o + 1]), np.abs(b[o:o + 1]),
                             2, 1, 1, 1)
        assert np.all(np.abs(got[:, o:o + 1] - want) <= 10 * EPS * scale)
    with pytest.raises(ValueError):
        depthwise_conv2d(x, rng.standard_normal((6, 3, 3, 3)))


def test_1x1_conv_is_a_channel_mix():
    rng = np.random.default_rng(14)
    x, w = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((7, 5, 1, 1))
    want = np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0])
    scale = np.einsum("nchw,oc->nohw", np.abs(x), np.abs(w[:, :, 0, 0]))
    assert np.all(np.abs(conv2d(x, w) - want) <= 5 * EPS * scale)


# ---------------------------------------------------------------- edge detection (notes 004)


def test_edge_detect_six_by_six():
    # The 6x6 bright/dark example (Ng's course, which the notes follow; the notes themselves
    # give only the kernel), oriented for the kernel as the notes write it: rows 0-2 are
    # 10, rows 3-5 are 0. Output row i = (sum of patch row i) - (sum of patch row i+2):
    # i=0: 30 - 30 = 0; i=1: 30 - 0 = 30; i=2: 30 - 0 = 30; i=3: 0 - 0 = 0.
    image = np.zeros((6, 6))
    image[:3] = 10.0
    want = np.array([[0.0] * 4, [30.0] * 4, [30.0] * 4, [0.0] * 4])
    np.testing.assert_array_equal(edge_detect(image), want)
    batch = np.stack([image, 2 * image])[:, None]
    np.testing.assert_array_equal(edge_detect(batch)[:, 0], [want, 2 * want])
    # A left/right step (10s in columns 0-2) gives 0 everywhere with the kernel as written:
    # each patch row has the same sum.
    np.testing.assert_array_equal(edge_detect(image.T), np.zeros((4, 4)))
    np.testing.assert_array_equal(EDGE_KERNEL, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])


# ---------------------------------------------------------------- speed, dtypes, errors


def test_conv2d_is_fast_enough():
    rng = np.random.default_rng(15)
    x, w = rng.standard_normal((2, 4, 8, 8)), rng.standard_normal((4, 4, 3, 3))
    best = min(_timed(lambda: conv2d(x, w, padding=1)) for _ in range(5))
    assert best < 0.05
    best_t = min(_timed(lambda: conv_transpose2d(x, w, stride=2, padding=1)) for _ in range(5))
    assert best_t < 0.05


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_float32_compute_dtype():
    rng = np.random.default_rng(16)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
    with _canon.compute_dtype(np.float32):
        assert conv2d(x, w, np.ones(2), padding=1).dtype == np.float32
        assert conv_transpose2d(x, w, stride=2).dtype == np.float32
        assert edge_detect(x[0, 0]).dtype == np.float32


def test_shape_errors():
    x = np.zeros((1, 4, 5, 5))
    with pytest.raises(ValueError):
        conv2d(x, np.zeros((2, 3, 3, 3)))  # C_in/groups mismatch
    with pytest.raises(ValueError):
        conv1d(x, np.zeros((2, 4, 3, 3)))  # wrong rank
    with pytest.raises(ValueError):
        conv_transpose2d(x, np.zeros((4, 2, 3, 3)), stride=2, output_padding=2)


def test_registry_ids():
    assert set(ORACLE) == {"conv.conv1d", "conv.conv2d", "conv.conv3d",
                           "conv.conv_transpose2d", "conv.depthwise2d", "conv.edge_detect"}


# ---------------------------------------------------------------- dual numbers


def test_dual_jvp_is_the_bilinear_product_rule():
    # conv is bilinear: d conv(x, w) = conv(tx, w) + conv(x, tw) + tb. Each side sums the
    # same M products per output in different orders: <= 2 M eps of the magnitudes apart.
    rng = np.random.default_rng(17)
    x, tx = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((2, 4, 6, 5))
    w, tw = rng.standard_normal((6, 2, 3, 3)), rng.standard_normal((6, 2, 3, 3))
    b, tb = rng.standard_normal(6), rng.standard_normal(6)
    kw = dict(stride=2, padding=1, dilation=1, groups=2)
    got = conv2d(Dual(x, tx), Dual(w, tw), Dual(b, tb), **kw).tangent
    want = conv2d(tx, w, tb, **kw) + conv2d(x, tw, **kw)
    mag = conv2d(np.abs(tx), np.abs(w), np.abs(tb), **kw) + conv2d(np.abs(x), np.abs(tw), **kw)
    assert np.all(np.abs(got - want) <= 2 * (2 * 9 + 1) * EPS * mag)
    # The transposed conv with only w dual (its scatter buffer must become a dual).
    xt = rng.standard_normal((2, 6, 3, 3))
    wt, twt = rng.standard_normal((6, 2, 3, 3)), rng.standard_normal((6, 2, 3, 3))
    got_t = conv_transpose2d(xt, Dual(wt, twt), stride=2, groups=2).tangent
    want_t = conv_transpose2d(xt, twt, stride=2, groups=2)
    mag_t = conv_transpose2d(np.abs(xt), np.abs(twt), stride=2, groups=2)
    assert np.all(np.abs(got_t - want_t) <= 2 * 27 * EPS * mag_t)
