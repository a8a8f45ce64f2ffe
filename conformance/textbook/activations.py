"""Textbook derivative formulas of the ``act`` family: the derivatives kernels evaluate from
the saved output y, in the tested dtype (registry.OpSpec.textbook).

Why they are needed: sigmoid' = y (1 - y) and tanh' = 1 - y^2 cancel where the function
saturates, and softmax / log_softmax backward subtract a weighted sum from the seed; the
oracle's dual numbers differentiate the input-side formulas without that cancellation, so
their error run in the dtype understates what a kernel legitimately makes.

Signature: (mode, args, kwargs, outs, seeds) -> list, as in ``conformance.textbook.losses``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _from_output(dydx: Callable[[Any, Any, dict], Any]) -> Callable[..., list]:
    """Textbook derivative of an elementwise op from its saved output y: vjp v*d, jvp u*d."""

    def naive(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
        return [seeds[0] * dydx(outs[0], args[0], kwargs)]

    return naive


def softmax(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """softmax backward from y: y * (s - sum(s * y)) (its Jacobian is symmetric)."""
    y, s, axis = outs[0], seeds[0], kwargs["axis"]
    return [y * (s - np.sum(s * y, axis=axis, keepdims=True))]


def log_softmax(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """log_softmax from y: vjp v - exp(y) sum(v); jvp u - sum(exp(y) u)."""
    p, s, axis = np.exp(outs[0]), seeds[0], kwargs["axis"]
    if mode == "vjp":
        return [s - p * np.sum(s, axis=axis, keepdims=True)]
    return [s - np.sum(p * s, axis=axis, keepdims=True)]


sigmoid = _from_output(lambda y, x, kw: y * (1 - y))
tanh = _from_output(lambda y, x, kw: 1 - y * y)
