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

import mpmath
import numpy as np
import pytest

from oracle import conv as C
from oracle.precise import conv as PC

TOL = 8 * np.finfo(np.float64).eps


def close(got, want) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=TOL, atol=TOL)


def precise(fn, *args, **kwargs):
    with mpmath.workdps(50):
        return np.asarray(fn(*args, **kwargs), dtype=np.float64)


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
