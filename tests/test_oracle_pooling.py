"""Tests of oracle.pooling (windows and special): hand values, the torch edge cases
quoted in docs/conventions/pooling.md §3.1, an independent loop formulation (torch's kernel
logic written out per output position), invariants, and mpmath at 50 digits.

Error model (eps = 2^-52): one correctly rounded operation errs by eps/2 relative; a sum of
K terms in any order errs by at most (K - 1) eps/2 times the sum of the magnitudes. Max, min,
index selection and scatter are exact (no rounding): compared with ``assert_array_equal``.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle.autodiff import Dual
from oracle.pooling import (
    ORACLE,
    avg_pool,
    global_avg_pool,
    global_max_pool,
    kmax_pool,
    l2_pool,
    max_pool,
    max_pool_with_indices,
    max_unpool,
    min_pool,
    stochastic_pool_eval,
    stochastic_pool_probs,
)

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50

# The cs231n 4x4 example (the notes' figure max_pooling.png is not in the text).
CS231N = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)[None, None]


# ---------------------------------------------------------------- hand values


def test_max_pool_hand_example_and_indices():
    # 2x2 windows, stride 2: max{1,1,5,6} = 6 at (1,1) -> 1*4+1 = 5; max{2,4,7,8} = 8 at
    # (1,3) -> 7; max{3,2,1,2} = 3 at (2,0) -> 8; max{1,0,3,4} = 4 at (3,3) -> 15.
    out = max_pool_with_indices(CS231N, kernel=2)
    np.testing.assert_array_equal(out.values[0, 0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(out.indices[0, 0], [[5, 7], [8, 15]])
    assert out.indices.dtype == np.int64
    np.testing.assert_array_equal(max_pool(CS231N, kernel=2), out.values)


def test_min_avg_pool_hand_example():
    # min{1,1,5,6} = 1, min{2,4,7,8} = 2, min{3,2,1,2} = 1, min{1,0,3,4} = 0.
    np.testing.assert_array_equal(min_pool(CS231N, kernel=2)[0, 0], [[1, 2], [1, 0]])
    # means: 13/4, 21/4, 8/4, 8/4 (dyadic: exact).
    np.testing.assert_array_equal(avg_pool(CS231N, kernel=2)[0, 0], [[3.25, 5.25], [2, 2]])


def test_max_pool_error_goes_to_the_max_only():
    # Notes 003: the error of a max-pool output goes only to the maximal input (their 7).
    # One-sided differences on a window [[1, 7], [3, 2]]: only the 7 moves the output, 1:1.
    x = np.array([[1.0, 7.0], [3.0, 2.0]])[None, None]
    h = 2.0**-10
    for pos in itertools.product(range(2), range(2)):
        bumped = x.copy()
        bumped[(0, 0) + pos] += h
        slope = (max_pool(bumped, kernel=2) - max_pool(x, kernel=2))[0, 0, 0, 0] / h
        assert slope == (1.0 if pos == (0, 1) else 0.0)


def test_ties_pick_the_first_index():
    # All equal: the first position (flat 0) wins; a tie between (0,1) and (1,0) -> flat 1.
    out = max_pool_with_indices(np.ones((1, 1, 2, 2)), kernel=2)
    assert out.indices[0, 0, 0, 0] == 0
    x = np.array([[0.0, 5.0], [5.0, 1.0]])[None, None]
    assert max_pool_with_indices(x, kernel=2).indices[0, 0, 0, 0] == 1


# ------------------------------------------------------- docs/conventions/pooling.md §3.1


def test_padding_corner_counts():
    # ones 5x5, k=2, s=2, p=1: the corner window holds one real 1 and three pads:
    # 1/4 = 0.25 with count_include_pad, 1/1 = 1.0 without.
    x = np.ones((1, 1, 5, 5))
    assert avg_pool(x, kernel=2, padding=1)[0, 0, 0, 0] == 0.25
    assert avg_pool(x, kernel=2, padding=1, count_include_pad=False)[0, 0, 0, 0] == 1.0


def test_ceil_mode_divisor_excludes_overhang():
    # x = 1..25 row-major, k=2, s=2, ceil_mode: 3x3 output; the window of output (0, 2)
    # holds x[0,4] = 5 and x[1,4] = 10 plus overhang: (5 + 10) / 2 = 7.5; the corner
    # (2, 2) holds only 25 -> 25 / 1.
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    y = avg_pool(x, kernel=2, ceil_mode=True)
    assert y.shape == (1, 1, 3, 3)
    assert y[0, 0, 0, 2] == 7.5
    assert y[0, 0, 2, 2] == 25.0


def test_explicit_padding_is_counted_divisor_9():
    # k=3, s=2, p=1 on 5x5: the corner window holds 1, 2, 6, 7 (sum 16) and 5 pads: 16/9
    # with count_include_pad, 16/4 = 4 without.
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    np.testing.assert_allclose(avg_pool(x, kernel=3, stride=2, padding=1)[0, 0, 0, 0], 16 / 9,
                               rtol=EPS / 2, atol=0)  # one rounded division
    assert avg_pool(x, kernel=3, stride=2, padding=1,
                    count_include_pad=False)[0, 0, 0, 0] == 4.0


def test_ceil_mode_drops_window_starting_in_right_padding():
    # n=3, k=2, s=2, p=1: ceil((3 + 2 - 2)/2) + 1 = 3 windows, but the third would start
    # at 2*2 - 1 = 3 = n (in the right padding): torch drops it -> 2.
    assert max_pool(np.zeros((1, 1, 3, 3)), kernel=2, padding=1, ceil_mode=True).shape[2:] \
        == (2, 2)
    # n=4: the third window starts at 3 < n + p: kept -> 3.
    assert max_pool(np.zeros((1, 1, 4, 4)), kernel=2, padding=1, ceil_mode=True).shape[2:] \
        == (3, 3)


def test_padding_limits():
    with pytest.raises(ValueError):
        max_pool(np.zeros((1, 1, 5, 5)), kernel=3, padding=2)


# ---------------------------------------------------------------- independent loops


def _loop_out(n, k, s, p, d, ceil):
    q = (n + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(q) if ceil else math.floor(q)) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _loop_pool(x, k, s, p, d, ceil, mode, include_pad):
    """torch's CPU kernels, one output element at a time (any spatial rank)."""
    sizes = x.shape[2:]
    outs = [_loop_out(n, k, s, p, d, ceil) for n in sizes]
    y = np.zeros(x.shape[:2] + tuple(outs))
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*(range(m) for m in outs)):
            starts = [oi * s - p for oi in o]
            if mode == "avg":
                ends = [min(st + k, ni + p) for st, ni in zip(starts, sizes, strict=True)]
                pool = math.prod(e - st for st, e in zip(starts, ends, strict=True))
                lo = [max(st, 0) for st in starts]
                hi = [min(e, ni) for e, ni in zip(ends, sizes, strict=True)]
                cells = list(itertools.product(*(range(a, b) for a, b in zip(lo, hi, strict=True))))
                total = sum(x[(n, c) + cell] for cell in cells)
                y[(n, c) + o] = total / (pool if include_pad else len(cells))
            else:
                best = -math.inf
                for j in itertools.product(range(k), repeat=len(sizes)):
                    pos = tuple(st + ji * d for st, ji in zip(starts, j, strict=True))
                    if all(0 <= q < ni for q, ni in zip(pos, sizes, strict=True)):
                        best = max(best, x[(n, c) + pos])
                y[(n, c) + o] = best
    return y


