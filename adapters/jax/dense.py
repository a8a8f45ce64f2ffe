"""JAX mapping of ``nn.dense``, composed: JAX core has no dense op (flax.linen.Dense is
jnp.dot plus an add), so it is jnp.matmul, JAX's matrix-multiply kernel, plus the bias and
the activation, under one jax.jit (as ``losses`` runs its compositions, and for the same
reason: eagerly, every primitive compiles on its own per shape, dtype and mode)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp

_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: jax.nn.relu(z),
    "sigmoid": lambda z: jax.nn.sigmoid(z),
    "tanh": lambda z: jnp.tanh(z),
}


@functools.cache
def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    # Built on first use: importing this module must not import jax.
    return jax.jit(fn, static_argnames=("activation",))


def _dense(x: Any, w: Any, b: Any, *, activation: str) -> Any:
    z = jnp.matmul(x, w.T)
    if b is not None:
        z = z + b
    return _ACTIVATIONS[activation](z)


def _gemm(x: Any, w: Any, b: Any, alpha: Any, beta: Any, *, activation: str) -> Any:
    # alpha and beta traced (not static): one compile for every drawn value.
    return _ACTIVATIONS[activation](alpha * jnp.matmul(x, w.T) + beta * b)


class DenseOps:
    @implements("nn.dense", composed=True)
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        return _jit(_dense)(x, w, b, activation=activation)

    @implements("nn.dense/gemm", composed=True)
    def dense_gemm(self, x: Any, w: Any, b: Any, *, activation: str, alpha: float,
                   beta: float) -> Any:
        # No Gemm scales in JAX: alpha (x W^T) + beta b, as jax.scipy / BLAS would.
        return _jit(_gemm)(x, w, b, jnp.asarray(alpha, x.dtype), jnp.asarray(beta, x.dtype),
                           activation=activation)
