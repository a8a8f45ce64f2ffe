"""TensorFlow mappings of the ``reg`` family.

Native: tf.norm (l1, l2), tf.nn.l2_loss (= sum w^2 / 2, doubled: an exact power of two),
tf.nn.dropout, keras.ops.soft_shrink and keras.callbacks.EarlyStopping. Group penalties and
the total loss are composed (tf.math.unsorted_segment_sum).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from adapters._shared import composed_total_loss
from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import NAME


def _group_squares(w: Any, groups: Any) -> Any:
    """Sum of squares of each present group id >= 0 (one entry per distinct id)."""
    ids = tf.reshape(groups, [-1])
    keep = ids >= 0
    present, slot = tf.unique(tf.boolean_mask(ids, keep))
    sq = tf.boolean_mask(tf.reshape(w * w, [-1]), keep)
    return tf.math.unsorted_segment_sum(sq, slot, tf.size(present))


_WHOLE = {**NAME, "axis": "fixed: None, the whole tensor", "keepdims": "fixed: False"}


class RegularizationOps:
    @implements("reg.l1", native="tf.norm", params={**_WHOLE, "ord": "fixed: 1 (L1)"})
    def l1(self, w: Any) -> Any:
        return tf.norm(w, ord=1)

    @implements("reg.l2", native="tf.norm",
                params={**_WHOLE, "ord": "fixed: 'euclidean' (default)"})
    def l2(self, w: Any) -> Any:
        return tf.norm(w)

    @implements("reg.l2_squared", native="tf.nn.l2_loss", params=NAME)
    def l2_squared(self, w: Any) -> Any:
        return 2 * tf.nn.l2_loss(w)

    @implements("reg.group", composed=True, native="tf.math.unsorted_segment_sum",
                params=NAME)
    def group(self, w: Any, groups: Any, *, form: str) -> Any:
        sq = _group_squares(w, groups)
        return tf.reduce_sum(sq if form == "squares" else tf.sqrt(sq))

    @implements("reg.total_loss", composed=True)
    def total_loss(self, data_loss: Any, w1: Any, w2: Any, g1: Any, g2: Any, *,
                   lambda_r: float, lambda_g: float, penalty: str, group_form: str) -> Any:
        flat = tf.concat([tf.reshape(w1, [-1]), tf.reshape(w2, [-1])], axis=0)
        penalties = {"l1": self.l1, "l2": self.l2, "l2_squared": self.l2_squared}
        return composed_total_loss(data_loss, flat, ((w1, g1), (w2, g2)),
                                   penalty_fn=penalties[penalty], group_fn=self.group,
                                   lambda_r=lambda_r, lambda_g=lambda_g, group_form=group_form)

    @implements("reg.dropout", native="tf.nn.dropout", params={
        **NAME, "rate": "drawn: from p", "noise_shape": "not covered: None, an independent "
        "mask per element; a broadcast mask (noise_shape) is never drawn",
        "seed": "fixed: None, the global seed the adapter sets"})
    def dropout(self, x: Any, *, p: float) -> Any:
        return tf.nn.dropout(x, rate=p)

    @implements("reg.prox_l1", native="keras.ops.soft_shrink",
                params={"threshold": "drawn: from lam"})
    def prox_l1(self, w: Any, *, lam: float) -> Any:
        return keras.ops.soft_shrink(w, threshold=lam)

    @implements("reg.prox_l1/step", composed=True, native="keras.ops.soft_shrink",
                params={"threshold": "drawn: from lr, lam (lr * lam)"})
    def prox_gradient_step(self, w: Any, grad: Any, *, lr: float, lam: float) -> Any:
        return keras.ops.soft_shrink(w - lr * grad, threshold=lr * lam)

    @implements("reg.early_stopping", native="keras.callbacks.EarlyStopping", params={
        "monitor": "fixed: 'val_loss', the logged score", "min_delta": "drawn",
        "patience": "drawn", "mode": "drawn", "verbose": "fixed: 0 (no printing)",
        "baseline": "not covered: None; a baseline the score must beat is never drawn",
        "restore_best_weights": "fixed: False (no model weights; the epochs are compared)",
        "start_from_epoch": "not covered: 0; a warm-up before counting is never drawn"})
    def early_stopping(self, *, scores: list[float], patience: int, mode: str,
                       min_delta: float) -> np.ndarray:
        # Driven as Model.fit drives it: on_train_begin, then on_epoch_end with the logs
        # (fit passes Python floats) until the callback sets model.stop_training.
        model = SimpleNamespace(stop_training=False)
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, mode=mode,
                                             min_delta=min_delta)
        stop.set_model(model)
        stop.on_train_begin()
        for epoch, score in enumerate(scores):
            stop.on_epoch_end(epoch, {"val_loss": float(score)})
            if model.stop_training:
                return np.array([stop.stopped_epoch, stop.best_epoch], dtype=np.int64)
        return np.array([-1, stop.best_epoch], dtype=np.int64)
