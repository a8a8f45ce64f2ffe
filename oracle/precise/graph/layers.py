"""mpmath transcriptions of oracle/graph/layers.py and deep.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise.graph._mp import ZERO, _edges, _linear, _mp, _relu, _zeros


def gcn(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
        self_loops: str = "add", improved: bool = False) -> np.ndarray:
    return _gcn(_mp(x), edge_index, edge_weight, w, b, self_loops, improved)


def _gcn(xm: np.ndarray, edge_index: Any, edge_weight: Any, w: Any, b: Any,
         self_loops: str = "add", improved: bool = False) -> np.ndarray:
    h = _linear(xm, w)
    n = h.shape[0]
    src, dst, wt = _edges(edge_index, edge_weight)
    fill = mpmath.mpf(2 if improved else 1)
    edges = list(zip(src, dst, wt))
    if self_loops == "add":
        edges += [(i, i, fill) for i in range(n)]
    else:
        loop = {s: we for s, t, we in edges if s == t}
        edges = [e for e in edges if e[0] != e[1]] + [(i, i, loop.get(i, fill)) for i in range(n)]
    deg = [ZERO] * n
    for _, t, we in edges:
        deg[t] += we
    out = _zeros(h.shape)
    for s, t, we in edges:
        out[t] = out[t] + h[s] * (we / mpmath.sqrt(deg[s] * deg[t]))
    return out if b is None else out + _mp(b)[None, :]


def _sigmoid(v: Any) -> Any:
    return 1 / (1 + mpmath.exp(-v))


def _lstm(seq: list[np.ndarray], steps: int, w_ih: Any, w_hh: Any, b: Any) -> np.ndarray:
    wi, wh, bb = _mp(w_ih), _mp(w_hh), _mp(b)
    hid = wh.shape[1]
    h, c = _zeros((hid,)), _zeros((hid,))
    for t in range(steps):
        xt = seq[t] if t < len(seq) else _zeros((wi.shape[1],))
        z = [mpmath.fsum(wi[r, k] * xt[k] for k in range(wi.shape[1]))
             + mpmath.fsum(wh[r, k] * h[k] for k in range(hid)) + bb[r] for r in range(4 * hid)]
        gi, gf, gg, go = (z[k * hid:(k + 1) * hid] for k in range(4))
        c = np.array([_sigmoid(gf[j]) * c[j] + _sigmoid(gi[j]) * mpmath.tanh(gg[j])
                      for j in range(hid)], dtype=object)
        h = np.array([_sigmoid(go[j]) * mpmath.tanh(c[j]) for j in range(hid)], dtype=object)
    return h


def aggregate(x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any, *params: Any,
              aggr: str = "mean", lstm_padding: str = "none") -> np.ndarray:
    xm = _mp(x)
    n, f = xm.shape
    src, dst, _ = _edges(edge_index, None)
    nbrs = [[s for s, t in zip(src, dst) if t == i] for i in range(n)]
    agg = _zeros((n, f))
    if aggr == "max_pool":
        m = _linear(xm, params[0], params[1])
        m = np.vectorize(_relu, otypes=[object])(m)
    for i in range(n):
        if aggr in ("sum", "mean") and nbrs[i]:
            total = sum((xm[s] for s in nbrs[i]), _zeros((f,)))
            agg[i] = total / len(nbrs[i]) if aggr == "mean" else total
        elif aggr == "max_pool" and nbrs[i]:
            agg[i] = np.array([max(m[s, c] for s in nbrs[i]) for c in range(f)], dtype=object)
        elif aggr == "lstm":
            longest = max((len(v) for v in nbrs), default=0)
            steps = len(nbrs[i]) if lstm_padding == "none" else longest
            agg[i] = _lstm([xm[s] for s in nbrs[i]], steps, *params)
    return _linear(agg, w_l, b_l) + _linear(xm, w_r)


def gat(x: Any, edge_index: Any, w: Any, att_src: Any, att_dst: Any, b: Any = None, *,
        concat: bool = True, negative_slope: float = 0.2) -> np.ndarray:
    xm = _mp(x)
    n = xm.shape[0]
    a_s, a_d = _mp(att_src), _mp(att_dst)
    heads, ch = a_s.shape
    h = _linear(xm, w).reshape(n, heads, ch)
    src, dst, _ = _edges(edge_index, None)
    edges = [(s, t) for s, t in zip(src, dst) if s != t] + [(i, i) for i in range(n)]
    slope = mpmath.mpf(negative_slope)
    out = _zeros((n, heads, ch))
    def score(hd: int, s: int, t: int) -> Any:
        e = mpmath.fsum(a_d[hd, c] * h[t, hd, c] + a_s[hd, c] * h[s, hd, c] for c in range(ch))
        return e if e > 0 else slope * e

    for hd in range(heads):
        for t in range(n):
            into = [s for s, tt in edges if tt == t]
            ex = [mpmath.exp(score(hd, s, t)) for s in into]
            den = mpmath.fsum(ex)
            for s, e in zip(into, ex):
                out[t, hd] = out[t, hd] + h[s, hd] * (e / den)
    res = out.reshape(n, heads * ch) if concat else out.sum(axis=1) / heads
    return res if b is None else res + _mp(b)[None, :]


def gin(x: Any, edge_index: Any, w1: Any, b1: Any, w2: Any, b2: Any, *,
        eps: float = 0.0) -> np.ndarray:
    xm = _mp(x)
    z = xm * (1 + mpmath.mpf(eps))
    src, dst, _ = _edges(edge_index, None)
    for s, t in zip(src, dst):
        z[t] = z[t] + xm[s]
    hid = np.vectorize(_relu, otypes=[object])(_linear(z, w1, b1))
    return _linear(hid, w2, b2)


def _transition(edge_index: Any, edge_weight: Any, n: int) -> list[tuple[int, int, Any]]:
    src, dst, w = _edges(edge_index, edge_weight)
    deg = [ZERO] * n
    for t, we in zip(dst, w):
        deg[t] += we
    return [(s, t, we / deg[t]) for s, t, we in zip(src, dst, w)]


def diffusion(x: Any, edge_index: Any, edge_weight: Any = None, w: Any = None, b: Any = None, *,
              mode: str = "dcnn", hops: int = 2) -> np.ndarray:
    xm = _mp(x)
    n = xm.shape[0]
    edges = _transition(edge_index, edge_weight, n)
    powers = [xm]
    for _ in range(hops):
        nxt = _zeros(xm.shape)
        for s, t, p in edges:
            nxt[t] = nxt[t] + powers[-1][s] * p
        powers.append(nxt)
    if mode == "dcnn":
        return np.stack(powers[1:], axis=1)
    wm = np.asarray(w, dtype=np.float64)
    out = _zeros((n, wm.shape[1]))
    for k, pw in enumerate(powers):
        out = out + _linear(pw, wm[k])
    return out if b is None else out + _mp(b)[None, :]


def monet(x: Any, edge_index: Any, pseudo: Any, g: Any, mu: Any, sigma: Any, root: Any = None,
          b: Any = None, *, aggr: str = "sum", sigma_eps: float = 0.0) -> np.ndarray:
    xm = _mp(x)
    n = xm.shape[0]
    u, m, sg = _mp(pseudo), _mp(mu), _mp(sigma)
    gm = np.asarray(g, dtype=np.float64)
    per_kernel = [_linear(xm, gm[k]) for k in range(gm.shape[0])]
    src, dst, _ = _edges(edge_index, None)
    out = _zeros((n, gm.shape[1]))
    count = [0] * n
    for e, (s, t) in enumerate(zip(src, dst)):
        count[t] += 1
        for k in range(gm.shape[0]):
            q = mpmath.fsum((u[e, d] - m[k, d]) ** 2 / (sg[k, d] ** 2 + mpmath.mpf(sigma_eps))
                            for d in range(u.shape[1]))
            out[t] = out[t] + per_kernel[k][s] * mpmath.exp(-q / 2)
    if aggr == "mean":
        for t in range(n):
            out[t] = out[t] / max(count[t], 1)
    if root is not None:
        out = out + _linear(xm, root)
    return out if b is None else out + _mp(b)[None, :]


def readout(x: Any, batch: Any, *, num_graphs: int, reduce: str = "sum") -> np.ndarray:
    xm = _mp(x)
    ids = [int(v) for v in np.asarray(batch)]
    out = _zeros((num_graphs, xm.shape[1]))
    for gph in range(num_graphs):
        rows = [xm[i] for i, v in enumerate(ids) if v == gph]
        if not rows:
            continue
        if reduce == "max":
            out[gph] = np.array([max(r[c] for r in rows) for c in range(xm.shape[1])],
                                dtype=object)
        else:
            total = sum(rows, _zeros((xm.shape[1],)))
            out[gph] = total / len(rows) if reduce == "mean" else total
    return out


def _knn(points: Any, k: int, dilation: int, self_loops: bool) -> list[tuple[int, int]]:
    p = _mp(points)
    n = p.shape[0]
    edges = []
    for t in range(n):
        cand = [s for s in range(n) if self_loops or s != t]
        order = sorted(cand, key=lambda s: (mpmath.fsum((p[s] - p[t]) ** 2), s))
        edges += [(s, t) for s in order[:k * dilation:dilation]]
    return edges


def edge_conv(x: Any, pos: Any, w: Any, b: Any, *, k: int, dilation: int = 1,
              self_loops: bool = False) -> np.ndarray:
    xm = _mp(x)
    n, f = xm.shape
    edges = _knn(x if pos is None else pos, k, dilation, self_loops)
    wm, bm = _mp(w), _mp(b)
    out = _zeros((n, wm.shape[0]))
    first = [True] * n
    for s, t in edges:
        feat = list(xm[t]) + [xm[s, c] - xm[t, c] for c in range(f)]
        msg = [_relu(mpmath.fsum(wm[o, c] * feat[c] for c in range(2 * f)) + bm[o])
               for o in range(wm.shape[0])]
        out[t] = np.array(msg if first[t] else [max(a, m) for a, m in zip(out[t], msg)],
                          dtype=object)
        first[t] = False
    return out


def residual_dense(x: Any, edge_index: Any, edge_weight: Any, *params: Any, block: str = "res",
                   activation: str = "tanh") -> np.ndarray:
    act: Callable[[Any], Any] = {"tanh": mpmath.tanh, "relu": _relu,
                                 "identity": lambda v: v}[activation]
    vact = np.vectorize(act, otypes=[object])
    h = _mp(x)
    for i in range(0, len(params), 2):
        w, b = params[i], params[i + 1]
        if block == "res+":
            h = h + _gcn(vact(h), edge_index, edge_weight, w, b)
            continue
        f = vact(_gcn(h, edge_index, edge_weight, w, b))
        h = h + f if block == "res" else np.concatenate([h, f], axis=1)
    return h


