"""Activations and the softmax family (catalog family ``act``, notes 004).

Every function follows the oracle rules (see ``oracle/_canon.py``): inputs go through
``_canon.asarray``, only the NumPy subset that ``oracle.autodiff.Dual`` implements is used, and
one-sided conventions at kinks are written with ``np.where`` so that dual numbers see them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon, _reference


def sigmoid(x: Any) -> Any:
    """Logistic function sigma(x) = 1 / (1 + exp(-x)), elementwise.

    Stable for every finite x: with e = exp(-|x|) in (0, 1], sigma(x) = 1 / (1 + e) for x >= 0
    and e / (1 + e) for x < 0, so exp never overflows and both branches stay finite.
    -|x| is formed with ``np.where`` (not ``np.abs``) so that the derivative at x = 0 is the
    true sigma'(0) = 1/4 on dual numbers (abs'(0) is 0 by the Dual contract).
    """
    x = _canon.asarray(x)
    nonneg = _canon.primal(x) >= 0
    e = np.exp(np.where(nonneg, -x, x))
    return np.where(nonneg, 1 / (1 + e), e / (1 + e))


def tanh(x: Any) -> Any:
    """Hyperbolic tangent, elementwise (NumPy's correctly saturating ``np.tanh``)."""
    return np.tanh(_canon.asarray(x))


def relu(x: Any) -> Any:
    """max(x, 0) elementwise. Subgradient convention: ReLU'(0) = 0 (x > 0 selects x)."""
    x = _canon.asarray(x)
    # zeros_like, not 0 * x: relu(-inf) must be 0, not nan.
    return np.where(_canon.primal(x) > 0, x, np.zeros_like(x))


def leaky_relu(x: Any, *, slope: float) -> Any:
    """x if x > 0 else slope * x, elementwise.

    ``slope`` is explicit (torch/JAX default 0.01, keras.layers.LeakyReLU 0.3, keras
    activation and TF 0.2, GAT 0.2). Convention at 0: the x <= 0 branch, so the derivative at
    0 is ``slope`` (what torch computes: its backward selects on x > 0).
    """
    x = _canon.asarray(x)
    return np.where(_canon.primal(x) > 0, x, _canon.scalar(slope) * x)


class _Shifted(NamedTuple):
    hi: Any  # fl(x - max)
    lo: Any  # x - max = hi + lo exactly (reference run only; None elsewhere)
    is_max: np.ndarray


def _shift_by_row_max(x: Any, axis: int) -> _Shifted:
    """x - x_max along ``axis``, as hi + lo, and the mask of the max.

    The max is the first maximal element (chosen on the primal) taken from x itself, so the
    shifted value at that position is exactly 0 (also for duals: tangent 0) and every other
    shifted value is <= 0. In the reference run the rounding of x - max is kept (TwoSum):
    for |x - max| ~ 700 it is ~1e-13, which exp turns into a relative error of ~500 ulp.
    """
    axis = _canon.normalize_axis(axis, x.ndim)
    idx = np.expand_dims(np.argmax(_canon.primal(x), axis=axis), axis)
    m = np.take_along_axis(x, idx, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    is_max = np.arange(x.shape[axis]).reshape(shape) == idx
    if not _reference.reference():
        return _Shifted(x - m, None, is_max)
    hi, lo = _reference.two_sum(x, -m)  # compensates the rounding of the shift x - max
    # A -inf logit (a masked entry) has hi = -inf and no rounding to carry (lo would be NaN).
    lo = np.where(np.isfinite(_canon.primal(hi)), lo, np.zeros_like(lo))
    return _Shifted(hi, lo, is_max)


def _exp_and_rest(shifted: _Shifted, axis: int) -> tuple[Any, Any]:
    """(exp(x - max), s) with s the sum of exp(x - max) over the non-max positions, so that
    log-sum-exp(x) = m + log1p(s)."""
    e = np.exp(shifted.hi)
    if shifted.lo is not None:
        # exp(hi + lo) = exp(hi) (1 + lo + O(lo^2)): compensates the shift's rounding lo.
        e = e + e * shifted.lo
    return e, np.sum(np.where(shifted.is_max, np.zeros_like(e), e), axis=axis, keepdims=True)


def softmax(x: Any, *, axis: int = -1) -> Any:
    """exp(x - max) / sum(exp(x - max)) along ``axis``.

    Stable: the shift by the row max (the first maximal element) makes every exponent <= 0;
    the denominator is written 1 + s with s the sum over the other positions (exact 1 for the
    max itself). A row containing NaN, +inf or only -inf is outside the domain (NaN
    throughout); a -inf logit (a masked position) gets probability 0. In the
    float64 reference the shift's rounding is compensated (``_shift_by_row_max``); measured
    by oracle/accuracy against mpmath.
    """
    x = _canon.asarray(x)
    shifted = _shift_by_row_max(x, axis)
    e, rest = _exp_and_rest(shifted, axis)
    out = e / (1 + rest)
    # A +inf logit puts the whole row outside the domain (exp(inf - inf)), as in torch, JAX
    # and TensorFlow: NaN throughout, not the one-hot limit. (A NaN is the row max and makes
    # every shifted value NaN by itself; a row of -infs is NaN the same way.)
    outside = np.any(np.isposinf(_canon.primal(x)), axis=axis, keepdims=True)
    return np.where(outside, out * np.nan, out) if np.any(outside) else out


def log_softmax(x: Any, *, axis: int = -1) -> Any:
    """x - max - log(sum(exp(x - max))) along ``axis``.

    With the shift by the row max m (first maximal element), log-sum-exp(x) - m is computed as
    log1p(s), s = sum of exp(x_j - m) over the non-max positions: the result keeps full
    relative accuracy even for entries near 0 (a dominant logit), where log(1 + s) would
    round to 0. In the float64 reference the shift's rounding is compensated, in the shift
    itself and inside s.
    """
    x = _canon.asarray(x)
    shifted = _shift_by_row_max(x, axis)
    _, rest = _exp_and_rest(shifted, axis)
    out = shifted.hi - np.log1p(rest)
    # (hi - log1p(s)) + lo: adds back the rounding of the shift x - max.
    return out if shifted.lo is None else out + shifted.lo


ORACLE: dict[str, Callable[..., Any]] = {
    "act.sigmoid": sigmoid,
    "act.tanh": tanh,
    "act.relu": relu,
    "act.leaky_relu": leaky_relu,
    "act.softmax": softmax,
    "act.log_softmax": log_softmax,
}
