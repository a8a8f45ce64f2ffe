"""Shared by the hand-value tests of the kernel options added for issue 17
(tests/test_oracle_{losses,pooling,conv,dense}_options.py). Expected values are worked out
by hand in those tests' comments (logits chosen so that the softmax is a ratio of small
integers), never taken from the oracle; the mpmath transcriptions (oracle/precise) are
checked against the same hand values.

Tolerances: each expected value is a few correctly rounded operations on log 2 / log 3 or on
small integers, so 8 eps relative covers the oracle's log_softmax (<= 2 ulp per log) and sums
of at most 6 terms.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

TOL = 8 * np.finfo(np.float64).eps


def close(got: Any, want: Any) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=TOL, atol=TOL)


def precise(fn: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """An oracle/precise transcription at 50 digits, as float64."""
    with mpmath.workdps(50):
        return np.asarray(fn(*args, **kwargs), dtype=np.float64)
