"""Textbook derivative formulas of the ``graph`` family (registry.OpSpec.textbook).

The normalized Laplacians: frameworks differentiate w / d (rw) and d^-1/2 w d^-1/2 (sym) by
the product rule through the reciprocal (torch's 1.0 / deg, PyG's deg.pow(-0.5), the same in
the JAX and TensorFlow mappings): d(w / d) = dw / d - w dd / d^2, which cancels to rounding
noise where the normalized weight does not depend on w (a node with a single out-edge has
w / d = 1), while the oracle's dual quotient rule gives (dw - q dd) / d with q = 1 exactly.

The quadratic Dirichlet energy E = x^T L x, L = D - A: reverse mode through a dense or
sparse L (what a framework's autograd does with PyG's ``get_laplacian``, and with the
scatter-built L of the JAX and TensorFlow mappings) forms the cotangent of L as
G = sum_f v_f x_f x_f^T and then collects each edge's two entries, dE/dw_st = G_ss - G_st:
a difference of two sums of products that cancels for a smooth signal (x_s ~ x_t), while
the oracle's dual numbers form (dL x) first, where x_s - x_t is exact (Sterbenz). The formula
below, run in the tested dtype, is that legitimate naive error; d/dx = (L + L^T) x v is the
same in both. The pairwise form's derivatives (v (x_s - x_t)^2 / 2) have no cancellation and
no textbook.

Signature as conformance/textbook/losses.py: (mode, args, kwargs, outs, seeds) -> list.
"""

from __future__ import annotations

import numpy as np

from conformance.textbook import Summed
from oracle.graph import _base as G
from oracle.graph.spectral import dirichlet_energy as energy
from oracle.graph.spectral import laplacian


