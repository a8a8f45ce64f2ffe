"""Derivative rules of the NumPy ufuncs a ``Dual`` supports (``Dual.__array_ufunc__``).

A rule receives one (value, tangent) pair per operand, tangent None for an operand that is
constant at the current nesting level, and returns (value, tangent), tangent None when it is
identically zero. Rules are written with NumPy calls and operators only, so that they dispatch
again when the values are themselves Duals: that is what makes nested duals give exact second
derivatives. Constants in rules are Python ints, which never change a float dtype (a Python
float would turn bfloat16 into float32 under ml_dtypes' promotion).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oracle import _reference
from oracle.autodiff import magnitude
from oracle.autodiff.dual import Dual, depth, dtype_of, innermost, split

Pair = tuple[Any, Any]


def _plus(*terms: Any) -> Any:
    """Sum of the terms that are not None (None if all are)."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def _times(t: Any, factor: Any) -> Any:
    return None if t is None else t * factor


def _neg(t: Any) -> Any:
    return None if t is None else -t


def _primal(x: Any) -> np.ndarray:
    return np.asarray(innermost(x))


# ---------------------------------------------------------------- arithmetic


def _add(a: Pair, b: Pair) -> Pair:
    return a[0] + b[0], _plus(a[1], b[1])


def _subtract(a: Pair, b: Pair) -> Pair:
    return a[0] - b[0], _plus(a[1], _neg(b[1]))


def _multiply(a: Pair, b: Pair) -> Pair:
    (x, tx), (y, ty) = a, b
    return x * y, _plus(_times(tx, y), _times(ty, x))


def _divide(a: Pair, b: Pair) -> Pair:
    # (x/y)' = (x' - q y') / y with q = x/y: one division by y instead of y^2 (no overflow).
    (x, tx), (y, ty) = a, b
    q = x / y
    t = _plus(tx, _neg(_times(ty, q)))
    return q, None if t is None else t / y


def _negative(a: Pair) -> Pair:
    return -a[0], _neg(a[1])


def _positive(a: Pair) -> Pair:
    return +a[0], a[1]


def _reciprocal(a: Pair) -> Pair:
    x, tx = a
    v = np.reciprocal(x)
    return v, _times(tx, -(v * v))


def _power_minus_one(x: Any, y: Any, v: Any) -> Any:
    """x^(y-1). In the float64 reference run the rounding of y - 1 is compensated: it is
    multiplied by log(x) in the exponent, ~300 ulp for x ~ 1e-130 and y = -1.3."""
    if np.dtype(dtype_of(v)) != np.float64 or not _reference.reference():
        return x ** (y - 1)
    hi, lo = _reference.two_sum(y, -1.0)  # y - 1 = hi + lo exactly
    base = x ** hi
    xp, lp = _primal(x), _primal(lo)
    fix = (lp != 0) & (xp > 0) & np.isfinite(_primal(base))
    if not np.any(fix):
        return base
    # x^(hi + lo) = x^hi (1 + lo log x + ...): compensates the rounding of y - 1.
    log_x = np.log(np.where(xp > 0, x, np.ones_like(xp)))
    return base + base * np.where(fix, lo * log_x, np.zeros_like(xp))


def _power(a: Pair, b: Pair) -> Pair:
    """(x^y)' = y x^(y-1) x' + log(x) x^y y'.

    Conventions (torch and JAX agree): the x-term is 0 where y == 0 (x^0 == 1 is constant in
    x, also at x == 0 where y x^(y-1) would be 0 * inf); the y-term is 0 where x == 0 (JAX
    replaces log(0) by log(1); torch masks it), instead of -inf * 0.
    """
    (x, tx), (y, ty) = a, b
    v = x ** y
    if not isinstance(x, (np.ndarray, Dual)):
        x = np.asarray(x, dtype=dtype_of(v))
    t = None
    if tx is not None:
        yp = _primal(y)
        if not np.any(yp == 0):
            t = tx * (y * _power_minus_one(x, y, v))
        elif not np.all(yp == 0):
            t = tx * (y * x ** np.where(yp == 0, 1, y - 1))
    if ty is not None:
        xp = _primal(x)
        safe_x = np.where(xp == 0, 1, x) if np.any(xp == 0) else x
        t = _plus(t, ty * (np.log(safe_x) * v))
    return v, t


