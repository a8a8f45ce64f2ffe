"""Pooling with a selection beyond one window value (catalog family ``pool``, notes 003):
stochastic pooling, max unpooling and k-max pooling.

Layouts and the window rule are those of ``oracle.pooling.windows`` (x is (N, C, *spatial)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from oracle import _canon
from oracle.pooling.windows import IntOrTuple, pool_windows


def _stochastic_windows(x: Any, kernel: IntOrTuple, stride: IntOrTuple | None) -> Any:
    x = _canon.asarray(x)
    if np.any(_canon.primal(x) < 0) or np.any(np.isnan(_canon.primal(x))):
        raise ValueError("stochastic pooling needs non-negative activations (a >= 0)")
    return pool_windows(x, kernel=kernel, stride=stride, padding=0)


def stochastic_pool_probs(
    x: Any, *, kernel: IntOrTuple, stride: IntOrTuple | None = None
) -> Any:
    """Exact selection probabilities of stochastic pooling (Zeiler & Fergus, ICLR 2013).

    In training, each window picks one element a_i with probability p_i = a_i / sum_j a_j
    (a >= 0 required: x must be non-negative, e.g. after ReLU). Returns p with shape
    (N, C, *out, *kernel): p[..., o, j] is the probability of kernel slot j of window o.
    Windows: no padding, stride defaults to the kernel (module rule of
    ``oracle.pooling.windows``).
    All-zero window convention: p_i = 1 / prod(kernel) (uniform), so every window's
    probabilities sum to 1; the picked value is 0 either way.
    """
    win = _stochastic_windows(x, kernel, stride)
    a = win.values
    total = np.sum(a, axis=-1, keepdims=True)
    empty = _canon.primal(total) == 0
    n_k = a.shape[-1]
    safe = np.where(empty, np.ones_like(total), total)
    uniform = np.zeros_like(a) + _canon.scalar(1.0 / n_k)
    p = np.where(empty, uniform, a / safe)
    return p.reshape(a.shape[:-1] + _canon.pair(kernel, len(win.out_shape)))


def stochastic_pool_eval(
    x: Any, *, kernel: IntOrTuple, stride: IntOrTuple | None = None
) -> Any:
    """Test-time stochastic pooling: y = sum_i p_i a_i with p_i = a_i / sum_j a_j, i.e.
    sum a^2 / sum a per window (the expectation of the training-time pick).

    x (N, C, *spatial) non-negative -> (N, C, *out); windows as ``stochastic_pool_probs``.
    All-zero window: y = 0, and the JVP there is 0 by convention (y is continuous but not
    differentiable at a = 0; specs avoid it).
    """
    win = _stochastic_windows(x, kernel, stride)
    a = win.values
    total = np.sum(a, axis=-1)
    safe = np.where(_canon.primal(total) == 0, np.ones_like(total), total)
    return np.sum(a * a, axis=-1) / safe


def max_unpool(values: Any, indices: Any, *, output_size: Sequence[int]) -> Any:
    """Scatter pooled values back to their arg-max positions, zeros elsewhere (notes 003).

    values and indices: (N, C, *out) as returned by ``max_pool_with_indices`` (torch's index
    layout: row-major flat index into one (n, c) plane of the output). ``output_size``: the
    spatial shape of the result (torch's MaxUnpool ``output_size``; a full (N, C, ...) shape
    is accepted too). Result (N, C, *output_size). Indices repeated within a plane (from
    overlapping windows) carry the same value, so the write order does not matter.
    """
    values = _canon.asarray(values)
    idx = np.asarray(indices)
    if idx.shape != values.shape or idx.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers shaped like values {values.shape}")
    size = tuple(int(s) for s in output_size)
    if len(size) == values.ndim:
        size = size[2:]
    if len(size) != values.ndim - 2:
        raise ValueError(f"output_size {output_size} does not match values {values.shape}")
    plane = int(np.prod(size))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise ValueError(f"an index is outside the {size} output plane")
    n, c = values.shape[:2]
    out = _canon.zeros((n, c, plane), like=values)
    flat_idx = idx.reshape(n, c, -1)
    rows = np.arange(n)[:, None, None]
    chans = np.arange(c)[None, :, None]
    out[rows, chans, flat_idx] = values.reshape(n, c, -1)
    return out.reshape((n, c) + size)


def kmax_pool(x: Any, *, k: int, axis: int = -1, largest: bool = True) -> Any:
    """k-max pooling: the k largest entries along ``axis``, kept in their original order.

    ``largest=False``: the k smallest instead (torch.topk(largest=False); JAX and TF have no
    such flag and negate, which keeps the tie rule: equal values stay equal under negation).
    The same rules otherwise: among equal values the lower index first, NaN never picked
    while numbers remain (it ranks past every number at either end).

    Ties: among equal values the lower index is taken first (JAX's and TF's top_k rule;
    torch.topk may pick others, docs/conventions/pooling.md §3.5). NaN ranks below every
    number (never picked while numbers remain; frameworks disagree on NaN). The gradient
    flows to the kept entries. x any shape and any real dtype (integers are ranked exactly,
    unsigned ones too); the result has size k along ``axis``.
    """
    if not _is_real(_canon.primal(x).dtype):
        raise TypeError(f"k-max pooling ranks real numbers; got dtype {_canon.primal(x).dtype}")
    x = _canon.asarray(x)
    values = _canon.primal(x)
    axis = _canon.normalize_axis(axis, x.ndim)
    if not 1 <= k <= x.shape[axis]:
        raise ValueError(f"k must be in [1, {x.shape[axis]}], got {k}")
    rows = np.moveaxis(values, axis, -1)
    keep = np.empty(rows.shape[:-1] + (k,), dtype=np.int64)
    for idx in np.ndindex(rows.shape[:-1]):
        keep[idx] = _top_k_indices(rows[idx], k, largest)
    return np.take_along_axis(x, np.moveaxis(keep, -1, axis), axis=axis)


def _is_real(dtype: np.dtype) -> bool:
    """bool, integers and floats, ml_dtypes' bfloat16 included (its kind is 'V')."""
    if dtype.kind in "biuf":
        return True
    if dtype.kind != "V" or dtype.names is not None:
        return False
    try:  # an extension float type (bfloat16, float8): ordered, with NaN
        np.isnan(np.zeros(1, dtype))
    except TypeError:
        return False
    return True


def _top_k_indices(row: np.ndarray, k: int, largest: bool = True) -> list[int]:
    """The indices of the k largest (or smallest) entries of one row, in index order. Ranked
    on the values themselves (never on -x, which wraps around for unsigned integers): larger
    (smaller) first, NaN after every number, equal values by lower index."""
    nan = np.isnan(row) if row.dtype.kind not in "biu" else np.zeros(row.shape, bool)
    if largest:  # reverse=True: the -i puts the lower index first among equals
        key = [(not nan[i], 0 if nan[i] else row[i].item(), -i) for i in range(row.size)]
    else:
        key = [(bool(nan[i]), 0 if nan[i] else row[i].item(), i) for i in range(row.size)]
    ranked = sorted(range(row.size), key=key.__getitem__, reverse=largest)
    return sorted(ranked[:k])


ORACLE: dict[str, Callable[..., Any]] = {
    "pool.stochastic": stochastic_pool_eval,
    "pool.max_unpool": max_unpool,
    "pool.kmax": kmax_pool,
}
