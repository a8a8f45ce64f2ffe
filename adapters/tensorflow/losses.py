"""TensorFlow mappings of the ``loss`` family (tf.nn kernels, Keras ops).

Keras' loss *functions* (keras.losses.binary_crossentropy, mean_squared_error...) average
over the last axis before any reduction, so "sum" cannot be expressed with them; the
elementwise kernels below are the ones those functions call, reduced with tf.reduce_mean /
tf.reduce_sum ("sum_over_batch_size" over equal rows is the overall mean).
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return tf.reduce_mean(loss)
    if reduction == "sum":
        return tf.reduce_sum(loss)
    return loss


def _per_sample_ce(logits: Any, target: Any) -> Any:
    """Softmax cross-entropy over the last axis, integer indices or probability rows."""
    if target.dtype.is_integer:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)
    return tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=logits, axis=-1)


class LossOps:
    @implements("loss.mse")
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        # SquaredDifference is TF's elementwise squared-error kernel.
        return _reduce(tf.math.squared_difference(y, t), reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        # Keras' kernel_regularizer=L2(l) is this same l * sum(w^2), added by the model.
        return self.mse(y, t, reduction=reduction) + weight_decay * tf.reduce_sum(w * w)

    @implements("loss.binary_cross_entropy/probs")
    @implements("loss.binary_cross_entropy/logits")
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        if from_logits:
            loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=p)
        else:
            # Keras clips p to [1e-7, 1 - 1e-7]: inactive for the spec's [2^-10, 1 - 2^-10].
            loss = keras.ops.binary_crossentropy(t, p, from_logits=False)
        return _reduce(loss, reduction)

    @implements("loss.cross_entropy")
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        return _reduce(_per_sample_ce(logits, target), reduction)

    @implements("loss.sequence_cross_entropy", composed=True)
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        # The sparse kernel takes any leading axes: (T, N, C) logits give (T, N) losses.
        per_sample = _per_sample_ce(logits, target)
        per_step = (tf.reduce_mean(per_sample, axis=1) if reduction == "mean"
                    else tf.reduce_sum(per_sample, axis=1))
        return tf.reduce_sum(per_step)
