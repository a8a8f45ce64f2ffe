"""Adaptive learning-rate methods (catalog optim.adagrad, optim.rmsprop, optim.adadelta,
optim.adam; notes 004). Framework forms: docs/conventions/optimizers.md.

Each trajectory returns the parameters and every state tensor after steps 1..K, stacked
along axis 0. 0/0 follows IEEE (NaN): eps = 0 with a zero accumulator is undefined, and the
specs do not draw it (optax's Adagrad returns 0 there instead: a convention of its own).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.optimizers._common import check_sequence, choice, s, step_counts, unroll

EPS_PLACEMENTS = ("inside", "outside")
ADAM_EPS_MODES = ("outside", "hat", "inside")
WEIGHT_DECAY_MODES = ("l2", "decoupled")


class AccumulatorState(NamedTuple):
    accumulator: Any


class AdagradTrajectory(NamedTuple):
    params: Any
    accumulator: Any


class RmspropTrajectory(NamedTuple):
    params: Any
    square_avg: Any


class AdadeltaState(NamedTuple):
    square_avg: Any
    delta_avg: Any


class AdadeltaTrajectory(NamedTuple):
    params: Any
    square_avg: Any
    delta_avg: Any


class AdamState(NamedTuple):
    m: Any
    v: Any
    step: Any


class AdamTrajectory(NamedTuple):
    params: Any
    m: Any
    v: Any
    step: Any


def _denominator(acc: Any, eps: float, placement: str) -> Any:
    if placement == "inside":
        return np.sqrt(acc + s(eps))
    return np.sqrt(acc) + s(eps)


def adagrad_step(params: Any, grad: Any, state: AccumulatorState, *, lr: float, eps: float,
                 eps_placement: str = "inside") -> tuple[Any, AccumulatorState]:
    """G <- G + g^2;  theta <- theta - lr g / sqrt(G + eps)   (eps_placement "inside": the
    notes', Keras, optax)   or   lr g / (sqrt(G) + eps)   ("outside": torch)."""
    acc = state.accumulator + grad * grad
    return params - s(lr) * grad / _denominator(acc, eps, eps_placement), AccumulatorState(acc)


def adagrad(params: Any, grads: Any, *, lr: float, eps: float,
            initial_accumulator: float = 0.0, eps_placement: str = "inside"
            ) -> AdagradTrajectory:
    """K Adagrad steps; the accumulator starts at ``initial_accumulator`` everywhere (torch
    0, Keras and optax 0.1 by default)."""
    choice("eps_placement", eps_placement, EPS_PLACEMENTS)
    params, grads = check_sequence(params, grads)
    acc = _canon.full(params.shape, initial_accumulator, like=(params, grads))
    return unroll(adagrad_step, params, grads, AccumulatorState(acc), ("accumulator",),
                  AdagradTrajectory, lr=lr, eps=eps, eps_placement=eps_placement)


def rmsprop_step(params: Any, grad: Any, state: AccumulatorState, *, lr: float, rho: float,
                 eps: float, eps_placement: str = "inside") -> tuple[Any, AccumulatorState]:
    """E <- rho E + (1 - rho) g^2;  theta <- theta - lr g / sqrt(E + eps) ("inside": the
    notes', Keras, optax's default) or lr g / (sqrt(E) + eps) ("outside": torch, optax
    ``eps_in_sqrt=False``)."""
    rho_ = s(rho)
    acc = rho_ * state.accumulator + (s(1.0) - rho_) * (grad * grad)
    return params - s(lr) * grad / _denominator(acc, eps, eps_placement), AccumulatorState(acc)


def rmsprop(params: Any, grads: Any, *, lr: float, rho: float, eps: float,
            eps_placement: str = "inside") -> RmspropTrajectory:
    """K RMSprop steps from E = 0 (not centred, no momentum)."""
    choice("eps_placement", eps_placement, EPS_PLACEMENTS)
    params, grads = check_sequence(params, grads)
    acc = _canon.zeros(params.shape, like=(params, grads))
    return unroll(rmsprop_step, params, grads, AccumulatorState(acc), ("accumulator",),
                  RmspropTrajectory, lr=lr, rho=rho, eps=eps, eps_placement=eps_placement)


def adadelta_step(params: Any, grad: Any, state: AdadeltaState, *, lr: float, rho: float,
                  eps: float) -> tuple[Any, AdadeltaState]:
    """Zeiler's rule, eps inside both roots (every framework):
        E_g <- rho E_g + (1 - rho) g^2
        dx = sqrt(E_dx + eps) / sqrt(E_g + eps) g          (RMS[dx]_{t-1} / RMS[g]_t g)
        E_dx <- rho E_dx + (1 - rho) dx^2
        theta <- theta - lr dx       (lr = 1: the notes' rule without a learning rate)"""
    rho_ = s(rho)
    eg = rho_ * state.square_avg + (s(1.0) - rho_) * (grad * grad)
    dx = np.sqrt(state.delta_avg + s(eps)) / np.sqrt(eg + s(eps)) * grad
    edx = rho_ * state.delta_avg + (s(1.0) - rho_) * (dx * dx)
    return params - s(lr) * dx, AdadeltaState(eg, edx)


def adadelta(params: Any, grads: Any, *, rho: float, eps: float, lr: float = 1.0
             ) -> AdadeltaTrajectory:
    """K Adadelta steps from E_g = E_dx = 0, with an optional lr multiplier (torch 1.0,
    Keras 1e-3; optax's ``adadelta()`` without a learning rate ascends, so always pass one)."""
    params, grads = check_sequence(params, grads)
    zero = _canon.zeros(params.shape, like=(params, grads))
    return unroll(adadelta_step, params, grads, AdadeltaState(zero, zero.copy()),
                  ("square_avg", "delta_avg"), AdadeltaTrajectory, lr=lr, rho=rho, eps=eps)


def bias_correction(beta: Any, t: Any) -> Any:
    """1 - beta^t without the cancellation of the direct form where beta^t is near 1:
    -expm1(t log1p(-(1 - beta))) (1 - beta is exact for the drawn betas); the direct form
    where it is exact or cancels nothing (t = 1, beta^t <= 1/2). The direct 1 - beta^t has
    relative error eps / (1 - beta^t), ~2^-43 / t in float64 for beta = 0.999, which every
    framework makes (docs/conventions/optimizers.md §Adam)."""
    power = beta**t
    if float(t) == 1 or float(power) <= 0.5:
        return s(1.0) - power
    return -np.expm1(t * np.log1p(-(s(1.0) - beta)))


def adam_step(params: Any, grad: Any, state: AdamState, *, lr: float, b1: float, b2: float,
              eps: float, eps_mode: str = "outside", weight_decay: float = 0.0,
              weight_decay_mode: str = "l2") -> tuple[Any, AdamState]:
    """One Adam step, t = state.step + 1 (docs/conventions/optimizers.md §Adam):
        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
        m' = m / (1 - b1^t);      v' = v / (1 - b2^t)
        eps_mode "outside" (the catalog's, torch, optax):  theta -= lr m' / (sqrt(v') + eps)
        eps_mode "inside"  (the notes' formula, optax eps_root): theta -= lr m' / sqrt(v' + eps)
        eps_mode "hat" (Kingma & Ba's epsilon-hat, Keras):
            theta -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
    "hat" equals "outside" with eps_t = eps / sqrt(1 - b2^t): no constant eps maps one onto
    the other. Weight decay "l2" (torch Adam) adds weight_decay theta to g before the
    moments; "decoupled" (AdamW, every Keras optimizer) first sets
    theta <- theta - lr weight_decay theta, with the pre-update theta.
    """
    t = state.step + s(1.0)
    b1_, b2_, lr_ = s(b1), s(b2), s(lr)
    if weight_decay and weight_decay_mode == "l2":
        grad = grad + s(weight_decay) * params
    if weight_decay and weight_decay_mode == "decoupled":
        params = params - lr_ * s(weight_decay) * params
    m = b1_ * state.m + (s(1.0) - b1_) * grad
    v = b2_ * state.v + (s(1.0) - b2_) * (grad * grad)
    bc1, bc2 = bias_correction(b1_, t), bias_correction(b2_, t)
    if eps_mode == "outside":
        update = lr_ * (m / bc1) / (np.sqrt(v / bc2) + s(eps))
    elif eps_mode == "inside":
        update = lr_ * (m / bc1) / np.sqrt(v / bc2 + s(eps))
    else:
        update = (lr_ * np.sqrt(bc2) / bc1) * m / (np.sqrt(v) + s(eps))
    return params - update, AdamState(m, v, t)


def adam(params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
         eps_mode: str = "outside", weight_decay: float = 0.0,
         weight_decay_mode: str = "l2") -> AdamTrajectory:
    """K Adam steps from m = v = 0; returns (params, m, v, step) after each step."""
    choice("eps_mode", eps_mode, ADAM_EPS_MODES)
    choice("weight_decay_mode", weight_decay_mode, WEIGHT_DECAY_MODES)
    params, grads = check_sequence(params, grads)
    zero = _canon.zeros(params.shape, like=(params, grads))
    out = unroll(adam_step, params, grads, AdamState(zero, zero.copy(), s(0.0)), ("m", "v"),
                 lambda p, m, v: (p, m, v), lr=lr, b1=b1, b2=b2, eps=eps, eps_mode=eps_mode,
                 weight_decay=weight_decay, weight_decay_mode=weight_decay_mode)
    return AdamTrajectory(*out, step_counts(grads.shape[0]))
