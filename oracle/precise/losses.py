"""mpmath transcriptions of the ``loss`` family (notes 004), from the formulas:
squared error (y - t)^2 (+ lambda sum w^2), binary cross-entropy -t log p - (1 - t) log(1 - p)
(logits: p = 1 / (1 + e^-z), so -log p = log(1 + e^-z) and -log(1 - p) = log(1 + e^z)),
softmax cross-entropy -sum_c t_c log_softmax(z)_c (log_softmax from
oracle/precise/activations.py, with the max taken out). Exact sums (``mpmath.fsum``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise._common import fsum, mp
from oracle.precise.activations import log_softmax_row


def _reduce(losses: list[Any], shape: tuple[int, ...], reduction: str) -> Any:
    if reduction == "mean":
        return np.array(fsum(losses) / len(losses), dtype=object)
    if reduction == "sum":
        return np.array(fsum(losses), dtype=object)
    out = np.empty(len(losses), dtype=object)
    out[:] = losses
    return out.reshape(shape)


def mse(y: Any, t: Any, w: Any = None, *, reduction: str = "mean",
        weight_decay: float = 0.0) -> Any:
    y, t = mp(y), mp(t)
    sq = [(a - b) ** 2 for a, b in zip(y.reshape(-1), t.reshape(-1))]
    loss = _reduce(sq, y.shape, reduction)
    if w is None:
        return loss
    arrays = w if isinstance(w, (list, tuple)) else [w]
    penalty = fsum(v * v for a in arrays for v in mp(a).reshape(-1))
    return np.array(loss[()] + mpmath.mpf(weight_decay) * penalty, dtype=object)


def binary_cross_entropy(p: Any, t: Any, *, reduction: str = "mean",
                         from_logits: bool = False) -> Any:
    p, t = mp(p), mp(t)
    losses = []
    for a, b in zip(p.reshape(-1), t.reshape(-1)):
        if from_logits:
            losses.append(b * mpmath.log1p(mpmath.exp(-a)) + (1 - b) * mpmath.log1p(mpmath.exp(a)))
        else:
            # log1p(-p): 1 - p rounds to 1 at any fixed precision for p < 10^-digits.
            losses.append(-(b * mpmath.log(a) + (1 - b) * mpmath.log1p(-a)))
    return _reduce(losses, p.shape, reduction)


def _per_sample(z: np.ndarray, target: Any) -> list[Any]:
    out = []
    for n in range(z.shape[0]):
        # log_softmax with the max taken out: lse - z_c cancels for a dominant logit.
        logp = log_softmax_row(list(z[n]))
        if np.asarray(target).dtype.kind in "iu":
            out.append(-logp[int(np.asarray(target)[n])])
        else:
            t = mp(target)
            out.append(-fsum(t[n, c] * logp[c] for c in range(z.shape[1])))
    return out


def cross_entropy(logits: Any, target: Any, weight: Any = None, *, reduction: str = "mean",
                  ignore_index: int | None = None, label_smoothing: float = 0.0) -> Any:
    """The smoothed target q = (1 - s) t + s / C written out per class and the weighted sum
    -sum_c w_c q_c log p_c taken exactly; ignored samples dropped from the sum and, for index
    targets, the mean divides by the kept targets' weights."""
    z = mp(logits)
    n, c = z.shape
    if weight is None and ignore_index is None and not label_smoothing:
        return _reduce(_per_sample(z, target), (n,), reduction)
    w = [mpmath.mpf(1)] * c if weight is None else list(mp(weight))
    s = mpmath.mpf(label_smoothing)
    index = np.asarray(target).dtype.kind in "iu"
    losses, denominator = [], []
    for i in range(n):
        if index:
            y = int(np.asarray(target)[i])
            if ignore_index is not None and y == ignore_index:
                losses.append(mpmath.mpf(0))
                continue
            t = [mpmath.mpf(1) if k == y else mpmath.mpf(0) for k in range(c)]
            denominator.append(w[y])
        else:
            t = list(mp(target)[i])
            denominator.append(mpmath.mpf(1))
        logp = log_softmax_row(list(z[i]))
        q = [(1 - s) * t[k] + s / c for k in range(c)]
        losses.append(-fsum(w[k] * q[k] * logp[k] for k in range(c)))
    if reduction == "mean":
        return np.array(fsum(losses) / fsum(denominator), dtype=object)
    return _reduce(losses, (n,), reduction)


def sequence_cross_entropy(logits: Any, target: Any, *, reduction: str = "mean") -> Any:
    z, idx = mp(logits), np.asarray(target)
    steps = []
    for s in range(z.shape[0]):
        per = _per_sample(z[s], idx[s])
        steps.append(fsum(per) / len(per) if reduction == "mean" else fsum(per))
    return np.array(fsum(steps), dtype=object)


PRECISE: dict[str, Callable[..., Any]] = {
    "loss.mse": mse,
    "loss.binary_cross_entropy": binary_cross_entropy,
    "loss.cross_entropy": cross_entropy,
    "loss.sequence_cross_entropy": sequence_cross_entropy,
}
