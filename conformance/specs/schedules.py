"""Specs of the ``sched`` family: the learning rates of K consecutive updates (mode
``state``; the reduce-on-plateau state too), from an initial learning rate lr0 (a 0-d
array: the schedule computes in its dtype).

Variants name conventions (docs/conventions/schedules.md): the base-gamma exponential form
of Keras and optax (``sched.exponential_decay/base``), and reduce-on-plateau with an absolute
threshold (``/abs``: torch ``threshold_mode='abs'``, Keras ``min_delta``, optax ``atol``) and
with Keras' rule at the floor (``/keep_counting``: a due cut that cannot lower lr further is
skipped, so the bad-epoch count keeps growing).

dtypes: float64 and float32, the dtypes a learning rate is kept in (torch: a tensor lr in
its dtype, a Python float otherwise; Keras: a float32 variable by default; optax: the initial
value's). Monitored values lie on a grid of 1/16 and thresholds are dyadic, so
best (1 - threshold) and best - threshold are exact in both dtypes: no comparison can flip
by rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from oracle import schedules as R

DTYPES = ("float64", "float32")
STEPS = st.sampled_from([1, 3, 6, 12])
FACTOR = S.dyadic(1 / 16, 15 / 16, bits=4)
OFFSET = st.sampled_from([0, 1])
EPOCHS = st.sampled_from([6, 16, 24])


def _lr0() -> st.SearchStrategy[np.ndarray]:
    return S.arrays((), 2.0**-10, 1.0)


def _schedule(kwargs: Callable[[st.DrawFn], dict]) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            return Case((d(_lr0()),), kwargs(d), ("lr0",))

        return draw()

    return inputs


def _step_decay(d: st.DrawFn) -> dict:
    return {"factor": d(FACTOR), "step_size": d(st.integers(1, 5)), "steps": d(STEPS),
            "offset": d(OFFSET)}


def _exponential(d: st.DrawFn) -> dict:
    return {"rate": d(S.dyadic(0.0, 0.5, bits=6)), "steps": d(STEPS), "offset": d(OFFSET)}


def _exponential_base(d: st.DrawFn) -> dict:
    return {"factor": d(FACTOR), "decay_steps": d(st.integers(1, 4)),
            "staircase": d(st.booleans()), "form": "base", "steps": d(STEPS),
            "offset": d(OFFSET)}


def _inverse_time(d: st.DrawFn) -> dict:
    return {"rate": d(S.dyadic(0.0, 2.0, bits=4)), "decay_steps": d(st.integers(1, 4)),
            "staircase": d(st.booleans()), "steps": d(STEPS), "offset": d(OFFSET)}


@st.composite
def _monitored(d: st.DrawFn) -> np.ndarray:
    """A loss curve on the 1/16 grid: steps down, flat stretches and bumps up."""
    k = d(EPOCHS)
    moves = d(st.lists(st.sampled_from([-8, -2, -1, 0, 0, 0, 1, 3]), min_size=k, max_size=k))
    return (64 + np.cumsum(moves)) / 16.0


def _plateau(threshold_mode: str, at_floor: str) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            # lr0 m 2^e (4 bits) and min_lr 0 or 2^-e: the floor is reached exactly
            lr0 = np.array(d(st.integers(1, 15)) * 2.0 ** d(st.integers(-10, -4)))
            kw = {"factor": d(FACTOR), "patience": d(st.integers(1, 3)),
                  # > 0: optax requires rtol or atol positive
                  "threshold": d(st.sampled_from([2.0**-6, 2.0**-4, 2.0**-3])),
                  "threshold_mode": threshold_mode, "cooldown": d(st.integers(0, 2)),
                  # a floor at or below lr0 (above it, torch and Keras never cut)
                  "min_lr": d(st.sampled_from([0.0, 2.0**-14, 2.0**-10, 2.0**-7]).filter(
                      lambda v: v <= float(lr0))),
                  "at_floor": at_floor}
            return Case((lr0, d(_monitored())), kw, ("lr0", "values"))

        return draw()

    return inputs


register(
    OpSpec("sched.step_decay", R.step_decay, _schedule(_step_decay), dtypes=DTYPES,
           trajectory=True, notes="lr0 factor^floor(t / step_size)"),
    OpSpec("sched.exponential_decay", R.exponential_decay, _schedule(_exponential),
           dtypes=DTYPES, trajectory=True, notes="the notes' lr0 exp(-k t)"),
    OpSpec("sched.exponential_decay/base", R.exponential_decay,
           _schedule(_exponential_base), dtypes=DTYPES, trajectory=True,
           notes="lr0 factor^(t / decay_steps), staircase or not (Keras, optax)"),
    OpSpec("sched.inverse_time_decay", R.inverse_time_decay, _schedule(_inverse_time),
           dtypes=DTYPES, trajectory=True, notes="lr0 / (1 + rate t / decay_steps)"),
    OpSpec("sched.reduce_on_plateau", R.reduce_on_plateau, _plateau("rel", "restart"),
           dtypes=DTYPES, trajectory=True, notes="relative threshold (torch, optax rtol)"),
    OpSpec("sched.reduce_on_plateau/abs", R.reduce_on_plateau, _plateau("abs", "restart"),
           dtypes=DTYPES, trajectory=True, notes="absolute threshold (torch, optax atol)"),
    OpSpec("sched.reduce_on_plateau/keep_counting", R.reduce_on_plateau,
           _plateau("abs", "keep_counting"), dtypes=DTYPES, trajectory=True,
           notes="Keras: absolute min_delta, a cut due at min_lr skipped"),
)
