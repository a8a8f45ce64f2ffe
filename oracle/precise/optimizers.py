"""mpmath transcriptions of the ``optim`` family, written apart from oracle/optimizers.

Same signatures as the oracle's trajectory functions (float64 NumPy arrays in, keyword
hyper-parameters), the same NamedTuple of trajectories out, as NumPy object arrays of
``mpmath.mpf`` at the caller's precision. Element by element in plain loops; the bias
correction is the direct 1 - beta^t (exact enough at 50 digits); the test function's
gradient and Hessian are the closed forms (Q_sym (x - a) + b phi'(z), Q_sym + diag(b phi''(z)))
instead of dual numbers, and Newton solves with mpmath's LU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.optimizers.adaptive import (
    AdadeltaTrajectory,
    AdagradTrajectory,
    AdamTrajectory,
    RmspropTrajectory,
)
from oracle.optimizers.first_order import BufferTrajectory, SgdTrajectory, VelocityTrajectory
from oracle.optimizers.second_order import LbfgsTrajectory, NewtonTrajectory


def _mp(a: Any) -> list[Any]:
    return [mpmath.mpf(float(v)) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def _arr(rows: list[list[Any]], shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty((len(rows), int(np.prod(shape, dtype=int))), dtype=object)
    for k, row in enumerate(rows):
        out[k, :] = row
    return out.reshape((len(rows), *shape))


def _sequence(params: Any, grads: Any) -> tuple[list[Any], list[list[Any]], tuple[int, ...]]:
    shape = np.asarray(params).shape
    return _mp(params), [_mp(g) for g in np.asarray(grads)], shape


def sgd(params: Any, grads: Any, *, lr: float, weight_decay: float = 0.0) -> SgdTrajectory:
    theta, gs, shape = _sequence(params, grads)
    lr_, wd = mpmath.mpf(lr), mpmath.mpf(weight_decay)
    rows = []
    for g in gs:
        theta = [t - lr_ * (gi + wd * t) for t, gi in zip(theta, g)]
        rows.append(theta)
    return SgdTrajectory(_arr(rows, shape))


def _momentum(params: Any, grads: Any, lrs: list[Any], momentum: float, form: str,
              dampening: float) -> Any:
    theta, gs, shape = _sequence(params, grads)
    mu, damp = mpmath.mpf(momentum), mpmath.mpf(dampening)
    v = [mpmath.mpf(0)] * len(theta)
    ps, vs = [], []
    for k, g in enumerate(gs):
        lr = mpmath.mpf(lrs[k])
        if form == "velocity":
            v = [mu * vi + lr * gi for vi, gi in zip(v, g)]
            theta = [t - vi for t, vi in zip(theta, v)]
        else:
            v = list(g) if k == 0 else [mu * vi + (1 - damp) * gi for vi, gi in zip(v, g)]
            theta = [t - lr * vi for t, vi in zip(theta, v)]
        ps.append(theta)
        vs.append(v)
    out = VelocityTrajectory if form == "velocity" else BufferTrajectory
    return out(_arr(ps, shape), _arr(vs, shape))


def momentum(params: Any, grads: Any, lrs: Any = None, *, lr: float | None = None,
             momentum: float, form: str = "velocity", dampening: float = 0.0) -> Any:
    """Both optim.momentum (a constant lr) and its /lr_schedule variants (lrs (K,))."""
    steps = [lr] * len(grads) if lrs is None else [float(v) for v in np.asarray(lrs)]
    return _momentum(params, grads, steps, momentum, form, dampening)


def adagrad(params: Any, grads: Any, *, lr: float, eps: float, initial_accumulator: float = 0.0,
            eps_placement: str = "inside") -> AdagradTrajectory:
    theta, gs, shape = _sequence(params, grads)
    lr_, eps_ = mpmath.mpf(lr), mpmath.mpf(eps)
    acc = [mpmath.mpf(initial_accumulator)] * len(theta)
    ps, accs = [], []
    for g in gs:
        acc = [a + gi * gi for a, gi in zip(acc, g)]
        den = [mpmath.sqrt(a + eps_) if eps_placement == "inside" else mpmath.sqrt(a) + eps_
               for a in acc]
        theta = [t - lr_ * gi / d for t, gi, d in zip(theta, g, den)]
        ps.append(theta)
        accs.append(acc)
    return AdagradTrajectory(_arr(ps, shape), _arr(accs, shape))


def rmsprop(params: Any, grads: Any, *, lr: float, rho: float, eps: float,
            eps_placement: str = "inside") -> RmspropTrajectory:
    theta, gs, shape = _sequence(params, grads)
    lr_, rho_, eps_ = mpmath.mpf(lr), mpmath.mpf(rho), mpmath.mpf(eps)
    e = [mpmath.mpf(0)] * len(theta)
    ps, es = [], []
    for g in gs:
        e = [rho_ * ei + (1 - rho_) * gi**2 for ei, gi in zip(e, g)]
        den = [mpmath.sqrt(ei + eps_) if eps_placement == "inside" else mpmath.sqrt(ei) + eps_
               for ei in e]
        theta = [t - lr_ * gi / d for t, gi, d in zip(theta, g, den)]
        ps.append(theta)
        es.append(e)
    return RmspropTrajectory(_arr(ps, shape), _arr(es, shape))


def adadelta(params: Any, grads: Any, *, rho: float, eps: float,
             lr: float = 1.0) -> AdadeltaTrajectory:
    theta, gs, shape = _sequence(params, grads)
    lr_, rho_, eps_ = mpmath.mpf(lr), mpmath.mpf(rho), mpmath.mpf(eps)
    eg = [mpmath.mpf(0)] * len(theta)
    edx = [mpmath.mpf(0)] * len(theta)
    ps, egs, edxs = [], [], []
    for g in gs:
        eg = [rho_ * e + (1 - rho_) * gi**2 for e, gi in zip(eg, g)]
        dx = [mpmath.sqrt(d + eps_) / mpmath.sqrt(e + eps_) * gi for d, e, gi in zip(edx, eg, g)]
        edx = [rho_ * d + (1 - rho_) * x**2 for d, x in zip(edx, dx)]
        theta = [t - lr_ * x for t, x in zip(theta, dx)]
        ps.append(theta)
        egs.append(eg)
        edxs.append(edx)
    return AdadeltaTrajectory(_arr(ps, shape), _arr(egs, shape), _arr(edxs, shape))


def adam(params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
         eps_mode: str = "outside", weight_decay: float = 0.0,
         weight_decay_mode: str = "l2") -> AdamTrajectory:
    theta, gs, shape = _sequence(params, grads)
    lr_, b1_, b2_, eps_, wd = (mpmath.mpf(v) for v in (lr, b1, b2, eps, weight_decay))
    m = [mpmath.mpf(0)] * len(theta)
    v = [mpmath.mpf(0)] * len(theta)
    ps, ms, vs = [], [], []
    for t, g in enumerate(gs, start=1):
        if weight_decay_mode == "l2":
            g = [gi + wd * th for gi, th in zip(g, theta)]
        else:
            theta = [th - lr_ * wd * th for th in theta]
        m = [b1_ * mi + (1 - b1_) * gi for mi, gi in zip(m, g)]
        v = [b2_ * vi + (1 - b2_) * gi**2 for vi, gi in zip(v, g)]
        c1, c2 = 1 - b1_**t, 1 - b2_**t
        if eps_mode == "outside":
            step = [lr_ * (mi / c1) / (mpmath.sqrt(vi / c2) + eps_) for mi, vi in zip(m, v)]
        elif eps_mode == "inside":
            step = [lr_ * (mi / c1) / mpmath.sqrt(vi / c2 + eps_) for mi, vi in zip(m, v)]
        else:
            step = [lr_ * mpmath.sqrt(c2) / c1 * mi / (mpmath.sqrt(vi) + eps_)
                    for mi, vi in zip(m, v)]
        theta = [th - s for th, s in zip(theta, step)]
        ps.append(theta)
        ms.append(m)
        vs.append(v)
    steps = np.array([mpmath.mpf(t) for t in range(1, len(gs) + 1)], dtype=object)
    return AdamTrajectory(_arr(ps, shape), _arr(ms, shape), _arr(vs, shape), steps)


# --- the test function, in closed form ------------------------------------------------------
def _phi_derivatives(z: Any, kind: str) -> tuple[Any, Any]:
    if kind == "softplus":
        sig = 1 / (1 + mpmath.exp(-z))
        return sig, sig * (1 - sig)
    if kind == "logcosh":
        return mpmath.tanh(z), mpmath.sech(z) ** 2
    return z**3, 3 * z**2


def _problem(q: Any, a: Any, b: Any, c: Any) -> tuple[Any, ...]:
    qm = np.asarray(q, dtype=np.float64)
    n = qm.shape[0]
    qs = [[(mpmath.mpf(float(qm[i, j])) + mpmath.mpf(float(qm[j, i]))) / 2 for j in range(n)]
          for i in range(n)]
    return qs, _mp(a), _mp(b), _mp(c)


def _grad_hess(x: list[Any], prob: tuple[Any, ...], kind: str) -> tuple[list[Any], Any]:
    qs, a, b, c = prob
    n = len(x)
    d = [x[i] - a[i] for i in range(n)]
    first = [_phi_derivatives(x[i] - c[i], kind) for i in range(n)]
    g = [mpmath.fsum(qs[i][j] * d[j] for j in range(n)) + b[i] * first[i][0] for i in range(n)]
    h = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            h[i, j] = qs[i][j] + (b[i] * first[i][1] if i == j else 0)
    return g, h


def nag(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
        momentum: float, form: str = "lookahead") -> Any:
    prob = _problem(q, a, b, c)
    x, mu, eta = _mp(x0), mpmath.mpf(momentum), mpmath.mpf(lr)
    v = [mpmath.mpf(0)] * len(x)
    ps, vs = [], []
    for _ in range(steps):
        if form == "lookahead":
            g, _ = _grad_hess([xi - mu * vi for xi, vi in zip(x, v)], prob, kind)
            v = [mu * vi + eta * gi for vi, gi in zip(v, g)]
            x = [xi - vi for xi, vi in zip(x, v)]
        else:
            g, _ = _grad_hess(x, prob, kind)
            v = [mu * vi + gi for vi, gi in zip(v, g)]
            x = [xi - eta * (gi + mu * vi) for xi, gi, vi in zip(x, g, v)]
        ps.append(x)
        vs.append(v)
    out = VelocityTrajectory if form == "lookahead" else BufferTrajectory
    return out(_arr(ps, (len(x),)), _arr(vs, (len(x),)))


def newton(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int) -> NewtonTrajectory:
    prob = _problem(q, a, b, c)
    x, rows = _mp(x0), []
    for _ in range(steps):
        g, h = _grad_hess(x, prob, kind)
        d = mpmath.lu_solve(h, mpmath.matrix(g))
        x = [x[i] - d[i] for i in range(len(x))]
        rows.append(x)
    return NewtonTrajectory(_arr(rows, (len(x),)))


def _dot(u: list[Any], w: list[Any]) -> Any:
    return mpmath.fsum(ui * wi for ui, wi in zip(u, w))


def lbfgs(x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
          history: int, first_step: str = "identity", min_curvature: float | None = 0.0,
          pair: str = "step") -> LbfgsTrajectory:
    """At 50 digits "step" and "difference" pairs coincide; both are the same s."""
    prob = _problem(q, a, b, c)
    x, n = _mp(x0), len(np.asarray(x0))
    stored: list[tuple[list[Any], list[Any]]] = []
    gamma = mpmath.mpf(1)
    prev_x = prev_g = None
    xs, ss, ys, counts = [], [], [], []
    for t in range(steps):
        g, _ = _grad_hess(x, prob, kind)
        if t > 0:
            s = [xi - pi for xi, pi in zip(x, prev_x)]
            y = [gi - pi for gi, pi in zip(g, prev_g)]
            sy = _dot(s, y)
            if min_curvature is None or sy > min_curvature:
                gamma = sy / _dot(y, y) if _dot(y, y) != 0 else mpmath.mpf(1)
                stored = (stored + [(s, y)])[-history:]
        r, alphas = list(g), []
        for s, y in reversed(stored):
            sy = _dot(s, y)
            alpha = (_dot(s, r) / sy) if sy != 0 else mpmath.mpf(0)
            r = [ri - alpha * yi for ri, yi in zip(r, y)]
            alphas.append(alpha)
        r = [gamma * ri for ri in r]
        for (s, y), alpha in zip(stored, reversed(alphas)):
            sy = _dot(s, y)
            beta = (_dot(y, r) / sy) if sy != 0 else mpmath.mpf(0)
            r = [ri + (alpha - beta) * si for ri, si in zip(r, s)]
        lr_t = mpmath.mpf(lr)
        if t == 0 and first_step != "identity":
            norm = mpmath.fsum(abs(gi) for gi in g) if first_step == "l1" else \
                mpmath.sqrt(_dot(g, g))
            lr_t = min(mpmath.mpf(1), 1 / norm) * lr_t
        prev_x, prev_g = x, g
        x = [xi - lr_t * ri for xi, ri in zip(x, r)]
        hs = [list(s) for s, _ in stored] + [[mpmath.mpf(0)] * n] * (history - len(stored))
        hy = [list(y) for _, y in stored] + [[mpmath.mpf(0)] * n] * (history - len(stored))
        xs.append(x)
        ss.append([v for row in hs for v in row])
        ys.append([v for row in hy for v in row])
        counts.append(mpmath.mpf(len(stored)))
    return LbfgsTrajectory(_arr(xs, (n,)), _arr(ss, (history, n)), _arr(ys, (history, n)),
                           np.array(counts, dtype=object))


PRECISE: dict[str, Callable[..., Any]] = {
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