def _square(a: Pair) -> Pair:
    x, tx = a
    return np.square(x), _times(tx, 2 * x)


def _sqrt(a: Pair) -> Pair:
    x, tx = a
    v = np.sqrt(x)
    return v, None if tx is None else tx / (2 * v)


def _matmul(a: Pair, b: Pair) -> Pair:
    (x, tx), (y, ty) = a, b
    return np.matmul(x, y), _plus(None if tx is None else np.matmul(tx, y),
                                  None if ty is None else np.matmul(x, ty))


# ---------------------------------------------------------------- transcendental


def _exp(a: Pair) -> Pair:
    x, tx = a
    v = np.exp(x)
    return v, _times(tx, v)


def _expm1(a: Pair) -> Pair:
    # exp(x), not expm1(x) + 1: no rounding of the 1 + small sum.
    x, tx = a
    return np.expm1(x), _times(tx, np.exp(x))


def _log(a: Pair) -> Pair:
    x, tx = a
    return np.log(x), None if tx is None else tx / x


def _log1p(a: Pair) -> Pair:
    x, tx = a
    return np.log1p(x), None if tx is None else tx / (1 + x)


def _sin(a: Pair) -> Pair:
    x, tx = a
    return np.sin(x), _times(tx, np.cos(x))


def _cos(a: Pair) -> Pair:
    x, tx = a
    return np.cos(x), _times(tx, -np.sin(x))


def _tanh(a: Pair) -> Pair:
    """tanh' = sech^2 = 4 e / (1 + e)^2 with e = exp(-2|x|): full relative accuracy for large
    |x|, where 1 - tanh^2 cancels to 0 (|x| > 19). abs'(0) = 0 is harmless: sech^2 is even."""
    x, tx = a
    if tx is None:
        return np.tanh(x), None
    e = np.exp(-2 * np.abs(x))
    return np.tanh(x), tx * (4 * e / np.square(1 + e))


def _logaddexp(a: Pair, b: Pair) -> Pair:
    # d log(e^x + e^y) = e^(x-v) dx + e^(y-v) dy; both weights are <= 1 (never overflow).
    (x, tx), (y, ty) = a, b
    v = np.logaddexp(x, y)
    return v, _plus(_times(tx, np.exp(x - v)), _times(ty, np.exp(y - v)))


# ---------------------------------------------------------------- non-smooth


def _absolute(a: Pair) -> Pair:
    x, tx = a
    return np.absolute(x), _times(tx, np.sign(x))  # sign(0) = 0: abs'(0) = 0


def _constant_rule(f: np.ufunc) -> Callable[[Pair], Pair]:
    """Piecewise constant functions (sign, floor, ceil): derivative 0."""
    return lambda a: (f(a[0]), None)


def _extremum(f: np.ufunc, wins: np.ufunc) -> Callable[[Pair, Pair], Pair]:
    """maximum/minimum: the winner's tangent; the average of both at a tie (torch, JAX, TF)."""

    def rule(a: Pair, b: Pair) -> Pair:
        (x, tx), (y, ty) = a, b
        v = f(x, y)
        if tx is None and ty is None:
            return v, None
        xp, yp = _primal(x), _primal(y)
        tx0 = 0 if tx is None else tx
        ty0 = 0 if ty is None else ty
        tie = (tx0 + ty0) / 2
        return v, np.where(wins(xp, yp), tx0, np.where(wins(yp, xp), ty0, tie))

    return rule


RULES: dict[np.ufunc, Callable[..., Pair]] = {
    np.add: _add,
    np.subtract: _subtract,
    np.multiply: _multiply,
    np.true_divide: _divide,
    np.negative: _negative,
    np.positive: _positive,
    np.reciprocal: _reciprocal,
    np.power: _power,
    np.square: _square,
    np.sqrt: _sqrt,
    np.matmul: _matmul,
    np.exp: _exp,
    np.expm1: _expm1,
    np.log: _log,
    np.log1p: _log1p,
    np.sin: _sin,
    np.cos: _cos,
    np.tanh: _tanh,
    np.logaddexp: _logaddexp,
    np.absolute: _absolute,
    np.sign: _constant_rule(np.sign),
    np.floor: _constant_rule(np.floor),
    np.ceil: _constant_rule(np.ceil),
    np.maximum: _extremum(np.maximum, np.greater),
    np.minimum: _extremum(np.minimum, np.less),
}

