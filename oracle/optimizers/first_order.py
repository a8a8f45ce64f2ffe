"""Gradient descent, momentum and Nesterov's accelerated gradient (catalog optim.sgd,
optim.momentum, optim.nag; notes 004). Framework forms: docs/conventions/optimizers.md.

Every function returns the trajectory: a NamedTuple whose fields are stacked by step along
axis 0 (the parameters and each state tensor after steps 1..K).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.optimizers import objectives
from oracle.optimizers._common import check_sequence, choice, s, unroll

MOMENTUM_FORMS = ("velocity", "buffer")
NAG_FORMS = ("lookahead", "reformulated")


class SgdTrajectory(NamedTuple):
    params: Any


class VelocityTrajectory(NamedTuple):
    params: Any
    velocity: Any


class BufferTrajectory(NamedTuple):
    params: Any
    buffer: Any


class MomentumState(NamedTuple):
    velocity: Any  # v (form "velocity") or the buffer b (form "buffer")
    step: int


def sgd_step(params: Any, grad: Any, state: tuple = (), *, lr: float,
             weight_decay: float = 0.0) -> tuple[Any, tuple]:
    """theta <- theta - lr (g + weight_decay theta). For plain SGD the L2 form and the
    decoupled one (theta - lr weight_decay theta - lr g, Keras' ``weight_decay``) are the
    same mathematics; only their roundings differ."""
    g = grad + s(weight_decay) * params if weight_decay else grad
    return params - s(lr) * g, state


def sgd(params: Any, grads: Any, *, lr: float, weight_decay: float = 0.0) -> SgdTrajectory:
    """K steps of ``sgd_step`` on grads (K, *params.shape); batch, stochastic and mini-batch
    gradient descent differ only in the gradients fed."""
    params, grads = check_sequence(params, grads)
    return unroll(sgd_step, params, grads, (), (), SgdTrajectory, lr=lr,
                  weight_decay=weight_decay)


def momentum_step(params: Any, grad: Any, state: MomentumState, *, lr: Any, momentum: float,
                  form: str = "velocity", dampening: float = 0.0
                  ) -> tuple[Any, MomentumState]:
    """One heavy-ball step (docs/conventions/optimizers.md §Momentum).

    form="velocity" (the notes', Keras' with v_keras = -v):
        v <- gamma v + lr g;             theta <- theta - v
    form="buffer" (torch, optax ``trace``):
        b <- g on the first step, then b <- mu b + (1 - dampening) g;   theta <- theta - lr b
    With a constant lr the two are the same trajectory (v = lr b) when dampening = 0; under
    a changing lr they are not (past learning rates stay inside v). torch's first step copies
    g into the buffer without the (1 - dampening) factor.
    """
    mu, lr = s(momentum), s(lr)
    if form == "velocity":
        v = mu * state.velocity + lr * grad
        return params - v, MomentumState(v, state.step + 1)
    if state.step == 0:
        b = grad
    else:
        b = mu * state.velocity + (s(1.0) - s(dampening)) * grad if dampening else \
            mu * state.velocity + grad
    return params - lr * b, MomentumState(b, state.step + 1)


def _momentum_run(params: Any, grads: Any, lrs: list[Any], momentum: float, form: str,
                  dampening: float) -> Any:
    choice("form", form, MOMENTUM_FORMS)
    if dampening and form != "buffer":
        raise ValueError("dampening belongs to the buffer form (torch)")
    state = MomentumState(_canon.zeros(params.shape, like=(params, grads)), 0)
    rows = []
    for k in range(grads.shape[0]):
        params, state = momentum_step(params, grads[k], state, lr=lrs[k], momentum=momentum,
                                      form=form, dampening=dampening)
        rows.append((params, state.velocity))
    out = VelocityTrajectory if form == "velocity" else BufferTrajectory
    return out(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]))


def momentum(params: Any, grads: Any, *, lr: float, momentum: float, form: str = "velocity",
             dampening: float = 0.0) -> Any:
    """K momentum steps with a constant lr; (params, velocity) for form "velocity" (the
    notes' v = gamma v + eta g, theta -= v), (params, buffer) for form "buffer"."""
    params, grads = check_sequence(params, grads)
    return _momentum_run(params, grads, [lr] * grads.shape[0], momentum, form, dampening)


def momentum_lr_schedule(params: Any, grads: Any, lrs: Any, *, momentum: float,
                         form: str = "velocity") -> Any:
    """K momentum steps where step k uses lrs[k] (lrs (K,)). Here the forms differ: the
    velocity form keeps every past lr inside v (Keras), the buffer form applies only the
    current one (torch with a scheduler, optax with a schedule)."""
    params, grads = check_sequence(params, grads)
    lrs = _canon.asarray(lrs)
    if lrs.shape != (grads.shape[0],):
        raise ValueError(f"lrs must be ({grads.shape[0]},), got {lrs.shape}")
    return _momentum_run(params, grads, [lrs[k] for k in range(lrs.shape[0])], momentum,
                         form, 0.0)


def nag(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
        momentum: float, form: str = "lookahead") -> Any:
    """Nesterov's accelerated gradient for ``steps`` steps on the test function f
    (``objectives``: f(x) = 1/2 (x - a)^T Q (x - a) + sum b phi(x - c)).

    form="lookahead" (the notes'; Sutskever et al. 2013), returns (params=theta, velocity=v):
        v <- gamma v + lr grad f(theta - gamma v);   theta <- theta - v
    form="reformulated" (torch, optax, Keras ``nesterov=True``), returns (params=p, buffer=b):
        g = grad f(p);  b <- mu b + g;  p <- p - lr (g + mu b)
    The frameworks store the look-ahead point: p = theta - gamma v and b = v / lr (constant
    lr, v_0 = 0), so theta = p + mu lr b (docs/conventions/optimizers.md §Nesterov). Not
    differentiable by duals (the step evaluates f's gradient with duals itself).
    """
    choice("form", form, NAG_FORMS)
    x, q, a, b, c = objectives.check_problem(x0, q, a, b, c)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    mu, eta = s(momentum), s(lr)
    v = _canon.zeros(x.shape)
    params, states = [], []
    for _ in range(steps):
        if form == "lookahead":
            v = mu * v + eta * objectives.gradient(x - mu * v, q, a, b, c, kind=kind)
            x = x - v
        else:
            g = objectives.gradient(x, q, a, b, c, kind=kind)
            v = mu * v + g
            x = x - eta * (g + mu * v)
        params.append(x)
        states.append(v)
    out = VelocityTrajectory if form == "lookahead" else BufferTrajectory
    return out(np.stack(params), np.stack(states))
