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

from typing import Any

import numpy as np

from conformance.textbook import Summed
from conformance.textbook import absolute as _abs
from oracle import graph as GR
from oracle.graph import _base as G


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """matmul in a's dtype (ml_dtypes' bfloat16 matmul returns float32)."""
    return np.matmul(a, b).astype(a.dtype)



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
    best = np.full((x.shape[0], w.shape[0]), -np.inf)
    winner = np.full(best.shape, -1)
    for e in range(len(dst)):  # strictly greater: ties keep the first edge
        better = msg[e] > best[dst[e]]
        best[dst[e]] = np.where(better, msg[e], best[dst[e]])
        winner[dst[e]] = np.where(better, e, winner[dst[e]])
    return (winner[dst] == np.arange(len(dst))[:, None]) & (z > 0)


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


class _Stack:
    """A DeepGCN stack's forward tape and its backward and forward passes, in the tested
    dtype (``_Stack(...)``) or in magnitudes (``_Stack.magnitudes(...)``: the float64 tape's
    absolute values, every difference made a sum, so tanh' = 1 - y^2 becomes 1 + y^2): the
    same lines give each output's value or the sum of its terms' magnitudes."""

    mag = False

    def __init__(self, args: list, kwargs: dict, dtype: Any) -> None:
        x, edge_index, w = args[:3]
        self.dt = dt = np.dtype(dtype)
        self.block = kwargs.get("block", "res")
        self.n = n = x.shape[0]
        src0, dst0 = G.check_edges(edge_index, n)
        self.e = src0.size
        self.src = np.concatenate([src0, np.arange(n)])
        self.dst = np.concatenate([dst0, np.arange(n)])
        w = np.ones(src0.size, dt) if w is None else np.asarray(w, dt)
        self.w2 = np.concatenate([w, np.ones(n, dt)])
        deg = np.zeros(n, dt)
        np.add.at(deg, self.dst, self.w2)
        self.s = (np.ones_like(deg) / np.sqrt(deg)).astype(dt)
        self.ds = (np.asarray(-0.5, dt) * self.s * self.s * self.s).astype(dt)
        self.coef = (self.s[self.src] * self.w2 * self.s[self.dst]).astype(dt)
        params = [np.asarray(a, dt) for a in args[3:]]
        self.layers = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
        self.tape = self._forward(np.asarray(x, dt))

    @classmethod
    def magnitudes(cls, args: list, kwargs: dict) -> _Stack:
        st = cls(args, kwargs, np.float64)
        st.mag = True
        st.w2, st.s, st.ds, st.coef = (np.abs(a) for a in (st.w2, st.s, st.ds, st.coef))
        st.layers = [(np.abs(a), np.abs(b)) for a, b in st.layers]
        st.tape = [tuple(np.abs(a) for a in t) for t in st.tape]
        return st

    def cast(self, a: Any) -> np.ndarray:
        a = np.asarray(a, self.dt)
        return np.abs(a) if self.mag else a

    def prop(self, z: np.ndarray, c: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, z.shape[1]), self.dt)
        np.add.at(out, self.dst, (c[:, None] * z[self.src]).astype(self.dt))
        return out

    def mm(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.matmul(a, b).astype(self.dt)

    def tanh_d(self, y: np.ndarray) -> np.ndarray:
        one = np.asarray(1, self.dt)
        return (one + y * y if self.mag else one - y * y).astype(self.dt)

    def _forward(self, x: np.ndarray) -> list:
        """Per layer (H, P, Z, y): P the GCN input, y the tanh output."""
        dt, tape, h = self.dt, [], x
        for wl, bl in self.layers:
            y = np.tanh(h).astype(dt) if self.block == "res+" else None
            p = y if self.block == "res+" else h
            z = self.mm(p, wl.T)
            f = (self.prop(z, self.coef) + bl).astype(dt)
            if self.block != "res+":
                y = np.tanh(f).astype(dt)
            tape.append((h, p, z, y))
            if self.block == "res":
                h = (h + y).astype(dt)
            elif self.block == "res+":
                h = (h + f).astype(dt)
            else:
                h = np.concatenate([h, y], axis=1)
        return tape

    def vjp(self, g: np.ndarray) -> list:
        """[d/dx, d/dw, d/dW_1, d/db_1, ...]."""
        dt, src, dst = self.dt, self.src, self.dst
        g = self.cast(g)
        g_w2 = np.zeros_like(self.w2)
        g_params: list[np.ndarray] = []
        for (hl, p, z, y), (wl, _) in zip(reversed(self.tape), reversed(self.layers)):
            tan_d = self.tanh_d(y)
            if self.block == "res":
                g_f, g_h = (g * tan_d).astype(dt), g
            elif self.block == "res+":
                g_f, g_h = g, g
            else:
                g_f, g_h = (g[:, hl.shape[1]:] * tan_d).astype(dt), g[:, :hl.shape[1]]
            g_z = np.zeros_like(z)
            np.add.at(g_z, src, (self.coef[:, None] * g_f[dst]).astype(dt))
            g_coef = np.sum(g_f[dst] * z[src], axis=1).astype(dt)
            g_s = np.zeros(self.n, dt)
            np.add.at(g_s, src, (g_coef * self.w2 * self.s[dst]).astype(dt))
            np.add.at(g_s, dst, (g_coef * self.s[src] * self.w2).astype(dt))
            g_w2 = (g_w2 + g_coef * self.s[src] * self.s[dst] + (g_s * self.ds)[dst]).astype(dt)
            g_p = self.mm(g_z, wl)
            if self.block == "res+":
                g_p = (g_p * tan_d).astype(dt)
            g_params = [self.mm(g_z.T, p), np.sum(g_f, axis=0).astype(dt)] + g_params
            g = (g_h + g_p).astype(dt)
        return [g, g_w2[:self.e]] + g_params

    def jvp(self, ux: np.ndarray, uw: np.ndarray, uparams: list) -> list:
        dt, src, dst = self.dt, self.src, self.dst
        du2 = np.concatenate([self.cast(uw), np.zeros(self.n, dt)])
        ddeg = np.zeros(self.n, dt)
        np.add.at(ddeg, dst, du2)
        dsv = (self.ds * ddeg).astype(dt)
        s, w2 = self.s, self.w2
        dcoef = ((dsv[src] * w2).astype(dt) * s[dst] + (s[src] * du2).astype(dt) * s[dst]
                 + (s[src] * w2).astype(dt) * dsv[dst]).astype(dt)
        dh = self.cast(ux)
        for k, ((_, p, z, y), (wl, _)) in enumerate(zip(self.tape, self.layers)):
            uwl, ubl = self.cast(uparams[2 * k]), self.cast(uparams[2 * k + 1])
            tan_d = self.tanh_d(y)
            dp = (dh * tan_d).astype(dt) if self.block == "res+" else dh
            dz = (self.mm(dp, wl.T) + self.mm(p, uwl.T)).astype(dt)
            df = (self.prop(z, dcoef) + self.prop(dz, self.coef) + ubl).astype(dt)
            if self.block == "res":
                dh = (dh + tan_d * df).astype(dt)
            elif self.block == "res+":
                dh = (dh + df).astype(dt)
            else:
                dh = np.concatenate([dh, (tan_d * df).astype(dt)], axis=1)
        return [dh]


def residual_dense(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (x, edge_index, edge_weight, W_1, b_1, W_2, b_2), grad_wrt (0, 2, 3, 4, 5, 6).

    A DeepGCN stack differentiated as kernels do: tanh' from its saved output, 1 - y^2
    (torch's tanh_backward, TF's TanhGrad, JAX's tanh JVP rule), which cancels where tanh
    saturates (features at scale 2^4 give |y| ~ 1), while the oracle's duals use
    sech^2 = 4 e / (1 + e)^2 at full relative accuracy. Each layer is a GCN on A + I,
    coef_e = s_src w_e s_dst with s = d^-1/2 (in-degrees of A + I), differentiated by the
    chain rule through d^-1/2 (ds/dd = -s^3 / 2), everything in the tested dtype. Every
    output is ``Summed``: a kernel's own tanh, a few ulps from NumPy's, moves 1 - y^2 by a
    few ulps of 1 + y^2 (TF float32, seed 1: d/dW_1 2.95x, d/db_1 1.48x a bound from one
    sample of that rounding), and the sums over nodes cancel."""
    if kwargs.get("activation", "tanh") != "tanh":
        raise ValueError("the textbook covers the tanh stacks the specs draw")
    value = _Stack(args, kwargs, np.asarray(args[0]).dtype)
    mag = _Stack.magnitudes(args, kwargs)
    if mode == "vjp":
        return [Summed(v, m) for v, m in zip(value.vjp(seeds[0]), mag.vjp(seeds[0]))]
    return [Summed(v, m) for v, m in zip(value.jvp(seeds[0], seeds[1], seeds[2:]),
                                         mag.jvp(seeds[0], seeds[1], seeds[2:]))]
