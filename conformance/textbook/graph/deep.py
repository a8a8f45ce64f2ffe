"""Textbook derivatives of EdgeConv (``graph.edge_conv``), in the tested dtype.

y_t = max over the edges e = (s -> t) of relu(z_e), z_e = [x_t, x_s - x_t] W^T + b. Every
framework differentiates it the same way: the max routes y's cotangent to its winning edge
(the first maximal one in edge order, as the oracle's scatter max), relu keeps it where
z > 0, and the rest are sums over edges and features: db = sum_e gz_e, dW = gz^T [x_t,
x_s - x_t], dx scattered back to both ends. Those sums cancel (cotangents of both signs: a
bfloat16 d/db summed by XLA in its own order came out 1.33x a bound scaled with the value's
rms, JAX seed 2), so every output is ``Summed``: the bound's floor scales with the sums of
the terms' magnitudes, carried through the same formula on |.|."""

from __future__ import annotations

import numpy as np

from conformance.textbook import Summed
from oracle import graph as GR


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """matmul in a's dtype (ml_dtypes' bfloat16 matmul returns float32)."""
    return np.matmul(a, b).astype(a.dtype)


def _abs(a: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(a, np.float64))


def _scatter(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n,) + values.shape[1:], values.dtype)
    np.add.at(out, index, values)
    return out


def _routes(x: np.ndarray, w: np.ndarray, b: np.ndarray, src: np.ndarray,
            dst: np.ndarray) -> np.ndarray:
    """(E, F_out) booleans: edge e carries y[dst[e], o]'s derivative (it is the first
    maximal message and its pre-activation is positive), chosen in float64 as the oracle's."""
    x64, w64, b64 = (np.asarray(a, np.float64) for a in (x, w, b))
    z = np.concatenate([x64[dst], x64[src] - x64[dst]], axis=1) @ w64.T + b64
    msg = np.maximum(z, 0.0)
    route = np.zeros(z.shape, bool)
    best = np.full((x.shape[0], w.shape[0]), -np.inf)
    winner = np.full(best.shape, -1)
    for e in range(len(dst)):  # strictly greater: ties keep the first edge
        better = msg[e] > best[dst[e]]
        best[dst[e]] = np.where(better, msg[e], best[dst[e]])
        winner[dst[e]] = np.where(better, e, winner[dst[e]])
    for e in range(len(dst)):
        route[e] = (winner[dst[e]] == e) & (z[e] > 0)
    return route


def edge_conv(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (x, pos, w, b), grad_wrt (0, 2, 3)."""
    x, pos, w, b = args
    n, f = x.shape
    src, dst = GR.knn_graph(x if pos is None else pos, k=kwargs["k"],
                            dilation=kwargs.get("dilation", 1),
                            self_loops=kwargs.get("self_loops", False))
    route = _routes(x, w, b, src, dst)
    feats = np.concatenate([x[dst], (x[src] - x[dst]).astype(x.dtype)], axis=1)
    afeats = np.concatenate([_abs(x[dst]), _abs(x[src]) + _abs(x[dst])], axis=1)
    if mode == "jvp":
        tx, tw, tb = seeds
        tfeats = np.concatenate([tx[dst], (tx[src] - tx[dst]).astype(x.dtype)], axis=1)
        tz = _mm(tfeats, w.T) + _mm(feats, tw.T) + tb
        atz = (np.concatenate([_abs(tx[dst]), _abs(tx[src]) + _abs(tx[dst])], axis=1)
               @ _abs(w).T + afeats @ _abs(tw).T + _abs(tb))
        # Exactly one routed edge per (t, o) or none: a scatter of one term, not a sum.
        return [Summed(_scatter(np.where(route, tz, 0).astype(x.dtype), dst, n),
                       _scatter(np.where(route, atz, 0.0), dst, n))]
    (gy,) = seeds
    gz = np.where(route, gy[dst], 0).astype(x.dtype)
    agz = _abs(gz)
    gfeats = _mm(gz, w)
    agfeats = agz @ _abs(w)
    gx = _scatter((gfeats[:, :f] - gfeats[:, f:]).astype(x.dtype), dst, n) + \
        _scatter(gfeats[:, f:], src, n)
    agx = _scatter(agfeats[:, :f] + agfeats[:, f:], dst, n) + _scatter(agfeats[:, f:], src, n)
    return [Summed(gx, agx), Summed(_mm(gz.T, feats), agz.T @ afeats),
            Summed(np.sum(gz, axis=0), np.sum(agz, axis=0))]
