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

from oracle import dense as D
from oracle.precise import dense as PD

TOL = 8 * np.finfo(np.float64).eps


def close(got, want) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=TOL, atol=TOL)


def precise(fn, *args, **kwargs):
    with mpmath.workdps(50):
        return np.asarray(fn(*args, **kwargs), dtype=np.float64)


# --- dense --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [D.dense, PD.dense])
def test_gemm_alpha_beta(fn):
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.5, -1.0]]), np.array([5.0, 1.0])
    # x W^T = [11, -1.5]; 2 * that - 1/2 * b = [19.5, -3.5].
    close(precise(fn, x, w, b, alpha=2.0, beta=-0.5), [[19.5, -3.5]])
    # beta = 0 drops the bias, alpha = 0 the product.
    close(precise(fn, x, w, b, alpha=1.0, beta=0.0), [[11.0, -1.5]])
    close(precise(fn, x, w, b, alpha=0.0, beta=1.0), [[5.0, 1.0]])
