"""Input builders and condition scales of the arch and ad families for the accuracy harness
(oracle/accuracy/cases.py assembles them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from oracle.accuracy.draw import Args, Draw
from oracle.autodiff import elementary


# --- arch, ad ---------------------------------------------------------------------------------
def arch(d: Draw) -> Args:
    return (), {"name": d.pick(("lenet5", "alexnet", "vgg16"))}


def dual_arith(d: Draw) -> Args:
    op = d.pick(elementary.ARITH_OPS)
    x, dx = d.values(5,), d.uniform(-1, 1, 5)
    if op in ("neg", "reciprocal"):
        return (x, dx), {"op": op}
    y = d.values(5,)
    if op == "pow":
        # (|y| + 1) |log10 x| <= 250: x^y and y x^(y-1) stay inside the float64 range.
        x = np.abs(x)
        span = np.maximum(250.0 / np.maximum(np.abs(np.log10(x)), 1) - 1, 0)
        y = d.uniform(-1, 1, 5) * np.minimum(3.0, span)
    return (x, dx, y, d.uniform(-1, 1, 5)), {"op": op}


_DOMAINS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.abs, "sqrt": np.abs,
    "exp": lambda v: np.clip(v, -700, 700), "polynomial": lambda v: np.clip(v, -1e50, 1e50),
}


def dual_functions(d: Draw) -> Args:
    fn = d.pick(elementary.FUNCTIONS)
    x = _DOMAINS.get(fn, lambda v: v)(d.values(2, 5))
    if fn in ("sin", "cos"):  # the argument reduction of sin/cos is for |x| well below 1e15
        x = np.clip(x, -1e3, 1e3)
    kw: dict[str, Any] = {"fn": fn}
    if fn == "polynomial":
        kw["coeffs"] = (1.0, -0.5, 0.25)
    return (x, d.uniform(-1, 1, 2, 5)), kw


def dual_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                outs: list[np.ndarray]) -> list[np.ndarray]:
    """|value|, and the tangent rule's terms by magnitude (a tangent sum may cancel)."""
    value, tangent = (np.abs(o) for o in outs)
    if len(args) < 4:
        return [value, tangent]
    x, dx, y, dy = (np.abs(a) for a in args)
    with np.errstate(all="ignore"):
        terms = {"add": dx + dy, "sub": dx + dy, "mul": dx * y + x * dy,
                 "div": dx / y + x * dy / y**2,
                 "pow": y * x ** (args[2] - 1) * dx + np.abs(np.log(x)) * value * dy}
    return [value, np.maximum(terms.get(kwargs["op"], tangent), tangent)]


def mlp_params(d: Draw) -> list[np.ndarray]:
    shapes = ((2, 2), (3, 2), (3,), (3, 3), (3,))
    return [d.values(*s) for s in shapes]


def mlp_jvp(d: Draw) -> Args:
    params = mlp_params(d)
    return (*params, d.uniform(0, 1, 2, 3), *(d.uniform(-1, 1, *p.shape) for p in params)), {}


def mlp_vjp(d: Draw) -> Args:
    return (*mlp_params(d), d.uniform(0, 1, 2, 3), d.uniform(-1, 1, 2)), {}


class _MlpScales(NamedTuple):
    """Magnitudes of the MLP's intermediates and of their own rounding's condition scales,
    in float64 (for condition scales only): a = x W1^T + b1 (terms a_t), h = tanh(a),
    z = h W2^T + b2 (terms z_t, through h_t = |h| + sech^2(a) a_t), softmax(z), and the
    index of each row's largest logit."""

    h: np.ndarray
    h_t: np.ndarray
    s2: np.ndarray    # sech^2(a), with its own sensitivity to a's rounding
    z_t: np.ndarray
    soft: np.ndarray
    top: np.ndarray


def mlp_scales(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray,
               b2: np.ndarray) -> _MlpScales:
    a = x @ w1.T + b1
    a_t = np.abs(x) @ np.abs(w1).T + np.abs(b1)
    e = np.exp(-2 * np.abs(a))
    h = np.tanh(a)
    sech2 = 4 * e / (1 + e) ** 2
    h_t = np.abs(h) + sech2 * a_t
    z = h @ w2.T + b2
    soft = np.exp(z - z.max(axis=1, keepdims=True))
    # d sech^2 / da = -2 tanh sech^2: a's rounding (~ a_t u) moves sech^2 by 2 |h| sech^2 a_t u
    return _MlpScales(np.abs(h), h_t, sech2 * (1 + 2 * np.abs(h) * a_t),
                      h_t @ np.abs(w2).T + np.abs(b2), soft / soft.sum(axis=1, keepdims=True),
                      np.argmax(z, axis=1))


