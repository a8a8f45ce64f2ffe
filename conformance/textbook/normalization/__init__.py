"""Textbook derivatives of the ``norm`` family (``OpSpec.textbook``).

Normalization derivatives cancel heavily: xhat = (x - mean) r, r = (var + eps)^(-1/2), has
the Jacobian r (I - 1 1^T / n - xhat xhat^T / n), nearly zero on seeds close to span{1, xhat}
(always, for n = 2), and weight/cosine normalization project out the direction of v or x.
Kernels compute these derivatives in one of two ways: a fused backward formula from the saved
statistics (torch's batch/layer/weight-norm kernels: the projection form) or reverse / forward
mode through the composition (Keras, JAX, torch's forward AD and composed ops). Their
rounding errors differ, and so do the orders in which kernels evaluate them: every element of
a normalized group is built from the same group sums, whose rounding a kernel may spread
anywhere in the group. So each function below evaluates both forms in the tested dtype and
returns values whose error at an element is the largest error either form makes in that
element's group (normalized group, weight slice, row): the naive error a kernel is held to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.textbook import Summed
from conformance.vocabulary import machine_eps

Arrays = list[np.ndarray]


def _worse(formula_a: Callable[..., Arrays], formula_b: Callable[..., Arrays],
           arrays: Arrays, *params: Any, groups: list[tuple[int, ...] | None]) -> Arrays:
    """Values whose error is, per element, the larger of the errors formulas a and b make in
    the arrays' dtype, against formula a in extended precision (np.longdouble: 11 more bits
    than float64 on x86), maximised over ``groups[k]`` (axes of output k) when given."""
    low_a = formula_a(*arrays, *params)
    low_b = formula_b(*arrays, *params)
    ref = formula_a(*[np.asarray(a, dtype=np.longdouble) for a in arrays], *params)
    out = []
    for a, b, r, axes in zip(low_a, low_b, ref, groups, strict=True):
        dev = np.maximum(_deviation(a, r), _deviation(b, r))
        if axes:
            dev = np.max(dev, axis=axes, keepdims=True)
        out.append(np.asarray(np.where(dev >= 0, r + dev, np.nan), dtype=np.float64))
    return out


def _deviation(low: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|low - ref|, and -1 where low is not finite (a formula that overflows in a half type,
    r^3 in float16, must not make the bound infinite: the finite one counts)."""
    low = np.asarray(low, np.longdouble)
    return np.where(np.isfinite(low), np.abs(low - ref), -1)


# --- xhat over ``axes`` and the affine map gamma * xhat + beta ----------------------------------

def _k(value: float, like: np.ndarray) -> np.ndarray:
    """A constant in like's dtype (ml_dtypes' bfloat16 promotes Python floats to float32)."""
    return np.asarray(value, dtype=like.dtype)


