"""JAX mappings of the ``pool`` family: ``lax.reduce_window`` (max, min, add) on the NC* layout.

JAX has no pooling layer in core (Flax's pools are reduce_window too). torch's window rule is
reached with reduce_window's explicit (low, high) padding: ``p`` before, and after ``p`` plus
the ceil-mode overhang; the padding value is the reduction's identity (-inf for max, +inf for
min, 0 for sums), so it is never chosen. Average divisors are computed from the geometry.

Single reduce_window calls run eagerly; compositions run under jax.jit with the geometry
static (one compile per shape instead of one per primitive, as eager dispatch does).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adapters._shared import pool_divisor, pool_end_padding, pool_same_divisor, pool_same_pads
from adapters.base import implements
from adapters.jax._lazy import jax, jnp, lax


@functools.cache
def _jit(fn: Callable[..., Any], static: tuple[str, ...]) -> Callable[..., Any]:
    return jax.jit(fn, static_argnames=static)


def _window_args(x: Any, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
                 dilation: Sequence[int], ceil_mode: bool) -> dict[str, Any]:
    ends = pool_end_padding(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    return {
        "window_dimensions": (1, 1, *kernel),
        "window_strides": (1, 1, *stride),
        "padding": ((0, 0), (0, 0), *zip(padding, ends, strict=True)),
        "window_dilation": (1, 1, *dilation),
    }


def _reduce(x: Any, init: float, op: Any, args: dict[str, Any]) -> Any:
    # The identity as a concrete NumPy scalar: lax then picks its differentiable monoid
    # reductions (reduce_window_max/min/sum).
    return lax.reduce_window(x, np.array(init, dtype=x.dtype), op, **args)


def _windows(x: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
             out: Sequence[int]) -> Any:
    """(N, C, *out, K): every window of x by strided slicing, slots in row-major order."""
    slices = []
    for offset in np.ndindex(*kernel):
        start = (0, 0, *(j * d for j, d in zip(offset, dilation, strict=True)))
        limit = (*x.shape[:2], *(b + (o - 1) * s + 1 for b, o, s in
                                 zip(start[2:], out, stride, strict=True)))
        slices.append(lax.slice(x, start, limit, (1, 1, *stride)))
    return jnp.stack(slices, axis=-1)


GEOMETRY = ("kernel", "stride", "padding", "dilation", "ceil_mode")
AVERAGE = ("kernel", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


def _max_with_indices(x: Any, *, kernel: tuple[int, ...], stride: tuple[int, ...],
                      padding: tuple[int, ...], dilation: tuple[int, ...],
                      ceil_mode: bool) -> tuple[Any, Any]:
    """Values from reduce_window; indices from the first maximum of each gathered window,
    mapped to flat indices of the unpadded plane."""
    args = _window_args(x, kernel, stride, padding, dilation, ceil_mode)
    values = _reduce(x, -np.inf, lax.max, args)
    padded = jnp.pad(lax.stop_gradient(x), args["padding"], constant_values=-np.inf)
    slot = jnp.argmax(_windows(padded, kernel, stride, dilation, values.shape[2:]), -1)
    flat = np.zeros((), np.int64)
    for a, (n, k, s, p, d) in enumerate(zip(x.shape[2:], kernel, stride, padding, dilation,
                                            strict=True)):
        pos = np.arange(values.shape[2 + a])[:, None] * s - p + np.arange(k)[None, :] * d
        flat = np.add.outer(flat * n, pos)
    r = len(kernel)
    table = flat.transpose([*range(0, 2 * r, 2), *range(1, 2 * r, 2)])
    table = jnp.asarray(table.reshape(*values.shape[2:], -1))
    table = jnp.broadcast_to(table, slot.shape + table.shape[-1:])
    return values, jnp.take_along_axis(table, slot[..., None], axis=-1)[..., 0]


def _avg(x: Any, *, kernel: tuple[int, ...], stride: tuple[int, ...],
         padding: tuple[int, ...], ceil_mode: bool, count_include_pad: bool,
         divisor_override: int | None = None) -> Any:
    ones = (1,) * len(kernel)
    total = _reduce(x, 0.0, lax.add, _window_args(x, kernel, stride, padding, ones, ceil_mode))
    div = (pool_divisor(x.shape[2:], kernel, stride, padding, ceil_mode, count_include_pad)
           if divisor_override is None else np.asarray(float(divisor_override)))
    return total / jnp.asarray(div, dtype=x.dtype)


def _same_args(x: Any, kernel: Sequence[int], stride: Sequence[int]) -> dict[str, Any]:
    """reduce_window arguments for TF's SAME split (docs/conventions/pooling.md §SAME)."""
    return {"window_dimensions": (1, 1, *kernel), "window_strides": (1, 1, *stride),
            "padding": ((0, 0), (0, 0), *pool_same_pads(x.shape[2:], kernel, stride))}


