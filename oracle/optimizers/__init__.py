"""Optimizers (catalog family ``optim``, notes 004): pure steps and their trajectories.

Each optimizer is a pure step ``(params, grad, state, *, hyper) -> (params, state)``
(``*_step``); the catalog id maps to the trajectory of K steps (parameters and every state
tensor after each step, stacked along axis 0). First-order methods run on a gradient
sequence (K, *params.shape); NAG, Newton and L-BFGS on a drawn smooth test function
(``objectives``). The notes' form is each function's default; every framework's form is a
named option (docs/conventions/optimizers.md says which framework computes which).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.optimizers import objectives
from oracle.optimizers.adaptive import (
    adadelta,
    adadelta_step,
    adagrad,
    adagrad_step,
    adam,
    adam_step,
    rmsprop,
    rmsprop_step,
)
from oracle.optimizers.first_order import (
    momentum,
    momentum_lr_schedule,
    momentum_step,
    nag,
    sgd,
    sgd_step,
)
from oracle.optimizers.second_order import lbfgs, newton, two_loop

__all__ = [
    "ORACLE", "adadelta", "adadelta_step", "adagrad", "adagrad_step", "adam", "adam_step",
    "lbfgs", "momentum", "momentum_lr_schedule", "momentum_step", "nag", "newton",
    "objectives", "rmsprop", "rmsprop_step", "sgd", "sgd_step", "two_loop",
]

ORACLE: dict[str, Callable[..., Any]] = {
    "optim.sgd": sgd,
    "optim.momentum": momentum,
    "optim.nag": nag,
    "optim.adagrad": adagrad,
    "optim.rmsprop": rmsprop,
    "optim.adadelta": adadelta,
    "optim.adam": adam,
    "optim.newton": newton,
    "optim.lbfgs": lbfgs,
}
