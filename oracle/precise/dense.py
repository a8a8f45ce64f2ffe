"""mpmath transcription of the ``nn`` family: a = g(x W^T + b), each pre-activation one exact
``mpmath.fsum`` of the products and the bias; g from oracle/precise/activations.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise import activations as A
from oracle.precise._common import fsum, mp

_G: dict[str, Callable[[Any], Any]] = {
    "identity": lambda z: z, "relu": A.relu, "sigmoid": A.sigmoid, "tanh": A.tanh,
}


def dense(x: Any, w: Any, b: Any = None, *, activation: str = "identity", alpha: float = 1.0,
          beta: float = 1.0) -> np.ndarray:
    """alpha * (exact products) + beta * b, one exact fsum per pre-activation."""
    x, w = mp(x), mp(w)
    a, bt = mpmath.mpf(alpha), mpmath.mpf(beta)
    bias = None if b is None else mp(b)
    lead = x.shape[:-1]
    z = np.empty(lead + (w.shape[0],), dtype=object)
    for idx in np.ndindex(lead):
        for o in range(w.shape[0]):
            terms = [a * x[idx + (i,)] * w[o, i] for i in range(w.shape[1])]
            z[idx + (o,)] = fsum(terms + ([bt * bias[o]] if bias is not None else []))
    return _G[activation](z)


PRECISE: dict[str, Callable[..., Any]] = {"nn.dense": dense}
