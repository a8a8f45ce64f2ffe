"""TensorFlow mapping of ``nn.dense``, composed: TF has no dense kernel; Keras' Dense runs
these same MatMul and BiasAdd ops. The oracle's (out, in) weight is Keras' (in, out) kernel
transposed, which MatMul's transpose_b does without a copy."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import tf

_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: tf.nn.relu(z),
    "sigmoid": lambda z: tf.math.sigmoid(z),
    "tanh": lambda z: tf.math.tanh(z),
}


class DenseOps:
    @implements("nn.dense", composed=True)
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        z = tf.linalg.matmul(x, w, transpose_b=True)
        if b is not None:
            z = tf.nn.bias_add(z, b)
        return _ACTIVATIONS[activation](z)

    @implements("nn.dense/gemm", composed=True)
    def dense_gemm(self, x: Any, w: Any, b: Any, *, activation: str, alpha: float,
                   beta: float) -> Any:
        # No Gemm scales in TF (MatMul has none): alpha (x W^T) + beta b.
        z = tf.linalg.matmul(x, w, transpose_b=True)
        a = tf.constant(alpha, dtype=x.dtype)
        c = tf.constant(beta, dtype=x.dtype)
        return _ACTIVATIONS[activation](a * z + c * b)