# Both scales follow the oracle's own arithmetic, first order in each rounding: a
# pre-activation that cancels carries its terms' magnitudes into h and sech^2, a rounded
# logit moves softmax by ~2 soft |dz|, and the oracle's log_softmax shifts by the row's
# largest logit m, so each logit's tangent enters as dz_c - dz_m (terms |dz_c| + |dz_m|).
def mlp_jvp_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                  outs: list[np.ndarray]) -> list[np.ndarray]:
    """The chain rule run on magnitudes: each tangent's sum |terms|, layer by layer."""
    x, w1, b1, w2, b2, t, dx, dw1, db1, dw2, db2 = args
    m = mlp_scales(x, w1, b1, w2, b2)
    dh = m.s2 * (np.abs(dx) @ np.abs(w1).T + np.abs(x) @ np.abs(dw1).T + np.abs(db1))
    dz = dh @ np.abs(w2).T + m.h_t @ np.abs(dw2).T + np.abs(db2)
    dz_top = np.take_along_axis(dz, m.top[:, None], axis=1)
    weight = t + t.sum(axis=1, keepdims=True) * m.soft * (1 + 2 * m.z_t)
    return [np.abs(outs[0]), (weight * (dz + dz_top)).sum(axis=1)]


def mlp_vjp_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                  outs: list[np.ndarray]) -> list[np.ndarray]:
    """Backpropagation run on magnitudes: each gradient entry's sum |terms|."""
    x, w1, b1, w2, b2, t, g = args
    m = mlp_scales(x, w1, b1, w2, b2)
    tz = np.abs(g)[:, None] * (t.sum(axis=1, keepdims=True) * m.soft * (1 + 2 * m.z_t) + t)
    # the shift by the top logit adds sum_c tz_c to that logit's own entry
    tz = tz + np.eye(tz.shape[1])[m.top] * tz.sum(axis=1, keepdims=True)
    ta = (tz @ np.abs(w2)) * m.s2
    return [np.abs(outs[0]), ta @ np.abs(w1), ta.T @ np.abs(x), ta.sum(axis=0), tz.T @ m.h_t,
            tz.sum(axis=0)]


def hess_lse(d: Draw) -> Args:
    return (d.values(3,), d.values(2, 3)), {}


def hess_rosen(d: Draw) -> Args:
    return (d.values(3,),), {"a": d.pick((1.0, -0.5)), "b": d.pick((1.0, 100.0))}


def hess_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                outs: list[np.ndarray]) -> list[np.ndarray]:
    x = args[0]
    if "b" in kwargs:  # |12 b x_i^2| + |4 b x_{i+1}| + 2 on the diagonal, |4 b x_i| beside it
        b = abs(kwargs["b"])
        t = np.zeros((x.size, x.size))
        for i in range(x.size - 1):
            t[i, i] += b * (12 * x[i] ** 2 + 4 * abs(x[i + 1])) + 2
            t[i + 1, i + 1] += 2 * b
            t[i, i + 1] = t[i + 1, i] = 4 * b * abs(x[i])
        return [t]
    a = args[1]
    return [np.abs(a).T @ np.abs(a) * 2 + 1]  # p_r <= 1: |A^T diag(p) A| + |A^T p p^T A| + I


def numeric(d: Draw) -> Args:
    x = np.clip(d.values(4,), -20, 20)
    return (x, d.uniform(-1, 1, 4)), {"h": 2.0 ** -float(d.rng.integers(4, 26)),
                                       "scheme": d.pick(("forward", "central"))}


def numeric_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                   outs: list[np.ndarray]) -> list[np.ndarray]:
    # A difference of two f values divided by h: the rounding of f (a few eps |f|) and of
    # x + h u (eps |x| |f'|) are amplified by 1/h.
    x, u = args
    h = kwargs["h"]
    f = np.abs(np.sin(x) * np.exp(x / 2))
    fp = np.abs(np.exp(x / 2)) * 1.5
    return [(2 * f + np.abs(x) * fp + np.abs(u) * fp * h) / h + np.abs(outs[0])]

