"""Magnitude mode: a dual pass whose tangent is the sum of its terms' magnitudes.

Within ``magnitudes()``, a depth-1 Dual's tangent m carries, instead of J u, the sum over
every path through the computation of the product of the local partials' absolute values,
times |u|: each elementwise op gives sum_k |df/dx_k| m_k, a product of arrays sum |A| m_B +
m_A |B|, and the linear structural ops (sums, means, reshapes, joins, selections) act on m
as on a tangent, their coefficients being 0, 1 or 1/n. So m >= |J u|, with equality when
no two terms of opposite sign meet. A kernel that adds those terms in another order (or
rounds a factor in a cancelling difference) makes an error that scales with m, not with
the value that survives the cancellation: m is the scale of a ``Summed`` textbook output
(conformance/textbook). Values are computed as outside the mode.

Functions whose derivative is not a product of nonnegative coefficients and absolute
partials in that sense (prod, the eigendecomposition) raise a TypeError in this mode, as
do nested Duals.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("dual_magnitudes", default=False)

Pair = tuple[Any, Any]


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


def _sum(terms: list[Any]) -> Any:
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def ufunc_rule(ufunc: np.ufunc, rule: Callable[..., Pair], pairs: list[Pair],
               depth: int) -> Pair:
    """(value, magnitude) of ``ufunc`` on (value, magnitude) pairs: for an elementwise
    ufunc, each partial is the rule's tangent for a unit tangent in that operand alone."""
    if depth != 1:
        raise TypeError("magnitude mode takes depth-1 Duals only")
    if ufunc is np.matmul:
        (x, mx), (y, my) = pairs
        return np.matmul(x, y), _sum([None if mx is None else np.matmul(mx, np.abs(y)),
                                      None if my is None else np.matmul(np.abs(x), my)])
    value, _ = rule(*[(v, None) for v, _ in pairs])
    terms = []
    for k, (_, m) in enumerate(pairs):
        if m is None:
            continue
        probe = [(v, np.ones_like(m) if j == k else None) for j, (v, _) in enumerate(pairs)]
        _, partial = rule(*probe)
        terms.append(None if partial is None else np.abs(partial) * m)
    return value, _sum(terms)


def product_operand(value: Any) -> Any:
    """A multilinear function's (dot, einsum, ...) operand in the term of another operand's
    tangent: |value| in magnitude mode, the value itself otherwise."""
    return np.abs(value) if active() else value
