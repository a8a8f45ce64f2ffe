"""Newton's method and L-BFGS (catalog optim.newton, optim.lbfgs; notes 004), run on the
test functions of ``objectives`` (gradient and Hessian from the oracle's dual numbers).
Framework forms: docs/conventions/optimizers.md §Newton, §L-BFGS.

Neither runs on dual numbers itself (np.linalg.solve, data-dependent pair selection): no
spec differentiates through them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.optimizers import objectives
from oracle.optimizers._common import choice, s

FIRST_STEPS = ("identity", "l1", "l2")
PAIRS = ("step", "difference")


class NewtonTrajectory(NamedTuple):
    params: Any


class LbfgsTrajectory(NamedTuple):
    params: Any
    s: Any  # (K, history, n): the stored parameter steps, oldest first, zero-padded
    y: Any  # (K, history, n): the stored gradient differences, likewise
    pairs: Any  # (K,): how many (s, y) pairs are stored


def newton(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int) -> NewtonTrajectory:
    """x <- x - H(x)^-1 grad f(x), ``steps`` times; H^-1 g by an LU solve (LAPACK gesv), never
    by forming the inverse. float64 and float32 only (LAPACK has no half types)."""
    x, q, a, b, c = objectives.check_problem(x0, q, a, b, c)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    out = []
    for _ in range(steps):
        g = objectives.gradient(x, q, a, b, c, kind=kind)
        h = objectives.hessian(x, q, a, b, c, kind=kind)
        x = x - np.linalg.solve(h, g)
        out.append(x)
    return NewtonTrajectory(np.stack(out))


def two_loop(g: Any, pairs: list[tuple[Any, Any, Any]], gamma: Any) -> Any:
    """H g by the L-BFGS two-loop recursion (Nocedal & Wright, Algorithm 7.4), H the inverse
    Hessian approximation from pairs [(s, y, rho)] (oldest first, rho = 1 / s^T y) on
    H_0 = gamma I."""
    r = g
    alphas = []
    for si, yi, rho in reversed(pairs):
        a = rho * np.sum(si * r)
        r = r - a * yi
        alphas.append(a)
    r = gamma * r
    for (si, yi, rho), a in zip(pairs, reversed(alphas)):
        beta = rho * np.sum(yi * r)
        r = r + (a - beta) * si
    return r


def lbfgs(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
          history: int, first_step: str = "identity", min_curvature: float | None = 0.0,
          pair: str = "step") -> LbfgsTrajectory:
    """``steps`` L-BFGS steps with a fixed step size lr and no line search:
        x_{t+1} = x_t - lr_t H_t g_t,  H_t from the last ``history`` pairs by ``two_loop`` on
        H_0 = gamma I, gamma = s^T y / y^T y of the newest stored pair (1 before any),
    where after step t the pair (s_t, y_t = g_{t+1} - g_t) is formed when g_{t+1} is known,
    i.e. at the start of step t + 1 (so the state after step t holds pairs up to x_t).

    Conventions (named options; docs/conventions/optimizers.md §L-BFGS):
      first_step: lr_1 = lr ("identity", H_0 = I), lr min(1, 1/||g_1||_1) ("l1", torch),
        lr min(1, 1/||g_1||_2) ("l2", optax); later steps use lr.
      min_curvature: a pair is stored only when s^T y > min_curvature (0: the textbook
        guard; torch 1e-10); None stores every pair (optax), with rho = 0 where s^T y = 0
        and gamma = 1 where y^T y = 0.
      pair: s = the step lr_t d_t as computed ("step", torch) or x_{t+1} - x_t as stored
        ("difference", optax); the same in exact arithmetic.
    """
    choice("first_step", first_step, FIRST_STEPS)
    choice("pair", pair, PAIRS)
    x, q, a, b, c = objectives.check_problem(x0, q, a, b, c)
    if steps < 1 or history < 1:
        raise ValueError(f"steps and history must be >= 1, got {steps}, {history}")
    n = x.shape[0]
    stored: list[tuple[Any, Any, Any]] = []
    gamma = s(1.0)
    prev_g = prev_x = step = None
    out_x, out_s, out_y, out_n = [], [], [], []
    for t in range(steps):
        g = objectives.gradient(x, q, a, b, c, kind=kind)
        if t > 0:
            sv = step if pair == "step" else x - prev_x
            yv = g - prev_g
            ys = np.sum(yv * sv)
            if min_curvature is None or ys > s(min_curvature):
                rho = s(0.0) if ys == 0 else s(1.0) / ys
                yy = np.sum(yv * yv)
                gamma = ys / yy if (min_curvature is not None or yy > 0) else s(1.0)
                stored = (stored + [(sv, yv, rho)])[-history:]
        lr_t = s(lr)
        if t == 0 and first_step != "identity":
            norm = np.sum(np.abs(g)) if first_step == "l1" else np.sqrt(np.sum(g * g))
            lr_t = np.minimum(s(1.0), s(1.0) / norm) * lr_t
        step = -lr_t * two_loop(g, stored, gamma)
        prev_x, prev_g = x, g
        x = x + step
        hist_s, hist_y = _canon.zeros((history, n)), _canon.zeros((history, n))
        for i, (si, yi, _) in enumerate(stored):
            hist_s[i], hist_y[i] = si, yi
        out_x.append(x)
        out_s.append(hist_s)
        out_y.append(hist_y)
        out_n.append(len(stored))
    return LbfgsTrajectory(np.stack(out_x), np.stack(out_s), np.stack(out_y),
                           np.asarray(out_n).astype(_canon.current_dtype()))
