"""mpmath transcriptions of the ``sched`` family, written apart from oracle/schedules.

Same signatures as the oracle functions, the same NamedTuples out, as NumPy object arrays of
``mpmath.mpf``. Each schedule is evaluated update by update from its closed form;
reduce-on-plateau is written as the counters' rules in the order torch's documentation
states them, with the notes' cut at the patience-th bad epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.schedules import PlateauTrajectory, Schedule


def _vec(values: list[Any]) -> np.ndarray:
    return np.array(values, dtype=object)


def step_decay(lr0: Any, *, factor: float, step_size: int, steps: int,
               offset: int = 0) -> Schedule:
    base, f = mpmath.mpf(float(lr0)), mpmath.mpf(factor)
    return Schedule(_vec([base * f ** ((offset + k) // step_size) for k in range(steps)]))


def exponential_decay(lr0: Any, *, steps: int, rate: float | None = None,
                      factor: float | None = None, decay_steps: int = 1,
                      staircase: bool = False, form: str = "exp", offset: int = 0) -> Schedule:
    base = mpmath.mpf(float(lr0))
    out = []
    for k in range(steps):
        t = mpmath.mpf(offset + k)
        if form == "exp":
            out.append(base * mpmath.exp(-mpmath.mpf(rate) * t))
        else:
            p = t / decay_steps
            out.append(base * mpmath.mpf(factor) ** (mpmath.floor(p) if staircase else p))
    return Schedule(_vec(out))


def inverse_time_decay(lr0: Any, *, rate: float, steps: int, decay_steps: int = 1,
                       staircase: bool = False, offset: int = 0) -> Schedule:
    base = mpmath.mpf(float(lr0))
    out = []
    for k in range(steps):
        p = mpmath.mpf(offset + k) / decay_steps
        out.append(base / (1 + mpmath.mpf(rate) * (mpmath.floor(p) if staircase else p)))
    return Schedule(_vec(out))


def reduce_on_plateau(lr0: Any, values: Any, *, factor: float, patience: int,
                      threshold: float, threshold_mode: str = "rel", cooldown: int = 0,
                      min_lr: float = 0.0, at_floor: str = "restart") -> PlateauTrajectory:
    lr, floor = mpmath.mpf(float(lr0)), mpmath.mpf(min_lr)
    best, bad, left = mpmath.inf, 0, 0
    thr = mpmath.mpf(threshold)
    lrs, bests, bads, lefts = [], [], [], []
    for value in np.asarray(values, dtype=np.float64):
        a = mpmath.mpf(float(value))
        better = a < best * (1 - thr) if threshold_mode == "rel" else a < best - thr
        if better:
            best, bad = a, 0
        else:
            bad += 1
        if left > 0:
            left -= 1
            bad = 0
        if bad >= patience and (at_floor == "restart" or lr > floor):
            lr = max(lr * mpmath.mpf(factor), floor)
            left, bad = cooldown, 0
        lrs.append(lr)
        bests.append(best)
        bads.append(mpmath.mpf(bad))
        lefts.append(mpmath.mpf(left))
    return PlateauTrajectory(_vec(lrs), _vec(bests), _vec(bads), _vec(lefts))


PRECISE: dict[str, Callable[..., Any]] = {
    "sched.step_decay": step_decay,
    "sched.exponential_decay": exponential_decay,
    "sched.inverse_time_decay": inverse_time_decay,
    "sched.reduce_on_plateau": reduce_on_plateau,
}