def _avg_same(x: Any, *, kernel: tuple[int, ...], stride: tuple[int, ...],
              count_include_pad: bool) -> Any:
    total = _reduce(x, 0.0, lax.add, _same_args(x, kernel, stride))
    div = (np.asarray(float(math.prod(kernel))) if count_include_pad
           else pool_same_divisor(x.shape[2:], kernel, stride))
    return total / jnp.asarray(div, dtype=x.dtype)


def _l2(x: Any, norm_type: Any = 2.0, *, kernel: tuple[int, ...], stride: tuple[int, ...],
        padding: tuple[int, ...], mean: bool, count_include_pad: bool) -> Any:
    # No Lp pooling in JAX: (window sum of |x|^p [/ n])^(1/p). norm_type is traced when the
    # caller passes it (pool.l2/lp); the default 2 (pool.l2) squares and takes sqrt.
    ones = (1,) * len(kernel)
    square = isinstance(norm_type, float) and norm_type == 2.0
    powers = x * x if square else jnp.abs(x) ** norm_type
    total = _reduce(powers, 0.0, lax.add, _window_args(x, kernel, stride, padding, ones, False))
    if mean:
        div = pool_divisor(x.shape[2:], kernel, stride, padding, False, count_include_pad)
        total = total / jnp.asarray(div, dtype=x.dtype)
    return jnp.sqrt(total) if square else total ** (1.0 / norm_type)


def _stochastic_eval(x: Any, *, kernel: tuple[int, ...], stride: tuple[int, ...]) -> Any:
    args = _window_args(x, kernel, stride, (0,) * len(kernel), (1,) * len(kernel), False)
    return _reduce(x * x, 0.0, lax.add, args) / _reduce(x, 0.0, lax.add, args)


