"""mpmath transcriptions of the ``act`` family (notes 004), written from the formulas, not
from oracle/activations.py: sigma(x) = 1 / (1 + e^-x), softmax_j = e^{x_j} / sum_k e^{x_k},
log_softmax_j = x_j - log sum_k e^{x_k}. No branches: mpmath's exponent range is unbounded, so e^x
never overflows. log_softmax alone is written with the max taken out, (x_j - m) -
log1p(sum_{k != max} e^{x_k - m}): the direct x_j - log sum e^{x_k} cancels for a dominant
logit by more digits than any fixed working precision holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise._common import along, elementwise, fsum, mp


def sigmoid(x: Any) -> np.ndarray:
    return elementwise(lambda v: 1 / (1 + mpmath.exp(-v)), x)


def tanh(x: Any) -> np.ndarray:
    return elementwise(mpmath.tanh, x)


def relu(x: Any) -> np.ndarray:
    return elementwise(lambda v: v if v > 0 else mpmath.mpf(0), x)


def leaky_relu(x: Any, *, slope: float) -> np.ndarray:
    s = mpmath.mpf(slope)
    return elementwise(lambda v: v if v > 0 else s * v, x)


def _softmax_row(row: list[Any]) -> list[Any]:
    e = [mpmath.exp(v) for v in row]
    total = fsum(e)
    return [v / total for v in e]


def _log_softmax_row(row: list[Any]) -> list[Any]:
    # x_j - lse cancels to ~ exp(x_k - x_j) for a dominant x_j, below any fixed precision:
    # written as (x_j - m) - log1p(sum_{k != first max} e^{x_k - m}), m = max x.
    return log_softmax_row(row)


def log_softmax_row(row: list[Any]) -> list[Any]:
    """log_softmax of one row, exact to the working precision even where x_j - lse cancels
    (a dominant logit): (x_j - m) - log1p(s), s = sum over the other entries of e^{x_k - m}."""
    m = max(row)
    top = row.index(m)
    rest = fsum(mpmath.exp(v - m) for k, v in enumerate(row) if k != top)
    return [(v - m) - mpmath.log1p(rest) for v in row]


def softmax(x: Any, *, axis: int = -1) -> np.ndarray:
    return along(mp(x), axis, _softmax_row)


def log_softmax(x: Any, *, axis: int = -1) -> np.ndarray:
    return along(mp(x), axis, _log_softmax_row)


PRECISE: dict[str, Callable[..., Any]] = {
    "act.sigmoid": sigmoid,
    "act.tanh": tanh,
    "act.relu": relu,
    "act.leaky_relu": leaky_relu,
    "act.softmax": softmax,
    "act.log_softmax": log_softmax,
}