def dirichlet_energy(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (x, edge_index, edge_weight), grad_wrt (0, 2). A self loop's quadratic term
    G_ss - G_ss is exactly 0, as L ignores loops."""
    x, edge_index, w = args
    dt = np.asarray(x).dtype
    src, dst = G.check_edges(edge_index, x.shape[0])
    xs, xt = x[src], x[dst]
    quadratic = kwargs.get("form", "pairwise") == "quadratic"
    diff = (xs - xt).astype(dt)
    per_edge = (xs * diff).astype(dt) if quadratic else \
        (np.asarray(0.5, dt) * diff * diff).astype(dt)
    lap = laplacian(edge_index, w, num_nodes=x.shape[0]).astype(dt)
    if mode == "forward":  # the value (spec tagged FORWARD_TEXTBOOK)
        if not quadratic:  # a sum of squares, no cancellation: the oracle's own form
            return [np.asarray(energy(x, edge_index, w, form="pairwise")).astype(dt)]
        # x^T L x cancels for a smooth signal (torch float16, seed 25: 0.0065 for 0.0026,
        # 1.35x a bound a lucky NumPy order set): judged by its terms' magnitudes.
        ax, alap = np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(lap, np.float64))
        return [Summed(np.sum(x * (lap @ x).astype(dt), axis=0).astype(dt),
                       np.sum(ax * (alap @ ax), axis=0))]
    if mode == "vjp":
        (v,) = seeds
        if quadratic:
            gram = ((x * v).astype(dt) @ x.T).astype(dt)
            gx = ((lap + lap.T).astype(dt) @ x).astype(dt) * v
            # Both cancel for a smooth signal, each kernel adding its terms in its own order:
            # the bound's floor scales with the terms' magnitudes (Summed).
            ax, av = np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(v, np.float64))
            agram = (ax * av) @ ax.T
            alap = np.abs(np.asarray(lap, np.float64))
            return [Summed(gx, ((alap + alap.T) @ ax) * av),
                    Summed((gram[src, src] - gram[src, dst]).astype(dt),
                           agram[src, src] + agram[src, dst])]
        wd = (diff * w[:, None]).astype(dt)
        gx = np.zeros_like(x)
        np.add.at(gx, src, wd)
        np.add.at(gx, dst, -wd)
        return [(gx * v).astype(dt), (per_edge @ v).astype(dt)]
    ux, uw = seeds
    if quadratic:
        tx = np.sum(ux * (lap @ x).astype(dt), axis=0) + np.sum(x * (lap @ ux).astype(dt), axis=0)
        ax, aux = np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(ux, np.float64))
        alap = np.abs(np.asarray(lap, np.float64))
        mag = (np.sum(aux * (alap @ ax), axis=0) + np.sum(ax * (alap @ aux), axis=0)
               + np.abs(np.asarray(uw, np.float64)) @ np.abs(np.asarray(per_edge, np.float64)))
        return [Summed((tx.astype(dt) + (uw @ per_edge).astype(dt)).astype(dt), mag)]
    tx = np.sum((w[:, None] * diff * (ux[src] - ux[dst])).astype(dt), axis=0)
    return [(tx.astype(dt) + (uw @ per_edge).astype(dt)).astype(dt)]


def normalized_laplacian(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (edge_index, edge_weight), grad_wrt (1,): the product rule through the
    reciprocal (or d^-1/2) of the out-degree, in the tested dtype.

    Each derivative is a sum of terms that cancel where the normalized weight does not depend
    on w (w / w = 1): frameworks form d(1/d) as -(1/d)^2 (torch's reciprocal), -d^-2 (pow in
    JAX and TensorFlow) or d^-1.5 / 2 (PyG's pow_(-0.5)), in their own order, so the noise left
    is one sample of a rounding of the terms' size. Every output is ``Summed``: its floor
    scales with the magnitudes of the terms it adds."""
    edge_index, w = args
    dt = np.asarray(w).dtype
    n = kwargs["num_nodes"]
    src, dst = G.check_edges(edge_index, n)
    wn = np.where(src != dst, w, np.zeros_like(w))
    deg = np.zeros(n, dt)
    np.add.at(deg, src, wn)
    pos = deg > 0
    one = np.ones_like(deg)
    if kwargs.get("normalization", "sym") == "rw":
        inv = np.where(pos, (one / np.where(pos, deg, one)).astype(dt), 0 * one)
        dinv = (-(inv * inv)).astype(dt)  # d(1/d)/dd
        if mode == "jvp":
            (u,) = seeds
            du = np.where(src != dst, u, np.zeros_like(u))
            ddeg = np.zeros(n, dt)
            np.add.at(ddeg, src, du)
            t1, t2 = (du * inv[src]).astype(dt), (wn * (dinv[src] * ddeg[src]).astype(dt))
            mag = np.abs(t1) + np.abs(wn * dinv[src]) * _sum_abs(du, src, n)[src]
            return [Summed(_dense(-(t1 + t2).astype(dt), src, dst, n, dt),
                           _dense(mag, src, dst, n, np.float64))]
        g_off = -seeds[0][src, dst]
        g_deg = np.zeros(n, dt)
        np.add.at(g_deg, src, (g_off * wn).astype(dt))
        t1, t2 = (g_off * inv[src]).astype(dt), (g_deg * dinv)[src]
        mag = np.abs(t1) + (_sum_abs(g_off * wn, src, n) * np.abs(dinv))[src]
        g = (t1 + t2).astype(dt)
        keep = src != dst
        return [Summed(np.where(keep, g, np.zeros_like(g)), np.where(keep, mag, 0.0))]
    s = np.where(pos, (one / np.sqrt(np.where(pos, deg, one))).astype(dt), 0 * one)
    ds = (np.asarray(-0.5, dt) * s * s * s).astype(dt)  # d(d^-1/2)/dd
    if mode == "jvp":
        (u,) = seeds
        du = np.where(src != dst, u, np.zeros_like(u))
        ddeg = np.zeros(n, dt)
        np.add.at(ddeg, src, du)
        dss, dst_ = (ds * ddeg).astype(dt)[src], (ds * ddeg).astype(dt)[dst]
        terms = ((dss * wn).astype(dt) * s[dst], (s[src] * du).astype(dt) * s[dst],
                 (s[src] * wn).astype(dt) * dst_)
        absdeg = _sum_abs(du, src, n) * np.abs(ds)
        mag = (absdeg[src] * np.abs(wn * s[dst]) + np.abs(terms[1])
               + np.abs(s[src] * wn) * absdeg[dst])
        doff = (terms[0] + terms[1] + terms[2]).astype(dt)
        return [Summed(_dense(-doff, src, dst, n, dt), _dense(mag, src, dst, n, np.float64))]
    g_off = -seeds[0][src, dst]
    g_deg = np.zeros(n, dt)
    np.add.at(g_deg, src, (g_off * wn * s[dst]).astype(dt))
    np.add.at(g_deg, dst, (g_off * s[src] * wn).astype(dt))
    a_deg = _sum_abs(g_off * wn * s[dst], src, n) + _sum_abs(g_off * s[src] * wn, dst, n)
    t1 = (g_off * s[src] * s[dst]).astype(dt)
    g = (t1 + (g_deg * ds)[src]).astype(dt)
    mag = np.abs(t1) + (a_deg * np.abs(ds))[src]
    keep = src != dst
    return [Summed(np.where(keep, g, np.zeros_like(g)), np.where(keep, mag, 0.0))]


def _sum_abs(vals: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """sum of |vals| per slot of ``index``, in float64 (a magnitude, not a computed value)."""
    out = np.zeros(n, np.float64)
    np.add.at(out, index, np.abs(np.asarray(vals, np.float64)))
    return out


def _dense(vals: np.ndarray, src: np.ndarray, dst: np.ndarray, n: int, dt: np.dtype) -> np.ndarray:
    out = np.zeros((n, n), dt)
    np.add.at(out, (src, dst), vals)
    return out


def gat(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (x, edge_index, w, att_src, att_dst, b), grad_wrt (0, 2, 3, 4, 5).

    The derivative of the attention softmax as kernels form it: alpha_e (g_e - sum over the
    target's edges of alpha g) (reverse) and alpha_e (de_e - sum alpha de) (forward), a
    difference that cancels for a_dst, which shifts every logit into a node alike except
    for the slope of its LeakyReLU branch; the oracle's duals differentiate exp(e - m) / den
    by the quotient rule instead. Everything else is the plain chain rule, in the dtype."""
    x, edge_index, w, att_src, att_dst, b = args
    dt = np.asarray(x).dtype
    n = x.shape[0]
    heads, ch = att_src.shape
    slope = np.asarray(kwargs.get("negative_slope", 0.2), dt)
    concat = kwargs.get("concat", True)
    src0, dst0 = G.check_edges(edge_index, n)
    keep = src0 != dst0
    src = np.concatenate([src0[keep], np.arange(n)])
    dst = np.concatenate([dst0[keep], np.arange(n)])
    h = (x @ w.T).astype(dt).reshape(n, heads, ch)
    a_s = np.sum(h * att_src, axis=-1).astype(dt)
    a_d = np.sum(h * att_dst, axis=-1).astype(dt)
    pre = (a_s[src] + a_d[dst]).astype(dt)
    k = np.where(pre > 0, np.ones_like(pre), slope * np.ones_like(pre))
    e = (k * pre).astype(dt)
    top = np.full((n, heads), -np.inf, dt)
    np.maximum.at(top, dst, e)
    ex = np.exp(e - top[dst]).astype(dt)
    den = np.zeros((n, heads), dt)
    np.add.at(den, dst, ex)
    alpha = (ex / den[dst]).astype(dt)

    def seg(vals: np.ndarray, index: np.ndarray) -> np.ndarray:
        out = np.zeros((n,) + vals.shape[1:], dt)
        np.add.at(out, index, vals)
        return out

    if mode == "vjp":
        (g,) = seeds
        g_b = np.sum(g, axis=0).astype(dt)
        g_h_out = g.reshape(n, heads, ch) if concat else np.repeat(
            (g / np.asarray(heads, dt)).astype(dt)[:, None, :], heads, axis=1)
        g_alpha = np.sum(g_h_out[dst] * h[src], axis=-1).astype(dt)
        g_e = (alpha * (g_alpha - seg((alpha * g_alpha).astype(dt), dst)[dst])).astype(dt)
        g_pre = (g_e * k).astype(dt)
        g_as, g_ad = seg(g_pre, src), seg(g_pre, dst)
        g_h = seg((alpha[:, :, None] * g_h_out[dst]).astype(dt), src)
        g_h = (g_h + g_as[:, :, None] * att_src + g_ad[:, :, None] * att_dst).astype(dt)
        g_att_src = np.sum(g_as[:, :, None] * h, axis=0).astype(dt)
        g_att_dst = np.sum(g_ad[:, :, None] * h, axis=0).astype(dt)
        flat = g_h.reshape(n, heads * ch)
        return [(flat @ w).astype(dt), (flat.T @ x).astype(dt), g_att_src, g_att_dst, g_b]
    ux, uw, u_as, u_ad, ub = seeds
    dh = ((ux @ w.T).astype(dt) + (x @ uw.T).astype(dt)).reshape(n, heads, ch)
    da_s = (np.sum(dh * att_src, axis=-1) + np.sum(h * u_as, axis=-1)).astype(dt)
    da_d = (np.sum(dh * att_dst, axis=-1) + np.sum(h * u_ad, axis=-1)).astype(dt)
    de = (k * (da_s[src] + da_d[dst])).astype(dt)
    dalpha = (alpha * (de - seg((alpha * de).astype(dt), dst)[dst])).astype(dt)
    dout = seg((dalpha[:, :, None] * h[src] + alpha[:, :, None] * dh[src]).astype(dt), dst)
    dout = dout.reshape(n, heads * ch) if concat else np.mean(dout, axis=1).astype(dt)
    return [(dout + ub).astype(dt)]


def diffusion(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """Spec args (x, edge_index, edge_weight[, w, b]), grad_wrt (0, 2[, 3, 4]).

    The messages of P = D^-1 A are w_st / d_t, differentiated as kernels do, by the product
    rule through 1/d_t (dcoef = dw / d - w dd / d^2): where a node has a single in-edge,
    w / d = 1 and its derivative is rounding noise of two cancelling terms (the oracle's
    quotient rule gives exactly 0). The hops are the plain chain rule, in the dtype."""
    x, edge_index, w = args[:3]
    dt = np.asarray(x).dtype
    n, hops = x.shape[0], kwargs["hops"]
    dgc = kwargs.get("mode", "dcnn") == "dgc"
    src, dst = G.check_edges(edge_index, n)
    deg = np.zeros(n, dt)
    np.add.at(deg, dst, w)
    one = np.ones_like(deg)
    pos = deg > 0
    inv = np.where(pos, (one / np.where(pos, deg, one)).astype(dt), 0 * one)
    dinv = (-(inv * inv)).astype(dt)
    coef = (w * inv[dst]).astype(dt)

    def prop(h: np.ndarray, c: np.ndarray) -> np.ndarray:
        out = np.zeros_like(h)
        np.add.at(out, dst, (c[:, None] * h[src]).astype(dt))
        return out

    h = [x]
    for _ in range(hops):
        h.append(prop(h[-1], coef))
    if mode == "vjp":
        (g,) = seeds
        direct = [(g @ args[3][k]).astype(dt) for k in range(hops + 1)] if dgc else \
            [np.zeros_like(x)] + [g[:, k] for k in range(hops)]
        r = np.zeros_like(x)
        g_coef = np.zeros_like(w)
        for k in range(hops, 0, -1):
            r = (r + direct[k]).astype(dt)
            g_coef = (g_coef + np.sum(r[dst] * h[k - 1][src], axis=1)).astype(dt)
            back = np.zeros_like(x)
            np.add.at(back, src, (coef[:, None] * r[dst]).astype(dt))
            r = back
        g_x = (r + direct[0]).astype(dt)
        g_deg = np.zeros(n, dt)
        np.add.at(g_deg, dst, (g_coef * w).astype(dt))
        g_w = (g_coef * inv[dst] + (g_deg * dinv)[dst]).astype(dt)
        if not dgc:
            return [g_x, g_w]
        g_wk = np.stack([(g.T @ h[k]).astype(dt) for k in range(hops + 1)])
        return [g_x, g_w, g_wk, np.sum(g, axis=0).astype(dt)]
    ux, uw = seeds[:2]
    ddeg = np.zeros(n, dt)
    np.add.at(ddeg, dst, uw)
    dcoef = (uw * inv[dst] + w * (dinv * ddeg).astype(dt)[dst]).astype(dt)
    dh = [ux]
    for k in range(hops):
        dh.append((prop(h[k], dcoef) + prop(dh[k], coef)).astype(dt))
    if not dgc:
        return [np.stack(dh[1:], axis=1)]
    wk, uwk, ub = args[3], seeds[2], seeds[3]
    out = sum(((dh[k] @ wk[k].T).astype(dt) + (h[k] @ uwk[k].T).astype(dt)
               for k in range(hops + 1)), np.zeros((n, wk.shape[1]), dt))
    return [(out + ub).astype(dt)]