def _stochastic_train(x: Any, key: Any, *, kernel: tuple[int, ...],
                      stride: tuple[int, ...]) -> Any:
    out = [(n - k) // s + 1 for n, k, s in zip(x.shape[2:], kernel, stride, strict=True)]
    win = _windows(x, kernel, stride, (1,) * len(kernel), out)
    # categorical samples index i with probability softmax(log a)_i = a_i / sum a.
    pick = jax.random.categorical(key, jnp.log(win), axis=-1)
    return jnp.take_along_axis(win, pick[..., None], axis=-1)[..., 0]


def _unpool(values: Any, indices: Any, *, size: tuple[int, ...]) -> Any:
    n, c = values.shape[:2]
    flat = jnp.zeros((n, c, math.prod(size)), dtype=values.dtype)
    rows = jnp.arange(n)[:, None, None]
    chans = jnp.arange(c)[None, :, None]
    flat = flat.at[rows, chans, indices.reshape(n, c, -1)].set(values.reshape(n, c, -1))
    return flat.reshape(n, c, *size)


def _kmax(x: Any, *, k: int, axis: int, largest: bool = True) -> Any:
    # lax.top_k works on the last axis; among equal values it takes the lowest index. It has
    # no smallest-k flag: the k smallest are the top k of -x (ties stay ties under negation).
    moved = jnp.moveaxis(x, axis, -1)
    keep = jnp.sort(lax.top_k(moved if largest else -moved, k)[1], axis=-1)
    return jnp.moveaxis(jnp.take_along_axis(moved, keep, axis=-1), -1, axis)


def _geometry(**kwargs: Any) -> dict[str, Any]:
    """Static (hashable) jit arguments: sequences as tuples."""
    return {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in kwargs.items()}


class PoolingOps:
    @implements("pool.max", native="jax.lax.reduce_window",
                params={
                        "base_dilation": "fixed: None",
                        "window_dilation": "drawn: from dilation",
                        "window_strides": "drawn: from stride",
                        "padding": "drawn"})
    def max_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        return _reduce(x, -np.inf, lax.max,
                       _window_args(x, kernel, stride, padding, dilation, ceil_mode))

    @implements("pool.max/indices", composed=True)
    def max_pool_with_indices(self, x: Any, **geometry: Any) -> Any:
        # No arg-max pooling in JAX: composed (see _max_with_indices).
        return _jit(_max_with_indices, GEOMETRY)(x, **_geometry(**geometry))

    @implements("pool.min", native="jax.lax.reduce_window",
                params={
                        "base_dilation": "fixed: None",
                        "window_dilation": "fixed: 1; the pool.min menus draw no dilation",
                        "window_strides": "drawn: from stride",
                        "padding": "drawn"})
    def min_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        return _reduce(x, np.inf, lax.min,
                       _window_args(x, kernel, stride, padding, dilation, ceil_mode))

    @implements("pool.avg", composed=True)
    def avg_pool(self, x: Any, **geometry: Any) -> Any:
        return _jit(_avg, AVERAGE)(x, **_geometry(**geometry))

    @implements("pool.max/same", native="jax.lax.reduce_window",
                params={
                        "base_dilation": "fixed: None",
                        "window_dilation": "fixed: None, no dilation with same padding",
                        "window_strides": "drawn: from stride",
                        "padding": "fixed: 'same', what the variant tests"})
    def max_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, dilation: Sequence[int], ceil_mode: bool) -> Any:
        # reduce_window with TF's (before, after) split, -inf padding (never chosen).
        return _reduce(x, -np.inf, lax.max, _same_args(x, kernel, stride))

    @implements("pool.avg/same", composed=True)
    def avg_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, ceil_mode: bool, count_include_pad: bool) -> Any:
        return _jit(_avg_same, ("kernel", "stride", "count_include_pad"))(
            x, **_geometry(kernel=kernel, stride=stride, count_include_pad=count_include_pad))

    @implements("pool.max/wide_padding",
                native="jax.lax.reduce_window",
                params={"window_strides": "drawn: from stride", "padding": "drawn",
                        "base_dilation": "fixed: None", "window_dilation": "drawn: from dilation"})
    def max_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool,
                      wide_padding: bool) -> Any:
        # reduce_window takes any explicit padding: the regular mapping.
        return self.max_pool(x, kernel=kernel, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)

    @implements("pool.avg/wide_padding", composed=True)
    def avg_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                      wide_padding: bool) -> Any:
        return self.avg_pool(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    @implements("pool.l2", composed=True)
    def l2_pool(self, x: Any, **geometry: Any) -> Any:
        static = ("kernel", "stride", "padding", "mean", "count_include_pad")
        if "norm_type" not in geometry:
            return _jit(_l2, static)(x, **_geometry(**geometry))
        norm_type = geometry.pop("norm_type")
        return _jit(_l2, static)(x, jnp.asarray(norm_type, x.dtype), **_geometry(**geometry))

    @implements("pool.stochastic/eval", composed=True)
    def stochastic_pool_eval(self, x: Any, **geometry: Any) -> Any:
        return _jit(_stochastic_eval, ("kernel", "stride"))(x, **_geometry(**geometry))

    @implements("pool.stochastic/train", composed=True)
    def stochastic_pool_train(self, x: Any, **geometry: Any) -> Any:
        return _jit(_stochastic_train, ("kernel", "stride"))(x, self.next_key(),
                                                             **_geometry(**geometry))

    @implements("pool.global_avg", native="jax.numpy.mean",
                params={
                        "axis": "fixed: the spatial axes",
                        "keepdims": "drawn",
                        "dtype": "fixed: None",
                        "out": "fixed: None",
                        "where": "fixed: None"})
    def global_avg_pool(self, x: Any, *, keepdims: bool) -> Any:
        return jnp.mean(x, axis=tuple(range(2, x.ndim)), keepdims=keepdims)

    @implements("pool.global_max", native="jax.numpy.max",
                params={
                        "axis": "fixed: the spatial axes",
                        "keepdims": "drawn",
                        "out": "fixed: None",
                        "initial": "fixed: None",
                        "where": "fixed: None"})
    def global_max_pool(self, x: Any, *, keepdims: bool) -> Any:
        return jnp.max(x, axis=tuple(range(2, x.ndim)), keepdims=keepdims)

    @implements("pool.max_unpool", composed=True)
    def max_unpool(self, values: Any, indices: Any, *, output_size: Sequence[int]) -> Any:
        # JAX has no unpool: scatter with .at[].set into one flat plane per (n, c).
        size = tuple(int(n) for n in output_size)[-(values.ndim - 2):]
        return _jit(_unpool, ("size",))(values, indices, size=size)

    @implements("pool.kmax", composed=True)
    def kmax_pool(self, x: Any, *, k: int, axis: int, largest: bool = True) -> Any:
        return _jit(_kmax, ("k", "axis", "largest"))(x, k=k, axis=axis, largest=largest)