def _stats(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean, r) with the biased two-pass variance."""
    d = x - np.mean(x, axis=axes, keepdims=True)
    return d, _k(1, x) / np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + _k(eps, x))


def _xhat_projection(s: np.ndarray, x: np.ndarray, axes: tuple[int, ...],
                     eps: float) -> np.ndarray:
    """xhat's (symmetric) Jacobian applied to s, as a fused kernel does from its saved mean
    and r: r (s - mean(s) - xhat mean(s xhat))."""
    d, r = _stats(x, axes, eps)
    xhat = d * r
    return r * (s - np.mean(s, axis=axes, keepdims=True)
                - xhat * np.mean(s * xhat, axis=axes, keepdims=True))


def _xhat_reverse(s: np.ndarray, x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """Reverse mode through d = x - mean, var = mean(d^2), r = (var + eps)^(-1/2), d r."""
    d, r = _stats(x, axes, eps)
    n = x.size // np.mean(x, axis=axes, keepdims=True).size
    g_var = _k(-0.5, x) * r * r * r * np.sum(s * d, axis=axes, keepdims=True)
    g_d = s * r + g_var * _k(2 / n, x) * d
    return g_d - np.mean(g_d, axis=axes, keepdims=True)


def _xhat_forward(u: np.ndarray, x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """Forward mode through the same composition."""
    d, r = _stats(x, axes, eps)
    u_d = u - np.mean(u, axis=axes, keepdims=True)
    u_var = _k(2, x) * np.mean(d * u_d, axis=axes, keepdims=True)
    return u_d * r + d * (_k(-0.5, x) * r * r * r * u_var)


def _affine(through: Callable[..., np.ndarray], mode: str) -> Callable[..., Arrays]:
    """y = gamma * xhat + beta (gamma, beta broadcast as ``pshape``), with xhat's derivative
    ``through``: VJP (x, gamma, gy) -> [dx, dgamma, dbeta]; JVP (x, gamma, ux, ug, ub) -> [uy]."""

    def vjp(x: np.ndarray, gamma: np.ndarray, gy: np.ndarray, axes: tuple[int, ...],
            pshape: tuple[int, ...], eps: float) -> Arrays:
        d, r = _stats(x, axes, eps)
        others = tuple(i for i in range(x.ndim) if pshape[i] == 1)
        return [through(gy * gamma.reshape(pshape), x, axes, eps),
                np.sum(gy * (d * r), axis=others).reshape(gamma.shape),
                np.sum(gy, axis=others).reshape(gamma.shape)]

    def jvp(x: np.ndarray, gamma: np.ndarray, ux: np.ndarray, ug: np.ndarray, ub: np.ndarray,
            axes: tuple[int, ...], pshape: tuple[int, ...], eps: float) -> Arrays:
        d, r = _stats(x, axes, eps)
        return [gamma.reshape(pshape) * through(ux, x, axes, eps) + ug.reshape(pshape) * (d * r)
                + ub.reshape(pshape)]

    return vjp if mode == "vjp" else jvp


def _affine_derivative(mode: str, x: np.ndarray, gamma: np.ndarray, seeds: Arrays,
                       axes: tuple[int, ...], pshape: tuple[int, ...], eps: float) -> Arrays:
    fused = _affine(_xhat_projection, mode)
    composed = _affine(_xhat_reverse if mode == "vjp" else _xhat_forward, mode)
    arrays = [x, gamma, seeds[0]] if mode == "vjp" else [x, gamma, *seeds]
    groups = [axes, None, None] if mode == "vjp" else [axes]
    return _worse(fused, composed, arrays, axes, pshape, eps, groups=groups)


def bn(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays, seeds: Arrays) -> Arrays:
    """BatchNorm (train): the running statistics carry no cotangent (grad_outputs); their
    tangents are the blends of the batch statistics' tangents."""
    x, gamma = args[0], args[1]
    axes = (0, *range(2, x.ndim))
    pshape = tuple(x.shape[1] if i == 1 else 1 for i in range(x.ndim))
    got = _affine_derivative(mode, x, gamma, seeds, axes, pshape, kwargs["eps"])
    if mode == "vjp":
        return got
    m = kwargs["momentum"]
    take = m if kwargs["momentum_on"] == "batch" else 1 - m
    n = x.size // x.shape[1]
    ux = seeds[0]
    d = x - np.mean(x, axis=axes, keepdims=True)
    unbias = n / (n - 1) if kwargs["running_var_unbiased"] else 1
    return [got[0], _k(take, x) * np.mean(ux, axis=axes),
            _k(take * unbias * 2, x) * np.mean(d * ux, axis=axes)]


def ln(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays, seeds: Arrays) -> Arrays:
    x, gamma = args[0], args[1]
    k = kwargs["normalized_ndim"]
    axes = tuple(range(x.ndim - k, x.ndim))
    pshape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    return _affine_derivative(mode, x, gamma, seeds, axes, pshape, kwargs["eps"])


