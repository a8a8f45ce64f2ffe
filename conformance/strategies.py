"""Hypothesis strategies shared by the spec modules: shapes, arrays, hyper-parameters.

Values are drawn as float64 and rounded to the tested dtype by the harness, so a strategy
only keeps values where the op is defined and away from overflow for the dtype's range.
Hyper-parameters that frameworks may store in float32 (momentum, eps, slopes) are drawn as
dyadic rationals, which every tested dtype represents exactly (Keras rounds Python floats
through float32: divergences.md §0.1 #4).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import drawing

# Largest magnitude a strategy should hand a float16 kernel before the op itself is at risk
# of overflow (65504 is float16's max; squares and sums need headroom).
HALF_SAFE = 200.0


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@functools.lru_cache(maxsize=1024)
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


# Cached: specs build these inside composite draws, and hypothesis validates every new
# strategy object it draws from, which cost more than the draw itself.
@functools.lru_cache(maxsize=4096)
def arrays(shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]], lo: float = -4.0,
           hi: float = 4.0, *, unique: bool = False,
           special: bool = False) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays with elements in [lo, hi]: hypothesis draws the shape, the values'
    regime (ends, zeros, ties, tiny and wide magnitudes, simple numbers: ``drawing``) and a
    seed (one key for both), and NumPy fills the elements, so an array costs one draw
    besides its shape, not one per element. ``unique``: every element distinct.
    ``special``: IEEE special values (NaN, +-inf, -0.0) among values in [lo, hi] in every
    array (``drawing.OPT_IN``: for ops whose oracle states how it propagates them)."""
    regimes = (("special",) if special else drawing.CONTINUOUS if unique
               else drawing.REGIMES)

    def build(shp: tuple[int, ...], regime: str, seed: int) -> np.ndarray:
        streams = drawing.Streams(seed)
        a = drawing.fill(streams, regime, shp, lo, hi)
        return drawing.distinct(streams.rng, a, lo, hi) if unique else a

    return _by_regime(shape, build, regimes)


# One hypothesis draw per array besides its shape: a key k that names the regime (k mod their
# number) and the seed (k div it). Hypothesis' cost is per draw (one key instead of a regime
# and a seed cut the draw time by a quarter), and a failing example still shrinks to the
# smallest key that fails: the earliest regime, at the smallest seed.
KEYS = st.integers(0, 2**40 - 1)


def _by_regime(shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]], build: Any,
               regimes: tuple[str, ...]) -> st.SearchStrategy[np.ndarray]:
    m = len(regimes)

    def keyed(shp: tuple[int, ...], key: int) -> np.ndarray:
        return build(shp, regimes[key % m], key // m)

    if isinstance(shape, st.SearchStrategy):
        return st.tuples(shape, KEYS).map(lambda t: keyed(*t))
    shp = tuple(shape)
    return KEYS.map(lambda key: keyed(shp, key))


@functools.lru_cache(maxsize=4096)
def integer_arrays(shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]], lo: int,
                   hi: int, unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """int64 arrays with elements in [lo, hi], drawn by regime like ``arrays``.
    ``unique``: distinct elements (a seeded sample without replacement)."""
    if unique:
        return _by_regime(shape, lambda shp, _, seed: drawing.distinct_integers(
            drawing.Streams(seed), shp, lo, hi), ("uniform",))
    return _by_regime(shape, lambda shp, regime, seed: drawing.integer_fill(
        drawing.Streams(seed), regime, shp, lo, hi), drawing.REGIMES[:-1])


@functools.lru_cache(maxsize=1024)
def picked(values: tuple[float, ...], shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` whose elements are drawn from ``values`` (ties on
    purpose), by regime: shrinks towards ``values[0]``."""
    table = np.asarray(values, dtype=np.float64)
    return integer_arrays(shape, 0, len(values) - 1).map(lambda k: table[k])


@functools.lru_cache(maxsize=1024)
def distinct_from(values: tuple[float, ...], shape: tuple[int, ...],
                  scale: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` of distinct elements of ``values`` times ``scale`` (a
    seeded sample without replacement, in place of a per-element permutation draw)."""
    table = np.asarray(values, dtype=np.float64) * scale
    return integer_arrays(shape, 0, len(values) - 1, unique=True).map(lambda k: table[k])


def signs(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """int64 arrays of -1 and +1."""
    return integer_arrays(shape, 0, 1).map(lambda k: 2 * k - 1)


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


@functools.lru_cache(maxsize=1024)
def dyadic(lo: float, hi: float, bits: int = 6) -> st.SearchStrategy[float]:
    """k / 2**bits in [lo, hi]: exact in float64, float32, float16 and bfloat16 for small k."""
    kmin, kmax = int(np.ceil(lo * 2**bits)), int(np.floor(hi * 2**bits))
    return st.integers(kmin, kmax).map(lambda k: k / 2**bits)


@functools.lru_cache(maxsize=1024)
def eps_values(lo_exp: int = -20, hi_exp: int = -3) -> st.SearchStrategy[float]:
    """Powers of two for eps: exactly representable in every dtype under test."""
    return st.integers(lo_exp, hi_exp).map(lambda e: 2.0**e)


def axis_of(ndim: int) -> st.SearchStrategy[int]:
    return st.integers(-ndim, ndim - 1)


def magnitude(dtype: str, wanted: float) -> float:
    """``wanted``, capped for float16 where squares and sums would overflow."""
    return min(wanted, HALF_SAFE) if dtype == "float16" else wanted
