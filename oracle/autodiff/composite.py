"""Composite derivatives of fixed functions (catalog ids ad.jvp, ad.vjp, ad.hessian,
ad.numeric_diff): the functions written with oracle primitives, and their derivatives by
the oracle's dual numbers (nested for the Hessians) or by a difference quotient.

  mlp_loss             a 2-layer tanh MLP with a weighted log-softmax loss, per sample
  mlp_jvp, mlp_vjp     (loss, J u) and (loss, g^T J) of mlp_loss
  hessian_logsumexp    Hessian of logsumexp(A x) + |x|^2 / 2
  hessian_rosenbrock   Hessian of sum b (x_{i+1} - x_i^2)^2 + (a - x_i)^2
  numeric_diff         forward / central difference quotient of sin(x) exp(x / 2)

Each backend writes the same functions with its own ops and differentiates them with its own
jvp / vjp / hessian; these are what its results are compared with.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.activations import log_softmax
from oracle.autodiff.elementary import DualResult
from oracle.autodiff.hessian import hessian
from oracle.autodiff.jvp import jvp, vjp
from oracle.autodiff.numeric import finite_difference
from oracle.dense import dense


# --- jvp / vjp of a 2-layer MLP -------------------------------------------------------------
def mlp_loss(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> Any:
    """loss_n = -sum_c t[n, c] log_softmax(tanh(x W1^T + b1) W2^T + b2)[n, c], shape (N,).

    Layouts: x (N, D), w1 (H, D), b1 (H,), w2 (C, H), b2 (C,) (torch Linear), t (N, C)
    nonnegative class weights (held constant: not differentiated)."""
    h = dense(x, w1, b1, activation="tanh")
    return -np.sum(_canon.asarray(t) * log_softmax(dense(h, w2, b2), axis=1), axis=1)


def mlp_jvp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, dx: Any, dw1: Any, db1: Any,
            dw2: Any, db2: Any) -> DualResult:
    """(loss, J u): ``mlp_loss`` and its directional derivative along u = (dx .. db2)."""
    (value,), (tangent,) = jvp(mlp_loss, [x, w1, b1, w2, b2, t], None,
                               dict(enumerate((dx, dw1, db1, dw2, db2))))
    return DualResult(value, tangent)


class MLPVjp(NamedTuple):
    loss: np.ndarray
    x: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray


def mlp_vjp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> MLPVjp:
    """(loss, g^T d loss / d(x, w1, b1, w2, b2)): ``mlp_loss`` and its VJP for the
    cotangent g (N,), as torch.func.vjp / jax.vjp return them."""
    args = [x, w1, b1, w2, b2, t]
    return MLPVjp(mlp_loss(*args), *vjp(mlp_loss, args, None, range(5), [g]))


# --- hessian --------------------------------------------------------------------------------
def logsumexp_quadratic(x: Any, *, A: Any) -> Any:
    """logsumexp(A x) + |x|^2 / 2, a scalar (x (n,), A (m, n)). The shift m = max(A x) is
    taken on the primal values: logsumexp(z) = m + log(sum(exp(z - m))) for any constant m,
    so the derivatives are those of logsumexp itself."""
    x, A = _canon.asarray(x), _canon.asarray(A)
    z = A @ x
    m = np.max(_canon.primal(z))
    return m + np.log(np.sum(np.exp(z - m))) + np.sum(x * x) / 2


def rosenbrock(x: Any, *, a: float, b: float) -> Any:
    """sum_{i < n-1} b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, a scalar (x (n,), n >= 2)."""
    x = _canon.asarray(x)
    head, tail = x[:-1], x[1:]
    return np.sum(_canon.scalar(b) * np.square(tail - head * head)
                  + np.square(_canon.scalar(a) - head))


def hessian_logsumexp(x: Any, A: Any) -> Any:
    """The (n, n) Hessian of ``logsumexp_quadratic`` at x, by nested duals."""
    return hessian(logsumexp_quadratic, x, {"A": A})


def hessian_rosenbrock(x: Any, *, a: float, b: float) -> Any:
    """The (n, n) Hessian of ``rosenbrock`` at x, by nested duals."""
    return hessian(rosenbrock, x, {"a": a, "b": b})


# --- numeric_diff ---------------------------------------------------------------------------
def smooth(x: Any) -> Any:
    """sin(x) exp(x / 2), elementwise: the function the difference quotient is taken of."""
    x = _canon.asarray(x)
    return np.sin(x) * np.exp(x / 2)


def numeric_diff(x: Any, u: Any, *, h: float, scheme: str) -> Any:
    """The ``scheme`` difference quotient of ``smooth`` at x along u with step h."""
    return finite_difference(smooth, x, u, h=h, scheme=scheme)
