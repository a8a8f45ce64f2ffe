"""TensorFlow mappings of the ``act`` family (tf.nn / tf.math kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import tf


class ActivationOps:
    @implements("act.sigmoid")
    def sigmoid(self, x: Any) -> Any:
        return tf.math.sigmoid(x)

    @implements("act.tanh")
    def tanh(self, x: Any) -> Any:
        return tf.math.tanh(x)

    @implements("act.relu")
    def relu(self, x: Any) -> Any:
        return tf.nn.relu(x)

    @implements("act.leaky_relu")
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return tf.nn.leaky_relu(x, alpha=slope)

    @implements("act.softmax")
    def softmax(self, x: Any, *, axis: int) -> Any:
        return tf.nn.softmax(x, axis=axis)

    @implements("act.log_softmax")
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return tf.nn.log_softmax(x, axis=axis)
