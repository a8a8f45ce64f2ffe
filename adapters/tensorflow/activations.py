"""TensorFlow mappings of the ``act`` family (tf.nn / tf.math kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import tf
from adapters.tensorflow._params import NAME


class ActivationOps:
    @implements("act.sigmoid", native="tf.math.sigmoid", params=NAME)
    def sigmoid(self, x: Any) -> Any:
        return tf.math.sigmoid(x)

    @implements("act.tanh", native="tf.math.tanh", params=NAME)
    def tanh(self, x: Any) -> Any:
        return tf.math.tanh(x)

    @implements("act.relu", native="tf.nn.relu", params=NAME)
    def relu(self, x: Any) -> Any:
        return tf.nn.relu(x)

    @implements("act.leaky_relu", native="tf.nn.leaky_relu",
                params={**NAME, "alpha": "drawn: from slope"})
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return tf.nn.leaky_relu(x, alpha=slope)

    @implements("act.softmax", native="tf.nn.softmax", params={**NAME, "axis": "drawn"})
    def softmax(self, x: Any, *, axis: int) -> Any:
        return tf.nn.softmax(x, axis=axis)

    @implements("act.log_softmax", native="tf.nn.log_softmax",
                params={**NAME, "axis": "drawn"})
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return tf.nn.log_softmax(x, axis=axis)
