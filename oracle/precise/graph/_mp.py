"""mpmath helpers of the graph transcriptions: object arrays of mpf, edges, products."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

ZERO, ONE = mpmath.mpf(0), mpmath.mpf(1)


def _mp(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = mpmath.mpf(float(arr[idx]))
    return out


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out[...] = ZERO
    return out


def _edges(edge_index: Any, edge_weight: Any) -> tuple[list[int], list[int], list[Any]]:
    ei = np.asarray(edge_index)
    w = [ONE] * ei.shape[1] if edge_weight is None else list(_mp(edge_weight))
    return [int(v) for v in ei[0]], [int(v) for v in ei[1]], w


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = _zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = mpmath.fsum(a[i, k] * b[k, j] for k in range(a.shape[1]))
    return out


def _linear(x: np.ndarray, w: Any, b: Any = None) -> np.ndarray:
    out = _matmul(x, _mp(w).T)
    if b is not None:
        out = out + _mp(b)[None, :]
    return out


def _relu(v: Any) -> Any:
    return v if v > 0 else ZERO


