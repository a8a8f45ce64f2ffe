"""TensorFlow mappings of the ``sched`` family: keras.optimizers.schedules evaluated at the
update counts offset .. offset + K - 1 (Keras evaluates ``schedule(optimizer.iterations)``,
0-based), with the initial learning rate a tensor of the tested dtype (the schedule computes
in its dtype); keras.callbacks.ReduceLROnPlateau driven without ``fit``: ``set_model`` on a
model holding a real Keras optimizer, then ``on_epoch_end`` once per monitored value
(docs/conventions/schedules.md).

Keras has no step-decay class: it is ExponentialDecay with staircase=True. Its plateau
callback has only an absolute ``min_delta``, decrements its cooldown before counting (the
notes' cooldown c is Keras' c + 1, and its counter reads one more while it runs) and skips a
cut due at min_lr (the ``/keep_counting`` convention). A callback is Python control flow
between epochs: it runs eagerly only, and takes its learning rate as a Python float.
"""

from __future__ import annotations

import math
import types
import warnings
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow.optimizers import require

_SCHEDULE = {"initial_learning_rate": "drawn: from lr0", "decay_steps": "drawn",
             "staircase": "drawn", "name": "fixed: default"}


def _counts(lr0: Any, steps: int, offset: int) -> Any:
    return tf.range(offset, offset + steps, dtype=lr0.dtype)


class ScheduleOps:
    UNSUPPORTED = {
        "sched.reduce_on_plateau": "keras.callbacks.ReduceLROnPlateau has an absolute "
                                   "min_delta only (no relative threshold)",
        "sched.reduce_on_plateau/abs": "Keras skips a cut due at min_lr and keeps counting "
                                       "(sched.reduce_on_plateau/keep_counting); torch and "
                                       "optax restart the count",
    }

    @implements("sched.step_decay", native="keras.optimizers.schedules.ExponentialDecay",
                params={**_SCHEDULE, "decay_steps": "drawn: from step_size",
                        "decay_rate": "drawn: from factor", "staircase": "fixed: True"})
    def step_decay(self, lr0: Any, *, factor: float, step_size: int, steps: int,
                   offset: int = 0) -> Any:
        sched = keras.optimizers.schedules.ExponentialDecay(lr0, step_size, factor,
                                                            staircase=True)
        return (sched(_counts(lr0, steps, offset)),)

    @implements("sched.exponential_decay", native="keras.optimizers.schedules.ExponentialDecay",
                params={**_SCHEDULE, "decay_steps": "fixed: 1", "staircase": "fixed: False",
                        "decay_rate": "drawn: from rate (exp(-rate))"})
    def exponential_decay(self, lr0: Any, *, steps: int, rate: float | None = None,
                          factor: float | None = None, decay_steps: int = 1,
                          staircase: bool = False, form: str = "exp", offset: int = 0) -> Any:
        """lr0 exp(-rate t) as decay_rate = exp(-rate) per step, given as a tensor of lr0's
        dtype: a Python float would be rounded through float32 (docs/conventions/README.md
        §0.1 #4)."""
        require("form", form, "exp")
        rate_t = tf.constant(math.exp(-rate), lr0.dtype)
        sched = keras.optimizers.schedules.ExponentialDecay(lr0, 1, rate_t)
        return (sched(_counts(lr0, steps, offset)),)

    @implements("sched.exponential_decay/base",
                native="keras.optimizers.schedules.ExponentialDecay",
                params={**_SCHEDULE, "decay_rate": "drawn: from factor"})
    def exponential_decay_base(self, lr0: Any, *, steps: int, rate: float | None = None,
                               factor: float | None = None, decay_steps: int = 1,
                               staircase: bool = False, form: str = "base",
                               offset: int = 0) -> Any:
        require("form", form, "base")
        sched = keras.optimizers.schedules.ExponentialDecay(lr0, decay_steps, factor,
                                                            staircase=staircase)
        return (sched(_counts(lr0, steps, offset)),)

    @implements("sched.inverse_time_decay", native="keras.optimizers.schedules.InverseTimeDecay",
                params={**_SCHEDULE, "decay_rate": "drawn: from rate"})
    def inverse_time_decay(self, lr0: Any, *, rate: float, steps: int, decay_steps: int = 1,
                           staircase: bool = False, offset: int = 0) -> Any:
        sched = keras.optimizers.schedules.InverseTimeDecay(lr0, decay_steps, rate,
                                                            staircase=staircase)
        return (sched(_counts(lr0, steps, offset)),)

    @implements("sched.reduce_on_plateau/keep_counting",
                native="keras.callbacks.ReduceLROnPlateau", params={
                    "monitor": "fixed: 'loss' (the values given)", "factor": "drawn",
                    "patience": "drawn", "verbose": "fixed: 0", "mode": "fixed: 'min'",
                    "min_delta": "drawn: from threshold", "cooldown": "drawn", "min_lr": "drawn",
                    "kwargs": "fixed: none"})
    def reduce_on_plateau(self, lr0: Any, values: Any, *, factor: float, patience: int,
                          threshold: float, threshold_mode: str = "abs", cooldown: int = 0,
                          min_lr: float = 0.0, at_floor: str = "keep_counting") -> Any:
        """cooldown + 1 for Keras (it decrements before counting); its counter c reads as
        max(c - 1, 0). The optimizer's lr variable has the tested dtype (floatx while it is
        built)."""
        require("convention", (threshold_mode, at_floor), ("abs", "keep_counting"))
        dtype = lr0.dtype.name
        previous = keras.config.floatx()
        keras.config.set_floatx(dtype)
        try:
            # Keras takes the initial learning rate as a Python float.
            optimizer = keras.optimizers.SGD(learning_rate=float(lr0))
        finally:
            keras.config.set_floatx(previous)
        callback = keras.callbacks.ReduceLROnPlateau(
            monitor="loss", factor=factor, patience=patience, mode="min",
            min_delta=threshold, cooldown=cooldown + 1, min_lr=min_lr)
        callback.set_model(types.SimpleNamespace(optimizer=optimizer))
        callback.on_train_begin()
        rows = []
        for k in range(values.shape[0]):
            with warnings.catch_warnings():
                # Keras' own float(convert_to_numpy(lr)) warns about NumPy's copy keyword
                warnings.simplefilter("ignore", DeprecationWarning)
                callback.on_epoch_end(k, {"loss": values[k]})
            rows.append((tf.identity(optimizer.learning_rate),
                         tf.cast(callback.best, lr0.dtype),
                         tf.constant(callback.wait, lr0.dtype),
                         tf.constant(max(callback.cooldown_counter - 1, 0), lr0.dtype)))
        return tuple(tf.stack(col) for col in zip(*rows))
