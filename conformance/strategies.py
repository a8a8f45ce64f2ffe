"""Hypothesis strategies shared by the spec modules: shapes, arrays, hyper-parameters.

Values are drawn as float64 and rounded to the tested dtype by the harness, so a strategy
only keeps values where the op is defined and away from overflow for the dtype's range.
Hyper-parameters that frameworks may store in float32 (momentum, eps, slopes) are drawn as
dyadic rationals, which every tested dtype represents exactly (Keras rounds Python floats
through float32: divergences.md §0.1 #4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Largest magnitude a strategy should hand a float16 kernel before the op itself is at risk
# of overflow (65504 is float16's max; squares and sums need headroom).
HALF_SAFE = 200.0


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1,
           max_side: int = 5, menu: int = 6) -> st.SearchStrategy[tuple[int, ...]]:
    """One of a fixed menu of ``menu`` shapes within the bounds (the smallest first, so
    hypothesis shrinks towards it).

    A menu, not free shapes: eager JAX compiles each primitive per shape (~0.2 s for
    jax.nn.softmax), so free shapes would make a compile per example. The menu is a pure
    function of the bounds, so every run and every backend sees the same shapes.
    """
    rng = np.random.default_rng([min_dims, max_dims, min_side, max_side, menu])
    found = [(min_side,) * min_dims, (max_side,) * max_dims]
    while len(set(found)) < menu and len(found) < 50 * menu:
        ndim = int(rng.integers(min_dims, max_dims + 1))
        found.append(tuple(int(v) for v in rng.integers(min_side, max_side + 1, ndim)))
    unique = sorted(set(found), key=lambda t: (int(np.prod(t)), t))
    return st.sampled_from(unique[:menu] if len(unique) > menu else unique)


def arrays(shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]], lo: float = -4.0,
           hi: float = 4.0, *, unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays with elements in [lo, hi] (hypothesis favours the ends and zero)."""
    return hnp.arrays(np.float64, shape, elements=finite(lo, hi), unique=unique)


def away_from(values: st.SearchStrategy[np.ndarray], points: Sequence[float],
              gap: float) -> st.SearchStrategy[np.ndarray]:
    """Push elements within ``gap`` of a kink (ReLU's 0) to ``gap`` away from it."""

    def push(a: np.ndarray) -> np.ndarray:
        a = a.copy()
        for p in points:
            near = np.abs(a - p) < gap
            a[near] = p + np.where(a[near] >= p, gap, -gap)
        return a

    return values.map(push)


def dyadic(lo: float, hi: float, bits: int = 6) -> st.SearchStrategy[float]:
    """k / 2**bits in [lo, hi]: exact in float64, float32, float16 and bfloat16 for small k."""
    kmin, kmax = int(np.ceil(lo * 2**bits)), int(np.floor(hi * 2**bits))
    return st.integers(kmin, kmax).map(lambda k: k / 2**bits)


def eps_values(lo_exp: int = -20, hi_exp: int = -3) -> st.SearchStrategy[float]:
    """Powers of two for eps: exactly representable in every dtype under test."""
    return st.integers(lo_exp, hi_exp).map(lambda e: 2.0**e)


def axis_of(ndim: int) -> st.SearchStrategy[int]:
    return st.integers(-ndim, ndim - 1)


def magnitude(dtype: str, wanted: float) -> float:
    """``wanted``, capped for float16 where squares and sums would overflow."""
    return min(wanted, HALF_SAFE) if dtype == "float16" else wanted
