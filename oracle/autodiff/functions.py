"""Rules of the NumPy functions a ``Dual`` supports (``Dual.__array_function__``).

Most are linear in their array argument(s) (the tangent goes through the same function), or
multilinear (dot, einsum, tensordot, outer: the product rule over operands). The others carry
an explicit rule: where, clip, max/min (first extremal element), sort (stable argsort of the
values), prod (exclusive products, exact with zeros). Index-valued functions (argmax, argmin,
argsort) and shape queries act on the values. Parameters other than the arrays (axes, shapes,
indices, pad widths, constant values) must be plain: a Dual there raises a TypeError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from oracle import _canon
from oracle.autodiff import magnitude
from oracle.autodiff.dual import Dual, depth, dtype_of, innermost, split, zeros_at_depth

HANDLED: dict[Callable[..., Any], Callable[..., Any]] = {}


def _implements(*funcs: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for f in funcs:
            HANDLED[f] = impl
        return impl

    return register


def apply_function(func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """``Dual.__array_function__``: the rule registered for ``func``, else a TypeError."""
    impl = HANDLED.get(func)
    if impl is None:
        raise TypeError(
            f"oracle.autodiff.Dual does not support numpy.{func.__name__} (the oracle's NumPy "
            "subset is listed in oracle/autodiff/functions.py and ufuncs.py); select on "
            "_canon.primal(x), or ask for a rule"
        )
    return impl(*args, **kwargs)


def _primal(x: Any) -> np.ndarray:
    return np.asarray(innermost(x))


def _require_plain(name: str, params: Sequence[Any], kwargs: dict[str, Any]) -> None:
    for p in [*params, *kwargs.values()]:
        if isinstance(p, Dual):
            raise TypeError(f"numpy.{name} on Duals: only the array operand(s) may be Duals")


def _reject(name: str, kwargs: dict[str, Any], *keys: str) -> None:
    for k in keys:
        if kwargs.get(k) is not None:
            raise TypeError(f"numpy.{name} on a Dual: {k}= is not supported")


def _zero_tangent(x: Any, d: int, dtype: Any) -> Any:
    """The tangent at level d of an operand that is constant there."""
    return zeros_at_depth(np.shape(_primal(x)), dtype, d - 1)


# ---------------------------------------------------------------- linear in one array


def _linear(func: Callable[..., Any], *, reject: tuple[str, ...] = ("out",)) -> None:
    """Register ``func(a, *params)`` as linear in ``a``: tangent = func(tangent, *params)."""
    name = func.__name__

    def impl(a: Any, *params: Any, **kwargs: Any) -> Dual:
        if not isinstance(a, Dual):
            raise TypeError(f"numpy.{name}: only its first (array) argument may be a Dual")
        _require_plain(name, params, kwargs)
        _reject(name, kwargs, *reject)
        return Dual(func(a.value, *params, **kwargs), func(a.tangent, *params, **kwargs))

    HANDLED[func] = impl


for _f in (np.transpose, np.moveaxis, np.swapaxes, np.reshape, np.broadcast_to,
           np.expand_dims, np.squeeze, np.take, np.take_along_axis, np.flip, np.tile,
           np.repeat, np.cumsum, np.diagonal, np.trace, np.triu, np.tril, np.mean, np.copy,
           np.ravel):
    _linear(_f)
# sum(initial=c) would add c to the tangent too.
_linear(np.sum, reject=("out", "initial"))


@_implements(np.split)
def _split(a: Any, indices_or_sections: Any, axis: int = 0) -> list[Dual]:
    if not isinstance(a, Dual):
        raise TypeError("numpy.split: only its first (array) argument may be a Dual")
    vs = np.split(a.value, indices_or_sections, axis=axis)
    ts = np.split(a.tangent, indices_or_sections, axis=axis)
    return [Dual(v, t) for v, t in zip(vs, ts, strict=True)]


@_implements(np.pad)
def _pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Dual:
    """Constant padding pads the tangent with 0 (the pad value is a constant); edge, reflect,
    symmetric and wrap copy entries, so the tangent is padded the same way."""
    _require_plain("pad", [pad_width], kwargs)
    if mode == "constant":
        cv = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"numpy.pad on a Dual: unsupported keyword(s) {sorted(kwargs)}")
        return Dual(np.pad(array.value, pad_width, "constant", constant_values=cv),
                    np.pad(array.tangent, pad_width, "constant"))
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise TypeError(f"numpy.pad on a Dual: mode {mode!r} is not supported")
    return Dual(np.pad(array.value, pad_width, mode, **kwargs),
                np.pad(array.tangent, pad_width, mode, **kwargs))


# ---------------------------------------------------------------- joining


def _joining(func: Callable[..., Any]) -> None:
    """concatenate/stack: a plain piece contributes a zero tangent block."""
    name = func.__name__

    def impl(arrays: Sequence[Any], *params: Any, **kwargs: Any) -> Dual:
        _require_plain(name, params, kwargs)
        _reject(name, kwargs, "out", "dtype")
        arrays = list(arrays)
        d = max(depth(x) for x in arrays)
        dt = np.result_type(*[dtype_of(x) for x in arrays])
        pairs = [split(x, d) for x in arrays]
        values = [v for v, _ in pairs]
        tangents = [_zero_tangent(v, d, dt) if t is None else t for v, t in pairs]
        return Dual(func(values, *params, **kwargs), func(tangents, *params, **kwargs))

    HANDLED[func] = impl


_joining(np.concatenate)
_joining(np.stack)


# ---------------------------------------------------------------- multilinear


def _multilinear(func: Callable[..., Any], args: list[Any], positions: Sequence[int],
                 kwargs: dict[str, Any]) -> Dual:
    """Product rule: sum over the Dual operands of func with that operand's tangent."""
    name = func.__name__
    _require_plain(name, [a for i, a in enumerate(args) if i not in positions], kwargs)
    _reject(name, kwargs, "out")
    d = max(depth(args[i]) for i in positions)
    pairs = {i: split(args[i], d) for i in positions}
    values = [pairs[i][0] if i in pairs else a for i, a in enumerate(args)]
    tangent = None
    for i in positions:
        t = pairs[i][1]
        if t is None:
            continue
        term = func(*[t if j == i else magnitude.product_operand(v) if j in pairs else v
                      for j, v in enumerate(values)], **kwargs)
        tangent = term if tangent is None else tangent + term
    return Dual(func(*values, **kwargs), tangent)


