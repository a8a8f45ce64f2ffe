"""TensorFlow mappings of the ``pool`` family (tf.nn pooling kernels, channels-last inside).

tf.nn pools are NWC/NHWC/NDHWC with 'VALID'/'SAME' padding only: inputs are transposed from
the canonical NC* layout, padded explicitly (tf.pad: -inf for max, zeros for sums) and pooled
with 'VALID'. Explicit zero padding is counted by tf.nn.avg_pool, so averages are rescaled
to torch's divisor (which never counts the ceil-mode overhang). tf.nn.max_pool has no
dilation; tf.nn.pool has it only at stride 1, so dilated windows are pooled at stride 1 and
subsampled (the same windows, exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from adapters._shared import pool_divisor, pool_end_padding, pool_same_pads
from adapters.base import implements
from adapters.tensorflow._lazy import tf


def _last(x: Any) -> Any:
    """NC* -> N*C."""
    return tf.transpose(x, [0, *range(2, len(x.shape)), 1])


def _first(y: Any) -> Any:
    """N*C -> NC*."""
    r = len(y.shape) - 2
    return tf.transpose(y, [0, r + 1, *range(1, r + 1)])


def _padded(x: Any, padding: Sequence[int], ends: Sequence[int], value: float) -> Any:
    """x (N*C) padded by p before and ``ends`` after each spatial axis with ``value``."""
    pads = [[0, 0], *([p, e] for p, e in zip(padding, ends, strict=True)), [0, 0]]
    return tf.pad(x, pads, constant_values=tf.constant(value, dtype=x.dtype))


# Passed explicitly: tf.nn.max_pool/avg_pool leave a 5-d op's data_format attribute unset,
# and the MaxPool3D/AvgPool3D gradient functions then fail on it (AttributeError on None).
FORMATS = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def _max_valid(xp: Any, kernel: Sequence[int], stride: Sequence[int],
               dilation: Sequence[int]) -> Any:
    """VALID max pooling of channels-last xp, dilated windows included."""
    if all(d == 1 for d in dilation):
        return tf.nn.max_pool(xp, list(kernel), list(stride), "VALID",
                              data_format=FORMATS[len(kernel)])
    y = tf.nn.pool(xp, list(kernel), "MAX", strides=[1] * len(kernel), padding="VALID",
                   dilations=list(dilation))
    return y[(slice(None), *(slice(None, None, s) for s in stride), slice(None))]


def _sum_scale(x: Any, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
               ceil_mode: bool, divisor: np.ndarray | None) -> Any:
    """Window sums divided by ``divisor`` (None: the plain sum), via tf.nn.avg_pool of the
    zero-padded input (which divides by prod(kernel)) times prod(kernel) / divisor."""
    ends = pool_end_padding(x.shape[2:], kernel, stride, padding, (1,) * len(kernel), ceil_mode)
    mean = tf.nn.avg_pool(_padded(_last(x), padding, ends, 0.0), list(kernel), list(stride),
                          "VALID", data_format=FORMATS[len(kernel)])
    size = math.prod(kernel)
    scale = np.full((), float(size)) if divisor is None else size / divisor
    if np.all(scale == 1):
        return _first(mean)
    return _first(mean * tf.constant(scale[..., None], dtype=x.dtype))


def _windows(x: Any, kernel: Sequence[int], stride: Sequence[int]) -> Any:
    """(N, C, *out, K): every unpadded window of x (NC*), slots in row-major order."""
    out = [(n - k) // s + 1 for n, k, s in zip(x.shape[2:], kernel, stride, strict=True)]
    parts = [x[(slice(None), slice(None),
                *(slice(j, j + (o - 1) * s + 1, s) for j, o, s in zip(offset, out, stride,
                                                                      strict=True)))]
             for offset in np.ndindex(*kernel)]
    return tf.stack(parts, axis=-1)


class PoolingOps:
    @implements("pool.max", native=(
                    "tensorflow.nn.max_pool",
                    "tensorflow.nn.pool",
                    "tensorflow.pad",
                ),
                params={
                        "data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None",
                        "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: -inf (never chosen)",
                        "padding": "fixed: VALID after tf.pad",
                        "strides": "drawn: from stride",
                        "dilations": "drawn: from dilation"})
    def max_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        ends = pool_end_padding(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
        xp = _padded(_last(x), padding, ends, -np.inf)
        return _first(_max_valid(xp, kernel, stride, dilation))

    @implements("pool.max/indices", native=("tensorflow.nn.max_pool_with_argmax", "tensorflow.pad"),
                params={
                        "data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None",
                        "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: -inf (never chosen)",
                        "output_dtype": "fixed: int64",
                        "include_batch_in_index": "fixed: False, per-plane indices"})
    def max_pool_with_indices(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                              padding: Sequence[int], dilation: Sequence[int],
                              ceil_mode: bool) -> Any:
        # tf.nn.max_pool_with_argmax (2-d, no dilation) indexes the padded NHWC input as
        # (y * W_padded + x) * C + c; converted to the unpadded plane's y * W + x. Its input
        # is cut from the tape: its gradient has no forward-mode rule (the values come from
        # tf.nn.max_pool, which has both).
        if len(kernel) != 2 or any(d != 1 for d in dilation):
            raise NotImplementedError("tf.nn.max_pool_with_argmax: 2-d, no dilation")
        values = self.max_pool(x, kernel=kernel, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode)
        ends = pool_end_padding(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
        xp = _padded(_last(tf.stop_gradient(x)), padding, ends, -np.inf)
        _, arg = tf.nn.max_pool_with_argmax(xp, list(kernel), list(stride), "VALID")
        c, wp = x.shape[1], xp.shape[2]
        yx = _first(arg) // c
        row, col = yx // wp - padding[0], yx % wp - padding[1]
        return values, row * x.shape[3] + col

    @implements("pool.min", composed=True)
    def min_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        # No min pool in TF: -maxpool(-x).
        return -self.max_pool(-x, kernel=kernel, stride=stride, padding=padding,
                              dilation=dilation, ceil_mode=ceil_mode)

    @implements("pool.avg", native=("tensorflow.nn.avg_pool", "tensorflow.pad"),
                params={
                        "data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None",
                        "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: 0 (zeros in the sums)"})
    def avg_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                 divisor_override: int | None = None) -> Any:
        # divisor_override (torch's): TF has none; every window sum is divided by it instead.
        div = (pool_divisor(x.shape[2:], kernel, stride, padding, ceil_mode, count_include_pad)
               if divisor_override is None else np.asarray(float(divisor_override)))
        return _sum_scale(x, kernel, stride, padding, ceil_mode, div)

    @implements("pool.max/same", native="tensorflow.nn.max_pool",
                params={
                        "data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None"})
    def max_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, dilation: Sequence[int], ceil_mode: bool) -> Any:
        return _first(tf.nn.max_pool(_last(x), list(kernel), list(stride), "SAME",
                                     data_format=FORMATS[len(kernel)]))

    @implements("pool.avg/same", native=("tensorflow.nn.avg_pool", "tensorflow.pad"),
                params={
                        "data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None",
                        "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: 0"})
    def avg_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, ceil_mode: bool, count_include_pad: bool) -> Any:
        # tf.nn.avg_pool 'SAME' divides by the real elements (count_include_pad=False); True
        # counts the padding: tf.pad zeros with SAME's split, then a 'VALID' average.
        if not count_include_pad:
            return _first(tf.nn.avg_pool(_last(x), list(kernel), list(stride), "SAME",
                                         data_format=FORMATS[len(kernel)]))
        pads = pool_same_pads(x.shape[2:], kernel, stride)
        xp = _padded(_last(x), [lo for lo, _ in pads], [hi for _, hi in pads], 0.0)
        return _first(tf.nn.avg_pool(xp, list(kernel), list(stride), "VALID",
                                     data_format=FORMATS[len(kernel)]))

    @implements("pool.max/wide_padding",
                native=("tensorflow.nn.max_pool", "tensorflow.pad"),
                params={"data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None", "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: -inf (never chosen)"})
    def max_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool,
                      wide_padding: bool) -> Any:
        # tf.pad takes any padding: the regular mapping.
        return self.max_pool(x, kernel=kernel, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)

    @implements("pool.avg/wide_padding",
                native=("tensorflow.nn.avg_pool", "tensorflow.pad"),
                params={"data_format": "fixed: channels-last (the CPU kernel layout)",
                        "name": "fixed: None", "mode": "fixed: CONSTANT",
                        "constant_values": "fixed: 0 (zeros in the sums)"})
    def avg_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                      wide_padding: bool) -> Any:
        return self.avg_pool(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    @implements("pool.l2", composed=True)
    def l2_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], mean: bool, count_include_pad: bool,
                norm_type: float = 2.0) -> Any:
        # No Lp pooling in TF: the p-th root (sqrt for p = 2) of the (mean or plain) window
        # sum of |x|^p.
        div = (pool_divisor(x.shape[2:], kernel, stride, padding, False, count_include_pad)
               if mean else None)
        if norm_type == 2.0:
            return tf.sqrt(_sum_scale(x * x, kernel, stride, padding, False, div))
        # tf.constant(dtype=): tf.cast of a Python float would round it to float32 first.
        powers = tf.abs(x) ** tf.constant(norm_type, dtype=x.dtype)
        total = _sum_scale(powers, kernel, stride, padding, False, div)
        return total ** tf.constant(1.0 / norm_type, dtype=x.dtype)

    @implements("pool.stochastic/eval", composed=True)
    def stochastic_pool_eval(self, x: Any, *, kernel: Sequence[int],
                             stride: Sequence[int]) -> Any:
        # sum a^2 / sum a = mean(a^2) / mean(a) over the same windows.
        def pool(v: Any) -> Any:
            return tf.nn.avg_pool(_last(v), list(kernel), list(stride), "VALID",
                                  data_format=FORMATS[len(kernel)])

        return _first(pool(x * x) / pool(x))

    @implements("pool.stochastic/train", composed=True)
    def stochastic_pool_train(self, x: Any, *, kernel: Sequence[int],
                              stride: Sequence[int]) -> Any:
        win = _windows(x, kernel, stride)
        flat = tf.reshape(win, [-1, win.shape[-1]])
        # categorical samples index i with probability softmax(log a)_i = a_i / sum a.
        pick = tf.random.categorical(tf.math.log(flat), 1)
        return tf.reshape(tf.gather(flat, pick, batch_dims=1), win.shape[:-1])

    @implements("pool.global_avg", native="tensorflow.reduce_mean",
                params={
                        "axis": "fixed: the spatial axes",
                        "keepdims": "drawn",
                        "name": "fixed: None"})
    def global_avg_pool(self, x: Any, *, keepdims: bool) -> Any:
        # What keras GlobalAveragePooling computes (channels_first: the trailing axes).
        return tf.reduce_mean(x, axis=list(range(2, len(x.shape))), keepdims=keepdims)

    @implements("pool.global_max", native="tensorflow.reduce_max",
                params={
                        "axis": "fixed: the spatial axes",
                        "keepdims": "drawn",
                        "name": "fixed: None"})
    def global_max_pool(self, x: Any, *, keepdims: bool) -> Any:
        return tf.reduce_max(x, axis=list(range(2, len(x.shape))), keepdims=keepdims)

    @implements("pool.max_unpool", composed=True)
    def max_unpool(self, values: Any, indices: Any, *, output_size: Sequence[int]) -> Any:
        # TF/Keras have no unpool: write each value at (n, c, index) of a zero plane.
        size = tuple(int(n) for n in output_size)[-(len(values.shape) - 2):]
        n, c = values.shape[:2]
        idx = tf.reshape(indices, [n, c, -1])
        rows = tf.broadcast_to(tf.range(n, dtype=idx.dtype)[:, None, None], idx.shape)
        chans = tf.broadcast_to(tf.range(c, dtype=idx.dtype)[None, :, None], idx.shape)
        where = tf.reshape(tf.stack([rows, chans, idx], axis=-1), [-1, 3])
        flat = tf.tensor_scatter_nd_update(tf.zeros([n, c, math.prod(size)], values.dtype),
                                           where, tf.reshape(values, [-1]))
        return tf.reshape(flat, [n, c, *size])

    @implements("pool.kmax", composed=True)
    def kmax_pool(self, x: Any, *, k: int, axis: int, largest: bool = True) -> Any:
        # tf.math.top_k works on the last axis; among equal values it takes the lowest index.
        # No smallest-k flag: the top k of -x (ties stay ties under negation).
        r = len(x.shape)
        axis = axis % r
        perm = [*(a for a in range(r) if a != axis), axis]
        moved = tf.transpose(x, perm)
        keep = tf.sort(tf.math.top_k(moved if largest else -moved, k).indices, axis=-1)
        return tf.transpose(tf.gather(moved, keep, batch_dims=r - 1), np.argsort(perm))
