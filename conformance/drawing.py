"""Array values by regime: hypothesis draws the shape and one key naming the *regime* of the
values and a seed (``conformance.strategies``); NumPy fills the bulk. Drawing element by
element through hypothesis cost most of a run's time (``python -m reports timing``); a
regime keeps the hard input classes it drew (the interval's ends, zeros, ties, tiny
magnitudes, wide dynamic ranges, simple numbers) as explicit, named choices, and a failing
example still shrinks (to the smallest key, shape and seed that fail) and replays from the
run seed.

Regimes (``REGIMES``; hypothesis shrinks towards the first):

- ``simple``: multiples of a power-of-two step (1/2, or at most an eighth of a narrow
  interval): exact in every dtype,
- ``uniform``: uniform in [lo, hi],
- ``edges``: uniform, a third of the elements replaced by lo, hi, 0, or their neighbours,
- ``ties``: one to three distinct values, repeated (max-pool ties, constant groups),
- ``tiny``: magnitudes 2^-e, e up to 1000, around zero (or just above lo when 0 is out),
- ``wide``: magnitudes log-uniform over 40 octaves below the interval's largest,
- ``mixed``: every element from a regime of its own.

Opt-in (``OPT_IN``: never drawn unless a spec asks, for ops whose oracle states how it
propagates them):

- ``special``: uniform, a quarter of the elements replaced by NaN, +inf, -inf or -0.0,
  and at least one NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# A failing example shrinks by its shape first: every regime fills the flat array from
# prefix-stable streams (one per role: values, mask, choice; ``Streams``), so a smaller shape
# keeps the first elements of the larger one and the failure usually survives the shrink.
REGIMES = ("simple", "uniform", "edges", "ties", "tiny", "wide", "mixed")
# Regimes whose values are distinct with probability one (for unique=True).
CONTINUOUS = ("uniform", "wide", "tiny")
# IEEE special values: NaN, the infinities and the negative zero.
SPECIAL_VALUES = (np.nan, np.inf, -np.inf, -0.0)
SPECIAL_SHARE = 0.25
OPT_IN = ("special",)
TINY_OCTAVES = 1000
WIDE_OCTAVES = 40


ROLES = 24  # columns of the uniform block: 3 per regime, 6 regimes in "mixed", its pick


class Streams:
    """Prefix-stable uniform streams from one seed, one per role: role r's i-th value is
    element (i, r) of one (n, ROLES) block of NumPy uniforms, so it does not depend on n,
    and one generator serves every role (creating a generator per role cost more than the
    rest of the draw). ``streams(r)`` is role r; ``rng`` a plain generator for what need
    not be prefix-stable (redraws, samples without replacement)."""

    def __init__(self, seed: int, offset: int = 0) -> None:
        self.seed, self.offset = seed, offset
        self._block = np.empty((0, ROLES))

    def __call__(self, role: int) -> Role:
        return Role(self, self.offset + role)

    def shifted(self, roles: int) -> Streams:
        """The same block with role r read as role r + roles (a regime inside "mixed")."""
        out = Streams(self.seed, self.offset + roles)
        out._block = self._block
        return out

    def column(self, role: int, n: int) -> np.ndarray:
        if self._block.shape[0] < n:
            rows = max(n, 8)
            self._block = np.random.default_rng(self.seed).random((rows, ROLES))
        return self._block[:n, role]

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, 1])


class Role:
    """One role's stream, with the few Generator methods the regimes use."""

    def __init__(self, streams: Streams, role: int) -> None:
        self.streams, self.role = streams, role

    def random(self, n: int | None = None) -> Any:
        u = self.streams.column(self.role, 1 if n is None else n)
        return float(u[0]) if n is None else u

    def uniform(self, lo: float, hi: float, n: int | None = None) -> Any:
        return lo + (hi - lo) * self.random(n)

    def integers(self, lo: int, hi: int, n: int | None = None) -> Any:
        """Integers in [lo, hi) (NumPy's convention)."""
        k = np.minimum(np.floor(np.asarray(self.random(n)) * (hi - lo)), hi - lo - 1)
        out = lo + k.astype(np.int64)
        return int(out) if n is None else out

    def choice(self, values: Any, n: int) -> np.ndarray:
        table = np.asarray(values)
        return table[self.integers(0, len(table), n)]


