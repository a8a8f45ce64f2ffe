"""The dual-number algebra of notes 001 as array-in, array-out functions (catalog ids
``ad.dual_arith`` and ``ad.dual_functions``), so that a backend's forward mode (torch.func.jvp,
jax.jvp, tf ForwardAccumulator) can be compared on them value by value.

Each evaluates an expression on x + x_dot d (and y + y_dot d) and returns the value and the
d-coefficient: f(x + x' d) = f(x) + f'(x) x' d.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.autodiff.dual import Dual


class DualResult(NamedTuple):
    value: np.ndarray
    tangent: np.ndarray


def _result(r: Any, like: np.ndarray) -> DualResult:
    if isinstance(r, Dual):
        return DualResult(np.asarray(r.value), np.asarray(r.tangent))
    # An expression that does not depend on x (a constant polynomial): tangent 0.
    value = np.broadcast_to(np.asarray(r, dtype=like.dtype), like.shape).copy()
    return DualResult(value, np.zeros(value.shape, dtype=like.dtype))


def _seed(x: Any, x_dot: Any) -> Dual:
    x = _canon.asarray(x)
    return Dual(x, np.asarray(x_dot, dtype=x.dtype))


_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda a: -a,
    "reciprocal": np.reciprocal,
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": np.maximum,
    "minimum": np.minimum,
}
ARITH_OPS = tuple(_UNARY) + tuple(_BINARY)


def dual_arith(x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *, op: str
               ) -> DualResult:
    """op(x + x' d, y + y' d) = value + tangent d, elementwise with broadcasting.

    Rules (d^2 = 0): (x + x'd) +- (y + y'd) = x +- y + (x' +- y')d;
    (x + x'd)(y + y'd) = xy + (x'y + xy')d; 1/(x + x'd) = 1/x - x'/x^2 d; -(x + x'd) = -x - x'd;
    x/y = x * (1/y); (x + x'd)^(y + y'd) = x^y + (y x^(y-1) x' + log(x) x^y y')d, whose first
    term is 0 where y == 0 and second term 0 where x == 0. maximum/minimum: the winner's
    tangent, the average of both at a tie.

    ``op``: unary 'neg', 'reciprocal' (y and y_dot must be None); binary 'add', 'sub', 'mul',
    'div', 'pow', 'maximum', 'minimum'. ``y_dot`` None makes y a constant (plain array).
    """
    a = _seed(x, x_dot)
    if op in _UNARY:
        if y is not None or y_dot is not None:
            raise ValueError(f"op {op!r} is unary: y and y_dot must be None")
        return _result(_UNARY[op](a), a.value)
    if op not in _BINARY:
        raise ValueError(f"op must be one of {ARITH_OPS}, got {op!r}")
    if y is None:
        raise ValueError(f"op {op!r} is binary: y is required")
    b = _canon.asarray(y) if y_dot is None else _seed(y, y_dot)
    return _result(_BINARY[op](a, b), a.value)


def _sigmoid(x: Any) -> Any:
    # 1/(1 + e) for x >= 0, e/(1 + e) for x < 0 with e = exp(-|x|) <= 1: never overflows.
    # -|x| by np.where, not np.abs: abs'(0) = 0 would make sigmoid'(0) wrong.
    nonneg = _canon.primal(x) >= 0
    e = np.exp(np.where(nonneg, -x, x))
    return np.where(nonneg, 1 / (1 + e), e / (1 + e))


def _relu(x: Any) -> Any:
    return np.where(_canon.primal(x) > 0, x, np.zeros_like(x))  # ReLU'(0) = 0


def _polynomial(x: Any, coeffs: Sequence[float] | None) -> Any:
    """p_0 + p_1 x + ... + p_n x^n by Horner's rule."""
    if coeffs is None or len(coeffs) == 0:
        raise ValueError("fn='polynomial' needs coeffs=(p_0, ..., p_n)")
    r: Any = _canon.scalar(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        r = r * x + _canon.scalar(c)
    return r


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": _sigmoid, "sqrt": np.sqrt, "abs": np.abs, "relu": _relu,
    "max": lambda a: np.max(a, axis=-1), "min": lambda a: np.min(a, axis=-1),
}
FUNCTIONS = (*_FUNCTIONS, "polynomial")


def dual_functions(x: Any, x_dot: Any, *, fn: str, coeffs: Sequence[float] | None = None
                   ) -> DualResult:
    """f(x + x' d) = f(x) + f'(x) x' d for the elementary function ``fn``.

    'exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid' (stable two-branch form), 'sqrt', 'abs'
    (abs'(0) = 0), 'relu' (written np.where(x > 0, x, 0): ReLU'(0) = 0), 'polynomial'
    (``coeffs`` = (p_0, ..., p_n), Horner), and the reductions 'max'/'min' over the last axis
    (value and tangent of the first extremal element: the catalog's tie rule).
    """
    a = _seed(x, x_dot)
    if fn == "polynomial":
        return _result(_polynomial(a, coeffs), a.value)
    if coeffs is not None:
        raise ValueError("coeffs is only for fn='polynomial'")
    if fn not in _FUNCTIONS:
        raise ValueError(f"fn must be one of {FUNCTIONS}, got {fn!r}")
    return _result(_FUNCTIONS[fn](a), a.value)