GEOMETRIES = [  # (spatial shape, k, s, p, d, ceil)
    ((7,), 3, 2, 1, 1, True), ((6,), 2, 1, 1, 2, False), ((5, 6), 3, 2, 1, 1, True),
    ((6, 5), 2, 3, 1, 1, True), ((7, 7), 3, 2, 0, 2, False), ((5, 5), 2, 2, 1, 1, False),
    ((4, 5, 3), 2, 2, 1, 1, True), ((5, 4, 4), 3, 1, 1, 1, False),
]


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_max_min_match_loops(geom):
    shape, k, s, p, d, ceil = geom
    x = np.random.default_rng(len(shape) + k).standard_normal((2, 2) + shape)
    kw = dict(kernel=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    np.testing.assert_array_equal(max_pool(x, **kw), _loop_pool(x, k, s, p, d, ceil, "max", 0))
    np.testing.assert_array_equal(min_pool(x, **kw), -_loop_pool(-x, k, s, p, d, ceil, "max", 0))


@pytest.mark.parametrize("geom", [g for g in GEOMETRIES if g[4] == 1])
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_matches_loops(geom, include_pad):
    shape, k, s, p, _, ceil = geom
    x = np.random.default_rng(k + s).standard_normal((2, 2) + shape)
    got = avg_pool(x, kernel=k, stride=s, padding=p, ceil_mode=ceil,
                   count_include_pad=include_pad)
    want = _loop_pool(x, k, s, p, 1, ceil, "avg", include_pad)
    # Two summation orders of <= K = k^r terms, each off by <= (K-1) eps/2 * K max|x|; the
    # divisor is >= 1 and each division adds eps/2 * max|x|: apart by <= K^2 eps max|x|.
    n_k = k ** len(shape)
    bound = n_k * n_k * EPS * np.abs(x).max()
    np.testing.assert_allclose(got, want, rtol=0, atol=bound)


def test_indices_address_the_unpadded_plane():
    rng = np.random.default_rng(3)
    for shape in [(9,), (5, 7), (3, 4, 5)]:
        x = rng.standard_normal((2, 3) + shape)
        out = max_pool_with_indices(x, kernel=3, stride=2, padding=1, ceil_mode=True)
        planes = x.reshape(2, 3, -1)
        picked = np.take_along_axis(planes, out.indices.reshape(2, 3, -1), axis=-1)
        np.testing.assert_array_equal(picked.reshape(out.values.shape), out.values)


# ---------------------------------------------------------------- invariants


def test_max_ge_avg_ge_min():
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 9))
    for kw in [dict(kernel=3), dict(kernel=(2, 3), stride=1, padding=1)]:
        mx, mn = max_pool(x, **kw), min_pool(x, **kw)
        av = avg_pool(x, count_include_pad=False, **kw)  # mean of real elements only
        # The rounded mean may leave [min, max] by its rounding error (K eps max|x|).
        slack = 9 * EPS * np.abs(x).max()
        assert np.all(mx >= av - slack) and np.all(av >= mn - slack)
        assert np.all(mx >= mn)


