"""Helpers shared by the mpmath transcriptions of the act, loss, nn, norm, pool, reg, conv,
block, arch and ad families: conversion to object arrays of ``mpmath.mpf`` and exact sums.

Every sum is one ``mpmath.fsum`` (exact accumulation, rounded once to the working precision),
so the transcriptions carry no rounding of their own beyond the caller's ``mpmath.workdps``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import mpmath
import numpy as np


def mp(a: Any) -> np.ndarray:
    """float64 (or integer, or already mpf) values as an object array of mpf."""
    arr = np.asarray(a, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = mpmath.mpf(arr[idx]) if not isinstance(arr[idx], mpmath.mpf) else arr[idx]
    return out


def fsum(terms: Iterable[Any]) -> Any:
    return mpmath.fsum(list(terms))


def elementwise(fn: Callable[[Any], Any], x: Any) -> np.ndarray:
    x = mp(x)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(x[idx])
    return out


def along(x: np.ndarray, axis: int, row_fn: Callable[[list[Any]], list[Any]]) -> np.ndarray:
    """Apply ``row_fn`` (a list of mpf -> a list of the same length) to every 1-D slice of x
    along ``axis``."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for idx in np.ndindex(moved.shape[:-1]):
        out[idx] = row_fn(list(moved[idx]))
    return np.moveaxis(out, -1, axis)


def reduce_over(x: np.ndarray, axes: tuple[int, ...],
                fn: Callable[[list[Any]], Any]) -> np.ndarray:
    """``fn`` of the flattened values over ``axes``, keepdims shape."""
    axes = tuple(a % x.ndim for a in axes)
    keep = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, keep + list(axes))
    lead = moved.shape[:len(keep)]
    flat = moved.reshape(lead + (-1,))
    out = np.empty(lead, dtype=object)
    for idx in np.ndindex(lead):
        out[idx] = fn(list(flat[idx]))
    shape = [1 if a in axes else x.shape[a] for a in range(x.ndim)]
    return out.reshape(shape)


def mean(values: list[Any]) -> Any:
    return fsum(values) / len(values)


def variance(values: list[Any]) -> Any:
    """Biased variance, exact: the mean is exact at the working precision."""
    mu = mean(values)
    return fsum((v - mu) ** 2 for v in values) / len(values)