# Predicates act on the values and return plain boolean arrays.
ON_VALUES: frozenset[np.ufunc] = frozenset({
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isnan,
})


def _unsupported(name: str) -> TypeError:
    return TypeError(
        f"oracle.autodiff.Dual does not support numpy.{name}: it has no derivative rule (the "
        "oracle's NumPy subset is listed in oracle/autodiff/ufuncs.py and functions.py); "
        "select on _canon.primal(x), or ask for a rule"
    )


def apply_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``Dual.__array_ufunc__``: dispatch to the rule of ``ufunc``."""
    if method == "at" and ufunc is np.add:
        return _add_at(*inputs, **kwargs)
    if method != "__call__":
        raise _unsupported(f"{ufunc.__name__}.{method}")
    out = kwargs.pop("out", None)
    if kwargs:
        raise TypeError(
            f"numpy.{ufunc.__name__} on a Dual: unsupported keyword(s) {sorted(kwargs)}"
        )
    if ufunc in ON_VALUES:
        if out is not None:
            raise TypeError(f"numpy.{ufunc.__name__} on a Dual: out= is not supported")
        return ufunc(*[_primal(x) for x in inputs])
    rule = RULES.get(ufunc)
    if rule is None:
        raise _unsupported(ufunc.__name__)
    d = max(depth(x) for x in inputs)
    pairs = [split(x, d) for x in inputs]
    if magnitude.active():
        value, tangent = _magnitude_rule(ufunc, rule, pairs, d)
    else:
        value, tangent = rule(*pairs)
    if tangent is not None and any(tangent is p[1] for p in pairs):
        tangent = tangent.copy()  # a new result never shares its tangent with an operand
    result = Dual(value, tangent)
    return result if out is None else _store(ufunc, out, result)


def _magnitude_rule(ufunc: np.ufunc, rule: Callable[..., Pair], pairs: list[Pair],
                    d: int) -> Pair:
    """(value, magnitude) of ``ufunc`` on (value, magnitude) pairs (oracle/autodiff/
    magnitude.py): for an elementwise ufunc, each partial is the rule's tangent for a unit
    tangent in that operand alone."""
    if d != 1:
        raise TypeError("magnitude mode takes depth-1 Duals only")
    if ufunc is np.matmul:
        (x, mx), (y, my) = pairs
        return np.matmul(x, y), _plus(None if mx is None else np.matmul(mx, np.abs(y)),
                                      None if my is None else np.matmul(np.abs(x), my))
    value, _ = rule(*[(v, None) for v, _ in pairs])
    terms = []
    for k, (_, m) in enumerate(pairs):
        if m is None:
            continue
        probe = [(v, np.ones_like(m) if j == k else None) for j, (v, _) in enumerate(pairs)]
        _, partial = rule(*probe)
        terms.append(None if partial is None else np.abs(partial) * m)
    return value, _plus(*terms)


def _store(ufunc: np.ufunc, out: tuple[Any, ...], result: Dual) -> Dual:
    """``out=(buf,)`` (in-place operators): buf must be a Dual."""
    target = out[0] if isinstance(out, tuple) else out
    if not isinstance(target, Dual):
        raise TypeError(
            f"numpy.{ufunc.__name__}: cannot write a Dual result into a plain array (an "
            "in-place operator on a plain array with a Dual operand); create the buffer with "
            "_canon.zeros(shape, like=dual)"
        )
    target[...] = result
    return target


def _add_at(buf: Any, indices: Any, items: Any = None) -> None:
    """``np.add.at(buf, indices, items)``: unbuffered scatter-add, linear in buf and items."""
    if not isinstance(buf, Dual):
        raise TypeError("np.add.at: the buffer must be a Dual when the items are Duals")
    d = depth(buf)
    if depth(items) > d:
        raise TypeError("np.add.at: items are nested deeper than the buffer")
    value, tangent = split(items, d)
    np.add.at(buf.value, indices, value)
    if tangent is not None:
        np.add.at(buf.tangent, indices, tangent)