def test_global_pools_equal_full_window_pools():
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 6))
    np.testing.assert_array_equal(global_max_pool(x), max_pool(x, kernel=(5, 6))[:, :, 0, 0])
    # 30 terms in two summation orders: <= 30 eps max|x| apart (after dividing by 30).
    np.testing.assert_allclose(global_avg_pool(x), avg_pool(x, kernel=(5, 6))[:, :, 0, 0],
                               rtol=0, atol=30 * EPS * np.abs(x).max())
    assert global_avg_pool(x, keepdims=True).shape == (2, 3, 1, 1)
    assert global_max_pool(x[:, :, 0], keepdims=True).shape == (2, 3, 1)


def test_unpool_places_the_maxima():
    rng = np.random.default_rng(6)
    x = rng.uniform(0.5, 2.0, (2, 3, 5, 5))  # positive, odd size: output_size needed
    pooled = max_pool_with_indices(x, kernel=2)
    up = max_unpool(pooled.values, pooled.indices, output_size=(5, 5))
    assert up.shape == x.shape
    nonzero = up != 0
    # Exactly the arg-max positions are non-zero, and they hold x there.
    assert nonzero.sum() == pooled.values.size
    np.testing.assert_array_equal(up[nonzero], x[nonzero])
    # Pooling the unpooled map again gives the same maxima (zeros elsewhere, x > 0).
    np.testing.assert_array_equal(max_pool(up, kernel=2), pooled.values)
    full = max_unpool(pooled.values, pooled.indices, output_size=x.shape)
    np.testing.assert_array_equal(full, up)


