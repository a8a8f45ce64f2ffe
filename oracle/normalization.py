"""Normalization layers (catalog family ``norm``, notes 000 and 004).

Variances are biased (divide by the count) and two-pass (mean first, then the mean of squared
deviations; the float64 reference centres twice, see ``_centred``), never E[x^2] - E[x]^2
(Flax's default "fast variance" loses ~1e-3 at mean 1e6).
eps is always explicit and added to the variance inside the square root, as in every framework.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon, _reference


class BatchNormTrain(NamedTuple):
    y: Any
    running_mean: Any
    running_var: Any


def _channel_shape(x: Any) -> list[int]:
    """(1, C, 1, ..., 1): how a per-channel (C,) vector broadcasts against x (N, C, *)."""
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    return shape


def _per_channel(v: Any, x: Any, name: str) -> Any:
    v = _canon.asarray(v)
    if v.shape != (x.shape[1],):
        raise ValueError(f"{name} must be ({x.shape[1]},), got {v.shape}")
    return v.reshape(_channel_shape(x))


def _affine(xhat: Any, gamma: Any, beta: Any) -> Any:
    """gamma * xhat + beta; gamma/beta already broadcastable, None meaning 1 / 0."""
    y = xhat if gamma is None else xhat * gamma
    return y if beta is None else y + beta


def _centred(x: Any, axes: tuple[int, ...]) -> tuple[Any, Any]:
    """(mean, x - mean) over ``axes``. The mean is rounded once; on data with a large common
    offset (1e4 + 1e-3 noise) that rounding is ~1e-9 of the deviations. The float64 reference
    centres twice: x - mean is exact there (Sterbenz) up to the mean's own rounding, which
    the mean of the first deviations recovers."""
    mean = np.mean(x, axis=axes, keepdims=True)
    d = x - mean
    if _reference.reference():
        shift = np.mean(d, axis=axes, keepdims=True)
        # Second centring pass: compensates the rounding of the first mean.
        mean, d = mean + shift, d - shift
    return mean, d


def _check_nchw(x: Any) -> None:
    if x.ndim < 2:
        raise ValueError(f"x must be (N, C, *spatial), got shape {x.shape}")


def batch_norm_train(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: Any,
    running_var: Any,
    *,
    eps: float,
    momentum: float,
    momentum_on: str = "batch",
    running_var_unbiased: bool = True,
) -> BatchNormTrain:
    """Training-mode batch normalization; returns (y, new running_mean, new running_var).

    x is (N, C, *spatial) (channel axis 1). Per channel c, over the n = N * prod(spatial)
    values: mu = mean, var = biased variance (two-pass), and
        y = gamma * (x - mu) / sqrt(var + eps) + beta     (gamma/beta (C,) or None).
    Running statistics (C,), with b the batch statistic stored:
        momentum_on="batch"   (torch):       new = (1 - m) * old + m * b
        momentum_on="running" (Keras, Flax): new = m * old + (1 - m) * b
    so torch's m equals 1 - Keras's m. The variance stored is var * n / (n - 1) when
    ``running_var_unbiased`` (torch) and var itself otherwise (Keras 3, Flax); the unbiased
    form needs n > 1.
    """
    x = _canon.asarray(x)
    _check_nchw(x)
    if momentum_on not in ("batch", "running"):
        raise ValueError(f"momentum_on must be 'batch' or 'running', got {momentum_on!r}")
    axes = (0, *range(2, x.ndim))
    n = x.size // x.shape[1]
    if running_var_unbiased and n < 2:
        raise ValueError(f"an unbiased running variance needs n > 1 values per channel, got {n}")
    mean, d = _centred(x, axes)
    sum_sq = np.sum(d * d, axis=axes, keepdims=True)
    var = sum_sq / n
    gamma = None if gamma is None else _per_channel(gamma, x, "gamma")
    beta = None if beta is None else _per_channel(beta, x, "beta")
    y = _affine(d / np.sqrt(var + _canon.scalar(eps)), gamma, beta)

    c = x.shape[1]
    batch_var = (sum_sq / (n - 1)) if running_var_unbiased else var
    m = _canon.scalar(momentum)
    keep, take = (1 - m, m) if momentum_on == "batch" else (m, 1 - m)
    old_mean = _canon.asarray(running_mean)
    old_var = _canon.asarray(running_var)
    if old_mean.shape != (c,) or old_var.shape != (c,):
        raise ValueError(f"running statistics must be ({c},)")
    new_mean = keep * old_mean + take * mean.reshape(c)
    new_var = keep * old_var + take * batch_var.reshape(c)
    return BatchNormTrain(y, new_mean, new_var)


def batch_norm_eval(
    x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any, *, eps: float
) -> Any:
    """Inference-mode batch normalization with given statistics, x (N, C, *spatial):
        y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
    running_mean/var (C,); gamma/beta (C,) or None (no affine)."""
    x = _canon.asarray(x)
    _check_nchw(x)
    mean = _per_channel(running_mean, x, "running_mean")
    var = _per_channel(running_var, x, "running_var")
    gamma = None if gamma is None else _per_channel(gamma, x, "gamma")
    beta = None if beta is None else _per_channel(beta, x, "beta")
    return _affine((x - mean) / np.sqrt(var + _canon.scalar(eps)), gamma, beta)


def _standardize_over(x: Any, axes: tuple[int, ...], eps: float) -> Any:
    """(x - mean) / sqrt(var + eps) with a two-pass biased variance over ``axes``."""
    _, d = _centred(x, axes)
    var = np.mean(d * d, axis=axes, keepdims=True)
    return d / np.sqrt(var + _canon.scalar(eps))


def layer_norm(x: Any, gamma: Any, beta: Any, *, normalized_ndim: int, eps: float) -> Any:
    """Layer normalization over the trailing ``normalized_ndim`` axes of each sample:
        y = gamma * (x - mean) / sqrt(var + eps) + beta
    mean and biased (two-pass) variance over those axes; gamma and beta have shape
    x.shape[-normalized_ndim:] (torch ``normalized_shape``, Keras ``axis`` list) or are None.
    """
    x = _canon.asarray(x)
    if not 1 <= normalized_ndim <= x.ndim:
        raise ValueError(f"normalized_ndim must be in [1, {x.ndim}], got {normalized_ndim}")
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    trailing = x.shape[x.ndim - normalized_ndim :]
    params = []
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is not None:
            p = _canon.asarray(p)
            if p.shape != trailing:
                raise ValueError(f"{name} must have shape {trailing}, got {p.shape}")
        params.append(p)
    return _affine(_standardize_over(x, axes, eps), *params)


def weight_norm(v: Any, g: Any, *, axis: int | None = 0) -> Any:
    """Weight normalization w = g * v / ||v||.

    The L2 norm is taken over every axis except ``axis`` (one norm per slice along ``axis``),
    g has shape (v.shape[axis],) and broadcasts along ``axis``: torch
    ``parametrizations.weight_norm(dim=axis)`` for a Linear (out, in) weight with axis=0 gives
    one norm per output row. axis=None: one norm of the whole tensor and a scalar g (torch
    dim=None; beware that torch's dim=-1 also means the whole tensor, whereas axis=-1 here is
    the last axis). No eps (Flax adds 1e-12 inside the square root): a zero slice is outside the
    domain (nan).
    """
    v = _canon.asarray(v)
    g = _canon.asarray(g)
    if axis is None:
        if g.shape != ():
            raise ValueError(f"g must be a scalar when axis is None, got {g.shape}")
        return g * v / np.sqrt(np.sum(v * v))
    axis = _canon.normalize_axis(axis, v.ndim)
    if g.shape != (v.shape[axis],):
        raise ValueError(f"g must be ({v.shape[axis]},), got {g.shape}")
    others = tuple(i for i in range(v.ndim) if i != axis)
    norm = np.sqrt(np.sum(v * v, axis=others, keepdims=True))
    shape = [1] * v.ndim
    shape[axis] = v.shape[axis]
    return g.reshape(shape) * v / norm


def cosine_norm(x: Any, w: Any) -> Any:
    """A layer of cosine units: y[n, o] = (w_o . x_n) / (||w_o|| ||x_n||).

    x (N, in), w (out, in) (Linear layout). No eps: zero-norm rows of x or w are outside the
    domain (nan); the frameworks' normalize primitives put eps in different places and only
    agree for norms well above 1e-6.
    """
    x = _canon.asarray(x)
    w = _canon.asarray(w)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise ValueError(f"x must be (N, in) and w (out, in); got {x.shape}, {w.shape}")
    x_norm = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    w_norm = np.sqrt(np.sum(w * w, axis=1, keepdims=True))
    # asarray: ml_dtypes' bfloat16 matmul returns float32; keep the compute dtype.
    return _canon.asarray(np.matmul(x, w.T)) / (x_norm * w_norm.T)


def standardize(x: Any, *, axis: int | Sequence[int] = 0, eps: float) -> Any:
    """z-score along ``axis`` (int or tuple): (x - mean) / sqrt(var + eps), biased two-pass
    variance. The default axis=0 standardizes each feature over the samples of an (N, F)
    batch (the whitening step of the notes); eps = 0 is allowed for non-constant data."""
    x = _canon.asarray(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(sorted({_canon.normalize_axis(int(a), x.ndim) for a in axes}))
    return _standardize_over(x, axes, eps)


LRN_WINDOWS = ("torch", "onnx")


def lrn(x: Any, *, size: int, alpha: float, beta: float, k: float,
        window: str = "torch") -> Any:
    """Local response normalization across channels (AlexNet), x (N, C, *spatial):

        b_c = a_c / (k + alpha / size * sum_{c' in window(c)} a_{c'}^2) ** beta

    window(c), clipped to [0, C) (zero padding), by ``window``:
      "torch": [c - size // 2, c + (size - 1) // 2] (torch's ``local_response_norm``);
      "onnx":  [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] (the ONNX LRN operator).
    They agree for odd sizes; for even sizes each is the other's mirror (torch takes the
    extra channel below c, ONNX above). TensorFlow's ``tf.nn.local_response_normalization``
    (NHWC) sums a symmetric window of radius r, without dividing by the window size: for odd
    size use depth_radius = (size - 1) / 2, tf alpha = alpha / size, bias = k, same beta; even
    sizes have no TF equivalent.
    """
    x = _canon.asarray(x)
    _check_nchw(x)
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if window not in LRN_WINDOWS:
        raise ValueError(f"window must be one of {LRN_WINDOWS}, got {window!r}")
    c = x.shape[1]
    pad = [(0, 0)] * x.ndim
    pad[1] = (size // 2, (size - 1) // 2) if window == "torch" else ((size - 1) // 2, size // 2)
    sq = np.pad(x * x, pad, mode="constant")
    window_sum = sq[:, 0:c]
    for j in range(1, size):
        window_sum = window_sum + sq[:, j : j + c]
    scale = _canon.scalar(alpha) / size
    return x / (_canon.scalar(k) + scale * window_sum) ** _canon.scalar(beta)


ORACLE: dict[str, Callable[..., Any]] = {
    "norm.batch_norm_train": batch_norm_train,
    "norm.batch_norm_eval": batch_norm_eval,
    "norm.layer_norm": layer_norm,
    "norm.weight_norm": weight_norm,
    "norm.cosine_norm": cosine_norm,
    "norm.standardize": standardize,
    "norm.lrn": lrn,
}
