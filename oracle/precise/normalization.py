"""mpmath transcriptions of the ``norm`` family (notes 000/004), from the formulas: exact mean
and biased variance (``mpmath.fsum`` of the deviations from the exact mean), then
(x - mean) / sqrt(var + eps) and the affine map; running statistics as the stated momentum
updates; weight and cosine norms with exact sums of squares; LRN with the window of each
named convention written out:

    torch: [c - size // 2, c + (size - 1) // 2]
    onnx:  [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.normalization import BatchNormTrain
from oracle.precise._common import fsum, mean, mp, reduce_over, variance


def _standardize(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mu = reduce_over(x, axes, mean)
    var = reduce_over(x, axes, variance)
    e = mpmath.mpf(eps)
    out = np.empty(x.shape, dtype=object)
    mu_b, var_b = np.broadcast_to(mu, x.shape), np.broadcast_to(var, x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = (x[idx] - mu_b[idx]) / mpmath.sqrt(var_b[idx] + e)
    return out


def _affine(xhat: np.ndarray, gamma: Any, beta: Any) -> np.ndarray:
    out = xhat
    if gamma is not None:
        out = out * np.broadcast_to(gamma, out.shape)
    if beta is not None:
        out = out + np.broadcast_to(beta, out.shape)
    return out


def _channel(v: Any, x: np.ndarray) -> Any:
    if v is None:
        return None
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    return mp(v).reshape(shape)


def batch_norm_train(x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any, *,
                     eps: float, momentum: float, momentum_on: str = "batch",
                     running_var_unbiased: bool = True) -> BatchNormTrain:
    x = mp(x)
    axes = (0, *range(2, x.ndim))
    n = x.size // x.shape[1]
    y = _affine(_standardize(x, axes, eps), _channel(gamma, x), _channel(beta, x))
    mu = reduce_over(x, axes, mean).reshape(-1)
    var = reduce_over(x, axes, variance).reshape(-1)
    if running_var_unbiased:
        var = var * n / (n - 1)
    m = mpmath.mpf(momentum)
    keep, take = (1 - m, m) if momentum_on == "batch" else (m, 1 - m)
    new_mean = keep * mp(running_mean) + take * mu
    new_var = keep * mp(running_var) + take * var
    return BatchNormTrain(y, new_mean, new_var)


def batch_norm_eval(x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any, *,
                    eps: float) -> np.ndarray:
    x = mp(x)
    mu = np.broadcast_to(_channel(running_mean, x), x.shape)
    var = np.broadcast_to(_channel(running_var, x), x.shape)
    e = mpmath.mpf(eps)
    xhat = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        xhat[idx] = (x[idx] - mu[idx]) / mpmath.sqrt(var[idx] + e)
    return _affine(xhat, _channel(gamma, x), _channel(beta, x))


def layer_norm(x: Any, gamma: Any, beta: Any, *, normalized_ndim: int,
               eps: float) -> np.ndarray:
    x = mp(x)
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    return _affine(_standardize(x, axes, eps), None if gamma is None else mp(gamma),
                   None if beta is None else mp(beta))


def standardize(x: Any, *, axis: Any = 0, eps: float) -> np.ndarray:
    x = mp(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return _standardize(x, tuple(int(a) % x.ndim for a in axes), eps)


def weight_norm(v: Any, g: Any, *, axis: int | None = 0) -> np.ndarray:
    v, g = mp(v), mp(g)
    if axis is None:
        norm = mpmath.sqrt(fsum(a * a for a in v.reshape(-1)))
        return g[()] * v / norm
    axis = axis % v.ndim
    others = tuple(a for a in range(v.ndim) if a != axis)
    norms = reduce_over(v, others, lambda vals: mpmath.sqrt(fsum(a * a for a in vals)))
    shape = [1] * v.ndim
    shape[axis] = v.shape[axis]
    return np.broadcast_to(g.reshape(shape), v.shape) * v / np.broadcast_to(norms, v.shape)


def cosine_norm(x: Any, w: Any) -> np.ndarray:
    x, w = mp(x), mp(w)
    out = np.empty((x.shape[0], w.shape[0]), dtype=object)
    for n in range(x.shape[0]):
        nx = mpmath.sqrt(fsum(a * a for a in x[n]))
        for o in range(w.shape[0]):
            nw = mpmath.sqrt(fsum(a * a for a in w[o]))
            out[n, o] = fsum(a * b for a, b in zip(x[n], w[o])) / (nx * nw)
    return out


def lrn(x: Any, *, size: int, alpha: float, beta: float, k: float,
        window: str = "torch") -> np.ndarray:
    x = mp(x)
    c = x.shape[1]
    if window == "torch":
        before, after = size // 2, (size - 1) // 2
    else:
        before, after = math.floor((size - 1) / 2), math.ceil((size - 1) / 2)
    a, b, kk = mpmath.mpf(alpha), mpmath.mpf(beta), mpmath.mpf(k)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        ch = idx[1]
        lo, hi = max(ch - before, 0), min(ch + after, c - 1)
        s = fsum(x[(idx[0], j) + idx[2:]] ** 2 for j in range(lo, hi + 1))
        out[idx] = x[idx] / (kk + a / size * s) ** b
    return out


PRECISE: dict[str, Callable[..., Any]] = {
    "norm.batch_norm_train": batch_norm_train,
    "norm.batch_norm_eval": batch_norm_eval,
    "norm.layer_norm": layer_norm,
    "norm.weight_norm": weight_norm,
    "norm.cosine_norm": cosine_norm,
    "norm.standardize": standardize,
    "norm.lrn": lrn,
}