def test_unpool_rejects_out_of_plane_index():
    with pytest.raises(ValueError):
        max_unpool(np.ones((1, 1, 1, 1)), np.array([[[[16]]]]), output_size=(4, 4))


def test_kmax_hand_values_and_ties():
    # k=3 of [3,1,4,1,5,9,2,6]: the largest are 9, 6, 5, kept in input order: 5, 9, 6.
    np.testing.assert_array_equal(kmax_pool(np.array([3, 1, 4, 1, 5, 9, 2, 6.0]), k=3),
                                  [5, 9, 6])
    # Ties (docs/conventions/pooling.md §3.5): [1,2,2,0,2], k=2 -> indices 1 and 2, the
    # lowest first.
    x = np.array([1.0, 2.0, 2.0, 0.0, 2.0])
    np.testing.assert_array_equal(kmax_pool(x, k=2), [2.0, 2.0])
    with pytest.raises(ValueError):
        kmax_pool(x, k=6)


def test_kmax_keeps_order_along_an_axis():
    x = np.random.default_rng(7).permutation(60).astype(float).reshape(3, 20)
    got = kmax_pool(x.T, k=4, axis=0).T
    for row, out in zip(x, got, strict=True):
        kept = [v for v in row if v in set(np.sort(row)[-4:])]  # subsequence of the top 4
        np.testing.assert_array_equal(out, kept)


# ---------------------------------------------------------------- L2 and stochastic pooling


def test_l2_pool_vs_mpmath():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 6, 6)) * 10.0 ** rng.uniform(-3, 3, (2, 2, 6, 6))
    got_mean = l2_pool(x, kernel=3, stride=2, padding=1)
    got_sum = l2_pool(x, kernel=3, stride=2, padding=1, mean=False)
    for n, c, i, j in itertools.product(range(2), range(2), range(3), range(3)):
        rows = range(max(2 * i - 1, 0), min(2 * i + 2, 6))
        cols = range(max(2 * j - 1, 0), min(2 * j + 2, 6))
        s = mpmath.fsum(mpmath.mpf(float(x[n, c, a, b])) ** 2 for a in rows for b in cols)
        # 9 squares and 8 adds: (9 + 8) eps/2 relative on the non-negative sum; the divide
        # eps/2; sqrt halves the argument's error and adds eps/2: < 6 eps relative.
        for got, truth in ((got_mean, mpmath.sqrt(s / 9)), (got_sum, mpmath.sqrt(s))):
            assert abs(mpmath.mpf(float(got[n, c, i, j])) - truth) <= 6 * EPS * truth


def test_stochastic_hand_values():
    # One window [1, 2, 3, 4] (sum 10): p = a / 10; test-time value 1+4+9+16 over 10 = 3.
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    p = stochastic_pool_probs(x, kernel=2)
    assert p.shape == (1, 1, 1, 1, 2, 2)
    np.testing.assert_allclose(p[0, 0, 0, 0], [[0.1, 0.2], [0.3, 0.4]], rtol=EPS / 2, atol=0)
    assert stochastic_pool_eval(x, kernel=2)[0, 0, 0, 0] == 3.0
    # All-zero window: uniform 1/4, value 0.
    z = np.zeros((1, 1, 2, 2))
    np.testing.assert_array_equal(stochastic_pool_probs(z, kernel=2), np.full((1,) * 4 + (2, 2),
                                                                             0.25))
    assert stochastic_pool_eval(z, kernel=2)[0, 0, 0, 0] == 0.0
    with pytest.raises(ValueError):
        stochastic_pool_eval(-x, kernel=2)


