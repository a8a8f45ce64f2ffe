"""mpmath transcriptions of the ``pool`` family (notes 003).

The window geometry (which input element sits in which window slot, which slots are padding)
is taken from ``oracle.pooling.pool_windows`` applied to an array of element indices: it is
integer bookkeeping, not arithmetic. The values are then reduced in mpmath from the
definitions: max / min of the real elements, mean = exact sum / divisor, L2 = sqrt(exact sum
of squares (/ divisor)), stochastic pooling's expectation sum a^2 / sum a, and k-max by
comparing the numbers themselves (larger first, equal values in index order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.pooling import pool_windows
from oracle.precise._common import fsum, mp


def _windows(x: np.ndarray, **geometry: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """(slots (N, C, *out, K) of object mpf, valid (*out, K), the Windows of the indices)."""
    index = np.arange(x.size, dtype=np.float64).reshape(x.shape)
    win = pool_windows(index, **geometry)
    flat = mp(x).reshape(-1)
    slots = np.empty(win.values.shape, dtype=object)
    for idx in np.ndindex(win.values.shape):
        slots[idx] = flat[int(win.values[idx])]
    return slots, win.valid, win


def _reduce(slots: np.ndarray, valid: np.ndarray, fn: Callable[[list[Any]], Any]) -> np.ndarray:
    v = np.broadcast_to(valid, slots.shape)
    out = np.empty(slots.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn([s for s, ok in zip(slots[idx], v[idx]) if ok])
    return out


def _divisors(win: Any, count_include_pad: bool) -> np.ndarray:
    return (win.counted if count_include_pad else win.valid).sum(axis=-1)


def max_pool(x: Any, *, kernel: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
             ceil_mode: bool = False, wide_padding: bool = False) -> np.ndarray:
    slots, valid, _ = _windows(x, kernel=kernel, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode,
                               wide_padding=wide_padding)
    return _reduce(slots, valid, max)


def min_pool(x: Any, *, kernel: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
             ceil_mode: bool = False) -> np.ndarray:
    slots, valid, _ = _windows(x, kernel=kernel, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode)
    return _reduce(slots, valid, min)


def avg_pool(x: Any, *, kernel: Any, stride: Any = None, padding: Any = 0,
             ceil_mode: bool = False, count_include_pad: bool = True,
             divisor_override: int | None = None, wide_padding: bool = False) -> np.ndarray:
    """Exact window sum over the divisor: torch's count, or ``divisor_override`` when given."""
    slots, valid, win = _windows(x, kernel=kernel, stride=stride, padding=padding,
                                 ceil_mode=ceil_mode, wide_padding=wide_padding)
    sums = _reduce(slots, valid, fsum)
    if divisor_override is not None:
        return sums / mpmath.mpf(divisor_override)
    return sums / np.broadcast_to(_divisors(win, count_include_pad), sums.shape)


def l2_pool(x: Any, *, kernel: Any, stride: Any = None, padding: Any = 0, mean: bool = True,
            count_include_pad: bool = True, norm_type: float = 2.0) -> np.ndarray:
    """(sum |v|^P [/ n])^(1/P) per window, P = norm_type (2: the root of the sum of squares)."""
    slots, valid, win = _windows(x, kernel=kernel, stride=stride, padding=padding)
    p = mpmath.mpf(norm_type)
    sums = _reduce(slots, valid, lambda vals: fsum(abs(v) ** p for v in vals))
    if mean:
        sums = sums / np.broadcast_to(_divisors(win, count_include_pad), sums.shape)
    return np.vectorize(lambda t: t ** (1 / p), otypes=[object])(sums)


def _planes(x: Any) -> np.ndarray:
    x = mp(x)
    return x.reshape(x.shape[:2] + (-1,))


def global_avg_pool(x: Any, *, keepdims: bool = False) -> np.ndarray:
    p = _planes(x)
    out = np.empty(p.shape[:2], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fsum(p[idx]) / p.shape[-1]
    return out.reshape(np.shape(x)[:2] + (1,) * (np.ndim(x) - 2)) if keepdims else out


def global_max_pool(x: Any, *, keepdims: bool = False) -> np.ndarray:
    p = _planes(x)
    out = np.empty(p.shape[:2], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = max(p[idx])
    return out.reshape(np.shape(x)[:2] + (1,) * (np.ndim(x) - 2)) if keepdims else out


def stochastic_pool_eval(x: Any, *, kernel: Any, stride: Any = None) -> np.ndarray:
    slots, valid, _ = _windows(x, kernel=kernel, stride=stride, padding=0)

    def expectation(vals: list[Any]) -> Any:
        total = fsum(vals)
        return fsum(v * v for v in vals) / total if total != 0 else mpmath.mpf(0)

    return _reduce(slots, valid, expectation)


def max_unpool(values: Any, indices: Any, *, output_size: Any) -> np.ndarray:
    values, idx = mp(values), np.asarray(indices)
    size = tuple(int(s) for s in output_size)
    if len(size) == values.ndim:
        size = size[2:]
    n, c = values.shape[:2]
    plane = int(np.prod(size))
    out = np.empty((n, c, plane), dtype=object)
    out[...] = mpmath.mpf(0)
    for a in range(n):
        for b in range(c):
            for v, i in zip(values[a, b].reshape(-1), idx[a, b].reshape(-1)):
                out[a, b, int(i)] = v
    return out.reshape((n, c) + size)


def kmax_pool(x: Any, *, k: int, axis: int = -1, largest: bool = True) -> np.ndarray:
    x = mp(x)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1] + (k,), dtype=object)
    for idx in np.ndindex(moved.shape[:-1]):
        row = list(moved[idx])
        # Larger (smaller) first; among equal values the lower index first.
        sign = -1 if largest else 1
        ranked = sorted(range(len(row)), key=lambda i: (sign * row[i], i))
        out[idx] = [row[i] for i in sorted(ranked[:k])]
    return np.moveaxis(out, -1, axis)


PRECISE: dict[str, Callable[..., Any]] = {
    "pool.max": max_pool,
    "pool.min": min_pool,
    "pool.avg": avg_pool,
    "pool.l2": l2_pool,
    "pool.global_avg": global_avg_pool,
    "pool.global_max": global_max_pool,
    "pool.stochastic": stochastic_pool_eval,
    "pool.max_unpool": max_unpool,
    "pool.kmax": kmax_pool,
}
