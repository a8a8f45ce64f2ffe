"""Loss functions (catalog family ``loss``, notes 004).

Reductions are explicit keywords: "mean" (over every element / sample), "sum", or "none"
(the unreduced per-element or per-sample losses), matching torch's ``reduction=``; Keras's
"sum_over_batch_size" is "mean".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from oracle import _canon, _reference
from oracle.activations import log_softmax

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _sum_of_squares(w: Any) -> Any:
    """sum of w^2 over every entry; w is one array or a sequence of arrays (all weights)."""
    arrays = w if isinstance(w, (list, tuple)) else [w]
    total = None
    for a in arrays:
        a = _canon.asarray(a)
        term = np.sum(a * a)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("w is an empty sequence")
    return total


def mse(
    y: Any,
    t: Any,
    w: Any | Sequence[Any] | None = None,
    *,
    reduction: str = "mean",
    weight_decay: float = 0.0,
) -> Any:
    """Squared error with optional weight decay (notes 004):

        L = reduce((y - t)^2) + weight_decay * sum(w^2)

    ``reduce`` is mean or sum over every element ("none": the elementwise (y - t)^2; then no
    penalty may be requested). ``w`` is one weight array or a sequence of them; the penalty is
    lambda * ||W||^2 without a factor 1/2 (the catalog's form) and is added once, after the
    reduction. y and t have the same shape (no broadcasting surprises: shapes must match).
    """
    y = _canon.asarray(y)
    t = _canon.asarray(t)
    if y.shape != t.shape:
        raise ValueError(f"y {y.shape} and t {t.shape} differ in shape")
    d = y - t
    loss = _reduce(d * d, reduction)
    if w is None:
        return loss
    if reduction == "none":
        raise ValueError("a weight-decay penalty needs a reduced loss (mean or sum)")
    return loss + _canon.scalar(weight_decay) * _sum_of_squares(w)


def _bce_probabilities(p: Any, t: Any) -> Any:
    # log1p(-p) rather than log(1 - p): 1 - p rounds for small p.
    return -(t * np.log(p) + (1 - t) * np.log1p(-p))


def _bce_logits(z: Any, t: Any) -> Any:
    # max(z, 0) and -|z| from one branch choice (np.where on the sign), so that each branch is
    # a smooth function of z and duals get the exact first and second derivative at z = 0.
    nonneg = _canon.primal(z) >= 0
    neg_abs = np.where(nonneg, -z, z)
    softplus = np.log1p(np.exp(neg_abs))
    if _reference.reference():
        # z (1 - t) for z >= 0 and -z t otherwise: both terms >= 0, where max(z, 0) - z t
        # cancels for large z and t near 1 (soft targets).
        return np.where(nonneg, z * (1 - t), -(z * t)) + softplus
    pos = np.where(nonneg, z, np.zeros_like(z))
    return pos - z * t + softplus


def binary_cross_entropy(
    p: Any, t: Any, *, reduction: str = "mean", from_logits: bool = False
) -> Any:
    """Binary cross-entropy, elementwise then reduced.

    Probabilities (``from_logits=False``): -t log p - (1 - t) log(1 - p), with NO clamping;
    the domain is 0 < p < 1 (p = 0 or 1 gives inf or nan). Frameworks differ only outside
    [1e-7, 1 - 1e-7]: torch clamps each log at -100, Keras clips p to [1e-7, 1 - 1e-7];
    conformance draws p inside that interval.

    Logits (``from_logits=True``, p holds z): the same loss at p = sigmoid(z), computed stably
    as max(z, 0) - z t + log1p(exp(-|z|)) (torch's ..._with_logits, tf.nn.sigmoid_cross_
    entropy_with_logits, optax). Targets t are in [0, 1] (soft labels allowed), t.shape == p.shape.
    The float64 reference writes max(z, 0) - z t as z (1 - t) or -z t by the sign of z (two
    nonnegative terms, no cancellation for t near 1); other dtypes keep the kernels' form.
    """
    p = _canon.asarray(p)
    t = _canon.asarray(t)
    if p.shape != t.shape:
        raise ValueError(f"p {p.shape} and t {t.shape} differ in shape")
    loss = _bce_logits(p, t) if from_logits else _bce_probabilities(p, t)
    return _reduce(loss, reduction)


def _is_integer(a: Any) -> bool:
    return _canon.primal(a).dtype.kind in "iu"


def _class_weights(weight: Any, c: int, like: Any) -> Any:
    if weight is None:
        return np.ones_like(like[0])
    w = _canon.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"weight must be ({c},), one per class, got {w.shape}")
    return w


def cross_entropy(
    logits: Any,
    target: Any,
    weight: Any | None = None,
    *,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
) -> Any:
    """Softmax cross-entropy of logits (N, C), class axis 1, in torch's form
    (docs/conventions/losses.md §CE options):

        q_n = (1 - s) t_n + s / C          (s = ``label_smoothing`` in [0, 1])
        loss_n = -sum_c w_c q_nc log_softmax(z_n)_c

    ``target`` is either integer class indices (N,) in [0, C) (t_n is the one-hot of them) or
    floating class probabilities (N, C) (rows used as given, not renormalised). ``weight``
    (C,) holds per-class weights w (None: all 1). For index targets the loss is written as
    torch does, (1 - s) w_y (-log p_y) + (s / C) sum_c w_c (-log p_c): the same value.

    ``ignore_index`` (index targets only; None: no class ignored, torch's default -100 is
    never a class): a sample whose target equals it has loss 0 and is left out of the mean's
    denominator; it may lie outside [0, C).

    Reduction over the N samples: "sum", "none" (shape (N,)) or "mean", whose denominator is
    torch's: for index targets sum_{n not ignored} w_{y_n} (the sum of the weights of the
    targets, NOT N; without weights the count of samples not ignored; 0 / 0 = nan when every
    sample is ignored); for probability targets N, whatever the weights.
    """
    z = _canon.asarray(logits)
    if z.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {z.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    n, c = z.shape
    logp = log_softmax(z, axis=1)
    w = _class_weights(weight, c, z)
    s = _canon.scalar(label_smoothing)
    if _is_integer(target):
        idx = _canon.primal(target)
        if idx.shape != (n,):
            raise ValueError(f"integer target must be ({n},), got {idx.shape}")
        valid = np.ones(n, bool) if ignore_index is None else idx != ignore_index
        if np.any(valid & ((idx < 0) | (idx >= c))):
            raise ValueError(f"class indices must lie in [0, {c})")
        safe = np.where(valid, idx, 0)
        w_y = w[safe]
        loss = -(w_y * np.take_along_axis(logp, safe.reshape(n, 1), axis=1).reshape(n))
        if label_smoothing:
            smooth = -np.sum(w * logp, axis=1)
            loss = (1 - s) * loss + (s / _canon.scalar(c)) * smooth
        loss = np.where(valid, loss, np.zeros_like(loss))
        if reduction != "mean":
            return _reduce(loss, reduction)
        return np.sum(loss) / np.sum(np.where(valid, w_y, np.zeros_like(w_y)))
    if ignore_index is not None:
        raise ValueError("ignore_index applies to class-index targets only")
    t = _canon.asarray(target)
    if t.shape != (n, c):
        raise ValueError(f"probability target must be ({n}, {c}), got {t.shape}")
    if label_smoothing:
        t = (1 - s) * t + s / _canon.scalar(c)
    loss = -np.sum(w * t * logp, axis=1) if weight is not None else -np.sum(t * logp, axis=1)
    return _reduce(loss, reduction)


def sequence_cross_entropy(logits: Any, target: Any, *, reduction: str = "mean") -> Any:
    """RNN sequence loss (notes 004): L = sum over time steps t of L_t, where L_t is the
    softmax cross-entropy of step t (logits (T, N, C), integer target (T, N)) reduced over
    the batch by ``reduction`` ("mean": L_t is the batch mean; "sum": the batch sum).

    Note "mean" averages over N only, not over T: it is the sum of per-step means, not
    torch's CrossEntropyLoss over the flattened (T*N) batch (that one is T times smaller).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    z = _canon.asarray(logits)
    if z.ndim != 3:
        raise ValueError(f"logits must be (T, N, C), got shape {z.shape}")
    steps, n, c = z.shape
    idx = _canon.primal(target)
    if not _is_integer(idx) or idx.shape != (steps, n):
        raise ValueError(f"target must be integer ({steps}, {n}), got {idx.dtype} {idx.shape}")
    per_sample = cross_entropy(
        z.reshape(steps * n, c), idx.reshape(steps * n), reduction="none"
    ).reshape(steps, n)
    per_step = np.mean(per_sample, axis=1) if reduction == "mean" else np.sum(per_sample, axis=1)
    return np.sum(per_step)


ORACLE: dict[str, Callable[..., Any]] = {
    "loss.mse": mse,
    "loss.binary_cross_entropy": binary_cross_entropy,
    "loss.cross_entropy": cross_entropy,
    "loss.sequence_cross_entropy": sequence_cross_entropy,
}
