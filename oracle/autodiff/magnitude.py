"""Magnitude mode: a dual pass whose tangent is the sum of its terms' magnitudes.

Within ``magnitudes()``, a depth-1 Dual's tangent m carries, instead of J u, the sum over
every path through the computation of the product of the local partials' absolute values,
times |u|: each elementwise op gives sum_k |df/dx_k| m_k, a product of arrays sum |A| m_B +
m_A |B|, and the linear structural ops (sums, means, reshapes, joins, selections) act on m
as on a tangent, their coefficients being 0, 1 or 1/n. So m >= |J u|, with equality when
no two terms of opposite sign meet. A kernel that adds those terms in another order (or
rounds a factor in a cancelling difference) makes an error that scales with m, not with
the value that survives the cancellation: m is the scale of a ``Summed`` textbook output
(conformance/textbook). Values are computed as outside the mode. The ufuncs' form of it is
``ufuncs._magnitude_rule``; multilinear functions take ``product_operand``.

Functions whose derivative is not a product of nonnegative coefficients and absolute
partials in that sense (prod, the eigendecomposition) raise a TypeError in this mode, as
do nested Duals.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import numpy as np

_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("dual_magnitudes", default=False)


def active() -> bool:
    return _ACTIVE.get()


@contextlib.contextmanager
def magnitudes() -> Iterator[None]:
    """Run dual passes in magnitude mode (module docstring); seed them with |u|."""
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def unsupported(name: str) -> TypeError:
    return TypeError(f"numpy.{name} has no magnitude rule (oracle/autodiff/magnitude.py)")


def product_operand(value: Any) -> Any:
    """A multilinear function's (dot, einsum, ...) operand in the term of another operand's
    tangent: |value| in magnitude mode, the value itself otherwise."""
    return np.abs(value) if active() else value
