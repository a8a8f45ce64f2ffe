"""Array helpers shared by every oracle family.

The oracle computes in float64 by default. Two things make its functions reusable beyond
plain float64 NumPy arrays, and every oracle function must go through these helpers so
both keep working:

* ``compute_dtype`` switches the floating dtype that ``asarray`` casts to. The agreement
  rule evaluates the same mathematics naively in the dtype under test (float32, float16,
  bfloat16), so that the allowed error scales with the op's conditioning by itself.
* Dual numbers (``oracle.autodiff.Dual``) pass through ``asarray`` untouched, and
  ``zeros``/``full`` create duals when given a dual ``like``; that is how one oracle function
  also yields its exact forward-mode derivative.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

_FLOAT64 = np.dtype(np.float64)
_COMPUTE_DTYPE: contextvars.ContextVar[np.dtype] = contextvars.ContextVar(
    "oracle_compute_dtype", default=_FLOAT64  # noqa: B039 (a dtype is immutable)
)


def current_dtype() -> np.dtype:
    """The floating dtype the oracle computes in (float64 unless ``compute_dtype`` says)."""
    return _COMPUTE_DTYPE.get()


@contextlib.contextmanager
def compute_dtype(dtype: Any) -> Iterator[np.dtype]:
    """Evaluate oracle functions in ``dtype`` instead of float64 (used for the naive bound)."""
    token = _COMPUTE_DTYPE.set(np.dtype(dtype))
    try:
        yield _COMPUTE_DTYPE.get()
    finally:
        _COMPUTE_DTYPE.reset(token)


def is_dual(x: Any) -> bool:
    return getattr(x, "__oracle_dual__", False)


def asarray(x: Any) -> Any:
    """Floating data to the compute dtype; integer/bool arrays and duals unchanged."""
    if is_dual(x):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr
    return arr.astype(current_dtype(), copy=False)


def as_f64(x: Any) -> Any:
    """Alias kept for readability in docstrings: the canonical oracle input conversion."""
    return asarray(x)


def primal(x: Any) -> np.ndarray:
    """The value part of ``x`` (for index selection: arg-max, sorting, masks)."""
    while is_dual(x):
        x = x.value
    return np.asarray(x)


def _deepest(like: Any) -> Any:
    """Of several candidates, the most deeply nested dual (or the first one)."""
    if not isinstance(like, tuple):
        return like
    duals = [c for c in like if is_dual(c)]
    if not duals:
        return like[0] if like else None

    def depth(x: Any) -> int:
        return 1 + depth(x.value) if is_dual(x) else 0

    return max(duals, key=depth)


def zeros(shape: int | Sequence[int], like: Any = None) -> Any:
    """Zeros in the compute dtype, or a dual of zeros when ``like`` is a dual. ``like`` may
    be a tuple of the op's inputs: a buffer that receives products of several inputs must be
    a dual whenever any of them is (the deepest one, for nested duals)."""
    like = _deepest(like)
    if like is not None and is_dual(like):
        return type(like).zeros(shape, like=like)
    dtype = like.dtype if like is not None and hasattr(like, "dtype") else current_dtype()
    if np.dtype(dtype).kind not in "fc":
        dtype = current_dtype()
    return np.zeros(shape, dtype=dtype)


def full(shape: int | Sequence[int], value: float, like: Any = None) -> Any:
    """``value`` everywhere, with the buffer rules of ``zeros``."""
    out = zeros(shape, like)
    out[...] = value
    return out


def scalar(value: float) -> np.ndarray:
    """A 0-d array of ``value`` in the compute dtype (for constants that must not upcast)."""
    return np.asarray(value, dtype=current_dtype())


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} out of range for {ndim}-d input")
    return axis % ndim


def pair(v: int | Sequence[int], n: int) -> tuple[int, ...]:
    """An int or an n-sequence to an n-tuple (kernel, stride, padding, dilation)."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    t = tuple(int(i) for i in v)
    if len(t) != n:
        raise ValueError(f"expected {n} values, got {t}")
    return t


def flatten_outputs(out: Any) -> list[Any]:
    """An op's result as a list of arrays: a single array, or a (Named)tuple's fields."""
    if isinstance(out, tuple):
        return list(out)
    return [out]


def output_names(out: Any) -> list[str]:
    """Names for ``flatten_outputs(out)``: NamedTuple fields, else out0, out1, ..."""
    if isinstance(out, tuple):
        fields = getattr(out, "_fields", None)
        return list(fields) if fields else [f"out{i}" for i in range(len(out))]
    return ["out"]
