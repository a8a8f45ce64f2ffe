"""Hand-computed values of the kernel options added for issue 17 (loss, pool, conv, nn):
cross-entropy class weights / ignore_index / label_smoothing, Lp pooling's norm_type,
divisor_override, TF's SAME pooling padding, k smallest, conv padding_mode, Gemm's alpha and
beta. Expected values are worked out by hand in the comments (logits chosen so that the
softmax is a ratio of small integers), never taken from the oracle; the mpmath transcriptions
(oracle/precise) are checked against the same hand values.

Tolerances: each expected value is a few correctly rounded operations on log 2 / log 3 or on
small integers, so 8 eps relative covers the oracle's log_softmax (<= 2 ulp per log) and sums
of at most 6 terms.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from oracle import conv as C
from oracle import dense as D
from oracle import losses as L
from oracle import pooling as P
from oracle.precise import conv as PC
from oracle.precise import dense as PD
from oracle.precise import losses as PL
from oracle.precise import pooling as PP

TOL = 8 * np.finfo(np.float64).eps
LN2, LN3 = math.log(2.0), math.log(3.0)

# Row 0: logits log [1, 2, 1] -> softmax [1/4, 1/2, 1/4]; row 1: equal logits -> 1/3 each.
Z = np.array([[0.0, LN2, 0.0], [0.0, 0.0, 0.0]])
T = np.array([1, 0])
W = np.array([2.0, 1.0, 4.0])


def close(got, want) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=TOL, atol=TOL)


def precise(fn, *args, **kwargs):
    with mpmath.workdps(50):
        return np.asarray(fn(*args, **kwargs), dtype=np.float64)


# --- cross-entropy ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_weighted_mean_divides_by_the_targets_weights(fn):
    # Per sample: w[1] * -log(1/2) = log 2 and w[0] * -log(1/3) = 2 log 3; torch's mean
    # divides by w[1] + w[0] = 3, not by N = 2.
    close(precise(fn, Z, T, W, reduction="none"), [LN2, 2 * LN3])
    close(precise(fn, Z, T, W, reduction="sum"), LN2 + 2 * LN3)
    close(precise(fn, Z, T, W, reduction="mean"), (LN2 + 2 * LN3) / 3)


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_ignored_targets_leave_the_sum_and_the_denominator(fn):
    # Sample 1 (target 0) ignored: the loss is log 2 over the one kept sample (weight 1).
    close(precise(fn, Z, T, reduction="none", ignore_index=0), [LN2, 0.0])
    close(precise(fn, Z, T, reduction="mean", ignore_index=0), LN2)
    close(precise(fn, Z, T, W, reduction="mean", ignore_index=0), LN2 / 1.0)
    # An ignore_index outside [0, C) (torch's -100) may appear among the targets.
    close(precise(fn, Z, np.array([1, -100]), reduction="mean", ignore_index=-100), LN2)
    # Ignoring a class nobody has changes nothing: (log 2 + log 3) / 2.
    close(precise(fn, Z, T, reduction="mean", ignore_index=2), (LN2 + LN3) / 2)


def test_every_sample_ignored_is_nan():
    with np.errstate(invalid="ignore"):
        assert np.isnan(L.cross_entropy(Z, np.array([0, 0]), reduction="mean", ignore_index=0))


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_label_smoothing_is_torchs_form(fn):
    # s = 1/2, C = 3: q = (1 - s) one_hot + s / 3 = [1/6, 2/3, 1/6] for target 1 of row 0:
    # -(1/6 log 1/4 + 2/3 log 1/2 + 1/6 log 1/4) = (2/3 + 2/3) log 2 = 4/3 log 2.
    z, t = Z[:1], T[:1]
    close(precise(fn, z, t, reduction="sum", label_smoothing=0.5), 4 / 3 * LN2)
    # With weights [2, 1, 4]: -(2/6 log 1/4 + 2/3 log 1/2 + 4/6 log 1/4) = 8/3 log 2, and the
    # mean divides by the target's weight w[1] = 1.
    close(precise(fn, z, t, W, reduction="mean", label_smoothing=0.5), 8 / 3 * LN2)
    # s = 1: the uniform target, -(1/3)(log 1/4 + log 1/2 + log 1/4) = 5/3 log 2.
    close(precise(fn, z, t, reduction="mean", label_smoothing=1.0), 5 / 3 * LN2)


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_probability_targets_mean_divides_by_n_even_with_weights(fn):
    probs = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # The same per-sample losses as the index targets, log 2 and 2 log 3, over N = 2.
    close(precise(fn, Z, probs, W, reduction="mean"), (LN2 + 2 * LN3) / 2)
    # Smoothing applies to the rows as given: row 0 with s = 1/2 as above, 4/3 log 2.
    close(precise(fn, Z[:1], probs[:1], reduction="sum", label_smoothing=0.5), 4 / 3 * LN2)


def test_ignore_index_needs_class_indices():
    with pytest.raises(ValueError, match="class-index targets only"):
        L.cross_entropy(Z, np.eye(3)[:2], ignore_index=0)


# --- pooling ------------------------------------------------------------------------------------
X4 = np.array([[[-1.0, 2.0, -3.0, 4.0]]])


@pytest.mark.parametrize("fn", [P.l2_pool, PP.l2_pool])
def test_lp_pool_of_the_absolute_values(fn):
    # Kernel 2, stride 2: windows [-1, 2] and [-3, 4].
    close(precise(fn, X4, kernel=2, mean=False, norm_type=1.0), [[[3.0, 7.0]]])
    close(precise(fn, X4, kernel=2, mean=False, norm_type=3.0),
          [[[9.0 ** (1 / 3), 91.0 ** (1 / 3)]]])
    # mean=True divides inside the root: ((1 + 8) / 2)^(1/3).
    close(precise(fn, X4, kernel=2, mean=True, norm_type=3.0),
          [[[4.5 ** (1 / 3), 45.5 ** (1 / 3)]]])
    # p = 3/2: (1 + 2 sqrt 2)^(2/3).
    close(precise(fn, X4, kernel=2, mean=False, norm_type=1.5),
          [[[(1 + 2 * 2**0.5) ** (2 / 3), (3**1.5 + 8) ** (2 / 3)]]])


@pytest.mark.parametrize("fn", [P.avg_pool, PP.avg_pool])
def test_divisor_override(fn):
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    close(precise(fn, x, kernel=2, divisor_override=3), [[[1.0, 7 / 3]]])
    # Padding 1, stride 2: windows [0, 1], [2, 3], [4, 0]: sums 1, 5, 4, all over 2.
    close(precise(fn, x, kernel=2, stride=2, padding=1, divisor_override=2),
          [[[0.5, 2.5, 2.0]]])


def test_same_padding_puts_the_odd_extra_element_at_the_end():
    x = np.arange(7.0)[None, None]
    # k = 2, s = 1: total padding 1, after: windows [0, 1] ... [5, 6], [6, pad].
    assert P.same_pads((7,), (2,), (1,), (1,)) == [(0, 1)]
    close(P.avg_pool(x, kernel=2, stride=1, padding="same", count_include_pad=False),
          [[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.0]]])
    close(P.avg_pool(x, kernel=2, stride=1, padding="same", count_include_pad=True),
          [[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 3.0]]])
    # k = 3, s = 2: ceil(7 / 2) = 4 windows, total 2 = (1, 1): [p,0,1] [1,2,3] [3,4,5] [5,6,p].
    close(P.max_pool(x, kernel=3, stride=2, padding="same"), [[[1.0, 3.0, 5.0, 6.0]]])
    close(PP.max_pool(x, kernel=3, stride=2, padding="same"), [[[1.0, 3.0, 5.0, 6.0]]])
    with pytest.raises(ValueError, match="no ceil_mode"):
        P.max_pool(x, kernel=2, padding="same", ceil_mode=True)


@pytest.mark.parametrize("fn", [P.kmax_pool, PP.kmax_pool])
def test_k_smallest(fn):
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    close(precise(fn, x, k=2, largest=False), [1.0, 1.0])
    close(precise(fn, x, k=3, largest=False), [3.0, 1.0, 1.0])  # kept in input order
    # Ties: among the 2s the lowest index (0) joins the two 1s.
    close(precise(fn, np.array([2.0, 1.0, 2.0, 1.0, 2.0]), k=3, largest=False),
          [2.0, 1.0, 1.0])


def test_k_smallest_of_unsigned_integers_does_not_wrap():
    x = np.array([3, 0, 250, 7], dtype=np.uint8)
    np.testing.assert_array_equal(P.kmax_pool(x, k=2, largest=False), [3, 0])


# --- convolution --------------------------------------------------------------------------------
X1 = np.array([[[1.0, 2.0, 3.0, 4.0]]])
ONE = np.ones((1, 1, 1))  # a 1-tap identity kernel: the output is the padded input itself


@pytest.mark.parametrize("fn", [C.conv1d, PC.conv1d])
@pytest.mark.parametrize("mode, padded", [
    ("zeros", [0, 0, 1, 2, 3, 4, 0, 0]),
    ("reflect", [3, 2, 1, 2, 3, 4, 3, 2]),  # the edge element is not repeated
    ("replicate", [1, 1, 1, 2, 3, 4, 4, 4]),
    ("circular", [3, 4, 1, 2, 3, 4, 1, 2]),
])
def test_padding_modes(fn, mode, padded):
    close(precise(fn, X1, ONE, padding=2, padding_mode=mode), [[padded]])


def test_padding_mode_with_a_kernel_and_same():
    # k = 2 'same': total 1, after (0, 1); reflect pads [1, 2, 3, 4, 3]; taps [1, 10].
    w = np.array([[[1.0, 10.0]]])
    close(C.conv1d(X1, w, padding="same", padding_mode="reflect"), [[[21.0, 32.0, 43.0, 34.0]]])
    close(C.conv1d(X1, w, padding="same", padding_mode="circular"), [[[21.0, 32.0, 43.0, 14.0]]])


def test_reflect_needs_padding_below_the_size():
    with pytest.raises(ValueError, match="reflect padding"):
        C.conv1d(X1, ONE, padding=4, padding_mode="reflect")
    C.conv1d(X1, ONE, padding=4, padding_mode="circular")  # circular allows p = n
    with pytest.raises(ValueError, match="padding_mode"):
        C.conv1d(X1, ONE, padding=1, padding_mode="symmetric")


# --- dense --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [D.dense, PD.dense])
def test_gemm_alpha_beta(fn):
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.5, -1.0]]), np.array([5.0, 1.0])
    # x W^T = [11, -1.5]; 2 * that - 1/2 * b = [19.5, -3.5].
    close(precise(fn, x, w, b, alpha=2.0, beta=-0.5), [[19.5, -3.5]])
    # beta = 0 drops the bias, alpha = 0 the product.
    close(precise(fn, x, w, b, alpha=1.0, beta=0.0), [[11.0, -1.5]])
    close(precise(fn, x, w, b, alpha=0.0, beta=1.0), [[5.0, 1.0]])
