"""Textbook derivative formulas of the ``loss`` family, the forms the framework kernels
evaluate in the tested dtype (registry.OpSpec.textbook).

Why they are needed: a loss gradient is a difference of O(1) terms that can cancel to a
value far below them (softmax - one_hot where the softmax saturates, sigmoid(z) - t,
(y - t) summed against a tangent), and the kernels compute exactly that difference, while
the oracle's dual numbers differentiate a stable formulation without the cancellation. The
formula below, run in the dtype, is the naive error such a kernel legitimately makes.

Signature: (mode, args, kwargs, outs, seeds) -> list; "vjp": seeds are the cotangents of the
outputs, the result one gradient per differentiated input (grad_wrt order); "jvp": seeds are
the tangents of the differentiated inputs, the result one tangent per output. NumPy in the
dtype of the arguments (bfloat16 through ml_dtypes: products are rounded back to it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import losses as L


def _sequential_sum(x: Any, axis: int | None = None) -> Any:
    """Left-to-right summation (NumPy's own sum is pairwise, luckier than kernels that reduce
    in another order when the terms cancel), accumulated in float32 at least, as kernels do
    for 16-bit dtypes, then rounded to the dtype."""
    dt = np.asarray(x).dtype
    acc = np.promote_types(dt, np.float32) if dt.itemsize < 4 else dt
    flat = np.asarray(x).astype(acc)
    flat = flat.reshape(-1) if axis is None else np.moveaxis(flat, axis, -1)
    total = np.cumsum(flat, axis=-1)[..., -1] if flat.shape[-1] else np.zeros(flat.shape[:-1])
    return np.asarray(total).astype(dt)


def _reduce(x: Any, reduction: str, axis: int | None = None) -> Any:
    if reduction == "none":
        return x
    total = _sequential_sum(x, axis)
    if reduction == "sum":
        return total
    count = np.asarray(x).size if axis is None else np.asarray(x).shape[axis]
    return (total / np.asarray(count, dtype=total.dtype)).astype(total.dtype)


def _per_element(v: Any, shape: tuple[int, ...], reduction: str, dtype: Any) -> Any:
    """The cotangent of each unreduced loss term: v / count, v, or v itself per element."""
    v = np.asarray(v, dtype=dtype)
    if reduction == "none":
        return v
    count = int(np.prod(shape)) if reduction == "mean" else 1
    return np.broadcast_to(v / np.asarray(count, dtype=dtype), shape)


def mse(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """d/dy = 2 (y - t), d/dt = -2 (y - t), d/dw = 2 lambda w (torch's mse_loss_backward)."""
    y, t = args[0], args[1]
    red, wd = kwargs["reduction"], kwargs.get("weight_decay", 0.0)
    two_d = 2 * (y - t)
    if mode == "jvp":
        out = _reduce(two_d * (seeds[0] - seeds[1]), red)
        if len(seeds) > 2:
            w = args[2]
            out = out + np.sum(2 * wd * w * seeds[2])
        return [np.asarray(out, dtype=y.dtype)]
    gy = _per_element(seeds[0], y.shape, red, y.dtype) * two_d
    grads = [gy, -gy]
    if len(args) > 2:
        grads.append(np.asarray(seeds[0], dtype=y.dtype) * (2 * wd) * args[2])
    return grads


def binary_cross_entropy(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Probabilities: d/dp = -t / p + (1 - t) / (1 - p), term by term as autodiff of the
    formula gives it (Keras, composed JAX; the two terms cancel where p ~ t, and torch's fused
    (p - t) / (p (1 - p)) is the more accurate of the two), d/dt = log(1 - p) - log p;
    logits: d/dz = sigmoid(z) - t, d/dt = -z (torch's ..._with_logits_backward, TF's)."""
    p, t = args[0], args[1]
    red, dt = kwargs["reduction"], p.dtype
    if kwargs["from_logits"]:
        ref = L.binary_cross_entropy(p, t, reduction=red, from_logits=True)
        dp, dtt = _moved(1 / (1 + np.exp(-p)), outs, ref) - t, -p
    else:
        # t / p and log p moved by an ulp in the harness's variants: the terms of d/dp cancel
        # where p ~ t, those of d/dt where p ~ 1/2, and one rounding of either term bounds what
        # a kernel computing them legitimately does.
        ref = L.binary_cross_entropy(p, t, reduction=red, from_logits=False)
        dp = -_moved(t / p, outs, ref) + (1 - t) / (1 - p)
        dtt = np.log1p(-p) - _moved(np.log(p), outs, ref)
    if mode == "jvp":
        return [np.asarray(_reduce(dp * seeds[0] + dtt * seeds[1], red), dtype=dt)]
    g = _per_element(seeds[0], p.shape, red, dt)
    return [g * dp, g * dtt]


def _moved(saved: Any, outs: list, ref: Any) -> Any:
    """The harness evaluates a textbook formula at the exact outputs and at outputs one ulp
    above and below (a kernel's saved values carry their own rounding). Where the formula
    starts from a saved intermediate instead (softmax, sigmoid), move that one the same way:
    the loss ``outs`` differs from the oracle's ``ref`` in the direction of the variant."""
    diff = np.asarray(outs[0], np.float64) - np.asarray(ref, np.float64)
    step = float(np.sign(diff[diff != 0][0])) if np.any(diff != 0) else 0.0
    if step == 0:
        return saved
    return np.nextafter(saved, saved.dtype.type(step * np.inf))


def _log_softmax(z: Any, axis: int) -> Any:
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _targets(target: Any, classes: int, dtype: Any) -> Any:
    if target.dtype.kind in "iu":
        return np.eye(classes, dtype=dtype)[target]
    return target


def _softmax_ce(z: Any, target: Any, seeds: list, mode: str, per_sample_cot: Any,
                moved: Any) -> list:
    """Softmax cross-entropy over the last axis: d/dz = softmax(z) sum(t) - t, computed from
    exp(log_softmax) (moved by ``moved``, see _moved) as the kernels do; d/dt = -log_softmax(z)
    for probability targets."""
    logp = _log_softmax(z, -1)
    p, t = moved(np.exp(logp)), _targets(target, z.shape[-1], z.dtype)
    if mode == "jvp":
        dlogp = seeds[0] - np.sum(p * seeds[0], axis=-1, keepdims=True)
        per = -np.sum(t * dlogp, axis=-1)
        if len(seeds) > 1:
            per = per - np.sum(seeds[1] * logp, axis=-1)
        return [per]
    g = per_sample_cot[..., None]
    grads = [g * (p * np.sum(t, axis=-1, keepdims=True) - t)]
    if target.dtype.kind not in "iu":
        grads.append(-g * logp)
    return grads


def cross_entropy(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    z, target, red = args[0], args[1], kwargs["reduction"]
    ref = L.cross_entropy(z, target, reduction=red)

    def moved(p: Any) -> Any:
        return _moved(p, outs, ref)

    if mode == "jvp":
        per = _softmax_ce(z, target, seeds, mode, None, moved)[0]
        return [np.asarray(_reduce(per, red), dtype=z.dtype)]
    cot = _per_element(seeds[0], z.shape[:1], red, z.dtype)
    return _softmax_ce(z, target, seeds, mode, cot, moved)


def cross_entropy_options(mode: str, args: list, kwargs: dict, outs: list,
                          seeds: list) -> list:
    """Cross-entropy with class weights w, ignore_index and label smoothing s (torch's
    cross_entropy backward): with r_n = w * q_n (q_n = (1 - s) t_n + s / C; r_n = 0 for an
    ignored sample), d/dz = softmax(z_n) sum(r_n) - r_n and d/dt = -(1 - s) w log_softmax(z_n),
    per-sample cotangent v / D ("mean": D = the kept targets' weights, or N for probability
    targets), v ("sum") or v_n ("none")."""
    z, target = args[0], args[1]
    weight = args[2] if len(args) > 2 else None
    red, dt = kwargs["reduction"], z.dtype
    s = np.asarray(kwargs.get("label_smoothing", 0.0), dtype=dt)
    ignore = kwargs.get("ignore_index")
    n, c = z.shape
    index = target.dtype.kind in "iu"
    valid = np.ones(n, bool) if not index or ignore is None else target != ignore
    w = np.ones(c, dtype=dt) if weight is None else np.asarray(weight, dtype=dt)
    t = _targets(np.where(valid, target, 0), c, dt) if index else target
    q = (1 - s) * t + s / np.asarray(c, dtype=dt)
    r = np.where(valid[:, None], w * q, np.zeros_like(q))
    ref = L.cross_entropy(z, target, weight, reduction=red, ignore_index=ignore,
                          label_smoothing=float(s))
    if red == "mean":
        kept = np.where(valid, w[np.where(valid, target, 0)], 0) if index else np.ones(n, dt)
        denominator = _sequential_sum(np.asarray(kept, dtype=dt))
    logp = _log_softmax(z, -1)
    p = _moved(np.exp(logp), outs, ref)
    if mode == "jvp":
        dlogp = seeds[0] - np.sum(p * seeds[0], axis=-1, keepdims=True)
        per = -np.sum(r * dlogp, axis=-1)
        if len(seeds) > 1:
            per = per - (1 - s) * np.sum(w * seeds[1] * logp, axis=-1)
        if red == "mean":
            return [np.asarray(_sequential_sum(per) / denominator, dtype=dt)]
        return [np.asarray(_reduce(per, red), dtype=dt)]
    v = np.asarray(seeds[0], dtype=dt)
    g = (np.broadcast_to(v / denominator, (n,)) if red == "mean"
         else np.broadcast_to(v, (n,)))[:, None]
    grads = [g * (p * np.sum(r, axis=-1, keepdims=True) - r)]
    if not index:
        grads.append(-g * (1 - s) * w * logp)
    return grads


def sequence_cross_entropy(mode: str, args: list, kwargs: dict, outs: list,
                           seeds: list) -> list:
    """sum_t reduce_n CE: the per-sample cotangent is v / N ("mean") or v."""
    z, target, red = args[0], args[1], kwargs["reduction"]
    steps, n, _ = z.shape
    ref = L.sequence_cross_entropy(z, target, reduction=red)

    def moved(p: Any) -> Any:
        return _moved(p, outs, ref)

    if mode == "jvp":
        per = _softmax_ce(z, target, seeds, mode, None, moved)[0]
        return [np.asarray(_sequential_sum(_reduce(per, red, axis=1)), dtype=z.dtype)]
    scale = 1 / np.asarray(n, dtype=z.dtype) if red == "mean" else 1
    cot = np.broadcast_to(np.asarray(seeds[0], dtype=z.dtype) * scale, (steps, n))
    return _softmax_ce(z, target, seeds, mode, cot, moved)
