"""Graph strategies of the ``graph`` specs: a fixed menu of graph shapes, each with its
generators, and node features at varied scales.

Shapes. Eager JAX compiles each primitive per shape, so a graph's (N, E) comes from a
small menu shared by every spec (same feature widths too), and each generator builds a graph
with exactly that many edges; nothing is padded. The menu:

  N = 1,  E = 1   a single node with a self loop
  N = 5,  E = 8   path P5, star S5, cycle C4 + an isolated node, Erdos-Renyi G(5, 4), a
                  random directed multigraph
  N = 8,  E = 24  cube Q3 (3-regular), two disjoint K4 (two components), G(8, 12), G(8, 10)
                  with two self loops, a random directed multigraph
  N = 24, E = 72  prism C12 x K2 (3-regular), three disjoint cubes, G(24, 36) (isolated
                  nodes are likely), a random directed multigraph

Undirected graphs list each edge in both directions with one weight (the representation
of oracle/graph/_base.py); Erdos-Renyi is G(n, m) (m distinct pairs, uniform); the random
directed graphs draw E (source, target) pairs with replacement, so they have self loops and
multi-edges (``single_loops=True`` keeps at most one loop per node). Weights are drawn in
[1/4, 4] per undirected edge (or per edge when directed), or absent (None: all 1).

The generators draw from a NumPy generator seeded by hypothesis, so an example is a pure
function of its draws (replayed by seed) and a rejection loop (spectral gaps, kinks) stays
inside one draw.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

SHAPES = ((1, 1), (5, 8), (8, 24), (24, 72))
F_IN, F_OUT = 3, 2
WEIGHT_RANGE = (0.25, 4.0)
SCALES = (2.0**-4, 1.0, 2.0**4)


@dataclass(frozen=True)
class Graph:
    n: int
    edge_index: np.ndarray  # (2, E) int64
    undirected: bool
    kind: str

    @property
    def e(self) -> int:
        return self.edge_index.shape[1]


def _both(pairs: list[tuple[int, int]]) -> np.ndarray:
    """Each undirected pair in both directions (a loop once), pairs in order."""
    src, dst = [], []
    for a, b in pairs:
        src.append(a)
        dst.append(b)
        if a != b:
            src.append(b)
            dst.append(a)
    return np.array([src, dst], dtype=np.int64)


def _path(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def _cycle(n: int, offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + i, offset + (i + 1) % n) for i in range(n)]


def _complete(n: int, offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + a, offset + b) for a, b in itertools.combinations(range(n), 2)]


def _cube(offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + a, offset + (a ^ (1 << k))) for a in range(8) for k in range(3)
            if a < a ^ (1 << k)]


def _prism(m: int) -> list[tuple[int, int]]:
    return _cycle(m) + _cycle(m, m) + [(i, m + i) for i in range(m)]


STRUCTURED: dict[tuple[int, int], dict[str, list[tuple[int, int]]]] = {
    (1, 1): {"self_loop": [(0, 0)]},
    (5, 8): {"path": _path(5), "star": [(0, i) for i in range(1, 5)],
             "cycle+isolated": _cycle(4)},
    (8, 24): {"cube": _cube(), "two_k4": _complete(4) + _complete(4, 4)},
    (24, 72): {"prism": _prism(12), "three_cubes": _cube() + _cube(8) + _cube(16)},
}
# Erdos-Renyi kinds per shape: (undirected pairs, self loops)
RANDOM: dict[tuple[int, int], dict[str, tuple[int, int]]] = {
    (1, 1): {},
    (5, 8): {"er": (4, 0)},
    (8, 24): {"er": (12, 0), "er+loops": (11, 2)},
    (24, 72): {"er": (36, 0)},
}
DIRECTED = "directed"


def kinds(shape: tuple[int, int], *, undirected_only: bool = False) -> list[str]:
    out = list(STRUCTURED[shape]) + list(RANDOM[shape])
    return out if undirected_only or shape == (1, 1) else out + [DIRECTED]


def build(shape: tuple[int, int], kind: str, rng: np.random.Generator, *,
          single_loops: bool = False, shuffle: bool = True) -> Graph:
    """The graph ``kind`` of ``shape``; node labels permuted and edges shuffled (so no
    layer sees a sorted edge list by accident) unless ``shuffle=False``."""
    n, e = shape
    if kind in STRUCTURED[shape]:
        ei, undirected = _both(STRUCTURED[shape][kind]), True
    elif kind in RANDOM[shape]:
        m, loops = RANDOM[shape][kind]
        pairs = list(itertools.combinations(range(n), 2))
        pick = rng.choice(len(pairs), size=m, replace=False)
        chosen = [pairs[i] for i in pick]
        chosen += [(int(v), int(v)) for v in rng.choice(n, size=loops, replace=False)]
        ei, undirected = _both(chosen), True
    elif kind == DIRECTED:
        src = rng.integers(0, n, e)
        dst = rng.integers(0, n, e)
        if single_loops:
            seen: set[int] = set()
            for i in range(e):
                while src[i] == dst[i] and int(src[i]) in seen:
                    dst[i] = rng.integers(0, n)
                if src[i] == dst[i]:
                    seen.add(int(src[i]))
        ei, undirected = np.stack([src, dst]).astype(np.int64), False
    else:
        raise ValueError(f"no graph kind {kind!r} for shape {shape}")
    assert ei.shape == (2, e), (kind, ei.shape)
    if shuffle:
        perm = rng.permutation(n)
        ei = perm[ei]
        ei = ei[:, rng.permutation(e)]
    return Graph(n, ei, undirected, kind)


def edge_weights(g: Graph, rng: np.random.Generator) -> np.ndarray:
    """Weights in WEIGHT_RANGE, equal on the two directions of an undirected edge."""
    lo, hi = WEIGHT_RANGE
    w = np.exp(rng.uniform(np.log(lo), np.log(hi), g.e))
    if g.undirected:
        key = {}
        for k, (a, b) in enumerate(g.edge_index.T):
            pair = (min(a, b), max(a, b))
            w[k] = key.setdefault(pair, w[k])
    return w


def features(rng: np.random.Generator, shape: tuple[int, ...], dtype: str,
             lo: float = -1.0) -> np.ndarray:
    """Uniform in [lo, 1] times a scale from SCALES (one per array): varied magnitudes,
    float16 kept below its overflow by the small range."""
    scale = SCALES[int(rng.integers(len(SCALES)))]
    return scale * rng.uniform(lo, 1.0, shape)


def weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A layer weight (out, in, ...) at the usual 1/sqrt(fan_in) scale."""
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return rng.uniform(-1.0, 1.0, shape) / np.sqrt(fan_in)


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)
