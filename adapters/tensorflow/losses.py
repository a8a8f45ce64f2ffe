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


_KERAS_REDUCTION = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}


def _ce_options(logits: Any, target: Any, weight: Any, reduction: str,
                ignore_index: int | None, label_smoothing: float) -> Any:
    """torch's cross_entropy options composed (docs/conventions/losses.md §CE options): Keras
    has no per-class weights in a loss (class_weight exists only in Model.fit, as sample
    weights, which cannot weight the smoothed classes one by one)."""
    n, c = logits.shape
    logp = tf.nn.log_softmax(logits, axis=1)
    w = tf.ones((c,), logits.dtype) if weight is None else weight
    if target.dtype.is_integer:
        valid = (tf.ones((n,), tf.bool) if ignore_index is None
                 else tf.not_equal(target, tf.cast(ignore_index, target.dtype)))
        safe = tf.where(valid, target, tf.zeros_like(target))
        t = tf.one_hot(safe, c, dtype=logits.dtype)
        kept = tf.where(valid, tf.gather(w, safe), tf.zeros((n,), logits.dtype))
    else:
        valid, t, kept = tf.ones((n,), tf.bool), target, tf.ones((n,), logits.dtype)
    s = tf.constant(label_smoothing, dtype=logits.dtype)
    q = (1 - s) * t + s / tf.cast(c, logits.dtype)
    loss = tf.where(valid, -tf.reduce_sum(w * q * logp, axis=1), tf.zeros((n,), logits.dtype))
    if reduction == "mean":
        return tf.reduce_sum(loss) / tf.reduce_sum(kept)
    return _reduce(loss, reduction)


class LossOps:
    @implements("loss.mse", native="tensorflow.math.squared_difference",
                params={
                        "name": "fixed: None"})
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        # SquaredDifference is TF's elementwise squared-error kernel.
        return _reduce(tf.math.squared_difference(y, t), reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        # Keras' kernel_regularizer=L2(l) is this same l * sum(w^2), added by the model.
        return self.mse(y, t, reduction=reduction) + weight_decay * tf.reduce_sum(w * w)

    @implements("loss.binary_cross_entropy/probs", native="keras.ops.binary_crossentropy",
                params={
                        "from_logits": "fixed: False (the logits variant: tf.nn)"})
    @implements("loss.binary_cross_entropy/logits",
                native="tensorflow.nn.sigmoid_cross_entropy_with_logits",
                params={
                        "labels": "drawn: from t",
                        "logits": "drawn: from z",
                        "name": "fixed: None"})
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        if from_logits:
            loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=p)
        else:
            # Keras clips p to [1e-7, 1 - 1e-7]: inactive for the spec's [2^-10, 1 - 2^-10].
            loss = keras.ops.binary_crossentropy(t, p, from_logits=False)
        return _reduce(loss, reduction)

    @implements("loss.cross_entropy", native=(
                    "tensorflow.nn.sparse_softmax_cross_entropy_with_logits",
                    "tensorflow.nn.softmax_cross_entropy_with_logits",
                ),
                params={
                        "axis": "fixed: -1, the class axis",
                        "name": "fixed: None"})
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        return _reduce(_per_sample_ce(logits, target), reduction)

    @implements("loss.cross_entropy/index_options", composed=True,
                native="tensorflow.nn.log_softmax", params={"axis": "fixed: 1, the class axis",
                                                             "name": "fixed: None"})
    @implements("loss.cross_entropy/probs_options", composed=True,
                native="tensorflow.nn.log_softmax", params={"axis": "fixed: 1, the class axis",
                                                             "name": "fixed: None"})
    def cross_entropy_options(self, logits: Any, target: Any, weight: Any = None, *,
                              reduction: str, ignore_index: int | None = None,
                              label_smoothing: float = 0.0) -> Any:
        return _ce_options(logits, target, weight, reduction, ignore_index, label_smoothing)

    @implements("loss.cross_entropy/index_ignore",
                native="keras.losses.SparseCategoricalCrossentropy",
                params={"from_logits": "fixed: True", "ignore_class": "drawn: from ignore_index",
                        "reduction": "drawn", "axis": "fixed: -1, the class axis",
                        "name": "fixed: the default", "dtype": "fixed: the logits' dtype"})
    def cross_entropy_ignore(self, logits: Any, target: Any, *, reduction: str,
                             ignore_index: int | None = None) -> Any:
        # With ignore_class, Keras masks the ignored samples and its "sum_over_batch_size"
        # divides by the kept count (keras/src/losses/loss.py apply_mask): torch's mean.
        loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=ignore_index,
            reduction=_KERAS_REDUCTION[reduction], dtype=logits.dtype.name)
        return loss(target, logits)

    @implements("loss.cross_entropy/probs_smoothing",
                native="keras.losses.CategoricalCrossentropy",
                params={"from_logits": "fixed: True", "label_smoothing": "drawn",
                        "reduction": "drawn", "axis": "fixed: -1, the class axis",
                        "name": "fixed: the default", "dtype": "fixed: the logits' dtype"})
    def cross_entropy_smoothing(self, logits: Any, target: Any, *, reduction: str,
                                label_smoothing: float = 0.0) -> Any:
        # (1 - s) t + s / C, then tf.nn.softmax_cross_entropy_with_logits
        # (keras/src/losses/losses.py categorical_crossentropy).
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=label_smoothing,
            reduction=_KERAS_REDUCTION[reduction], dtype=logits.dtype.name)
        return loss(target, logits)

    @implements("loss.sequence_cross_entropy", composed=True)
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        # The sparse kernel takes any leading axes: (T, N, C) logits give (T, N) losses.
        per_sample = _per_sample_ce(logits, target)
        per_step = (tf.reduce_mean(per_sample, axis=1) if reduction == "mean"
                    else tf.reduce_sum(per_sample, axis=1))
        return tf.reduce_sum(per_step)
