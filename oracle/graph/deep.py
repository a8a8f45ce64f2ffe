"""Readout over a batch of graphs, and the DeepGCN pieces (seed 002): dynamic edge
convolution over a (dilated) k-NN graph, residual and dense connections.

Graph representation: ``oracle/graph/_base.py``. A batch of graphs is one graph whose nodes
carry a ``batch`` vector (N,) of graph ids in 0..B-1 (PyG's convention; it need not be
sorted, and a graph may have no nodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon
from oracle.activations import relu
from oracle.graph import _base as G
from oracle.graph.layers import gcn


def readout(x: Any, batch: Any, *, num_graphs: int, reduce: str = "sum") -> Any:
    """Per-graph sum, mean or max of the node features x (N, F): (B, F). A graph with no
    nodes reads out 0 for every reduction (PyG's global_*_pool); max ties take the first
    node (ties only matter for the derivative)."""
    x = _canon.asarray(x)
    batch = np.asarray(batch)
    if batch.shape != (x.shape[0],) or batch.dtype.kind not in "iu":
        raise ValueError(f"batch must be an integer vector ({x.shape[0]},)")
    if batch.size and (batch.min() < 0 or batch.max() >= num_graphs):
        raise ValueError(f"batch ids must lie in 0..{num_graphs - 1}")
    if reduce == "max":
        return G.scatter_max(x, batch, num_graphs)
    total = G.scatter_sum(x, batch, num_graphs)
    if reduce == "sum":
        return total
    if reduce == "mean":
        cnt = _canon.asarray(np.maximum(G.counts(batch, num_graphs), 1).astype(np.float64))
        return total / cnt[:, None]
    raise ValueError(f"reduce must be 'sum', 'mean' or 'max', got {reduce!r}")


def knn_graph(points: Any, *, k: int, dilation: int = 1, self_loops: bool = False) -> np.ndarray:
    """The dilated k-NN graph (2, N k): for each node t (ascending), edges s -> t from its
    neighbours at positions 0, d, 2d, .. (k of them) of the order by squared Euclidean
    distance, ties broken by the lower index; t itself is a candidate (at distance 0) only
    with ``self_loops``. Distances are exact float64 of the points' values (a graph is
    discrete: it is the same for every dtype the points are exact in)."""
    p = np.asarray(_canon.primal(points), dtype=np.float64)
    n = p.shape[0]
    need = k * dilation
    if need > n - (0 if self_loops else 1):
        raise ValueError(f"k * dilation = {need} neighbours needed, {n} points")
    d2 = np.sum((p[:, None, :] - p[None, :, :]) ** 2, axis=-1)
    src, dst = [], []
    for t in range(n):
        cand = np.array([s for s in range(n) if self_loops or s != t])
        order = cand[np.lexsort((cand, d2[t, cand]))]
        chosen = order[:need:dilation]
        src.extend(int(s) for s in chosen)
        dst.extend([t] * len(chosen))
    return np.array([src, dst], dtype=np.int64)


def edge_conv(x: Any, pos: Any, w: Any, b: Any, *, k: int, dilation: int = 1,
              self_loops: bool = False) -> Any:
    """EdgeConv (DGCNN / DeepGCN): h'_t = max over the k-NN neighbours s of t of
    relu([h_t, h_s - h_t] W^T + b), elementwise, w (F_out, 2 F_in).

    The k-NN graph is ``knn_graph`` of ``pos`` (N, D), or of the features themselves when
    pos is None (the dynamic form: the graph of this layer's input); ``dilation`` d keeps every
    d-th of the k d nearest (DeepGCN's dilated k-NN). The graph carries no derivative. Max
    ties take the first neighbour in the k-NN order.
    """
    x = _canon.asarray(x)
    ei = knn_graph(x if pos is None else pos, k=k, dilation=dilation, self_loops=self_loops)
    src, dst = ei
    xt = x[dst]
    msg = relu(G.linear(np.concatenate([xt, x[src] - xt], axis=-1), w, b))
    return G.scatter_max(msg, dst, x.shape[0])


_ACTS = {"relu": relu, "tanh": np.tanh, "identity": lambda z: z}


def residual_dense(x: Any, edge_index: Any, edge_weight: Any, *params: Any, block: str = "res",
                   activation: str = "tanh") -> Any:
    """A stack of DeepGCN layers, each a GCN layer F (``gcn``, A + I) with weights
    params = (W_1, b_1, W_2, b_2, ...) and an activation g:

    "res"   H_{l+1} = H_l + g(F(H_l))          (residual, DeepGCN's ResGCN)
    "res+"  H_{l+1} = H_l + F(g(H_l))          (pre-activation residual)
    "dense" H_{l+1} = [H_l, g(F(H_l))]         (concatenation: all earlier layers, DenseGCN)

    as PyG's DeepGCNLayer(conv, act=g, block=...) without normalization and dropout.
    """
    if len(params) % 2 or not params:
        raise ValueError("params are pairs (W, b), one per layer")
    if block not in ("res", "res+", "dense"):
        raise ValueError(f"block must be 'res', 'res+' or 'dense', got {block!r}")
    act = _ACTS[activation]
    h = _canon.asarray(x)
    for i in range(0, len(params), 2):
        w, b = params[i], params[i + 1]
        if block == "res+":
            h = h + gcn(act(h), edge_index, edge_weight, w, b)
            continue
        f = act(gcn(h, edge_index, edge_weight, w, b))
        h = h + f if block == "res" else np.concatenate([h, f], axis=-1)
    return h
