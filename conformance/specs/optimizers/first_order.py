"""Specs of optim.sgd, optim.momentum and optim.nag (trajectories, mode ``state``).

Variants name the framework forms (docs/conventions/optimizers.md): the notes' velocity
form (``optim.momentum``; Keras' own), torch's and optax's buffer form (``/buffer``), torch's
dampening (``/dampening``), torch's foreach and fused kernels of the buffer form
(``/foreach``, ``/fused``), and the two forms under a learning rate that changes every step
(``/lr_schedule``: lr folded into the velocity, Keras; ``/buffer_lr_schedule``: lr applied
outside the buffer, torch and optax), where they are different mathematics.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from conformance.registry import Case, OpSpec
from conformance.specs.optimizers import _draw as D
from oracle import optimizers as O

NAG_MENU = ((3, 1), (3, 2), (3, 6), (3, 12))
# NAG's lr is kept below 2 / L for the largest curvature L the drawn problems reach
# (||Q|| <= n + 2, plus b phi'' <= 1/2 * 3 * 3^2 for the quartic): the iteration contracts,
# so the trajectory's own conditioning stays moderate (both forms are the same iteration).
NAG_LR = st.sampled_from([1 / 64, 1 / 32, 3 / 64, 1 / 16, 3 / 32])


def _seq(kwargs: Callable[[st.DrawFn, str], dict]) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            return D.sequence_case(d, dtype, kwargs(d, dtype))

        return draw()

    return inputs


def _sgd(d: st.DrawFn, dtype: str) -> dict:
    return {"lr": d(D.lr()), "weight_decay": d(D.weight_decay())}


def _momentum(form: str, dampening: bool = False) -> Callable[[st.DrawFn, str], dict]:
    def kwargs(d: st.DrawFn, dtype: str) -> dict:
        kw = {"lr": d(D.lr()), "momentum": d(D.decay(dtype)), "form": form}
        if dampening:
            kw["dampening"] = d(D.decay(dtype, lo=0.0))
        return kw

    return kwargs


def _scheduled(form: str) -> Callable[[str], st.SearchStrategy[Case]]:
    """Momentum with lr per step: a geometric decay or a free sequence of lrs."""
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            params, grads = d(D.gradient_sequence(dtype))
            k = grads.shape[0]
            if d(st.booleans()):
                lr0, half_every = d(D.lr(-8, -2)), d(st.integers(1, 4))
                lrs = lr0 * 0.5 ** (np.arange(k) // half_every)
            else:
                lrs = np.array([d(D.lr(-10, -2)) for _ in range(k)])
            return Case((params, grads, lrs), {"momentum": d(D.decay(dtype)), "form": form},
                        ("params", "grads", "lrs"))

        return draw()

    return inputs


def _nag(form: str) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n, steps = d(st.sampled_from(NAG_MENU))
            kw = {"kind": d(st.sampled_from(D.KINDS)), "steps": steps, "lr": d(NAG_LR),
                  "momentum": d(D.decay(dtype)), "form": form}
            return Case(d(D.problem(n)), kw, D.PROBLEM_NAMES)

        return draw()

    return inputs


_BENCH_MOMENTUM = {"lr": 2.0**-6, "momentum": 0.875}
_NAG_BENCH = D.bench_problem({"small": 1_000}, kind="softplus", steps=1, lr=2.0**-6,
                             momentum=0.875)

SPECS = [
    OpSpec("optim.sgd", O.sgd, _seq(_sgd), trajectory=True,
           bench=D.bench_sequence(lr=2.0**-6, weight_decay=0.0),
           notes="theta -= lr (g + wd theta); Keras' decoupled weight decay is the same "
                 "mathematics for plain SGD"),
    OpSpec("optim.momentum", O.momentum, _seq(_momentum("velocity")), trajectory=True,
           bench=D.bench_sequence(**_BENCH_MOMENTUM, form="velocity"),
           notes="the notes' v = gamma v + lr g, theta -= v (Keras' velocity, negated)"),
    OpSpec("optim.momentum/buffer", O.momentum, _seq(_momentum("buffer")), trajectory=True,
           bench=D.bench_sequence(**_BENCH_MOMENTUM, form="buffer"),
           notes="torch/optax: b = mu b + g, theta -= lr b (torch single-tensor path)"),
    OpSpec("optim.momentum/foreach", O.momentum, _seq(_momentum("buffer")), trajectory=True,
           bench=D.bench_sequence(**_BENCH_MOMENTUM, form="buffer"),
           notes="torch SGD(foreach=True): the multi-tensor kernels"),
    OpSpec("optim.momentum/fused", O.momentum, _seq(_momentum("buffer")), trajectory=True,
           bench=D.bench_sequence(**_BENCH_MOMENTUM, form="buffer"),
           notes="torch SGD(fused=True): one fused kernel per step"),
    OpSpec("optim.momentum/dampening", O.momentum, _seq(_momentum("buffer", dampening=True)),
           trajectory=True, notes="torch: b = mu b + (1 - dampening) g, b_1 = g"),
    OpSpec("optim.momentum/lr_schedule", O.momentum_lr_schedule, _scheduled("velocity"),
           trajectory=True, notes="lr per step, folded into the velocity (Keras)"),
    OpSpec("optim.momentum/buffer_lr_schedule", O.momentum_lr_schedule, _scheduled("buffer"),
           trajectory=True, notes="lr per step, applied outside the buffer (torch, optax)"),
    OpSpec("optim.nag", O.nag, _nag("lookahead"), trajectory=True, bench=_NAG_BENCH,
           notes="the notes' gradient at the look-ahead point; frameworks store "
                 "p = theta - gamma v (mapped)"),
    OpSpec("optim.nag/reformulated", O.nag, _nag("reformulated"), trajectory=True,
           bench=D.bench_problem({"small": 1_000}, kind="softplus", steps=1, lr=2.0**-6,
                                 momentum=0.875, form="reformulated"),
           notes="the frameworks' stored form: b = mu b + g(p), p -= lr (g + mu b)"),
]
