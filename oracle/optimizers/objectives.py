"""The smooth, non-quadratic test functions that NAG, Newton and L-BFGS are run on.

    f(x) = 1/2 (x - a)^T Q (x - a) + sum_i b_i phi(x_i - c_i),   x, a, b, c (n,),
    Q (n, n) symmetric,

with phi one of three convex terms, each expressible in every framework:
    "softplus":  phi(z) = log(1 + e^z)          phi'' = s (1 - s), s = sigmoid(z), <= 1/4
    "logcosh":   phi(z) = log cosh z            phi'' = 1 - tanh(z)^2, <= 1
    "quartic":   phi(z) = z^4 / 4               phi'' = 3 z^2
The quadratic's centre a is drawn away from 0, so the minimum (and the trajectory's scale)
is not 0. With Q positive definite and b >= 0 the function is strictly convex, so Newton and L-BFGS
have a unique minimum to head for and every (s, y) pair has s^T y > 0.

The gradient and the Hessian are the oracle's own dual numbers (``oracle.autodiff.gradient``
and ``hessian``: exact up to the rounding of f's arithmetic); the tests check them against
the closed forms above. log cosh is written logaddexp(z, -z) - log 2 (no overflow for large
|z|, and the dual numbers have a rule for it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon, autodiff

KINDS = ("softplus", "logcosh", "quartic")


def _phi(z: Any, kind: str) -> Any:
    if kind == "softplus":
        return np.logaddexp(_canon.scalar(0.0), z)
    if kind == "logcosh":
        return np.logaddexp(z, -z) - _canon.scalar(np.log(2.0))
    if kind == "quartic":
        return _canon.scalar(0.25) * np.square(np.square(z))
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def check_problem(x: Any, q: Any, a: Any, b: Any, c: Any) -> tuple[Any, ...]:
    x, q, a, b, c = (_canon.asarray(v) for v in (x, q, a, b, c))
    n = x.shape[0] if x.ndim == 1 else -1
    if n < 1 or q.shape != (n, n) or any(v.shape != (n,) for v in (a, b, c)):
        raise ValueError(f"need x, a, b, c (n,) and q (n, n); got {x.shape}, {q.shape}, "
                         f"{a.shape}, {b.shape}, {c.shape}")
    return x, q, a, b, c


def objective(x: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str) -> Any:
    """f(x) (a 0-d array; a Dual when x is one)."""
    d = x - a
    quad = _canon.scalar(0.5) * np.sum(d * (q @ d))
    return quad + np.sum(b * _phi(x - c, kind))


def gradient(x: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str) -> Any:
    """grad f(x), one dual pass per coordinate."""
    return autodiff.gradient(lambda z: objective(z, q, a, b, c, kind=kind), x)


def hessian(x: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str) -> Any:
    """The Hessian of f at x, (n, n), from depth-2 duals (``oracle.autodiff.hessian``)."""
    return autodiff.hessian(lambda z: objective(z, q, a, b, c, kind=kind), x)