@_implements(np.dot)
def _dot(a: Any, b: Any, out: Any = None) -> Dual:
    return _multilinear(np.dot, [a, b], (0, 1), {"out": out})


@_implements(np.outer)
def _outer(a: Any, b: Any, out: Any = None) -> Dual:
    return _multilinear(np.outer, [a, b], (0, 1), {"out": out})


@_implements(np.tensordot)
def _tensordot(a: Any, b: Any, axes: Any = 2) -> Dual:
    return _multilinear(np.tensordot, [a, b], (0, 1), {"axes": axes})


@_implements(np.einsum)
def _einsum(subscripts: Any, *operands: Any, **kwargs: Any) -> Dual:
    if not isinstance(subscripts, str):
        raise TypeError("numpy.einsum on Duals: only the subscripts-string form is supported")
    args = [subscripts, *operands]
    return _multilinear(np.einsum, args, range(1, len(args)), kwargs)


# ---------------------------------------------------------------- selection


@_implements(np.where)
def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Tangents are selected by the condition like the values (a constant branch has 0)."""
    cond = _primal(condition)
    if x is None and y is None:
        return np.where(cond)
    d = max(depth(x), depth(y))
    if d == 0:
        return np.where(cond, x, y)
    (xv, xt), (yv, yt) = split(x, d), split(y, d)
    value = np.where(cond, xv, yv)
    if xt is None and yt is None:
        return Dual(value)
    return Dual(value, np.where(cond, 0 if xt is None else xt, 0 if yt is None else yt))


@_implements(np.clip)
def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *,
          min: Any = None, max: Any = None) -> Any:  # NumPy's keyword names
    """min(max(a, lo), hi). Tangent: a's on the closed interval lo <= a <= hi (torch and TF
    pass the gradient at the bounds), lo's where a < lo, hi's where max(a, lo) > hi."""
    if out is not None:
        raise TypeError("numpy.clip on a Dual: out= is not supported")
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    d = sorted([depth(a), depth(lo), depth(hi)])[-1]  # builtin max is shadowed here
    (av, at), (lv, lt), (hv, ht) = split(a, d), split(lo, d), split(hi, d)
    value = np.clip(av, lv, hv)
    if at is None and lt is None and ht is None:
        return Dual(value)
    ap = _primal(a)
    below = ap < _primal(lo) if lo is not None else np.zeros(ap.shape, bool)
    floor = np.maximum(ap, _primal(lo)) if lo is not None else ap
    above = floor > _primal(hi) if hi is not None else np.zeros(ap.shape, bool)
    tangent = np.where(above, 0 if ht is None else ht,
                       np.where(below, 0 if lt is None else lt, 0 if at is None else at))
    return Dual(value, tangent)


@_implements(np.sort)
def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *,
          stable: Any = None) -> Dual:
    """Values sorted ascending; tangents permuted by the same stable argsort of the values
    (equal values keep their input order: their tangents are not averaged)."""
    if order is not None:
        raise TypeError("numpy.sort on a Dual: order= is not supported")
    if axis is None:
        a, axis = a.reshape(-1), -1
    idx = np.argsort(_primal(a), axis=axis, kind="stable")
    return np.take_along_axis(a, idx, axis=axis)


def _reduced_last(a: Dual, axis: Any) -> tuple[Dual, tuple[int, ...]]:
    """``a`` with the reduced axes moved last and flattened in C order, and the keepdims
    shape of the reduction."""
    nd = a.ndim
    if axis is None:
        axes: tuple[int, ...] = tuple(range(nd))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(sorted(_canon.normalize_axis(int(ax), nd) for ax in axis))
    else:
        axes = (_canon.normalize_axis(int(axis), nd),)
    kept = [ax for ax in range(nd) if ax not in axes]
    moved = np.transpose(a, kept + list(axes))
    n = int(np.prod([a.shape[ax] for ax in axes], dtype=np.int64))
    flat = moved.reshape(tuple(a.shape[ax] for ax in kept) + (n,))
    keep_shape = tuple(1 if ax in axes else a.shape[ax] for ax in range(nd))
    return flat, keep_shape


def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
    """max/min reductions: value and tangent of the FIRST extremal element (C order over the
    reduced axes), the catalog's max-pooling tie rule; NaN propagates (argmax stops at it)."""

    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
             **kwargs: Any) -> Dual:
        _reject(name, {"out": out, **kwargs}, "out", "initial", "where")
        flat, keep_shape = _reduced_last(a, axis)
        if flat.shape[-1] == 0:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        idx = pick(_primal(flat), axis=-1)[..., None]
        res = np.take_along_axis(flat, idx, axis=-1)[..., 0]
        return res.reshape(keep_shape) if keepdims else res

    return impl


