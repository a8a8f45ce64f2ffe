"""Dtype names to NumPy dtypes (bfloat16 through ml_dtypes) and their unit roundoff."""

from __future__ import annotations

import numpy as np


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def machine_eps(name: str) -> float:
    """Distance from 1.0 to the next representable number (2 x unit roundoff)."""
    if name == "bfloat16":
        return 2.0**-7
    return float(np.finfo(np.dtype(name)).eps)
