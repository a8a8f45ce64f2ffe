"""Dual numbers x + x' d (d^2 = 0) as a NumPy-duck-typed array: forward-mode AD (notes 001).

A ``Dual`` carries a value array and a tangent array of the same shape and dtype (one
direction). NumPy calls on it dispatch through ``__array_ufunc__`` (rules in ``ufuncs.py``)
and ``__array_function__`` (rules in ``functions.py``); anything outside the oracle's NumPy
subset raises a TypeError naming the function.

Nesting. The value and tangent of a Dual may themselves be Duals: a Dual of nesting depth k
carries k independent infinitesimals d_1 .. d_k (d_i^2 = 0, d_i d_j != 0), the outermost being
d_k. Second derivatives come from depth 2 (``hessian.py``). Invariant: the value and the
tangent of a depth-k Dual both have depth k - 1 (a constant tangent is lifted with zeros), so
every buffer has one uniform type. An operand of lower depth than the others is a constant
with respect to the outer infinitesimal(s) it lacks.

Dtype. The tangent always has the value's dtype; a float32 (float16, bfloat16) dual stays in
that dtype exactly as far as plain NumPy on its value does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from oracle import _canon


def is_dual(x: Any) -> bool:
    return isinstance(x, Dual)


def depth(x: Any) -> int:
    """Nesting depth: 0 for a plain array or scalar, 1 + depth(value) for a Dual."""
    d = 0
    while isinstance(x, Dual):
        d += 1
        x = x.value
    return d


def innermost(x: Any) -> Any:
    """The plain value under every level of nesting (not converted: may be a Python scalar)."""
    while isinstance(x, Dual):
        x = x.value
    return x


def dtype_of(x: Any) -> np.dtype:
    return np.asarray(innermost(x)).dtype


def zeros_at_depth(shape: int | Sequence[int], dtype: Any, d: int) -> Any:
    """Zeros of ``shape``/``dtype`` as a Dual of depth ``d`` (a plain array when d == 0)."""
    if d == 0:
        return np.zeros(shape, dtype=dtype)
    return Dual(zeros_at_depth(shape, dtype, d - 1), zeros_at_depth(shape, dtype, d - 1))


def lift(x: Any, d: int) -> Any:
    """``x`` as a Dual of depth ``d`` with zero tangents at the levels it lacks."""
    while depth(x) < d:
        x = Dual(x)
    return x


def split(x: Any, d: int) -> tuple[Any, Any]:
    """(value, tangent) of ``x`` at nesting level ``d``; tangent None for a constant there."""
    if isinstance(x, Dual) and depth(x) == d:
        return x.value, x.tangent
    return x, None


def _check_floating(dt: np.dtype) -> None:
    # bfloat16 and the other ml_dtypes floats have kind 'V'; integers, bools, objects and
    # strings cannot carry a derivative.
    if dt.kind in "biuOSUMm":
        raise TypeError(f"a Dual's value must be floating, got dtype {dt}")


def _fit_tangent(value: Any, tangent: Any) -> Any:
    """Broadcast a tangent to the value's shape (a fresh, writable copy)."""
    if np.broadcast_shapes(value.shape, tangent.shape) != value.shape:
        raise ValueError(f"tangent shape {tangent.shape} does not fit value shape {value.shape}")
    return np.broadcast_to(tangent, value.shape).copy()


