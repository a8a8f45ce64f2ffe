"""Learning-rate schedules (catalog family ``sched``, notes 004).

Each function returns the learning rates of K consecutive updates (a trajectory, axis 0 the
update), the initial learning rate ``lr0`` being a 0-d array (its dtype is the schedule's:
torch keeps a tensor lr in its dtype, Keras and optax compute in the initial value's dtype).
The counter of update k is t = offset + k: offset 0 is the 0-based count torch (epochs
stepped), Keras (``optimizer.iterations``) and optax (``count``) start from; offset 1 a
1-based one. Whether t counts epochs or updates is the caller's: torch schedulers count
``scheduler.step()`` calls (once per epoch, conventionally), Keras and optax updates, so an
epoch-based schedule of P updates per epoch is decay_steps * P there (docs/conventions/
schedules.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon

EXPONENTIAL_FORMS = ("exp", "base")
THRESHOLD_MODES = ("rel", "abs")
AT_FLOOR = ("restart", "keep_counting")


class Schedule(NamedTuple):
    lr: Any


class PlateauTrajectory(NamedTuple):
    lr: Any  # the learning rate after each monitored value (the next epoch's)
    best: Any
    bad_epochs: Any
    cooldown: Any


def _lr0(lr0: Any) -> Any:
    lr0 = _canon.asarray(lr0)
    if lr0.shape != ():
        raise ValueError(f"lr0 must be a 0-d array, got shape {lr0.shape}")
    return lr0


def _counters(steps: int, offset: int) -> np.ndarray:
    if steps < 1 or offset < 0:
        raise ValueError(f"need steps >= 1 and offset >= 0, got {steps}, {offset}")
    return np.arange(offset, offset + steps)


def step_decay(lr0: Any, *, factor: float, step_size: int, steps: int,
               offset: int = 0) -> Schedule:
    """lr_t = lr0 factor^floor(t / step_size) (torch StepLR, Keras ExponentialDecay and optax
    exponential_decay with staircase=True)."""
    lr0 = _lr0(lr0)
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    t = _counters(steps, offset)
    powers = (t // step_size).astype(_canon.current_dtype())
    return Schedule(lr0 * _canon.scalar(factor) ** powers)


def exponential_decay(lr0: Any, *, steps: int, rate: float | None = None,
                      factor: float | None = None, decay_steps: int = 1,
                      staircase: bool = False, form: str = "exp",
                      offset: int = 0) -> Schedule:
    """form "exp" (the notes'): lr_t = lr0 exp(-rate t).
    form "base" (Keras ExponentialDecay, optax exponential_decay): lr_t = lr0 factor^p with
    p = t / decay_steps, floor(t / decay_steps) when ``staircase``. torch's ExponentialLR is
    "base" with decay_steps 1 (lr multiplied by factor at each step() call)."""
    lr0 = _lr0(lr0)
    t = _counters(steps, offset).astype(_canon.current_dtype())
    if form == "exp":
        if rate is None or staircase or decay_steps != 1:
            raise ValueError("form 'exp' takes rate only (no staircase, decay_steps 1)")
        return Schedule(lr0 * np.exp(-_canon.scalar(rate) * t))
    if form != "base" or factor is None or decay_steps < 1:
        raise ValueError(f"form must be one of {EXPONENTIAL_FORMS}, 'base' with a factor")
    p = t / _canon.scalar(decay_steps)
    return Schedule(lr0 * _canon.scalar(factor) ** (np.floor(p) if staircase else p))


def inverse_time_decay(lr0: Any, *, rate: float, steps: int, decay_steps: int = 1,
                       staircase: bool = False, offset: int = 0) -> Schedule:
    """lr_t = lr0 / (1 + rate p), p = t / decay_steps (floor with ``staircase``); the notes'
    1/t decay lr0 / (1 + k t) is decay_steps 1 (Keras InverseTimeDecay)."""
    lr0 = _lr0(lr0)
    if decay_steps < 1:
        raise ValueError(f"decay_steps must be >= 1, got {decay_steps}")
    t = _counters(steps, offset).astype(_canon.current_dtype())
    p = t / _canon.scalar(decay_steps)
    p = np.floor(p) if staircase else p
    return Schedule(lr0 / (_canon.scalar(1.0) + _canon.scalar(rate) * p))


def reduce_on_plateau(lr0: Any, values: Any, *, factor: float, patience: int,
                      threshold: float, threshold_mode: str = "rel", cooldown: int = 0,
                      min_lr: float = 0.0, at_floor: str = "restart") -> PlateauTrajectory:
    """Multiply lr by ``factor`` once the monitored value (``values`` (K,), one per epoch,
    lower is better) has not improved for ``patience`` epochs (the notes'); state after each
    epoch: lr, best, bad-epoch count, cooldown counter.

    Epoch by epoch, with best = +inf at first:
      improved = a < best (1 - threshold) ("rel") or a < best - threshold ("abs")
      improved: best = a, bad = 0; else bad += 1
      cooldown > 0 (the epochs just after a cut): cooldown -= 1, bad = 0
      bad >= patience: lr = max(lr factor, min_lr), cooldown = its length, bad = 0
    at_floor: when lr is already min_lr the due cut still restarts the count and cooldown
    ("restart": torch, optax) or is skipped, so bad keeps counting ("keep_counting": Keras).
    Frameworks cut one epoch apart by their counters (docs/conventions/schedules.md
    §Reduce on plateau): torch cuts when bad > patience (its patience = ours - 1), Keras
    decrements its cooldown before counting (its cooldown = ours + 1); optax is this form.
    """
    lr = _lr0(lr0)
    values = _canon.asarray(values)
    if values.ndim != 1 or values.shape[0] < 1 or patience < 1 or cooldown < 0:
        raise ValueError("values must be (K,) with K >= 1, patience >= 1, cooldown >= 0")
    if threshold_mode not in THRESHOLD_MODES or at_floor not in AT_FLOOR:
        raise ValueError(f"threshold_mode in {THRESHOLD_MODES}, at_floor in {AT_FLOOR}")
    improves: Callable[[Any, Any], bool]
    if threshold_mode == "rel":
        keep = _canon.scalar(1.0) - _canon.scalar(threshold)
        improves = lambda a, best: bool(a < best * keep)  # noqa: E731
    else:
        improves = lambda a, best: bool(a < best - _canon.scalar(threshold))  # noqa: E731
    best, bad, left = _canon.scalar(np.inf), 0, 0
    floor = _canon.scalar(min_lr)
    if _canon.primal(floor) > _canon.primal(lr):
        raise ValueError(f"min_lr {min_lr} above lr0: a floor above the learning rate")
    rows = []
    for a in values:
        if improves(a, best):
            best, bad = a, 0
        else:
            bad += 1
        if left > 0:
            left, bad = left - 1, 0
        if bad >= patience and (at_floor == "restart" or lr > floor):
            lr = np.maximum(lr * _canon.scalar(factor), floor)
            left, bad = cooldown, 0
        rows.append((lr, best, bad, left))
    lrs, bests, bads, lefts = zip(*rows)
    dt = _canon.current_dtype()
    return PlateauTrajectory(np.stack(lrs), np.stack(bests), np.asarray(bads).astype(dt),
                             np.asarray(lefts).astype(dt))


ORACLE: dict[str, Callable[..., Any]] = {
    "sched.step_decay": step_decay,
    "sched.exponential_decay": exponential_decay,
    "sched.inverse_time_decay": inverse_time_decay,
    "sched.reduce_on_plateau": reduce_on_plateau,
}