HANDLED[np.max] = HANDLED[np.amax] = _extreme(np.argmax, "maximum")
HANDLED[np.min] = HANDLED[np.amin] = _extreme(np.argmin, "minimum")


@_implements(np.prod)
def _prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
          keepdims: bool = False, **kwargs: Any) -> Dual:
    """Tangent sum_k t_k prod_{j != k} x_j from prefix and suffix products: exact when some
    x_j are 0 (no division by x_k)."""
    _reject("prod", {"out": out, **kwargs}, "out", "initial", "where")
    if magnitude.active():
        raise magnitude.unsupported("prod")
    value = np.prod(a.value, axis=axis, dtype=dtype, keepdims=keepdims)
    flat, keep_shape = _reduced_last(a, axis)
    x, t = flat.value, flat.tangent
    n = x.shape[-1]
    prefix = [None] * n  # prefix[k] = x_0 ... x_{k-1}, None for the empty product
    for k in range(1, n):
        prefix[k] = x[..., 0] if k == 1 else prefix[k - 1] * x[..., k - 1]
    tangent, suffix = None, None  # suffix = x_{k+1} ... x_{n-1}
    for k in range(n - 1, -1, -1):
        term = t[..., k]
        for f in (prefix[k], suffix):
            if f is not None:
                term = term * f
        tangent = term if tangent is None else tangent + term
        suffix = x[..., k] if suffix is None else suffix * x[..., k]
    if tangent is not None and keepdims:
        tangent = tangent.reshape(keep_shape)
    return Dual(value, tangent)


# ---------------------------------------------------------------- on values / constructors


def _on_values(func: Callable[..., Any]) -> None:
    HANDLED[func] = lambda a, *args, **kwargs: func(_primal(a), *args, **kwargs)


for _f in (np.argmax, np.argmin, np.argsort, np.shape, np.ndim, np.size):
    _on_values(_f)


def _filled(a: Dual, fill: Any, dtype: Any, shape: Any) -> Any:
    shape = a.shape if shape is None else shape
    if dtype is not None and np.dtype(dtype).kind in "biu":
        return np.full(shape, _primal(fill) if isinstance(fill, Dual) else fill, dtype=dtype)
    out = Dual.zeros(shape, like=a, dtype=dtype)
    if not (isinstance(fill, (int, float)) and fill == 0):
        out[...] = fill
    return out


@_implements(np.zeros_like)
def _zeros_like(a: Any, dtype: Any = None, order: Any = None, subok: Any = None,
                shape: Any = None, **kwargs: Any) -> Any:
    return _filled(a, 0, dtype, shape)


@_implements(np.ones_like)
def _ones_like(a: Any, dtype: Any = None, order: Any = None, subok: Any = None,
               shape: Any = None, **kwargs: Any) -> Any:
    return _filled(a, 1, dtype, shape)


@_implements(np.full_like)
def _full_like(a: Any, fill_value: Any, dtype: Any = None, order: Any = None,
               subok: Any = None, shape: Any = None, **kwargs: Any) -> Any:
    """A Dual fill value keeps its tangent; a plain one is a constant (tangent 0)."""
    if not isinstance(a, Dual):  # only the fill value is a Dual
        shape = np.shape(a) if shape is None else shape
        out = Dual.zeros(shape, like=fill_value, dtype=dtype or np.asarray(a).dtype)
        out[...] = fill_value
        return out
    return _filled(a, fill_value, dtype, shape)


SUPPORTED_FUNCTIONS: tuple[str, ...] = tuple(sorted({f.__name__ for f in HANDLED}))