def _std_reverse(s: np.ndarray, x: np.ndarray, y: np.ndarray, axes: tuple[int, ...],
                 eps: float) -> np.ndarray:
    """Reverse mode through y = d / sd, sd = sqrt(var + eps), with autodiff's division rule
    d(a/b)/db = -(a/b)/b taken from the saved output y."""
    d, r = _stats(x, axes, eps)
    sd = np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + _k(eps, x))
    n = x.size // sd.size
    g_sd = -np.sum(s * y, axis=axes, keepdims=True) / sd
    g_d = s / sd + (g_sd / (_k(2, x) * sd)) * _k(2 / n, x) * d
    return g_d - np.mean(g_d, axis=axes, keepdims=True)


def _std_forward(u: np.ndarray, x: np.ndarray, y: np.ndarray, axes: tuple[int, ...],
                 eps: float) -> np.ndarray:
    """Forward mode through the same composition: (u_d - y u_sd) / sd."""
    d = x - np.mean(x, axis=axes, keepdims=True)
    sd = np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + _k(eps, x))
    u_d = u - np.mean(u, axis=axes, keepdims=True)
    u_sd = _k(2, x) * np.mean(d * u_d, axis=axes, keepdims=True) / (_k(2, x) * sd)
    return (u_d - y * u_sd) / sd


