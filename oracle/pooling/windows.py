"""Window pooling (catalog family ``pool``, notes 003) and the sliding-window geometry.

Layout: x is (N, C, *spatial) with 1, 2 or 3 spatial axes (NCL, NCHW, NCDHW); the spatial
rank is x.ndim - 2. ``kernel``, ``stride``, ``padding`` and ``dilation`` are an int or one
int per spatial axis.

Window rule (torch's): along an axis of length n with kernel k, stride s, symmetric padding
p and dilation d, window o covers the positions o*s - p + j*d, j = 0..k-1. The number of
windows is floor((n + 2p - d(k-1) - 1) / s) + 1, or with ``ceil_mode`` the ceiling of that
quotient plus 1, minus 1 again when the last window would start at or past n + p (the last
window must start inside the input or the left padding). Pooling padding must satisfy
p <= k // 2 (torch rejects more).

``padding="same"`` (max, min and average pooling) is TF's SAME rule instead of symmetric
padding: ceil(n / s) windows, floor(total / 2) padding before and the rest after
(``same_pads``); it excludes ``ceil_mode``.

Positions outside [0, n) are padding. Max/min pooling never choose them (as if they held
-inf/+inf); average pooling counts them as zeros. The ceil-mode overhang past n + p is never
part of a window's divisor (see ``avg_pool``).

``sliding_windows`` gathers every window with integer indexing (no np.pad), so all pooling
functions and ``oracle.conv`` run unchanged on dual numbers; selections (arg-max) are made
on the primal values and applied to x with ``np.take_along_axis``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon, _reference

IntOrTuple = int | Sequence[int]


class Windows(NamedTuple):
    """Every window of x, gathered. K = prod(kernel).

    values: (N, C, *out_shape, K); entries at padding positions hold a clipped copy of an
        edge element and must be masked with ``valid``.
    valid: bool (*out_shape, K), True where the position is a real input element.
    counted: bool (*out_shape, K), True inside the padded extent [-p_lo, n + p_hi) (what
        torch's ``count_include_pad=True`` divides by).
    flat_index: int64 (*out_shape, K), row-major flat index into the unpadded input plane
        (y*W + x in 2-D); meaningful where ``valid``.
    out_shape: the spatial output shape.
    """

    values: Any
    valid: np.ndarray
    counted: np.ndarray
    flat_index: np.ndarray
    out_shape: tuple[int, ...]


def spatial_rank(x: Any) -> int:
    if not 3 <= x.ndim <= 5:
        raise ValueError(f"expected (N, C, *spatial) with 1 to 3 spatial axes, got {x.shape}")
    return x.ndim - 2


def _out_size(n: int, k: int, s: int, lo: int, hi: int, d: int, ceil_mode: bool) -> int:
    span = n + lo + hi - d * (k - 1) - 1
    if span < 0:
        raise ValueError(f"window (kernel {k}, dilation {d}) larger than padded input {n}")
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


def sliding_windows(
    x: Any,
    *,
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Sequence[tuple[int, int]],
    dilation: Sequence[int],
    ceil_mode: bool = False,
) -> Windows:
    """Gather the windows of x (N, C, *spatial) under the module's window rule.

    ``pads`` holds one (before, after) pair per spatial axis (symmetric for pooling; conv's
    'same' may be asymmetric).
    """
    r = spatial_rank(x)
    sizes = x.shape[2:]
    out_shape = tuple(
        _out_size(sizes[a], kernel[a], stride[a], *pads[a], dilation[a], ceil_mode)
        for a in range(r)
    )
    index, valid, counted = [], np.ones((1,) * 2 * r, bool), np.ones((1,) * 2 * r, bool)
    flat = np.zeros((1,) * 2 * r, np.int64)
    for a in range(r):
        lo, hi = pads[a]
        pos = (np.arange(out_shape[a])[:, None] * stride[a] - lo
               + np.arange(kernel[a])[None, :] * dilation[a])
        shape = [1] * 2 * r
        shape[a], shape[r + a] = out_shape[a], kernel[a]
        pos = pos.reshape(shape)
        clipped = np.clip(pos, 0, sizes[a] - 1)
        index.append(clipped)
        valid = valid & (pos >= 0) & (pos < sizes[a])
        counted = counted & (pos < sizes[a] + hi)
        flat = flat * sizes[a] + clipped
    full = out_shape + tuple(kernel)
    n_k = int(np.prod(kernel))
    values = x[(slice(None), slice(None), *index)]
    values = values.reshape(x.shape[:2] + out_shape + (n_k,))

    def flat_k(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, full).reshape(out_shape + (n_k,))

    return Windows(values, flat_k(valid), flat_k(counted), flat_k(flat), out_shape)


def same_pads(sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
              dilation: Sequence[int]) -> list[tuple[int, int]]:
    """TF's / ONNX SAME_UPPER padding per axis: ceil(n / s) windows, total padding
    max((ceil(n/s) - 1) s + d (k - 1) + 1 - n, 0), floor(total / 2) before and the rest
    after (an odd total puts the extra element at the end)."""
    totals = [max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
              for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)]
    return [(t // 2, t - t // 2) for t in totals]


def pool_geometry(
    x: Any, kernel: IntOrTuple, stride: IntOrTuple | None, padding: IntOrTuple | str,
    dilation: IntOrTuple = 1, wide_padding: bool = False,
) -> tuple[tuple[int, ...], tuple[int, ...], list[tuple[int, int]]]:
    """(kernel, stride, pads) as tuples; stride defaults to the kernel; checks p <= k // 2
    unless ``wide_padding``. ``padding="same"``: TF's SAME padding (``same_pads``), possibly
    asymmetric."""
    r = spatial_rank(x)
    k = _canon.pair(kernel, r)
    s = k if stride is None else _canon.pair(stride, r)
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"padding must be ints or 'same', got {padding!r}")
        if min(k) < 1 or min(s) < 1:
            raise ValueError(f"need kernel >= 1, stride >= 1: {k}, {s}")
        return k, s, same_pads(x.shape[2:], k, s, _canon.pair(dilation, r))
    p = _canon.pair(padding, r)
    if min(k) < 1 or min(s) < 1 or min(p) < 0:
        raise ValueError(f"need kernel >= 1, stride >= 1, padding >= 0: {k}, {s}, {p}")
    if not wide_padding and any(pi > ki // 2 for pi, ki in zip(p, k, strict=True)):
        raise ValueError(f"pooling padding {p} exceeds half the kernel {k}")
    return k, s, [(pi, pi) for pi in p]


def pool_windows(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None,
    padding: IntOrTuple,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    wide_padding: bool = False,
) -> Windows:
    """``sliding_windows`` under the pooling conventions; every window must hold a real
    element (else max/min/mean are undefined). ``wide_padding``: padding above k // 2 is
    allowed (JAX's reduce_window and an explicit tf.pad take any; torch raises)."""
    if isinstance(padding, str) and ceil_mode:
        raise ValueError("padding='same' fixes the window count: no ceil_mode")
    k, s, pads = pool_geometry(x, kernel, stride, padding, dilation, wide_padding)
    d = _canon.pair(dilation, len(k))
    if min(d) < 1:
        raise ValueError(f"dilation must be >= 1, got {d}")
    win = sliding_windows(x, kernel=k, stride=s, pads=pads, dilation=d, ceil_mode=ceil_mode)
    if not win.valid.any(axis=-1).all():
        raise ValueError("a pooling window lies entirely in the padding")
    return win


def first_extremum(win: Windows, *, largest: bool) -> np.ndarray:
    """Kernel slot (N, C, *out) of the first maximal (or minimal) real element per window.

    Chosen on the primal values; padding never wins. Ties: the lowest slot, i.e. the lowest
    flat input index (window slots run in row-major order). A NaN in a window wins (the
    first NaN), so NaN propagates as in the frameworks.
    """
    key = _canon.primal(win.values)
    key = key if largest else -key
    key = np.where(win.valid, key, -np.inf)
    best = np.max(key, axis=-1, keepdims=True)
    hit = win.valid & ((key == best) | np.isnan(key))
    return np.argmax(hit, axis=-1)


def _take_slot(values: Any, slot: np.ndarray) -> Any:
    return np.take_along_axis(values, slot[..., None], axis=-1)[..., 0]


class MaxPoolResult(NamedTuple):
    values: Any
    indices: np.ndarray


def max_pool_with_indices(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    wide_padding: bool = False,
) -> MaxPoolResult:
    """``max_pool`` plus torch's indices: for each (n, c), the int64 row-major flat index of
    the chosen element in the unpadded input plane (x in 1-D, y*W + x in 2-D,
    (z*H + y)*W + x in 3-D). Ties: the first (lowest flat index) maximum."""
    x = _canon.asarray(x)
    win = pool_windows(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                       ceil_mode=ceil_mode, wide_padding=wide_padding)
    slot = first_extremum(win, largest=True)
    flat = np.broadcast_to(win.flat_index, win.values.shape)
    return MaxPoolResult(_take_slot(win.values, slot), _take_slot(flat, slot).astype(np.int64))


def max_pool(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    wide_padding: bool = False,
) -> Any:
    """Max over each window: y = max(P) (notes 003), x (N, C, *spatial) -> (N, C, *out).

    Window rule, padding (never chosen) and ceil_mode: see the module docstring. stride
    defaults to the kernel. Subgradient: the whole gradient goes to the first (lowest flat
    index) maximal element of the window (torch's and TF's tie rule; the JVP on duals uses
    the same element). Adapters should avoid ties: frameworks agree only on the forward.
    ``wide_padding=True`` allows padding above kernel // 2 (torch raises; JAX and an explicit
    tf.pad take it); every window must still hold a real element.
    """
    return max_pool_with_indices(x, kernel=kernel, stride=stride, padding=padding,
                                 dilation=dilation, ceil_mode=ceil_mode,
                                 wide_padding=wide_padding).values


def min_pool(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> Any:
    """Min over each window: y = min(P) (notes 003); the mirror of ``max_pool``.

    Padding is never chosen (as if +inf); ties: the first (lowest flat index) minimum gets the
    gradient. Equals -max_pool(-x). No framework has it natively (compose as -maxpool(-x)).
    """
    x = _canon.asarray(x)
    win = pool_windows(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                       ceil_mode=ceil_mode)
    return _take_slot(win.values, first_extremum(win, largest=False))


def _masked_window_sum(values: Any, valid: np.ndarray) -> Any:
    return np.sum(np.where(valid, values, np.zeros_like(values)), axis=-1)


def _divisor(win: Windows, count_include_pad: bool, divisor_override: int | None = None) -> Any:
    if divisor_override is not None:
        return _canon.scalar(float(divisor_override))
    count = (win.counted if count_include_pad else win.valid).sum(axis=-1)
    return _canon.asarray(count.astype(np.float64))


def avg_pool(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple | str = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    wide_padding: bool = False,
) -> Any:
    """Mean over each window: y = sum(P) / divisor (notes 003: mean(P)).

    Padding contributes zeros to the sum. Divisor (torch's rule,
    docs/conventions/pooling.md §3.1):
    ``count_include_pad=True`` counts the window's positions inside the padded extent
    [-p, n + p) (explicit padding counted, the ceil-mode overhang past n + p not);
    ``count_include_pad=False`` counts the real elements only (TF/Keras 'same'). Example: k=2,
    s=2, p=0, ceil_mode on a length-5 axis: the last window holds one element and divides by 1.
    ``divisor_override`` d (torch's, an int != 0): every window's sum is divided by d instead,
    whatever it covers (count_include_pad is then unused).
    ``padding="same"``: TF's SAME padding (``same_pads``: the extra element of an odd total
    at the end); TF's avg_pool 'SAME' divides by the real elements (count_include_pad=False);
    True counts the padding (ONNX's count_include_pad=1).
    ``wide_padding=True``: padding above kernel // 2 allowed (see ``max_pool``).
    No dilation (torch's avg_pool has none).
    """
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("divisor_override must be nonzero")
    x = _canon.asarray(x)
    win = pool_windows(x, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                       wide_padding=wide_padding)
    return (_masked_window_sum(win.values, win.valid)
            / _divisor(win, count_include_pad, divisor_override))


def l2_pool(
    x: Any,
    *,
    kernel: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    mean: bool = True,
    count_include_pad: bool = True,
    norm_type: float = 2.0,
) -> Any:
    """L2 (or Lp) pooling over each window.

    mean=True (the notes' definition, a root-mean-square): y = sqrt(sum p^2 / n), with n the
    divisor of ``avg_pool`` (``count_include_pad`` as there; without padding n = prod(kernel)).
    mean=False: torch's LPPool with norm_type 2, y = sqrt(sum p^2) (no 1/n).

    ``norm_type`` P > 0 (finite) generalises the power: y = (sum |x|^P [/ n])^(1/P), the Lp
    norm of the window. Sign convention: |x|, so every window is nonnegative. torch's
    F.lp_pool raises x itself to P (x.pow(P), docs/conventions/pooling.md §3.3): for odd
    integer P it sums signed powers, for a fractional P a negative x gives NaN; it equals
    this option only on |x| (mappings pass |x|). P = 2 is the default and the form above.

    Padding contributes zeros. No ceil_mode (torch's LPPool partial windows are inconsistent,
    docs/conventions/pooling.md §3.3). Not differentiable where a window is all zero (and for
    P <= 1 where an element is 0); specs avoid zeros. The float64 reference
    scales each window by a power of two before the powers (no overflow above 1e154 or
    underflow below 1e-154); other dtypes take the powers directly, as every framework's
    composition.
    """
    if not 0 < norm_type < np.inf:
        raise ValueError(f"norm_type must be finite and > 0, got {norm_type}")
    x = _canon.asarray(x)
    win = pool_windows(x, kernel=kernel, stride=stride, padding=padding)
    values, top = win.values, None
    if _reference.reference():
        # Scaled by a power of two before the powers: compensates their overflow
        # (|x| > 1e154) and underflow (|x| < 1e-154); the scaling itself is exact.
        top = np.max(np.where(win.valid, np.abs(_canon.primal(values)), 0.0), axis=-1)
        values = _reference.scale_down(values, top[..., None])
    square = norm_type == 2.0
    powers = values * values if square else np.abs(values) ** _canon.scalar(norm_type)
    total = _masked_window_sum(powers, win.valid)
    if mean:
        total = total / _divisor(win, count_include_pad)
    root = np.sqrt(total) if square else total ** _canon.scalar(1.0 / norm_type)
    return root if top is None else _reference.scale_up(root, top)


def _flatten_spatial(x: Any) -> Any:
    spatial_rank(x)
    return x.reshape(x.shape[:2] + (-1,))


def _keep(y: Any, x: Any, keepdims: bool) -> Any:
    return y.reshape(x.shape[:2] + (1,) * (x.ndim - 2)) if keepdims else y


def global_avg_pool(x: Any, *, keepdims: bool = False) -> Any:
    """Mean over all spatial positions of each channel: (N, C, *spatial) -> (N, C).

    keepdims=True gives (N, C, 1, ..., 1) (torch's AdaptiveAvgPool(1)); False is Keras'
    GlobalAveragePooling default. Equals avg_pool with the kernel = the spatial shape.
    """
    x = _canon.asarray(x)
    return _keep(np.mean(_flatten_spatial(x), axis=-1), x, keepdims)


def global_max_pool(x: Any, *, keepdims: bool = False) -> Any:
    """Max over all spatial positions of each channel: (N, C, *spatial) -> (N, C).

    Tie rule as ``max_pool``: the first (lowest flat index) maximum gets the gradient.
    """
    x = _canon.asarray(x)
    flat = _flatten_spatial(x)
    win = Windows(flat, np.ones(flat.shape[-1:], bool), np.ones(flat.shape[-1:], bool),
                  np.arange(flat.shape[-1]), ())
    return _keep(_take_slot(flat, first_extremum(win, largest=True)), x, keepdims)


ORACLE: dict[str, Callable[..., Any]] = {
    "pool.max": max_pool,
    "pool.min": min_pool,
    "pool.avg": avg_pool,
    "pool.l2": l2_pool,
    "pool.global_avg": global_avg_pool,
    "pool.global_max": global_max_pool,
}
