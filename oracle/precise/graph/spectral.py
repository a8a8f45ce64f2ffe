"""mpmath transcriptions of oracle/graph/spectral.py."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from oracle.precise.graph._mp import ONE, ZERO, _edges, _linear, _matmul, _mp, _zeros


def laplacian(edge_index: Any, edge_weight: Any = None, *, num_nodes: int) -> np.ndarray:
    src, dst, w = _edges(edge_index, edge_weight)
    lap = _zeros((num_nodes, num_nodes))
    for s, t, we in zip(src, dst, w):
        if s != t:
            lap[s, t] -= we
            lap[s, s] += we
    return lap


def normalized_laplacian(edge_index: Any, edge_weight: Any = None, *, num_nodes: int,
                         normalization: str = "sym", isolated: str = "one") -> np.ndarray:
    src, dst, w = _edges(edge_index, edge_weight)
    deg = [ZERO] * num_nodes
    for s, t, we in zip(src, dst, w):
        if s != t:
            deg[s] += we
    lap = _zeros((num_nodes, num_nodes))
    for i in range(num_nodes):
        lap[i, i] = ONE if (isolated == "one" or deg[i] > 0) else ZERO
    for s, t, we in zip(src, dst, w):
        if s == t:
            continue
        if normalization == "sym":  # 0^-1/2 = 0: a target without out-edges gets 0
            lap[s, t] -= we / mpmath.sqrt(deg[s] * deg[t]) if deg[t] > 0 else ZERO
        else:
            lap[s, t] -= we / deg[s]
    return lap


def _laplacian(edge_index: Any, edge_weight: Any, n: int, normalization: str | None,
               isolated: str = "one") -> np.ndarray:
    if normalization is None:
        return laplacian(edge_index, edge_weight, num_nodes=n)
    return normalized_laplacian(edge_index, edge_weight, num_nodes=n,
                                normalization=normalization, isolated=isolated)


def dirichlet_energy(x: Any, edge_index: Any, edge_weight: Any = None, *,
                     form: str = "pairwise") -> np.ndarray:
    xm = _mp(x)
    cols = xm[:, None] if xm.ndim == 1 else xm
    src, dst, w = _edges(edge_index, edge_weight)
    n, f = cols.shape
    out = _zeros((f,))
    for c in range(f):
        if form == "pairwise":
            out[c] = mpmath.fsum(we * (cols[s, c] - cols[t, c]) ** 2
                                 for s, t, we in zip(src, dst, w)) / 2
        else:
            lap = laplacian(edge_index, edge_weight, num_nodes=n)
            out[c] = mpmath.fsum(cols[i, c] * lap[i, j] * cols[j, c]
                                 for i in range(n) for j in range(n))
    return out if xm.ndim > 1 else out[0]


def _spectrum(edge_index: Any, edge_weight: Any, n: int, normalization: str | None,
              isolated: str) -> tuple[np.ndarray, np.ndarray]:
    lap = _laplacian(edge_index, edge_weight, n, normalization, isolated)
    sym = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            sym[i, j] = (lap[i, j] + lap[j, i]) / 2
    vals, vecs = mpmath.eigsy(sym)
    order = sorted(range(n), key=lambda k: vals[k])
    lam = np.array([vals[k] for k in order], dtype=object)
    u = _zeros((n, n))
    for col, k in enumerate(order):
        v = [vecs[i, k] for i in range(n)]
        lead = max(range(n), key=lambda i: (abs(v[i]), -i))
        sign = -1 if v[lead] < 0 else 1
        for i in range(n):
            u[i, col] = sign * v[i]
    return lam, u


def _columns(x: Any) -> tuple[np.ndarray, bool]:
    xm = _mp(x)
    return (xm[:, None], True) if xm.ndim == 1 else (xm, False)


def fourier(x: Any, edge_index: Any, edge_weight: Any = None, *,
            normalization: str | None = None, isolated: str = "one") -> tuple:
    xm = _mp(x)
    lam, u = _spectrum(edge_index, edge_weight, xm.shape[0], normalization, isolated)
    cols, vector = _columns(x)
    x_hat = _matmul(u.T, cols)
    return lam, (x_hat[:, 0] if vector else x_hat), u


def inverse_fourier(x_hat: Any, edge_index: Any, edge_weight: Any = None, *,
                    normalization: str | None = None, isolated: str = "one") -> np.ndarray:
    cols, vector = _columns(x_hat)
    _, u = _spectrum(edge_index, edge_weight, cols.shape[0], normalization, isolated)
    y = _matmul(u, cols)
    return y[:, 0] if vector else y


def spectral_filter(x: Any, edge_index: Any, edge_weight: Any = None, *, kernel: str = "heat",
                    t: float = 1.0, normalization: str | None = None,
                    isolated: str = "one") -> np.ndarray:
    cols, vector = _columns(x)
    lam, u = _spectrum(edge_index, edge_weight, cols.shape[0], normalization, isolated)
    tt = mpmath.mpf(t)
    g = {"heat": lambda v: mpmath.exp(-tt * v), "rational": lambda v: 1 / (1 + tt * v),
         "cosine": lambda v: mpmath.cos(tt * v)}[kernel]
    x_hat = _matmul(u.T, cols)
    for i in range(x_hat.shape[0]):
        x_hat[i] = x_hat[i] * g(lam[i])
    y = _matmul(u, x_hat)
    return y[:, 0] if vector else y


def chebyshev(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
              lambda_max: float, normalization: str | None = "sym",
              isolated: str = "one") -> np.ndarray:
    xm = _mp(x)
    n = xm.shape[0]
    lap = _laplacian(edge_index, edge_weight, n, normalization, isolated)
    op = _zeros((n, n))
    for i in range(n):
        for j in range(n):
            op[i, j] = 2 * lap[j, i] / mpmath.mpf(lambda_max) - (ONE if i == j else ZERO)
    wm = np.asarray(w, dtype=np.float64)
    terms = [xm]
    for k in range(1, wm.shape[0]):
        nxt = _matmul(op, terms[-1])
        terms.append(nxt if k == 1 else 2 * nxt - terms[-2])
    out = _zeros((n, wm.shape[1]))
    for k, term in enumerate(terms):
        out = out + _linear(term, wm[k])
    return out if b is None else out + _mp(b)[None, :]