def fill(streams: Streams, regime: str, shape: tuple[int, ...], lo: float,
         hi: float) -> np.ndarray:
    """float64 values of ``shape`` in [lo, hi] in the named regime."""
    n = math.prod(shape)
    if regime == "special":
        # Placed after the clip, which would turn the infinities into the interval's ends.
        out = np.minimum(np.maximum(_uniform(streams, n, float(lo), float(hi)), lo), hi)
        chosen = streams(1).choice(SPECIAL_VALUES, n)
        mask = streams(2).random(n)
        out = np.where(mask < SPECIAL_SHARE, chosen, out)
        if n:  # at least one NaN: the value a kernel is likeliest to drop
            out[int(np.argmin(mask))] = np.nan
        return out.reshape(shape)
    if regime == "mixed":
        parts = [_FILL[r](streams.shifted(3 * (i + 1)), n, float(lo), float(hi))
                 for i, r in enumerate(REGIMES[:-1])]
        pick = streams(3 * len(REGIMES)).integers(0, len(parts), n)
        out = np.choose(pick, parts)
    else:
        out = _FILL[regime](streams, n, float(lo), float(hi))
    # np.minimum/np.maximum: np.clip's errstate wrapper cost more than the fill.
    return np.minimum(np.maximum(out, lo), hi).reshape(shape)


def _simple(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    # A power of two, so the values are exact in every tested dtype.
    step = min(0.5, 2.0 ** np.floor(np.log2((hi - lo) / 8))) if hi > lo else 1.0
    klo, khi = max(np.ceil(lo / step), -2.0**20), min(np.floor(hi / step), 2.0**20)
    if klo > khi:  # an interval far from zero: no round numbers in reach
        return _uniform(streams, n, lo, hi)
    return streams(0).integers(int(klo), int(khi) + 1, n) * step


def _uniform(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    return streams(0).uniform(lo, hi, n)


def _edges(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    special = [lo, hi, np.nextafter(lo, hi), np.nextafter(hi, lo)] + ([0.0] if lo <= 0 <= hi
                                                                       else [])
    out = streams(0).uniform(lo, hi, n)
    chosen = np.asarray(special)[streams(1).integers(0, len(special), n)]
    return np.where(streams(2).random(n) < 1 / 3, chosen, out)


def _ties(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    values = streams(0).uniform(lo, hi, int(streams(1).integers(1, 4)))
    return values[streams(2).integers(0, len(values), n)]


def _tiny(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    mag = np.exp2(-streams(0).uniform(1, TINY_OCTAVES, n))
    if lo <= 0 <= hi:
        sign = streams(1).choice([-1.0, 1.0], n) if lo < 0 < hi else (1.0 if hi > 0 else -1.0)
        return sign * mag * max(abs(lo), abs(hi))
    # Zero is out of range: just inside the end nearer zero, within float64's reach there.
    mag = np.exp2(-streams(2).uniform(1, 60, n))
    return lo + mag * (hi - lo) if lo > 0 else hi - mag * (hi - lo)


def _wide(streams: Streams, n: int, lo: float, hi: float) -> np.ndarray:
    top = max(abs(lo), abs(hi))
    mag = top * np.exp2(-streams(0).uniform(0, WIDE_OCTAVES, n))
    if lo < 0 < hi:
        return streams(1).choice([-1.0, 1.0], n) * mag
    if hi <= 0:
        return -mag
    return np.maximum(mag, lo)


_FILL = {"simple": _simple, "uniform": _uniform, "edges": _edges, "ties": _ties,
         "tiny": _tiny, "wide": _wide}


def distinct(rng: np.random.Generator, values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` with repeated elements redrawn until every element is distinct."""
    out = values.copy()
    flat = out.reshape(-1)
    for _ in range(100):
        _, first = np.unique(flat, return_index=True)
        dup = np.setdiff1d(np.arange(flat.size), first)
        if not dup.size:
            return out
        flat[dup] = rng.uniform(lo, hi, dup.size)
    raise ValueError(f"cannot draw {flat.size} distinct values in [{lo}, {hi}]")


def distinct_integers(streams: Streams, shape: tuple[int, ...], lo: int,
                      hi: int) -> np.ndarray:
    """int64 values of ``shape``, distinct, uniform without replacement from [lo, hi]."""
    n = int(np.prod(shape, dtype=np.int64))
    if n > hi - lo + 1:
        raise ValueError(f"cannot draw {n} distinct integers in [{lo}, {hi}]")
    return (lo + streams.rng.choice(hi - lo + 1, n, replace=False)).reshape(shape)


def integer_fill(streams: Streams, regime: str, shape: tuple[int, ...], lo: int,
                 hi: int) -> np.ndarray:
    """int64 values of ``shape`` in [lo, hi]: uniform, the ends, ties or a mix."""
    n = int(np.prod(shape, dtype=np.int64))
    out = streams(0).integers(lo, hi + 1, n)
    if regime in ("edges", "tiny"):
        ends = np.array([lo, hi, min(lo + 1, hi), max(hi - 1, lo)])
        out = np.where(streams(2).random(n) < 1 / 3, ends[streams(1).integers(0, 4, n)], out)
    elif regime == "ties":
        values = streams(1).integers(lo, hi + 1, int(streams(2).integers(1, 4)))
        out = values[streams(0).integers(0, len(values), n)]
    elif regime == "simple":
        out = streams(0).integers(lo, min(lo + 1, hi) + 1, n)
    return out.reshape(shape)