def test_stochastic_probabilities_sum_to_one_and_eval_is_expectation():
    rng = np.random.default_rng(9)
    x = np.maximum(rng.standard_normal((2, 3, 6, 7)), 0)  # ReLU outputs, some zero windows
    x[0, 0, :2, :2] = 0
    p = stochastic_pool_probs(x, kernel=2, stride=(2, 1))
    # Each sum of 4 probabilities: within 4 eps of 1 (each p rounded once, 3 adds).
    np.testing.assert_allclose(p.sum(axis=(-2, -1)), 1.0, rtol=0, atol=4 * EPS)
    assert np.all(p >= 0)
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(2, 3))[:, :, ::2]
    expect = (p * windows).sum(axis=(-2, -1))
    # Both sides sum 4 terms of magnitude <= max window value: <= 8 eps max|x| apart.
    np.testing.assert_allclose(stochastic_pool_eval(x, kernel=2, stride=(2, 1)), expect,
                               rtol=0, atol=8 * EPS * x.max())


# ---------------------------------------------------------------- dtypes and registry


def test_float32_compute_dtype():
    x = np.random.default_rng(10).standard_normal((1, 2, 4, 4))
    with _canon.compute_dtype(np.float32):
        for fn in (max_pool, min_pool, avg_pool, l2_pool):
            assert fn(x, kernel=2).dtype == np.float32
        assert global_avg_pool(x).dtype == np.float32
        assert stochastic_pool_eval(np.abs(x), kernel=2).dtype == np.float32


def test_registry_ids():
    assert set(ORACLE) == {
        "pool.max", "pool.min", "pool.avg", "pool.l2", "pool.stochastic", "pool.global_avg",
        "pool.global_max", "pool.max_unpool", "pool.kmax"}


# ---------------------------------------------------------------- dual numbers (conventions)


def test_dual_tangents_follow_the_tie_rules():
    # Four equal values with tangents 1..4: max, min and global max take the first (1).
    x = Dual(np.ones((1, 1, 2, 2)), np.arange(1.0, 5.0).reshape(1, 1, 2, 2))
    assert max_pool(x, kernel=2).tangent[0, 0, 0, 0] == 1.0
    assert min_pool(x, kernel=2).tangent[0, 0, 0, 0] == 1.0
    assert global_max_pool(x).tangent[0, 0] == 1.0
    # k-max ties: values [1,2,2,0,2] keep indices 1 and 2 -> tangents 20 and 30.
    v = Dual(np.array([1.0, 2.0, 2.0, 0.0, 2.0]), np.array([10.0, 20, 30, 40, 50]))
    np.testing.assert_array_equal(kmax_pool(v, k=2).tangent, [20.0, 30.0])
    # All-zero stochastic window: value 0, JVP 0 by convention.
    z = Dual(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))
    assert stochastic_pool_eval(z, kernel=2).tangent[0, 0, 0, 0] == 0.0


def test_dual_max_pool_routes_tangent_to_the_indices():
    rng = np.random.default_rng(11)
    x, t = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((2, 3, 7, 6))
    out = max_pool(Dual(x, t), kernel=3, stride=2, padding=1, ceil_mode=True)
    idx = max_pool_with_indices(x, kernel=3, stride=2, padding=1, ceil_mode=True).indices
    picked = np.take_along_axis(t.reshape(2, 3, -1), idx.reshape(2, 3, -1), axis=-1)
    np.testing.assert_array_equal(out.tangent, picked.reshape(idx.shape))  # a copy: exact
    # Unpooling scatters the tangents like the values.
    up = max_unpool(out, idx, output_size=(7, 6))
    np.testing.assert_array_equal(
        np.take_along_axis(up.tangent.reshape(2, 3, -1), idx.reshape(2, 3, -1), axis=-1),
        picked)
