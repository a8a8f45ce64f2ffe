"""JAX mappings of the ``act`` family (jax.nn kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax


class ActivationOps:
    @implements("act.sigmoid")
    def sigmoid(self, x: Any) -> Any:
        return jax.nn.sigmoid(x)

    @implements("act.tanh")
    def tanh(self, x: Any) -> Any:
        return jax.numpy.tanh(x)

    @implements("act.relu")
    def relu(self, x: Any) -> Any:
        return jax.nn.relu(x)

    @implements("act.leaky_relu")
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return jax.nn.leaky_relu(x, negative_slope=slope)

    @implements("act.softmax")
    def softmax(self, x: Any, *, axis: int) -> Any:
        return jax.nn.softmax(x, axis=axis)

    @implements("act.log_softmax")
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return jax.nn.log_softmax(x, axis=axis)
