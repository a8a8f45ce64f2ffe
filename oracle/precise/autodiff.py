"""mpmath transcriptions of the ``ad`` family (notes 001): the derivatives written out by
hand as closed forms, not by dual numbers.

  ad.dual_arith / ad.dual_functions   (f(x), f'(x) x') from the rules of notes 001
  ad.jvp       (loss, J u) of ``oracle.autodiff.composite.mlp_loss``, by the chain rule
  ad.vjp       (loss, g^T J) of the same loss, by backpropagation written out
  ad.hessian   the Hessians of ``logsumexp_quadratic`` (A^T (diag p - p p^T) A + I) and
               ``rosenbrock`` (the tridiagonal closed form)
  ad.numeric_diff  the difference quotient of sin(x) exp(x / 2) evaluated exactly on the
               float64 inputs (x + h u exact), i.e. what the formula gives without rounding

Their signatures are those of the oracle's composite forms in oracle/autodiff/composite.py
and oracle/autodiff/elementary.py, which the accuracy harness measures for these ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np

from oracle.autodiff.composite import MLPVjp
from oracle.autodiff.elementary import DualResult
from oracle.precise._common import fsum, mp


def _pair(values: list[Any], tangents: list[Any], shape: tuple[int, ...]) -> DualResult:
    v, t = np.empty(len(values), dtype=object), np.empty(len(tangents), dtype=object)
    v[:], t[:] = values, tangents
    return DualResult(v.reshape(shape), t.reshape(shape))


def _arith(op: str, a: Any, da: Any, b: Any, db: Any) -> tuple[Any, Any]:
    if op == "neg":
        return -a, -da
    if op == "reciprocal":
        return 1 / a, -da / a ** 2
    if op == "add":
        return a + b, da + db
    if op == "sub":
        return a - b, da - db
    if op == "mul":
        return a * b, da * b + a * db
    if op == "div":
        return a / b, da / b - a * db / b ** 2
    if op == "pow":
        value = a ** b
        first = 0 if b == 0 else b * a ** (b - 1) * da
        second = 0 if a == 0 or db == 0 else mpmath.log(a) * value * db
        return value, first + second
    winner_a = a > b if op == "maximum" else a < b
    if a == b:
        return a, (da + db) / 2
    return (a, da) if winner_a else (b, db)


def dual_arith(x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *, op: str) -> DualResult:
    shape = np.broadcast_shapes(np.shape(x), *(() if y is None else (np.shape(y),)))
    xs = [mp(np.broadcast_to(a, shape)).reshape(-1) for a in (x, x_dot)]
    if y is None:
        ys = [np.zeros(int(np.prod(shape)), dtype=object)] * 2
    else:
        yd = np.zeros(np.shape(y)) if y_dot is None else y_dot
        ys = [mp(np.broadcast_to(a, shape)).reshape(-1) for a in (y, yd)]
    pairs = [_arith(op, a, da, b, db) for a, da, b, db in zip(*xs, *ys)]
    return _pair([p[0] for p in pairs], [mpmath.mpf(p[1]) for p in pairs], shape)


_F: dict[str, Callable[[Any], tuple[Any, Any]]] = {
    "exp": lambda v: (mpmath.exp(v), mpmath.exp(v)),
    "log": lambda v: (mpmath.log(v), 1 / v),
    "sin": lambda v: (mpmath.sin(v), mpmath.cos(v)),
    "cos": lambda v: (mpmath.cos(v), -mpmath.sin(v)),
    "tanh": lambda v: (mpmath.tanh(v), 1 / mpmath.cosh(v) ** 2),
    "sigmoid": lambda v: (1 / (1 + mpmath.exp(-v)),
                          mpmath.exp(-v) / (1 + mpmath.exp(-v)) ** 2),
    "sqrt": lambda v: (mpmath.sqrt(v), 1 / (2 * mpmath.sqrt(v))),
    "abs": lambda v: (abs(v), mpmath.sign(v)),
    "relu": lambda v: (v, mpmath.mpf(1)) if v > 0 else (mpmath.mpf(0), mpmath.mpf(0)),
}


def dual_functions(x: Any, x_dot: Any, *, fn: str,
                   coeffs: Sequence[float] | None = None) -> DualResult:
    xs, ts = mp(x), mp(x_dot)
    if fn in ("max", "min"):
        values, tangents = [], []
        for idx in np.ndindex(xs.shape[:-1]):
            row = list(xs[idx])
            best = row.index(max(row) if fn == "max" else min(row))  # the first extremum
            values.append(row[best])
            tangents.append(ts[idx][best])
        return _pair(values, tangents, xs.shape[:-1])
    if fn == "polynomial":
        cs = [mpmath.mpf(c) for c in coeffs or ()]

        def f(v: Any) -> tuple[Any, Any]:
            return (fsum(c * v ** i for i, c in enumerate(cs)),
                    fsum(i * c * v ** (i - 1) for i, c in enumerate(cs) if i))
    else:
        f = _F[fn]
    pairs = [f(v) for v in xs.reshape(-1)]
    return _pair([p[0] for p in pairs], [p[1] * t for p, t in zip(pairs, ts.reshape(-1))],
                 xs.shape)


def _matvec_rows(a: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """a (N, in) @ w.T (out, in) + b, exact per element."""
    out = np.empty((a.shape[0], w.shape[0]), dtype=object)
    for n in range(a.shape[0]):
        for o in range(w.shape[0]):
            out[n, o] = fsum([*(a[n, i] * w[o, i] for i in range(w.shape[1])),
                              *(() if b is None else (b[o],))])
    return out


def _mlp_forward(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> tuple[Any, ...]:
    x, w1, b1, w2, b2, t = (mp(a) for a in (x, w1, b1, w2, b2, t))
    a = _matvec_rows(x, w1, b1)
    h = np.vectorize(mpmath.tanh, otypes=[object])(a)
    # tanh' = sech^2: 1 - tanh^2 cancels to 0 at any fixed precision once tanh saturates.
    sech2 = np.vectorize(lambda v: 1 / mpmath.cosh(v) ** 2, otypes=[object])(a)
    z = _matvec_rows(h, w2, b2)
    soft = np.empty(z.shape, dtype=object)
    loss = np.empty(z.shape[0], dtype=object)
    for n in range(z.shape[0]):
        e = [mpmath.exp(v) for v in z[n]]
        total = fsum(e)
        soft[n] = [v / total for v in e]
        lse = mpmath.log(total)
        loss[n] = -fsum(t[n, c] * (z[n, c] - lse) for c in range(z.shape[1]))
    return x, w1, w2, t, h, sech2, soft, loss


def mlp_jvp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, dx: Any, dw1: Any, db1: Any,
            dw2: Any, db2: Any) -> DualResult:
    x, w1, w2, t, h, sech2, soft, loss = _mlp_forward(x, w1, b1, w2, b2, t)
    dx, dw1, db1, dw2, db2 = (mp(a) for a in (dx, dw1, db1, dw2, db2))
    n_, hid, c_ = x.shape[0], w1.shape[0], w2.shape[0]
    dh = np.empty((n_, hid), dtype=object)
    for n in range(n_):
        for j in range(hid):
            da = fsum([*(dx[n, i] * w1[j, i] + x[n, i] * dw1[j, i] for i in range(x.shape[1])),
                       db1[j]])
            dh[n, j] = sech2[n, j] * da
    tangent = np.empty(n_, dtype=object)
    for n in range(n_):
        dz = [fsum([*(dh[n, j] * w2[c, j] + h[n, j] * dw2[c, j] for j in range(hid)), db2[c]])
              for c in range(c_)]
        mean_dz = fsum(soft[n, c] * dz[c] for c in range(c_))
        tangent[n] = -fsum(t[n, c] * (dz[c] - mean_dz) for c in range(c_))
    return DualResult(loss, tangent)


def mlp_vjp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> MLPVjp:
    x, w1, w2, t, h, sech2, soft, loss = _mlp_forward(x, w1, b1, w2, b2, t)
    g = mp(g)
    n_, d_, hid, c_ = x.shape[0], x.shape[1], w1.shape[0], w2.shape[0]
    # d loss_n / d z_nc = (sum_k t_nk) softmax_nc - t_nc
    dz = np.empty((n_, c_), dtype=object)
    for n in range(n_):
        mass = fsum(t[n])
        for c in range(c_):
            dz[n, c] = g[n] * (mass * soft[n, c] - t[n, c])
    da = np.empty((n_, hid), dtype=object)
    for n in range(n_):
        for j in range(hid):
            da[n, j] = fsum(dz[n, c] * w2[c, j] for c in range(c_)) * sech2[n, j]

    def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty((a.shape[1], b.shape[1]), dtype=object)
        for i in range(a.shape[1]):
            for j in range(b.shape[1]):
                out[i, j] = fsum(a[n, i] * b[n, j] for n in range(a.shape[0]))
        return out

    gx = np.empty((n_, d_), dtype=object)
    for n in range(n_):
        for i in range(d_):
            gx[n, i] = fsum(da[n, j] * w1[j, i] for j in range(hid))
    gb1, gb2 = np.empty(hid, dtype=object), np.empty(c_, dtype=object)
    gb1[:] = [fsum(da[:, j]) for j in range(hid)]
    gb2[:] = [fsum(dz[:, c]) for c in range(c_)]
    return MLPVjp(loss, gx, outer(da, x), gb1, outer(dz, h), gb2)


def hessian_logsumexp(x: Any, A: Any) -> np.ndarray:
    x, A = mp(x), mp(A)
    m, n = A.shape
    z = [fsum(A[r, i] * x[i] for i in range(n)) for r in range(m)]
    e = [mpmath.exp(v) for v in z]
    total = fsum(e)
    p = [v / total for v in e]
    out = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            diag = fsum(p[r] * A[r, i] * A[r, j] for r in range(m))
            mi = fsum(p[r] * A[r, i] for r in range(m))
            mj = fsum(p[r] * A[r, j] for r in range(m))
            out[i, j] = diag - mi * mj + (1 if i == j else 0)
    return out


def hessian_rosenbrock(x: Any, *, a: float, b: float) -> np.ndarray:
    x, bb = mp(x), mpmath.mpf(b)
    n = x.shape[0]
    out = np.empty((n, n), dtype=object)
    out[...] = mpmath.mpf(0)
    for i in range(n - 1):
        out[i, i] += bb * (12 * x[i] ** 2 - 4 * x[i + 1]) + 2
        out[i + 1, i + 1] += 2 * bb
        out[i, i + 1] += -4 * bb * x[i]
        out[i + 1, i] += -4 * bb * x[i]
    return out


def numeric_diff(x: Any, u: Any, *, h: float, scheme: str) -> np.ndarray:
    x, u, hh = mp(x), mp(u), mpmath.mpf(h)

    def f(v: Any) -> Any:
        return mpmath.sin(v) * mpmath.exp(v / 2)

    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        plus = f(x[idx] + hh * u[idx])
        if scheme == "forward":
            out[idx] = (plus - f(x[idx])) / hh
        else:
            out[idx] = (plus - f(x[idx] - hh * u[idx])) / (2 * hh)
    return out


PRECISE: dict[str, Callable[..., Any]] = {
    "ad.dual_arith": dual_arith,
    "ad.dual_functions": dual_functions,
    "ad.jvp": mlp_jvp,
    "ad.vjp": mlp_vjp,
    "ad.hessian": hessian_logsumexp,
    "ad.numeric_diff": numeric_diff,
}
