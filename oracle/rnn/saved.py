"""The gate nonlinearities of the rnn cells, with an optional textbook mode.

Normally ``sigmoid``, ``tanh`` and ``softmax`` are the oracle's own (oracle.activations):
exact derivatives on dual numbers (tanh' = sech^2 from exp(-2|z|), full relative accuracy
where tanh saturates). Within ``derivatives_from_outputs()`` they differentiate instead from
their outputs y rounded to the compute dtype, y (1 - y), 1 - y * y and y (s - sum(s y)): the
rules torch, JAX and TensorFlow apply to saved activations (where y rounds to 1, 1 - y * y
is 0 although tanh' is not). That mode is the textbook derivative of
``conformance/textbook/rnn.py``; values are unchanged in both modes.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracle import _canon
from oracle import activations as A
from oracle.autodiff import Dual
from oracle.autodiff.magnitude import active as magnitudes_active


@dataclass(frozen=True)
class Saved:
    """How the textbook mode saves activations: ``nudge`` = +1 / -1 moves every saved y one
    ulp up / down first (a kernel's saved values carry their own rounding); ``z_form``
    saves the update gate as the frameworks do, z = sigmoid(-s) = 1 - u, so that u = 1 - z
    carries z's rounding (absolute, eps/2: all of u's relative accuracy where u is small)."""

    nudge: int = 0
    z_form: bool = False


_MODE: contextvars.ContextVar[Saved | None] = contextvars.ContextVar("rnn_saved", default=None)
_Z_VALUES: contextvars.ContextVar[bool] = contextvars.ContextVar("rnn_z_values", default=False)


@contextlib.contextmanager
def update_from_z() -> Iterator[None]:
    """Evaluate the update gate as the frameworks do, u = 1 - sigmoid(-s) (their z gate on
    the old state, 1 - u), values and derivatives alike: mathematically the same gate, with
    z's rounding (an absolute ulp(1)/2 in u). The specs use it for the naive evaluation in
    a low dtype (conformance/specs/rnn.py); the oracle's own default is u = sigmoid(s)."""
    token = _Z_VALUES.set(True)
    try:
        yield
    finally:
        _Z_VALUES.reset(token)


@contextlib.contextmanager
def derivatives_from_outputs(nudge: int = 0, z_form: bool = False) -> Iterator[None]:
    """Run the cells with derivatives taken from rounded saved outputs (see ``Saved``)."""
    token = _MODE.set(Saved(nudge, z_form))
    try:
        yield
    finally:
        _MODE.reset(token)


def naive_update_from_z(oracle: Callable[..., Any]) -> Callable[..., Any]:
    """``oracle`` as it is in float64; in a lower compute dtype (the conformance checks'
    naive evaluation) with the update gate formed as the frameworks form it
    (``update_from_z``). conformance/specs/rnn.py explains why the naive model is that one."""

    @functools.wraps(oracle)
    def run(*args: Any, **kwargs: Any) -> Any:
        if _canon.current_dtype() == np.float64:
            return oracle(*args, **kwargs)
        with update_from_z():
            return oracle(*args, **kwargs)

    return run


def _textbook(z: Any) -> Saved | None:
    mode = _MODE.get()
    if mode is None or not _canon.is_dual(z) or _canon.is_dual(z.value):
        return None
    return mode


def _from_output(fn: Callable[[Any], Any], rule: Callable[[Any, Any], Any],
                 terms: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """``terms``: the rule's magnitude (oracle/autodiff/magnitude.py) on a magnitude m."""
    def apply(z: Any) -> Any:
        mode = _textbook(z)
        if mode is None:
            return fn(z)
        y = fn(z.value)
        saved = y if mode.nudge == 0 else np.nextafter(y, y.dtype.type(np.inf * mode.nudge))
        return Dual(y, (terms if magnitudes_active() else rule)(saved, z.tangent))

    return apply


# 1 - y is exact for y >= 1/2 (Sterbenz) and at least 1/2 for y < 1/2: sigmoid's rule
# cancels nothing, so its magnitude is its value.
sigmoid = _from_output(A.sigmoid, lambda y, t: y * (1 - y) * t, lambda y, m: y * (1 - y) * m)
tanh = _from_output(A.tanh, lambda y, t: (1 - y * y) * t, lambda y, m: (1 + y * y) * m)
softmax = _from_output(lambda z: A.softmax(z, axis=-1),
                       lambda y, t: y * (t - np.sum(y * t, axis=-1, keepdims=True)),
                       lambda y, m: y * (m + np.sum(y * m, axis=-1, keepdims=True)))


def update_and_reset(s: Any, hidden: int) -> tuple[Any, ...]:
    """(u, [r]) = sigmoid of the pre-activations s (N, k*H), blocks [u, r] (k = 2) or [u]
    (k = 1), in one sigmoid; in the z-form textbook mode u = 1 - sigmoid(-s_u)."""
    mode = _textbook(s)
    if _Z_VALUES.get() or (mode is not None and mode.z_form):
        rest = (sigmoid(s[:, hidden:]),) if s.shape[-1] > hidden else ()
        return (1 - sigmoid(-s[:, :hidden]), *rest)
    g = sigmoid(s)
    return tuple(g[:, k * hidden:(k + 1) * hidden] for k in range(s.shape[-1] // hidden))