class Dual:
    """value + tangent * d, elementwise, with d^2 = 0.

    ``Dual(value, tangent=None)``: ``tangent`` defaults to zeros; it is broadcast to the
    value's shape and cast to its dtype. Neither array is copied (NumPy view semantics:
    indexing, ``.T`` and ``reshape`` return Duals sharing both buffers).

    Conventions at non-smooth points (the Dual contract, oracle/autodiff): abs'(0) = 0,
    sign' = floor' = ceil' = 0; ``np.maximum``/``np.minimum`` average the two tangents at a
    tie; ``np.max``/``np.min`` take the tangent of the first extremal element in C order;
    ``np.where`` selects tangents with its condition; ``np.clip`` passes the input's tangent
    on the closed interval [lo, hi]; ``np.sort`` permutes tangents by the stable argsort of
    the values. Comparisons, ``isfinite``/``isnan`` and argmax/argmin act on the values and
    return plain arrays.
    """

    __oracle_dual__ = True
    __slots__ = ("value", "tangent")
    __hash__ = None  # type: ignore[assignment]  # mutable, like ndarray

    def __init__(self, value: Any, tangent: Any = None) -> None:
        if not isinstance(value, Dual):
            value = np.asarray(value)
            _check_floating(value.dtype)
        if tangent is None:
            tangent = zeros_at_depth(value.shape, dtype_of(value), depth(value))
        else:
            if not isinstance(tangent, Dual):
                tangent = np.asarray(tangent)
            dv, dt = depth(value), depth(tangent)
            if dt < dv:
                tangent = lift(tangent, dv)
            elif dv < dt:
                value = lift(value, dt)
            if tangent.shape != value.shape:
                tangent = _fit_tangent(value, tangent)
            if dtype_of(tangent) != dtype_of(value):
                tangent = tangent.astype(dtype_of(value))
        self.value = value
        self.tangent = tangent

    @classmethod
    def zeros(cls, shape: int | Sequence[int], like: Any = None, dtype: Any = None) -> Dual:
        """A Dual of zeros with the nesting depth and dtype of ``like`` (depth 1 in the compute
        dtype when ``like`` is None); ``dtype`` overrides the dtype."""
        d = max(depth(like), 1)
        if dtype is None:
            dtype = dtype_of(like) if like is not None else _canon.current_dtype()
        return zeros_at_depth(shape, dtype, d)

    # ------------------------------------------------------------------ NumPy protocols

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "a Dual cannot become a plain ndarray (that would drop its tangent): create "
            "buffers with _canon.zeros(shape, like=dual), select on _canon.primal(x)"
        )

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return ufuncs.apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return functions.apply_function(func, args, kwargs)

    # ------------------------------------------------------------------ attributes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return dtype_of(self)

    @property
    def T(self) -> Dual:  # noqa: N802  (NumPy's name)
        return Dual(self.value.T, self.tangent.T)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[Dual]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(innermost(self))

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"

    def __float__(self) -> float:
        raise TypeError("float() of a Dual would drop its tangent; use _canon.primal(x)")

    # ------------------------------------------------------------------ methods

    def reshape(self, *shape: Any, order: str = "C") -> Dual:
        return Dual(self.value.reshape(*shape, order=order),
                    self.tangent.reshape(*shape, order=order))

    def transpose(self, *axes: Any) -> Dual:
        return Dual(self.value.transpose(*axes), self.tangent.transpose(*axes))

    def ravel(self) -> Dual:
        return self.reshape(-1)

    def flatten(self) -> Dual:
        return self.reshape(-1).copy()

    def squeeze(self, axis: Any = None) -> Dual:
        return np.squeeze(self, axis=axis)

    def sum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Dual:
        return np.sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Dual:
        return np.mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Dual:
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Dual:
        return np.min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: Any = None) -> Any:
        return np.argmax(innermost(self), axis=axis)

    def argmin(self, axis: Any = None) -> Any:
        return np.argmin(innermost(self), axis=axis)

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        """Floating ``dtype``: value and tangent cast. Integer/bool: the plain cast value (the
        derivative of a rounding to integers is 0 almost everywhere and it has no tangent)."""
        dt = np.dtype(dtype)
        if dt.kind in "biu":
            return np.asarray(innermost(self)).astype(dt)
        return Dual(self.value.astype(dt, copy=copy), self.tangent.astype(dt, copy=copy))

    def copy(self) -> Dual:
        return Dual(self.value.copy(), self.tangent.copy())

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, key: Any) -> Dual:
        return Dual(self.value[key], self.tangent[key])

    def __setitem__(self, key: Any, item: Any) -> None:
        """``x[key] = item``: a Dual item stores its value and tangent; a plain item stores its
        value with tangent 0 there (it is a constant)."""
        d, di = depth(self), depth(item)
        if di > d:
            raise TypeError(
                f"cannot store a Dual of nesting depth {di} into one of depth {d}: create the "
                "buffer like the most deeply nested input"
            )
        if di == d:
            self.value[key] = item.value
            self.tangent[key] = item.tangent
        else:
            self.value[key] = item
            self.tangent[key] = 0

    # ------------------------------------------------------------------ operators

    def __add__(self, o: Any) -> Any:
        return np.add(self, o)

    def __radd__(self, o: Any) -> Any:
        return np.add(o, self)

    def __sub__(self, o: Any) -> Any:
        return np.subtract(self, o)

    def __rsub__(self, o: Any) -> Any:
        return np.subtract(o, self)

    def __mul__(self, o: Any) -> Any:
        return np.multiply(self, o)

    def __rmul__(self, o: Any) -> Any:
        return np.multiply(o, self)

    def __truediv__(self, o: Any) -> Any:
        return np.true_divide(self, o)

    def __rtruediv__(self, o: Any) -> Any:
        return np.true_divide(o, self)

    def __pow__(self, o: Any) -> Any:
        return np.power(self, o)

    def __rpow__(self, o: Any) -> Any:
        return np.power(o, self)

    def __matmul__(self, o: Any) -> Any:
        return np.matmul(self, o)

    def __rmatmul__(self, o: Any) -> Any:
        return np.matmul(o, self)

    def __neg__(self) -> Any:
        return np.negative(self)

    def __pos__(self) -> Any:
        return np.positive(self)

    def __abs__(self) -> Any:
        return np.absolute(self)

    def __iadd__(self, o: Any) -> Any:
        return np.add(self, o, out=(self,))

    def __isub__(self, o: Any) -> Any:
        return np.subtract(self, o, out=(self,))

    def __imul__(self, o: Any) -> Any:
        return np.multiply(self, o, out=(self,))

    def __itruediv__(self, o: Any) -> Any:
        return np.true_divide(self, o, out=(self,))

    def __lt__(self, o: Any) -> Any:
        return np.less(self, o)

    def __le__(self, o: Any) -> Any:
        return np.less_equal(self, o)

    def __gt__(self, o: Any) -> Any:
        return np.greater(self, o)

    def __ge__(self, o: Any) -> Any:
        return np.greater_equal(self, o)

    def __eq__(self, o: Any) -> Any:  # type: ignore[override]
        return np.equal(self, o)

    def __ne__(self, o: Any) -> Any:  # type: ignore[override]
        return np.not_equal(self, o)


# The rule modules construct Duals, so they import this module; they are bound here, after
# the class exists, to break the cycle.
from oracle.autodiff import functions, ufuncs  # noqa: E402