def _sequential_mean(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The mean over ``axes`` summed left to right over the flattened group (C order),
    accumulated in float32 at least, as XLA:CPU's reduction loop does, then divided and
    rounded to x's dtype; kept dims. NumPy's pairwise sum is a luckier order than that."""
    acc = np.promote_types(x.dtype, np.float32) if x.dtype.itemsize < 4 else x.dtype
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes)).astype(acc)
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
    total = np.cumsum(flat, axis=-1)[..., -1]
    mean = (total / np.asarray(flat.shape[-1], dtype=acc)).astype(x.dtype)
    return np.expand_dims(mean, axis=axes)


def _standardize_sequential(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """(x - mean) / sqrt(var + eps), two-pass, with both means summed sequentially."""
    d = x - _sequential_mean(x, axes)
    return d / np.sqrt(_sequential_mean(d * d, axes) + _k(eps, x))


def standardize(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
                seeds: Arrays) -> Arrays:
    x, axis, eps = args[0], kwargs["axis"], kwargs["eps"]
    axes = tuple(sorted({a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}))
    if mode == "forward":
        # The value itself, as a kernel summing each group's mean and variance in one
        # sequential loop computes it (jax.nn.standardize on XLA:CPU): its error is the naive
        # error that order legitimately makes, beside the oracle's own pairwise one.
        return [_standardize_sequential(x, axes, eps)]
    composed = _std_reverse if mode == "vjp" else _std_forward
    return _worse(lambda s, x_, y: [_xhat_projection(s, x_, axes, eps)],
                  lambda s, x_, y: [composed(s, x_, y, axes, eps)], [seeds[0], x, outs[0]],
                  groups=[axes])


# --- weight norm: w = g v / |v| per slice ----------------------------------------------------

def _slices(v: np.ndarray, axis: int | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(axes reduced by the norm, the shape g broadcasts as)."""
    others = tuple(range(v.ndim)) if axis is None else tuple(
        i for i in range(v.ndim) if i != axis % v.ndim)
    return others, tuple(1 if i in others else v.shape[i] for i in range(v.ndim))


def _wn_projection(mode: str, axis: int | None) -> Callable[..., Arrays]:
    """torch's weight-norm backward: dv = g/|v| (gw - vhat (gw . vhat)), dg = gw . vhat."""

    def f(v: np.ndarray, g: np.ndarray, *seeds: np.ndarray) -> Arrays:
        others, gshape = _slices(v, axis)
        norm = np.sqrt(np.sum(v * v, axis=others, keepdims=True))
        vhat = v / norm
        gb = g.reshape(gshape)
        if mode == "vjp":
            dot = np.sum(seeds[0] * vhat, axis=others, keepdims=True)
            return [gb / norm * (seeds[0] - vhat * dot), dot.reshape(g.shape)]
        uv, ug = seeds
        dot = np.sum(uv * vhat, axis=others, keepdims=True)
        return [ug.reshape(gshape) * vhat + gb / norm * (uv - vhat * dot)]

    return f


def _wn_composition(mode: str, axis: int | None) -> Callable[..., Arrays]:
    """Reverse / forward mode through v * (g / sqrt(sum(v^2)))."""

    def f(v: np.ndarray, g: np.ndarray, *seeds: np.ndarray) -> Arrays:
        others, gshape = _slices(v, axis)
        norm = np.sqrt(np.sum(v * v, axis=others, keepdims=True))
        gb = g.reshape(gshape)
        if mode == "vjp":
            gw = seeds[0]
            g_scale = np.sum(gw * v, axis=others, keepdims=True)
            g_norm = -g_scale * gb / (norm * norm)
            return [gw * (gb / norm) + g_norm * v / norm, (g_scale / norm).reshape(g.shape)]
        uv, ug = seeds
        u_norm = np.sum(v * uv, axis=others, keepdims=True) / norm
        return [uv * (gb / norm) + v * (ug.reshape(gshape) / norm - gb * u_norm / (norm * norm))]

    return f


def weight_norm(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
                seeds: Arrays) -> Arrays:
    axis = kwargs["axis"]
    others, _ = _slices(args[0], axis)
    return _worse(_wn_projection(mode, axis), _wn_composition(mode, axis), [*args, *seeds],
                  groups=[others, None] if mode == "vjp" else [others])


# --- cosine norm: y = (x w^T) / (|x| |w|^T) ----------------------------------------------------

def _cos_quotient(mode: str) -> Callable[..., Arrays]:
    """Through num / den, num = x w^T, den = |x| |w|^T, as autodiff differentiates it: the
    division rule takes the saved output y = num / den (d/d den = -y / den)."""

    def f(x: np.ndarray, w: np.ndarray, y: np.ndarray, *seeds: np.ndarray) -> Arrays:
        xn = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
        wn = np.sqrt(np.sum(w * w, axis=1, keepdims=True))
        den = xn * wn.T
        if mode == "vjp":
            gy = seeds[0]
            g_num = gy / den
            g_den = -g_num * y
            g_xn = np.sum(g_den * wn.T, axis=1, keepdims=True)
            g_wn = np.sum(g_den * xn, axis=0, keepdims=True).T
            return [_mm(g_num, w) + g_xn * x / xn, _mm(g_num.T, x) + g_wn * w / wn]
        ux, uw = seeds
        u_num = _mm(ux, w.T) + _mm(x, uw.T)
        u_den = (np.sum(x * ux, axis=1, keepdims=True) / xn) * wn.T + xn * (
            np.sum(w * uw, axis=1, keepdims=True) / wn).T
        return [(u_num - y * u_den) / den]

    return f


def _cos_unit(mode: str) -> Callable[..., Arrays]:
    """Through xhat what^T with xhat = x / |x|, what = w / |w| (projections)."""

    def f(x: np.ndarray, w: np.ndarray, _y: np.ndarray, *seeds: np.ndarray) -> Arrays:
        xn = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
        wn = np.sqrt(np.sum(w * w, axis=1, keepdims=True))
        xh, wh = x / xn, w / wn
        y = _mm(xh, wh.T)
        if mode == "vjp":
            gy = seeds[0]
            return [(_mm(gy, wh) - xh * np.sum(gy * y, axis=1, keepdims=True)) / xn,
                    (_mm(gy.T, xh) - wh * np.sum(gy * y, axis=0, keepdims=True).T) / wn]
        ux, uw = seeds
        u_xh = (ux - xh * np.sum(ux * xh, axis=1, keepdims=True)) / xn
        u_wh = (uw - wh * np.sum(uw * wh, axis=1, keepdims=True)) / wn
        return [_mm(u_xh, wh.T) + _mm(xh, u_wh.T)]

    return f


def _cos_unit_value(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y = xhat what^T in x's dtype."""
    xn = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    wn = np.sqrt(np.sum(w * w, axis=1, keepdims=True))
    return _mm(x / xn, (w / wn).T)


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """matmul in a's dtype (ml_dtypes' bfloat16 matmul returns float32)."""
    return np.matmul(a, b).astype(a.dtype)


def cosine(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
           seeds: Arrays) -> Arrays:
    if mode == "forward":  # the value (spec tagged FORWARD_TEXTBOOK)
        # w_o . x_n cancels for a nearly orthogonal pair (TF and torch float64, seed 15: 0.0
        # for -1.8e-17): judged by its terms' magnitudes sum |w_oi x_ni| / (|w_o| |x_n|).
        x, w = args
        ax, aw = np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(w, np.float64))
        den = np.sqrt(np.sum(ax * ax, axis=1, keepdims=True)) * np.sqrt(
            np.sum(aw * aw, axis=1, keepdims=True)).T
        return [Summed(_cos_unit_value(x, w), (ax @ aw.T) / den)]
    # A row of dx (dw) shares its sums over the outputs; the JVP's elements share nothing.
    return _worse(_cos_quotient(mode), _cos_unit(mode), [*args, outs[0], *seeds],
                  groups=[(1,), (1,)] if mode == "vjp" else [None])


# --- LRN: y = x * b^-beta, b = k + alpha / size * (window sum of x^2) ---------------------------

def _window(a: np.ndarray, size: int, transpose: bool) -> np.ndarray:
    """Sums over the channel window [c - size//2, c + (size-1)//2] (zero padded), or over
    its transpose [c - (size-1)//2, c + size//2]."""
    lo, hi = size // 2, (size - 1) // 2
    pad = [(0, 0)] * a.ndim
    pad[1] = (hi, lo) if transpose else (lo, hi)
    p = np.pad(a, pad)
    c = a.shape[1]
    return sum(p[:, j:j + c] for j in range(1, size)) + p[:, 0:c]


def _lrn_terms(mode: str, x: np.ndarray, seed: np.ndarray, size: int, alpha: float,
               beta: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """The two terms of the derivative, through x directly and through b."""
    scale = _k(alpha / size, x)
    b = _k(k, x) + scale * _window(x * x, size, transpose=False)
    b_pow = b ** _k(-beta, x)
    first = seed * b_pow
    if mode == "jvp":
        u_b = scale * _window(_k(2, x) * x * seed, size, transpose=False)
        return first, _k(-beta, x) * x * (b_pow / b) * u_b
    g_b = _k(-beta, x) * seed * x * (b_pow / b)
    return first, _k(2, x) * x * scale * _window(g_b, size, transpose=True)


def lrn(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays, seeds: Arrays) -> Arrays:
    """The chain rule's two terms summed in the tested dtype; the naive error is the larger
    of that evaluation's error and eps (|first| + |second|), the rounding of the final sum
    alone: the terms cancel where the derivative changes sign (alpha x^2 (2 beta - 1) ~ k)."""
    x, seed = args[0], seeds[0]
    first, second = _lrn_terms(mode, x, seed, **kwargs)
    hi = [np.asarray(a, dtype=np.longdouble) for a in (x, seed)]
    ref = sum(_lrn_terms(mode, *hi, **kwargs))
    low = np.asarray(first + second, dtype=np.longdouble)
    bound = machine_eps(x.dtype.name) * (np.abs(np.asarray(first, np.longdouble))
                                         + np.abs(np.asarray(second, np.longdouble)))
    dev = np.where(np.isfinite(low), np.maximum(np.abs(low - ref), bound), np.nan)
    return [np.asarray(ref + dev, dtype=np.float64)]
