"""Gradients and second derivatives by nested dual numbers (catalog id ``ad.hessian``).

A Dual of depth k carries k infinitesimals d_1 .. d_k with d_i^2 = 0 but d_i d_j != 0 (i != j):
seeding x + a d_1 + b d_2, the coefficient of d_1 d_2 in f is the mixed second derivative
a^T H b. No step size, so the result is exact up to the rounding of f's own arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from oracle import _canon
from oracle.autodiff.dual import Dual, depth
from oracle.autodiff.jvp import jvp


def _input(x: Any) -> np.ndarray:
    return np.array(_canon.asarray(x), copy=True)


def _unit(x: np.ndarray, j: int) -> np.ndarray:
    e = np.zeros(x.size, dtype=x.dtype)
    e[j] = 1
    return e.reshape(x.shape)


def _coefficient(out: Any, levels: int) -> np.ndarray:
    """The coefficient of d_1 .. d_levels in ``out`` (zero where ``out`` does not reach it)."""
    if depth(out) < levels:
        return np.zeros(np.shape(_canon.primal(out)), dtype=_canon.primal(out).dtype)
    for _ in range(levels):
        out = out.tangent
    return np.asarray(out)


def _scalar(out: Any) -> Any:
    outs = _canon.flatten_outputs(out)
    if len(outs) != 1 or np.size(_canon.primal(outs[0])) != 1:
        raise ValueError("the function must return a single scalar")
    return outs[0]


def gradient(f: Callable[..., Any], x: Any, kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """grad f(x) of a scalar function, shape x.shape: one dual pass per element of x."""
    x = _input(x)
    g = np.zeros(x.size, dtype=x.dtype)
    for j in range(x.size):
        _, (t,) = jvp(lambda z: _scalar(f(z, **(kwargs or {}))), [x], None, {0: _unit(x, j)})
        g[j] = t.reshape(())
    return g.reshape(x.shape)


def hvp(f: Callable[..., Any], x: Any, v: Any, kwargs: Mapping[str, Any] | None = None
        ) -> np.ndarray:
    """H v, the Hessian of the scalar function f at x times v: n passes of depth-2 duals,
    (H v)_i = the d_1 d_2 coefficient of f(x + e_i d_1 + v d_2)."""
    x = _input(x)
    v = np.asarray(v, dtype=x.dtype)
    if v.shape != x.shape:
        raise ValueError(f"v shape {v.shape} differs from x shape {x.shape}")
    out = np.zeros(x.size, dtype=x.dtype)
    for i in range(x.size):
        z = Dual(Dual(x, _unit(x, i)), v)
        out[i] = _coefficient(_scalar(f(z, **(kwargs or {}))), 2).reshape(())
    return out.reshape(x.shape)


def hessian(f: Callable[..., Any], x: Any, kwargs: Mapping[str, Any] | None = None
            ) -> np.ndarray:
    """H[i, j] = d^2 f / dx_i dx_j of a scalar function f(x, **kwargs), shape x.shape * 2.

    Each entry by its own depth-2 dual pass: the d_1 d_2 coefficient of
    f(x + e_i d_1 + e_j d_2). All n^2 entries are computed (no symmetry is assumed, so the
    symmetry of H is a check of f's derivative rules, not an input).
    """
    x = _input(x)
    cols = [hvp(f, x, _unit(x, j), kwargs).reshape(-1) for j in range(x.size)]
    h = np.stack(cols, axis=1) if cols else np.zeros((0, 0), dtype=x.dtype)
    return h.reshape(x.shape + x.shape)


def directional_derivative(f: Callable[..., Any], x: Any, u: Any, *, order: int,
                           kwargs: Mapping[str, Any] | None = None) -> np.ndarray:
    """d^k/dt^k f(x + t u) at t = 0 (k = ``order`` >= 1), for f with one array output.

    One pass of depth-k duals seeded x + u (d_1 + ... + d_k): the d_1 .. d_k coefficient of
    f is D^k f[u, ..., u] (the k! orderings of the products each contribute once).
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    x = _input(x)
    u = np.asarray(u, dtype=x.dtype)
    z: Any = x
    for _ in range(order):
        z = Dual(z, u)
    outs = _canon.flatten_outputs(f(z, **(kwargs or {})))
    if len(outs) != 1:
        raise ValueError("the function must return one array")
    return _coefficient(outs[0], order)
