"""JAX mappings of the ``sched`` family: optax schedules evaluated at the update counts
offset .. offset + K - 1 (optax counts updates from 0), and ``optax.contrib.reduce_on_plateau``
driven by ``update(..., value=...)`` once per monitored value (docs/conventions/schedules.md).

optax has no inverse-time schedule: it is composed from jax.numpy (a callable of the count,
which is how optax takes any schedule). optax's schedule constructors test some float
arguments in Python (``decay_rate == 0``, the plateau factor's range), so those need
concrete floats: they cannot be traced by jax.jit.
"""

from __future__ import annotations

import math
from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp
from adapters.jax.optimizers import optax, require

_EXP = {"init_value": "drawn: from lr0", "transition_begin": "fixed: 0 (offsets are counts)",
        "end_value": "fixed: None (no floor)"}


def _counts(steps: int, offset: int) -> Any:
    return jnp.arange(offset, offset + steps)


class ScheduleOps:
    UNSUPPORTED = {
        "sched.reduce_on_plateau/keep_counting": "optax restarts the plateau count and the "
                                                 "cooldown after a due cut at min_scale "
                                                 "(Keras skips it)",
    }

    @implements("sched.step_decay", native="optax.exponential_decay", params={
        **_EXP, "transition_steps": "drawn: from step_size", "decay_rate": "drawn: from factor",
        "staircase": "fixed: True, step decay"})
    def step_decay(self, lr0: Any, *, factor: float, step_size: int, steps: int,
                   offset: int = 0) -> Any:
        sched = optax.exponential_decay(lr0, transition_steps=step_size, decay_rate=factor,
                                        staircase=True)
        return (sched(_counts(steps, offset)),)

    @implements("sched.exponential_decay", native="optax.exponential_decay", params={
        **_EXP, "transition_steps": "fixed: 1, one decay per step",
        "decay_rate": "drawn: from rate (exp(-rate))", "staircase": "fixed: False (default)"})
    def exponential_decay(self, lr0: Any, *, steps: int, rate: float | None = None,
                          factor: float | None = None, decay_steps: int = 1,
                          staircase: bool = False, form: str = "exp", offset: int = 0) -> Any:
        """lr0 exp(-rate t) as decay_rate = exp(-rate) per transition step."""
        require("form", form, "exp")
        sched = optax.exponential_decay(lr0, transition_steps=1, decay_rate=math.exp(-rate))
        return (sched(_counts(steps, offset)),)

    @implements("sched.exponential_decay/base", native="optax.exponential_decay", params={
        **_EXP, "transition_steps": "drawn: from decay_steps",
        "decay_rate": "drawn: from factor", "staircase": "drawn"})
    def exponential_decay_base(self, lr0: Any, *, steps: int, rate: float | None = None,
                               factor: float | None = None, decay_steps: int = 1,
                               staircase: bool = False, form: str = "base",
                               offset: int = 0) -> Any:
        require("form", form, "base")
        sched = optax.exponential_decay(lr0, transition_steps=decay_steps, decay_rate=factor,
                                        staircase=staircase)
        return (sched(_counts(steps, offset)),)

    @implements("sched.inverse_time_decay", composed=True)  # jnp arithmetic: no options
    def inverse_time_decay(self, lr0: Any, *, rate: float, steps: int, decay_steps: int = 1,
                           staircase: bool = False, offset: int = 0) -> Any:
        p = _counts(steps, offset).astype(lr0.dtype) / decay_steps
        p = jnp.floor(p) if staircase else p
        return (lr0 / (1 + rate * p),)

    @implements("sched.reduce_on_plateau", native="optax.contrib.reduce_on_plateau", params={
        "factor": "drawn", "patience": "drawn", "rtol": "drawn: from threshold",
        "atol": "fixed: 0, this spec's relative threshold (sched.reduce_on_plateau/abs draws "
        "atol)", "cooldown": "drawn", "accumulation_size": "fixed: 1 (one value per epoch)",
        "min_scale": "drawn: from min_lr, lr0 (min_lr / lr0)"})
    def reduce_on_plateau(self, lr0: Any, values: Any, *, factor: float, patience: int,
                          threshold: float, threshold_mode: str = "rel", cooldown: int = 0,
                          min_lr: float = 0.0, at_floor: str = "restart") -> Any:
        """lr = lr0 * scale; threshold -> rtol ("rel") or atol ("abs"); min_scale =
        min_lr / lr0. optax's rule is the notes' (cut when the count reaches patience)."""
        require("at_floor", at_floor, "restart")
        rel = threshold_mode == "rel"
        tx = optax.contrib.reduce_on_plateau(
            factor=factor, patience=patience, rtol=threshold if rel else 0.0,
            atol=0.0 if rel else threshold, cooldown=cooldown, min_scale=min_lr / lr0)
        state, rows = tx.init(lr0), []
        # Op by op: the update's lax.cond branches are new closures on every call, which
        # eager JAX would trace and compile again at every epoch.
        with jax.disable_jit():
            for k in range(values.shape[0]):
                _, state = tx.update(jnp.ones_like(lr0), state, value=values[k])
                rows.append((lr0 * state.scale, state.best_value,
                             state.plateau_count.astype(lr0.dtype),
                             state.cooldown_count.astype(lr0.dtype)))
        return tuple(jnp.stack(col) for col in zip(*rows))

    @implements("sched.reduce_on_plateau/abs", native="optax.contrib.reduce_on_plateau",
                params={"factor": "drawn", "patience": "drawn", "rtol": "fixed: 0",
                        "atol": "drawn: from threshold", "cooldown": "drawn",
                        "accumulation_size": "fixed: 1",
                        "min_scale": "drawn: from min_lr, lr0 (min_lr / lr0)"})
    def reduce_on_plateau_abs(self, lr0: Any, values: Any, *, factor: float, patience: int,
                              threshold: float, threshold_mode: str = "abs", cooldown: int = 0,
                              min_lr: float = 0.0, at_floor: str = "restart") -> Any:
        require("threshold_mode", threshold_mode, "abs")
        return self.reduce_on_plateau(lr0, values, factor=factor, patience=patience,
                                      threshold=threshold, threshold_mode="abs",
                                      cooldown=cooldown, min_lr=min_lr, at_floor=at_floor)
