"""JAX mappings of the ``act`` family (jax.nn kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax

_SOFTMAX = {"axis": "drawn", "where": "not covered: None; a masked softmax (where=) is "
            "never drawn (the attention specs mask through -inf scores instead)"}


class ActivationOps:
    @implements("act.sigmoid", native="jax.nn.sigmoid")
    def sigmoid(self, x: Any) -> Any:
        return jax.nn.sigmoid(x)

    @implements("act.tanh", native="jax.numpy.tanh")
    def tanh(self, x: Any) -> Any:
        return jax.numpy.tanh(x)

    @implements("act.relu", native="jax.nn.relu")
    def relu(self, x: Any) -> Any:
        return jax.nn.relu(x)

    @implements("act.leaky_relu", native="jax.nn.leaky_relu",
                params={"negative_slope": "drawn: from slope"})
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return jax.nn.leaky_relu(x, negative_slope=slope)

    @implements("act.softmax", native="jax.nn.softmax", params=_SOFTMAX)
    def softmax(self, x: Any, *, axis: int) -> Any:
        return jax.nn.softmax(x, axis=axis)

    @implements("act.log_softmax", native="jax.nn.log_softmax", params=_SOFTMAX)
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return jax.nn.log_softmax(x, axis=axis)
