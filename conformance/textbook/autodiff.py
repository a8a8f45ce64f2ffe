"""Textbook derivative formulas of the ``ad`` family: what the frameworks' forward- and
reverse-mode rules evaluate in the tested dtype (registry.OpSpec.textbook).

The ad specs' outputs are themselves derivatives (they have no ``grad_wrt``), so their hook
is called in mode "forward" with no seeds and returns every output (value and derivative) as
the kernels' formula gives it in the dtype; ``outs`` are the oracle's outputs in the dtype
(and one ulp above and below). Why they are needed: the rules differentiate tanh, sigmoid
and log_softmax from their saved outputs (tanh' = 1 - y^2, sigmoid' = y (1 - y), the
log_softmax JVP u - sum(exp(y) u)), which cancel where the function saturates or a class
dominates, while the oracle's dual numbers differentiate stable formulations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.textbook import Alternatives, Summed, fma
from oracle import autodiff as AD
from oracle.activations import log_softmax


def from_output(fn: str, dydx: Callable[[Any], Any]) -> Callable[..., list]:
    """f(x + x' d) with f' taken from the output y: tanh_backward / sigmoid_backward in
    torch, TanhGrad / SigmoidGrad in TF, the (1 + y)(1 - y) and y (1 - y) JVP rules of JAX."""

    def naive(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
        x, x_dot = args[0], args[1]
        return [AD.dual_functions(x, x_dot, fn=fn).value, x_dot * dydx(outs[0])]

    return naive


def blend(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """torch's forward formula for maximum/minimum (tools/autograd/derivatives.yaml):
    y' + w (x' - y'), w = 1 where x wins, 1/2 at a tie, 0 where y wins. It is exact only up
    to the rounding of max(|x'|, |y'|): a small winning tangent beside a large losing one
    comes out inexact (x' = 6e-303, y' = 1 gives 0)."""
    x, x_dot, y, y_dot = args
    op = kwargs["op"]
    wins = np.greater(x, y) if op == "maximum" else np.less(x, y)
    w = np.where(x == y, 0.5, wins.astype(np.float64)).astype(x.dtype)
    return [AD.dual_arith(x, x_dot, y, y_dot, op=op).value, y_dot + w * (x_dot - y_dot)]


_FROM_OUTPUT = {
    "tanh": from_output("tanh", lambda y: 1 - y * y),
    "sigmoid": from_output("sigmoid", lambda y: y * (1 - y)),
}


def contracted(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """The product rules as compiled code may evaluate them: XLA on CPU contracts a product
    feeding a sum into one fused multiply-add (LLVM's fp-contract), so JAX's
    mul tangent x' y + x y' and div tangent x'/y + (-y' x) y^-2 (jax/_src/lax/lax.py, the
    mul_p and div_p JVP rules) lose the rounding of one product. Where the terms cancel the
    difference is all there is: x = 3, x' = 3, y = 1.5, y' = 1.5 gives an exact 0, the
    oracle 0 and JAX 1.1e-16. Both contraction orders and the unfused sum are allowed."""
    x, x_dot, y, y_dot = args
    value = AD.dual_arith(*args, **kwargs).value
    if kwargs["op"] == "mul":
        forms = (x_dot * y + x * y_dot, fma(x_dot, y, x * y_dot), fma(x, y_dot, x_dot * y))
    else:
        first, inv2 = x_dot / y, 1 / (y * y)
        forms = (first + (-y_dot * x) * inv2, fma(-y_dot * x, inv2, first))
    return [value, Alternatives(forms)]


def dual_arith(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """torch's blend for maximum/minimum, the contracted product rules for mul and div
    (when y has a tangent); the other ops' rules are the oracle's own."""
    if kwargs["op"] in ("maximum", "minimum"):
        return blend(mode, args, kwargs, outs, seeds)
    if kwargs["op"] in ("mul", "div") and args[3] is not None:
        return contracted(mode, args, kwargs, outs, seeds)
    return list(AD.dual_arith(*args, **kwargs))


def dual_functions(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """tanh and sigmoid from their output; the other functions' rules are the oracle's own."""
    if kwargs["fn"] in _FROM_OUTPUT:
        return _FROM_OUTPUT[kwargs["fn"]](mode, args, kwargs, outs, seeds)
    return list(AD.dual_functions(*args, **kwargs))


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # ml_dtypes' bfloat16 matmul returns float32: back to the dtype, as a kernel stores it.
    return np.matmul(a, b).astype(a.dtype)


def _step(moved: np.ndarray, value: np.ndarray) -> float:
    """Which way the harness moved the outputs for this call (0, +inf or -inf), so that the
    intermediate outputs a kernel saves (h = tanh(.), y = log_softmax(.)) move one ulp the
    same way: the kernel's own tanh may round differently from NumPy's."""
    diff = np.asarray(moved, np.float64) - np.asarray(value, np.float64)
    return 0.0 if not np.any(diff) else float(np.copysign(np.inf, diff.flat[np.argmax(diff != 0)]))


def _mlp_forward(args: list, outs: list) -> tuple[Any, Any, Any]:
    """(loss, h, y): the loss, the hidden activation and the log-softmax output in the
    dtype (the oracle's own operations, so the loss is the oracle's loss in the dtype); h
    and y one ulp away in the direction the harness moved the outputs (the loss, outs[0])
    for this call, since a kernel's tanh may round differently from NumPy's."""
    x, w1, b1, w2, b2, t = args[:6]
    h = np.tanh(_mm(x, w1.T) + b1)
    y = np.asarray(log_softmax(_mm(h, w2.T) + b2, axis=1))
    loss = -np.sum(t * y, axis=1)
    moved = np.asarray(outs[0], np.float64) - loss.astype(np.float64)
    if np.any(moved):
        step = h.dtype.type(np.copysign(np.inf, moved[moved != 0][0]))
        h, y = np.nextafter(h, step), np.nextafter(y, step)
    return loss, h, y


def mlp_jvp(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """(loss, J u) of ``mlp_loss`` by the chain rule with the output-based rules:
    dh = (1 - h^2) (dx W1^T + x dW1^T + db1), dz = dh W2^T + h dW2^T + db2,
    dy = dz - sum(exp(y) dz), d loss = -sum(t dy). The tangent is a sum whose terms cancel
    (dz_c - sum(exp(y) dz) where a class dominates): it comes with its terms' magnitudes, the
    same formula on |.|, since torch (seed 1, 51 ulp in float64) and JAX add them in another
    order than NumPy and a lucky naive rounding says nothing about theirs."""
    x, w1, b1, w2, b2, t, dx, dw1, db1, dw2, db2 = args
    loss, h, y = _mlp_forward(args, outs)
    dh = (1 - h * h) * (_mm(dx, w1.T) + _mm(x, dw1.T) + db1)
    dz = _mm(dh, w2.T) + _mm(h, dw2.T) + db2
    dy = dz - np.sum(np.exp(y) * dz, axis=1, keepdims=True)
    a = [np.abs(np.asarray(v, np.float64)) for v in (x, w1, b1, w2, b2, t, dx, dw1, db1,
                                                       dw2, db2, h, y)]
    ax, aw1, ab1, aw2, ab2, at, adx, adw1, adb1, adw2, adb2, ah, ay = a
    m_dh = np.abs(1 - ah * ah) * (adx @ aw1.T + ax @ adw1.T + adb1)
    m_dz = m_dh @ aw2.T + ah @ adw2.T + adb2
    m_dy = m_dz + np.sum(np.exp(-ay) * m_dz, axis=1, keepdims=True)  # exp(y) = exp(-|y|)
    return [loss, Summed(-np.sum(t * dy, axis=1), np.sum(at * m_dy, axis=1))]


def mlp_vjp(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """(loss, g^T J) of ``mlp_loss`` by backpropagation with the output-based rules:
    dy = -g t, dz = dy - exp(y) sum(dy), dW2 = dz^T h, db2 = sum_n dz, dh = dz W2,
    da = (1 - h^2) dh, dW1 = da^T x, db1 = sum_n da, dx = da W1."""
    x, w1, b1, w2, b2, t, g = args
    loss, h, y = _mlp_forward(args, outs)
    dy = -(g[:, None] * t)
    dz = dy - np.exp(y) * np.sum(dy, axis=1, keepdims=True)
    da = (1 - h * h) * _mm(dz, w2)
    return [loss, _mm(da, w1), _mm(da.T, x), np.sum(da, axis=0), _mm(dz.T, h),
            np.sum(dz, axis=0)]
