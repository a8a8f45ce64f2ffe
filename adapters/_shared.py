"""Framework-free helpers that every adapter needs: hyper-parameter normalisation, torch's
pooling window geometry, the bookkeeping of composed losses and of the architecture
summaries. Plain Python and NumPy only.

Written from the frameworks' documented rules (torch's window count, the catalog's edge
kernel), never imported from ``oracle/``: a rule copied from the oracle into an adapter
would check the oracle against itself, and a bug in it could not fail a single check.
``tests/test_layout.py`` holds this module to that (no oracle, no framework import).
The reproducer (``reports/reproducer.py``) copies these helpers into a failure's script
next to the mapping, so they stay plain functions of their arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

# The catalog's edge-detection kernel as it is written there (rows top to bottom).
EDGE_KERNEL = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -1.0, -1.0))


# --- hyper-parameters -------------------------------------------------------------------------
def as_tuple(v: int | Sequence[int], r: int) -> tuple[int, ...]:
    """An int or one int per spatial axis, as ``r`` ints."""
    return (int(v),) * r if isinstance(v, int) else tuple(int(i) for i in v)


def as_tuples(r: int, *values: int | Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """``as_tuple`` of each value (stride, padding, ... of one call)."""
    return tuple(as_tuple(v, r) for v in values)


# --- pooling geometry (torch's window rule) ---------------------------------------------------
def pool_axis_geometry(n: int, k: int, s: int, p: int, d: int,
                       ceil_mode: bool) -> tuple[int, int]:
    """(number of windows, end padding) along one axis under torch's rule: with ceil_mode
    the last window may overhang, but must start inside the input or the left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    out = span // s + 1
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    return out, max(p, (out - 1) * s + d * (k - 1) + 1 - n - p)


def pool_end_padding(spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                     padding: Sequence[int], dilation: Sequence[int],
                     ceil_mode: bool) -> list[int]:
    """The padding after each spatial axis that makes a 'VALID' window pass produce torch's
    windows (p before, p plus the ceil-mode overhang after)."""
    return [pool_axis_geometry(n, k, s, p, d, ceil_mode)[1]
            for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True)]


def pool_divisor(spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], ceil_mode: bool, include_pad: bool) -> np.ndarray:
    """torch's average divisor per window (spatial output shape): positions inside
    [-p, n + p) (include_pad) or inside [0, n); never the ceil-mode overhang."""
    div = np.ones(())
    for n, k, s, p in zip(spatial, kernel, stride, padding, strict=True):
        out, _ = pool_axis_geometry(n, k, s, p, 1, ceil_mode)
        pos = np.arange(out)[:, None] * s - p + np.arange(k)[None, :]
        lo, hi = (-p, n + p) if include_pad else (0, n)
        div = np.multiply.outer(div, ((pos >= lo) & (pos < hi)).sum(axis=1))
    return div


def conv_pads(padding: Any, sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
              dilation: Sequence[int]) -> list[tuple[int, int]]:
    """(before, after) per axis of a convolution's padding: ints (symmetric), 'valid', or
    'same' (total max((ceil(n/s) - 1) s + d (k - 1) + 1 - n, 0), floor(total / 2) before)."""
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "same":
        totals = [max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
                  for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in as_tuple(padding, len(sizes))]


def pad_source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """The input index each position -lo .. n + hi - 1 of an axis padded in torch's
    ``padding_mode`` copies: 'reflect' (edge not repeated), 'replicate', 'circular'."""
    pos = np.arange(-lo, n + hi)
    if mode == "reflect":
        pos = np.abs(pos)
        return np.where(pos > n - 1, 2 * (n - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        return pos % n
    raise ValueError(f"no index map for padding_mode {mode!r}")


def pool_same_pads(spatial: Sequence[int], kernel: Sequence[int],
                   stride: Sequence[int]) -> list[tuple[int, int]]:
    """TF's SAME padding per axis, (before, after): total max((ceil(n/s) - 1) s + k - n, 0),
    floor(total / 2) before (docs/conventions/pooling.md §SAME)."""
    totals = [max((-(-n // s) - 1) * s + k - n, 0)
              for n, k, s in zip(spatial, kernel, stride, strict=True)]
    return [(t // 2, t - t // 2) for t in totals]


def pool_same_divisor(spatial: Sequence[int], kernel: Sequence[int],
                      stride: Sequence[int]) -> np.ndarray:
    """The real elements per SAME window (spatial output shape): TF's avg_pool divisor."""
    div = np.ones(())
    for n, k, s, (lo, _) in zip(spatial, kernel, stride, pool_same_pads(spatial, kernel, stride),
                                strict=True):
        pos = np.arange(-(-n // s))[:, None] * s - lo + np.arange(k)[None, :]
        div = np.multiply.outer(div, ((pos >= 0) & (pos < n)).sum(axis=1))
    return div


# --- composed losses ---------------------------------------------------------------------------
def composed_total_loss(data_loss: Any, flat: Any, layers: Iterable[tuple[Any, Any]], *,
                        penalty_fn: Callable[[Any], Any], group_fn: Callable[..., Any],
                        lambda_r: float, lambda_g: float, group_form: str) -> Any:
    """loss_D + lambda_R R(all weights) + lambda_g sum of the layers' group terms, composed
    from a backend's own penalty mappings on native tensors: ``penalty_fn`` is R (its l1, l2
    or l2_squared mapping), applied to ``flat``, every weight in one vector (R is over all of
    them together); ``group_fn`` its group mapping; ``layers`` (weights, group ids or None)
    per layer."""
    loss = data_loss + lambda_r * penalty_fn(flat)
    terms = [group_fn(w, g, form=group_form) for w, g in layers if g is not None]
    if not terms:
        return loss
    return loss + lambda_g * (terms[0] if len(terms) == 1 else terms[0] + terms[1])


# --- architectures -------------------------------------------------------------------------------
Conv = tuple[int, int, int]  # (c_in, c_out, kernel) of a 'same', stride-1 convolution


def bottleneck_chains(*, c_in: int, c_mid: int, c_out: int,
                      kernel: int) -> tuple[list[Conv], list[Conv], list[Conv], list[Conv]]:
    """The four convolution chains whose multiplies ``arch.shapes_and_params/bottleneck``
    counts: direct (k x k, c_in -> c_out), reduce (1x1, c_in -> c_mid), expand (k x k,
    c_mid -> c_out) and the bottleneck (reduce then expand)."""
    reduce, expand = (c_in, c_mid, 1), (c_mid, c_out, kernel)
    return [(c_in, c_out, kernel)], [reduce], [expand], [reduce, expand]


def summary_columns(layers: Iterable[tuple[int, Sequence[int], int]]
                    ) -> tuple[list[int], list[list[int]], list[int], int]:
    """Per-layer (kind index, output shape per sample in (C, H, W) order or (units,), parameter
    count) -> the columns ``arch.shapes_and_params`` returns: kinds, shapes padded with
    zeros to three entries, parameter counts, and their total."""
    kinds, shapes, params = [], [], []
    for kind, shape, count in layers:
        kinds.append(int(kind))
        shapes.append([int(v) for v in shape] + [0] * (3 - len(shape)))
        params.append(int(count))
    return kinds, shapes, params, sum(params)
