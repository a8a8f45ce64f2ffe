"""The graph representation every ``graph`` op takes, and the scatter helpers they share.

A graph on N nodes is ``edge_index``, an integer array of shape (2, E): edge e goes from
the source ``edge_index[0, e]`` to the target ``edge_index[1, e]``, and messages flow
source -> target (PyG's ``flow='source_to_target'``). ``edge_weight`` is a float array (E,)
or None (every weight 1). An undirected graph lists each edge in both directions with equal
weights; multi-edges are separate entries (their weights add in the dense adjacency, and
each is a separate term where a layer sums or attends over edges); a self loop is an edge
(i, i). N is the number of rows of the node features, or ``num_nodes`` where an op has none.

The dense adjacency is A[s, t] = sum of the weights of the edges s -> t (``adjacency``).
Degrees are named by side: ``out_degree`` (row sums of A, over sources: what Laplacians use,
as PyG's ``get_laplacian``) and ``in_degree`` (column sums, over targets: what message
passing normalizes by, as PyG's ``gcn_norm``); for an undirected graph they coincide.

Every helper runs on dual numbers (``oracle.autodiff.Dual``) and in low dtypes: buffers come
from ``_canon.zeros(like=...)``, constants from ``_canon.scalar``, products are cast back with
``_canon.asarray`` (ml_dtypes' bfloat16 matmul returns float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon


def check_edges(edge_index: Any, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(sources, targets) as int64 arrays, validated against ``num_nodes``."""
    ei = np.asarray(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2 or ei.dtype.kind not in "iu":
        raise ValueError(f"edge_index must be an integer array (2, E), got {ei.dtype} {ei.shape}")
    if ei.size and (ei.min() < 0 or ei.max() >= num_nodes):
        raise ValueError(f"edge_index refers to nodes outside 0..{num_nodes - 1}")
    return ei[0].astype(np.int64), ei[1].astype(np.int64)


def weights(edge_weight: Any, num_edges: int) -> Any:
    """The edge weights in the compute dtype (ones for None)."""
    if edge_weight is None:
        return np.ones(num_edges, dtype=_canon.current_dtype())
    w = _canon.asarray(edge_weight)
    if w.shape != (num_edges,):
        raise ValueError(f"edge_weight must have shape ({num_edges},), got {w.shape}")
    return w


def mm(a: Any, b: Any) -> Any:
    """a @ b in the compute dtype."""
    return _canon.asarray(np.matmul(a, b))


def linear(x: Any, w: Any, b: Any = None) -> Any:
    """x W^T + b with W (out, in) as torch's Linear (the oracle's nn.dense layout)."""
    w = _canon.asarray(w)
    if w.ndim != 2 or np.shape(x)[-1] != w.shape[1]:
        raise ValueError(f"features {np.shape(x)} and weight {w.shape} do not match "
                         "(weights are (out, in))")
    z = mm(x, w.T)
    return z if b is None else z + _canon.asarray(b)


def scatter_sum(values: Any, index: np.ndarray, size: int, like: Any = None) -> Any:
    """out[k] = sum of values[e] over e with index[e] == k (zeros where none)."""
    out = _canon.zeros((size,) + tuple(np.shape(values)[1:]), like=(values, like))
    np.add.at(out, index, values)
    return out


def scatter_max(values: Any, index: np.ndarray, size: int) -> Any:
    """out[k] = max of values[e] over e with index[e] == k, elementwise; 0 where no e
    (PyG's scatter 'max' convention). A tie takes the first maximal entry in edge order
    (np.max's rule for duals); tied entries carry equal values, so only the derivative
    convention is affected, and the specs keep ties at points where it does not matter."""
    out = _canon.zeros((size,) + tuple(np.shape(values)[1:]), like=values)
    for k in range(size):
        members = np.flatnonzero(index == k)
        if members.size:
            out[k] = np.max(values[members], axis=0)
    return out


def counts(index: np.ndarray, size: int) -> np.ndarray:
    """How many entries of ``index`` fall on each of ``size`` slots (int64)."""
    return np.bincount(index, minlength=size).astype(np.int64)


def without_self_loops(src: np.ndarray, dst: np.ndarray, w: Any) -> tuple[Any, ...]:
    keep = src != dst
    return src[keep], dst[keep], w[keep]


def adjacency(edge_index: Any, edge_weight: Any = None, *, num_nodes: int,
              self_loops: bool = True) -> Any:
    """The dense adjacency A[s, t] = sum of the weights of the edges s -> t (N, N); with
    ``self_loops=False`` the diagonal is left out."""
    src, dst = check_edges(edge_index, num_nodes)
    w = weights(edge_weight, src.size)
    if not self_loops:
        src, dst, w = without_self_loops(src, dst, w)
    a = _canon.zeros((num_nodes, num_nodes), like=w)
    np.add.at(a, (src, dst), w)
    return a


def out_degree(src: np.ndarray, w: Any, num_nodes: int) -> Any:
    return scatter_sum(w, src, num_nodes)


def in_degree(dst: np.ndarray, w: Any, num_nodes: int) -> Any:
    return scatter_sum(w, dst, num_nodes)


def inv_sqrt(d: Any) -> Any:
    """d^(-1/2), and 0 where d == 0 (PyG masks the infinity the same way)."""
    pos = _canon.primal(d) > 0
    safe = np.where(pos, d, np.ones_like(d))
    return np.where(pos, 1 / np.sqrt(safe), np.zeros_like(d))


def inv(d: Any) -> Any:
    """1/d, and 0 where d == 0."""
    pos = _canon.primal(d) > 0
    safe = np.where(pos, d, np.ones_like(d))
    return np.where(pos, 1 / safe, np.zeros_like(d))
