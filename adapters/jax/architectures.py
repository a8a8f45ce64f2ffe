"""JAX mappings of the ``arch`` family, in plain JAX (no Flax), from XLA's own shape inference
and cost model.

Each net is a list of (init, apply) layer pairs written here; jax.eval_shape runs the inits
(parameter shapes, no memory) and the applies (output shapes, XLA's shape inference) without
computing anything. Bottleneck multiplies: XLA's own cost analysis of the lowered
convolution ('flops', 2 per multiply-add), padding zeros made explicit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from adapters._shared import bottleneck_chains, summary_columns
from adapters.base import implements
from adapters.jax._lazy import jax, jnp, lax
from adapters.jax.conv import LAYOUTS, add_bias


# Each layer: (kind, init(in_shape) -> params, apply(params, x)).
def _conv_layer(c: int, k: int, s: int = 1, p: int = 0) -> tuple[str, Callable, Callable]:
    def init(shape: tuple[int, ...]) -> tuple[Any, Any]:
        return jnp.zeros((c, shape[0], k, k)), jnp.zeros((c,))

    def apply(params: tuple[Any, Any], x: Any) -> Any:
        y = lax.conv_general_dilated(x, params[0], (s, s), [(p, p), (p, p)],
                                     dimension_numbers=LAYOUTS[2])
        return add_bias(y, params[1])

    return "conv", init, apply


def _pool_layer(kind: str, k: int, s: int) -> tuple[str, Callable, Callable]:
    def apply(params: Any, x: Any) -> Any:
        if kind == "maxpool":
            return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, k, k), (1, 1, s, s), "VALID")
        return lax.reduce_window(x, 0.0, lax.add, (1, 1, k, k), (1, 1, s, s), "VALID") / k**2

    return kind, lambda shape: (), apply


def _dense_layer(units: int) -> tuple[str, Callable, Callable]:
    def init(shape: tuple[int, ...]) -> tuple[Any, Any]:
        return jnp.zeros((shape[0], units)), jnp.zeros((units,))

    return "dense", init, lambda params, x: x @ params[0] + params[1]


FLATTEN = ("flatten", lambda shape: (), lambda params, x: x.reshape(x.shape[0], -1))


def _head() -> list[tuple[str, Callable, Callable]]:
    return [FLATTEN, _dense_layer(4096), _dense_layer(4096), _dense_layer(1000)]


def _nets() -> dict[str, tuple[tuple[int, int, int], list[tuple[str, Callable, Callable]]]]:
    vgg: list[tuple[str, Callable, Callable]] = []
    for c, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        vgg += [_conv_layer(c, 3, 1, 1)] * repeat + [_pool_layer("maxpool", 2, 2)]
    return {
        "lenet5": ((1, 32, 32), [_conv_layer(6, 5), _pool_layer("avgpool", 2, 2),
                                 _conv_layer(16, 5), _pool_layer("avgpool", 2, 2), FLATTEN,
                                 _dense_layer(120), _dense_layer(84), _dense_layer(10)]),
        "alexnet": ((3, 227, 227), [
            _conv_layer(96, 11, 4), _pool_layer("maxpool", 3, 2), _conv_layer(256, 5, 1, 2),
            _pool_layer("maxpool", 3, 2), _conv_layer(384, 3, 1, 1), _conv_layer(384, 3, 1, 1),
            _conv_layer(256, 3, 1, 1), _pool_layer("maxpool", 3, 2), *_head()]),
        "vgg16": ((3, 224, 224), vgg + _head()),
    }


KINDS = ("conv", "maxpool", "avgpool", "flatten", "dense")  # the spec's kind order
_SUMMARIES: dict[str, tuple[list[int], list[list[int]], list[int], int]] = {}
_MULTIPLIES: dict[tuple[Any, ...], int] = {}


def _summary(name: str) -> tuple[list[int], list[list[int]], list[int], int]:
    if name not in _SUMMARIES:
        in_shape, layers = _nets()[name]
        x = jax.ShapeDtypeStruct((1, *in_shape), jnp.float64)
        rows = []
        for kind, init, apply in layers:
            p = jax.eval_shape(partial(init, x.shape[1:]))
            x = jax.eval_shape(apply, p, x)
            rows.append((KINDS.index(kind), x.shape[1:],
                         sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(p))))
        _SUMMARIES[name] = summary_columns(rows)
    return _SUMMARIES[name]


def _multiplies(size: int, convs: list[tuple[int, int, int]]) -> int:
    """Half of XLA's flop count of the 'same' convolutions (no bias). XLA counts
    only the taps that meet real input elements (padding='SAME' gives 110.3M for the notes'
    120.4M); the oracle counts the padding zeros too, so the input is padded explicitly
    (jnp.pad: its zeros are real elements) and convolved 'VALID'."""
    def net(x: Any, *ws: Any) -> Any:
        for w in ws:
            p = w.shape[2] // 2
            x = jnp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            x = lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=LAYOUTS[2])
        return x

    x = jax.ShapeDtypeStruct((1, convs[0][0], size, size), jnp.float32)
    ws = [jax.ShapeDtypeStruct((c_o, c_i, k, k), jnp.float32) for c_i, c_o, k in convs]
    key = (size, tuple(convs))
    if key not in _MULTIPLIES:
        # The lowered program's cost analysis: XLA's HLO cost model, without compiling.
        cost = jax.jit(net).lower(x, *ws).cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        _MULTIPLIES[key] = int(round(cost["flops"])) // 2
    return _MULTIPLIES[key]


class ArchitectureOps:
    @implements("arch.shapes_and_params", composed=True)
    def shapes_and_params(self, *, name: str) -> tuple[Any, ...]:
        return tuple(jnp.asarray(column, dtype=jnp.float64) for column in _summary(name))

    @implements("arch.shapes_and_params/bottleneck", composed=True)
    def bottleneck_multiplies(self, *, size: int, c_in: int, c_mid: int, c_out: int,
                              kernel: int) -> tuple[Any, ...]:
        chains = bottleneck_chains(c_in=c_in, c_mid=c_mid, c_out=c_out, kernel=kernel)
        return tuple(jnp.asarray(_multiplies(size, convs), dtype=jnp.float64)
                     for convs in chains)
