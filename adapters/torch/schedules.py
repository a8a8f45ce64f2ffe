"""torch mappings of the ``sched`` family: torch.optim.lr_scheduler classes driven step by
step on an SGD optimizer whose lr is a tensor of the tested dtype (torch then computes each
new lr in that dtype and fills the tensor), reading ``param_groups[0]["lr"]`` before each
update (docs/conventions/schedules.md).

A scheduler counts its step() calls: the lr of update k is the one after offset + k calls.
Forms torch has no class for are LambdaLR with the formula written here (composed).
ReduceLROnPlateau cuts when its bad-epoch count exceeds ``patience``, one epoch after the
notes' "has not improved for n epochs": it is given patience - 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.torch._lazy import torch
from adapters.torch.optimizers import require

_LAST = {"last_epoch": "fixed: -1 (a fresh schedule; offsets are step() calls)"}


def _optimizer(lr0: Any) -> Any:
    p = torch.nn.Parameter(torch.zeros((), dtype=lr0.dtype, device=lr0.device))
    return torch.optim.SGD([p], lr=lr0.detach().clone(), foreach=False)


def _drive(lr0: Any, make: Callable[[Any], Any], steps: int, offset: int) -> tuple[Any]:
    opt = _optimizer(lr0)
    sched = make(opt)
    out = []
    for k in range(offset + steps):
        if k >= offset:
            out.append(opt.param_groups[0]["lr"].detach().clone())
        opt.step()  # a no-op without gradients; keeps the scheduler's call-order check quiet
        sched.step()
    return (torch.stack(out),)


def _lambda(lr0: Any, multiplier: Callable[[int], float], steps: int, offset: int) -> Any:
    return _drive(lr0, lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, multiplier), steps,
                  offset)


class ScheduleOps:
    UNSUPPORTED = {
        "sched.reduce_on_plateau/keep_counting": "torch's ReduceLROnPlateau restarts its "
                                                 "count and cooldown after a due cut at "
                                                 "min_lr (Keras skips it)",
    }

    @implements("sched.step_decay", native="torch.optim.lr_scheduler.StepLR",
                params={"step_size": "drawn", "gamma": "drawn: from factor", **_LAST})
    def step_decay(self, lr0: Any, *, factor: float, step_size: int, steps: int,
                   offset: int = 0) -> Any:
        return _drive(lr0, lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size, factor),
                      steps, offset)

    @implements("sched.exponential_decay", native="torch.optim.lr_scheduler.ExponentialLR",
                params={"gamma": "drawn: from rate (exp(-rate))", **_LAST})
    def exponential_decay(self, lr0: Any, *, steps: int, rate: float | None = None,
                          factor: float | None = None, decay_steps: int = 1,
                          staircase: bool = False, form: str = "exp", offset: int = 0) -> Any:
        """lr0 exp(-rate t) = lr0 gamma^t with gamma = exp(-rate), multiplied in each step."""
        require("form", form, "exp")
        gamma = math.exp(-rate)
        return _drive(lr0, lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma),
                      steps, offset)

    @implements("sched.exponential_decay/base", composed=True,
                native="torch.optim.lr_scheduler.LambdaLR",
                params={"lr_lambda": "drawn: from factor, decay_steps, staircase", **_LAST})
    def exponential_decay_base(self, lr0: Any, *, steps: int, rate: float | None = None,
                               factor: float | None = None, decay_steps: int = 1,
                               staircase: bool = False, form: str = "base",
                               offset: int = 0) -> Any:
        require("form", form, "base")

        def multiplier(t: int) -> float:
            return factor ** (t // decay_steps if staircase else t / decay_steps)

        return _lambda(lr0, multiplier, steps, offset)

    @implements("sched.inverse_time_decay", composed=True,
                native="torch.optim.lr_scheduler.LambdaLR",
                params={"lr_lambda": "drawn: from rate, decay_steps, staircase", **_LAST})
    def inverse_time_decay(self, lr0: Any, *, rate: float, steps: int, decay_steps: int = 1,
                           staircase: bool = False, offset: int = 0) -> Any:
        def multiplier(t: int) -> float:
            return 1.0 / (1.0 + rate * (t // decay_steps if staircase else t / decay_steps))

        return _lambda(lr0, multiplier, steps, offset)

    @implements("sched.reduce_on_plateau", native="torch.optim.lr_scheduler.ReduceLROnPlateau",
                params={"mode": "fixed: 'min' (the oracle's lower-is-better)",
                        "factor": "drawn", "patience": "drawn", "threshold": "drawn",
                        "threshold_mode": "fixed: 'rel', this spec's (sched.reduce_on_plateau/abs "
                        "is 'abs')", "cooldown": "drawn", "min_lr": "drawn",
                        "eps": "fixed: 0, every cut applied (the default 1e-8 skips cuts "
                        "smaller than that)"})
    def reduce_on_plateau(self, lr0: Any, values: Any, *, factor: float, patience: int,
                          threshold: float, threshold_mode: str = "rel", cooldown: int = 0,
                          min_lr: float = 0.0, at_floor: str = "restart") -> Any:
        require("at_floor", at_floor, "restart")
        opt = _optimizer(lr0)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=factor, patience=patience - 1, threshold=threshold,
            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=0.0)
        rows = []
        for k in range(values.shape[0]):
            opt.step()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sched.step(values[k])
            state = [sched.best, sched.num_bad_epochs, sched.cooldown_counter]
            rows.append([opt.param_groups[0]["lr"].detach().clone(),
                         *[torch.tensor(float(v), dtype=lr0.dtype, device=lr0.device)
                           for v in state]])
        return tuple(torch.stack(col) for col in zip(*rows))

    @implements("sched.reduce_on_plateau/abs",
                native="torch.optim.lr_scheduler.ReduceLROnPlateau",
                params={"mode": "fixed: 'min'", "factor": "drawn", "patience": "drawn",
                        "threshold": "drawn", "threshold_mode": "fixed: 'abs'",
                        "cooldown": "drawn", "min_lr": "drawn", "eps": "fixed: 0"})
    def reduce_on_plateau_abs(self, lr0: Any, values: Any, *, factor: float, patience: int,
                              threshold: float, threshold_mode: str = "abs", cooldown: int = 0,
                              min_lr: float = 0.0, at_floor: str = "restart") -> Any:
        require("threshold_mode", threshold_mode, "abs")
        return self.reduce_on_plateau(lr0, values, factor=factor, patience=patience,
                                      threshold=threshold, threshold_mode="abs",
                                      cooldown=cooldown, min_lr=min_lr, at_floor=at_floor)
