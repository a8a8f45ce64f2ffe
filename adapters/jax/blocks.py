"""JAX mappings of the ``block`` family, in plain JAX (no Flax): composed.

lax.conv_general_dilated on the canonical layouts (NCHW / OIHW, as ``conv.py``) with
symmetric 'same' padding k // 2, jax.nn.relu, lax.reduce_window max with -inf padding
(never chosen) for Inception's 3x3/1 pool, jnp.concatenate, and reshape + matmul for the
head (the NCHW reshape is the oracle's channel-major flatten). Each block is one jax.jit
per geometry: one XLA program (and one for each derivative) instead of a compile per
primitive, which is what eager mode would cost for a dozen primitives per shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adapters.base import implements
from adapters.jax._lazy import jax, jnp, lax
from adapters.jax._params import MATMUL
from adapters.jax.conv import LAYOUTS, add_bias

_JITTED: dict[str, Callable[..., Any]] = {}


def _same_conv(x: Any, w: Any, b: Any, stride: int = 1) -> Any:
    pads = [(k // 2, k // 2) for k in w.shape[2:]]
    y = lax.conv_general_dilated(x, w, (stride, stride), pads, dimension_numbers=LAYOUTS[2])
    return add_bias(y, b)


def _conv_relu(x: Any, w: Any, b: Any) -> Any:
    return jax.nn.relu(_same_conv(x, w, b))


def _residual(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any, shortcut: str,
              stride: int) -> Any:
    z2 = _same_conv(jax.nn.relu(_same_conv(x, w1, b1, stride)), w2, b2)
    if shortcut == "projection":
        short = lax.conv_general_dilated(x, ws, (stride, stride), "VALID",
                                         dimension_numbers=LAYOUTS[2])
    elif shortcut == "zero_pad":
        sub = x[:, :, ::stride, ::stride]
        short = jnp.pad(sub, ((0, 0), (0, z2.shape[1] - x.shape[1]), (0, 0), (0, 0)))
    else:
        short = x
    return jax.nn.relu(z2 + short)


def _inception(x: Any, w1: Any, b1: Any, w3r: Any, b3r: Any, w3: Any, b3: Any, w5r: Any,
               b5r: Any, w5: Any, b5: Any, wp: Any, bp: Any) -> Any:
    pooled = lax.reduce_window(x, np.array(-np.inf, dtype=x.dtype), lax.max, (1, 1, 3, 3),
                               (1, 1, 1, 1), ((0, 0), (0, 0), (1, 1), (1, 1)))
    return jnp.concatenate([
        _conv_relu(x, w1, b1),
        _conv_relu(_conv_relu(x, w3r, b3r), w3, b3),
        _conv_relu(_conv_relu(x, w5r, b5r), w5, b5),
        _conv_relu(pooled, wp, bp),
    ], axis=1)


def _flatten_fc(x: Any, w: Any, b: Any) -> Any:
    y = x.reshape(x.shape[0], -1) @ w.T
    return y if b is None else y + b


def _jitted(name: str, fn: Callable[..., Any], static: tuple[str, ...] = ()) -> Callable:
    if name not in _JITTED:
        _JITTED[name] = jax.jit(fn, static_argnames=static)
    return _JITTED[name]


_CONV = "jax.lax.conv_general_dilated"
_CONV_PARAMS = {**MATMUL, "lhs_dilation": "fixed: None (1, not transposed)",
                "rhs_dilation": "fixed: None (1)",
                "dimension_numbers": "fixed: NCHW / OIHW (the canonical layouts)",
                "feature_group_count": "fixed: 1 (default)",
                "batch_group_count": "fixed: 1 (default)"}


class BlockOps:
    @implements("block.residual", composed=True, native=(_CONV, "jax.numpy.pad"), params={
        **_CONV_PARAMS, "mode": "fixed: 'constant', zero channels (shortcut 'zero_pad')"})
    def residual(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any = None, *,
                 shortcut: str = "identity", stride: int = 1) -> Any:
        fn = _jitted("residual", _residual, ("shortcut", "stride"))
        return fn(x, w1, b1, w2, b2, ws, shortcut=shortcut, stride=stride)

    @implements("block.inception", composed=True,
                native=(_CONV, "jax.lax.reduce_window", "jax.numpy.concatenate"), params={
                    **_CONV_PARAMS, "window_strides": "fixed: 1 (the 3x3/1 pool)",
                    "padding": "fixed: 1 each side, -inf (never chosen)",
                    "base_dilation": "fixed: None (1)", "window_dilation": "fixed: None (1)",
                    "axis": "fixed: 1, the branches' channels", "dtype": "fixed: None"})
    def inception(self, *args: Any) -> Any:
        return _jitted("inception", _inception)(*args)

    @implements("block.flatten_fc", composed=True, native="jax.numpy.matmul",  # x @ w.T
                params=MATMUL)
    def flatten_fc(self, x: Any, w: Any, b: Any = None) -> Any:
        return _jitted("flatten_fc", _flatten_fc)(x, w, b)
