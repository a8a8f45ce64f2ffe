"""The words every layer shares, defined once: dtypes, modes, verdicts, precision modes.

A leaf module (NumPy and ml_dtypes only): the registry, the agreement rule, the checks, the
adapters and the report all import their dtype names and helpers and their list of modes
from here, so they cannot disagree.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = ("float64", "float32", "float16", "bfloat16")
# forward: values; vjp / jvp: reverse and forward mode; state: trajectories of stateful ops
# (optimizers, schedules) compared after every step; stat: statistical checks of random ops.
MODES = ("forward", "vjp", "jvp", "state", "stat")
VERDICTS = ("pass", "fail", "xfail", "xpass", "error", "skip", "unsupported")
PRECISION_MODES = ("strict", "defaults")


def numpy_dtype(name: str) -> np.dtype:
    """A dtype name to its NumPy dtype (bfloat16 through ml_dtypes)."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def machine_eps(name: str) -> float:
    """Distance from 1.0 to the next representable number (2 x unit roundoff)."""
    if name == "bfloat16":
        return 2.0**-7
    return float(np.finfo(np.dtype(name)).eps)


def tiny(name: str) -> float:
    """The dtype's smallest normal number."""
    return {"float16": 2.0**-14, "bfloat16": 2.0**-126}.get(name) or float(
        np.finfo(np.dtype(name)).tiny)


def is_floating(a: object) -> bool:
    """A NumPy array of a floating dtype (bfloat16 included)."""
    return isinstance(a, np.ndarray) and (a.dtype.kind == "f" or a.dtype == numpy_dtype("bfloat16"))
