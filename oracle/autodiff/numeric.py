"""Numerical differentiation (catalog id ``ad.numeric_diff``, notes 001): a gradient check only.

Directional difference quotients of f along u with step h:
  forward  (f(x + h u) - f(x)) / h             truncation ~ h/2 |D^2 f[u,u]|
  central  (f(x + h u) - f(x - h u)) / (2 h)   truncation ~ h^2/6 |D^3 f[u,u,u]|
plus a rounding error ~ eps |f| / h for both (f's own rounding, divided by the step), so the
total error falls as h shrinks until rounding takes over: a V shape in log-log coordinates,
with its minimum near h ~ eps^(1/2) (forward) or eps^(1/3) (central). The notes' point: there
is no h that makes a difference quotient exact, which is why the oracle uses dual numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon

SCHEMES = ("forward", "central")


class ErrorCurve(NamedTuple):
    h: np.ndarray
    error: np.ndarray


def finite_difference(f: Callable[[Any], Any], x: Any, direction: Any, *, h: float,
                      scheme: str) -> np.ndarray:
    """The ``scheme`` ('forward' or 'central') difference quotient of f at x along
    ``direction`` with step ``h`` > 0 (formulas in the module docstring). f maps one array to
    one array (or scalar); the result has f's output shape. x is cast to the compute dtype.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if not h > 0:
        raise ValueError(f"h must be > 0, got {h}")
    x = _canon.asarray(x)
    u = np.asarray(direction, dtype=x.dtype)
    step = _canon.scalar(h) * u
    plus = np.asarray(f(x + step))
    if scheme == "forward":
        return (plus - np.asarray(f(x))) / _canon.scalar(h)
    return (plus - np.asarray(f(x - step))) / _canon.scalar(2 * h)


def forward_difference(f: Callable[[Any], Any], x: Any, direction: Any, *, h: float
                       ) -> np.ndarray:
    """(f(x + h u) - f(x)) / h."""
    return finite_difference(f, x, direction, h=h, scheme="forward")


def central_difference(f: Callable[[Any], Any], x: Any, direction: Any, *, h: float
                       ) -> np.ndarray:
    """(f(x + h u) - f(x - h u)) / (2 h)."""
    return finite_difference(f, x, direction, h=h, scheme="central")


def difference_error_curve(f: Callable[[Any], Any], x: Any, direction: Any,
                           hs: Sequence[float], exact: Any, *, scheme: str = "central"
                           ) -> ErrorCurve:
    """error[k] = max over the output of |D_h f(x)[u] - exact| for h = hs[k].

    ``exact`` is the true directional derivative (e.g. the dual-number JVP). The curve shows
    truncation (falling with h) against rounding (growing as h shrinks).
    """
    exact = np.asarray(exact, dtype=np.float64)
    errors = [
        float(np.max(np.abs(
            finite_difference(f, x, direction, h=h, scheme=scheme).astype(np.float64) - exact
        )))
        for h in hs
    ]
    return ErrorCurve(np.asarray(hs, dtype=np.float64), np.asarray(errors))
