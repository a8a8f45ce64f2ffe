"""Message-passing layers (notes 004, "Spatial-based GNN"): GCN, the GraphSAGE
aggregators, GAT, GIN, diffusion (DCNN, DGC) and MoNet.

Graph representation: ``oracle/graph/_base.py`` (messages flow source -> target; the
neighbours of a node are the sources of the edges into it, a multiset in edge order).
Weights are (out, in) as torch's Linear and the oracle's ``nn.dense``; biases (out,) or None.
Every layer returns its pre-activation output (g = identity): activations are the ``act``
family's; only activations inside a layer (SAGE's pooling MLP, GIN's MLP) are part of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon
from oracle.activations import leaky_relu, relu, sigmoid
from oracle.graph import _base as G


def _propagate(h: Any, src: np.ndarray, dst: np.ndarray, coef: Any, n: int) -> Any:
    """out_t = sum over edges s -> t of coef_e h_s."""
    return G.scatter_sum(coef[:, None] * h[src], dst, n)


def gcn(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
        self_loops: str = "add", improved: bool = False) -> Any:
    """GCN with the renormalization trick: H' = D~^-1/2 A~ D~^-1/2 H W^T + b, messages
    summed into targets: out_t = sum_{s->t} w~_st (d~_s d~_t)^-1/2 (H W^T)_s + b.

    A~ = A + f I with f = 1 (f = 2 with ``improved``); ``self_loops="add"`` adds f to every
    node's loop (existing loops stay: the notes' A + I), ``"remaining"`` keeps a node's existing
    loop weight and gives f only to nodes without one (PyG's ``add_remaining_self_loops``; a
    node with two loops is rejected: PyG's choice between them is unspecified). d~ are the
    in-degrees of A~ (target side, PyG's ``gcn_norm``); d~ = 0 gives 0.
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst = G.check_edges(edge_index, n)
    wt = G.weights(edge_weight, src.size)
    fill = _canon.asarray(np.full(n, 2.0 if improved else 1.0))
    loops = np.arange(n)
    if self_loops == "add":
        s2, d2, w2 = src, dst, wt
    elif self_loops == "remaining":
        is_loop = src == dst
        where = src[is_loop]
        if np.unique(where).size != where.size:
            raise ValueError("self_loops='remaining' with two loops at one node is undefined")
        keep = ~is_loop
        s2, d2, w2 = src[keep], dst[keep], wt[keep]
        fill = _canon.zeros(n, like=wt) + fill
        fill[where] = wt[np.flatnonzero(is_loop)]
    else:
        raise ValueError(f"self_loops must be 'add' or 'remaining', got {self_loops!r}")
    s2 = np.concatenate([s2, loops])
    d2 = np.concatenate([d2, loops])
    w2 = np.concatenate([w2, fill])
    s = G.inv_sqrt(G.in_degree(d2, w2, n))
    coef = s[s2] * w2 * s[d2]
    out = _propagate(G.linear(x, w), s2, d2, coef, n)
    return out if b is None else out + _canon.asarray(b)


# --------------------------------------------------------------------------- GraphSAGE


def _lstm_over(seq: Any, steps: np.ndarray, w_ih: Any, w_hh: Any, b: Any) -> Any:
    """h after ``steps[i]`` steps of an LSTM over seq[i] (N, T, F), from h = c = 0.
    Gates in torch's order (i, f, g, o): z = x W_ih^T + h W_hh^T + b, c = f c + i g,
    h = o tanh(c)."""
    n, t_max = seq.shape[0], seq.shape[1]
    hid = _canon.asarray(w_hh).shape[1]
    h = _canon.zeros((n, hid), like=(seq, w_ih, w_hh, b))
    c = _canon.zeros((n, hid), like=(seq, w_ih, w_hh, b))
    for t in range(t_max):
        z = G.linear(seq[:, t], w_ih, b) + G.linear(h, w_hh)
        i, f, g, o = (z[:, k * hid:(k + 1) * hid] for k in range(4))
        c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h_new = sigmoid(o) * np.tanh(c_new)
        active = (steps > t)[:, None]
        c = np.where(active, c_new, c)
        h = np.where(active, h_new, h)
    return h


def _neighbour_sequences(x: Any, src: np.ndarray, dst: np.ndarray, n: int,
                         length: int) -> Any:
    """(N, length, F): the features of each node's neighbours in edge order, zero-padded."""
    seq = _canon.zeros((n, length, x.shape[1]), like=x)
    for t in range(n):
        nb = src[dst == t]
        if nb.size:
            seq[t, :nb.size] = x[nb]
    return seq


def aggregate(x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any, *params: Any,
              aggr: str = "mean", lstm_padding: str = "none") -> Any:
    """A GraphSAGE layer: h'_t = agg_t W_l^T + b_l + h_t W_r^T, agg_t over t's neighbours.

    ``aggr``: "sum" (NN4G), "mean" (GraphSAGE-mean, DCNN's averaging), "max_pool"
    (GraphSAGE-pool: elementwise max over neighbours of relu(h_s W_p^T + b_p), params
    (W_p (F, F), b_p (F,))), "lstm" (GraphSAGE-LSTM over the neighbours in edge order, params
    (W_ih (4H, F), W_hh (4H, H), b (4H,)), gates i, f, g, o; agg = the last h). A node
    without neighbours aggregates 0 (sum, mean, max: PyG's convention). ``lstm_padding``:
    "none" runs each node's own neighbours (none: h = 0); "max_degree" pads every sequence
    with zero vectors to the largest in-degree and runs them all that long (PyG's
    LSTMAggregation: ``to_dense_batch`` then the last output).
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst = G.check_edges(edge_index, n)
    deg = G.counts(dst, n)
    if aggr in ("sum", "mean"):
        if params:
            raise ValueError(f"aggr={aggr!r} takes no extra parameters")
        agg = G.scatter_sum(x[src], dst, n)
        if aggr == "mean":
            cnt = _canon.asarray(np.maximum(deg, 1).astype(np.float64))
            agg = agg / cnt[:, None]
    elif aggr == "max_pool":
        w_p, b_p = params
        agg = G.scatter_max(relu(G.linear(x, w_p, b_p))[src], dst, n)
    elif aggr == "lstm":
        w_ih, w_hh, b = params
        length = int(deg.max(initial=0))
        seq = _neighbour_sequences(x, src, dst, n, length)
        if lstm_padding == "none":
            steps = deg
        elif lstm_padding == "max_degree":
            steps = np.full(n, length)
        else:
            raise ValueError(f"lstm_padding must be 'none' or 'max_degree', got {lstm_padding!r}")
        agg = _lstm_over(seq, steps, w_ih, w_hh, b)
    else:
        raise ValueError(f"unknown aggr {aggr!r}")
    return G.linear(agg, w_l, b_l) + G.linear(x, w_r)


# --------------------------------------------------------------------------- GAT


def gat(x: Any, edge_index: Any, w: Any, att_src: Any, att_dst: Any, b: Any = None, *,
        concat: bool = True, negative_slope: float = 0.2) -> Any:
    """Graph attention: with h = x W^T split into H heads of C channels,
    e_st = LeakyReLU(a_dst . h_t + a_src . h_s), alpha_st = softmax of e over the edges into
    t, h'_t = sum_s alpha_st h_s; heads concatenated (N, H C) or averaged (N, C); + b.

    w (H C, F_in), att_src and att_dst (H, C). The neighbourhood is N(t) and t itself: existing
    self loops are replaced by one loop per node (PyG GATConv's ``add_self_loops=True``);
    multi-edges are separate terms of the softmax. The softmax subtracts each target's max
    of e, a constant that leaves it and its derivative unchanged.
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    att_src, att_dst = _canon.asarray(att_src), _canon.asarray(att_dst)
    heads, ch = att_src.shape
    src, dst = G.check_edges(edge_index, n)
    keep = src != dst
    loops = np.arange(n)
    src = np.concatenate([src[keep], loops])
    dst = np.concatenate([dst[keep], loops])
    h = G.linear(x, w).reshape(n, heads, ch)
    a_s = np.sum(h * att_src, axis=-1)
    a_d = np.sum(h * att_dst, axis=-1)
    e = leaky_relu(a_s[src] + a_d[dst], slope=negative_slope)
    top = np.full((n, heads), -np.inf)
    np.maximum.at(top, dst, _canon.primal(e).astype(np.float64))
    ex = np.exp(e - _canon.asarray(top)[dst])
    den = G.scatter_sum(ex, dst, n)
    alpha = ex / den[dst]
    out = G.scatter_sum(alpha[:, :, None] * h[src], dst, n)
    out = out.reshape(n, heads * ch) if concat else np.mean(out, axis=1)
    return out if b is None else out + _canon.asarray(b)


# --------------------------------------------------------------------------- GIN


def gin(x: Any, edge_index: Any, w1: Any, b1: Any, w2: Any, b2: Any, *,
        eps: float = 0.0) -> Any:
    """GIN: h'_t = MLP(sum_{s->t} h_s + (1 + eps) h_t), MLP = Linear, ReLU, Linear
    (ReLU'(0) = 0). eps is a fixed hyper-parameter (PyG's default ``train_eps=False``)."""
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst = G.check_edges(edge_index, n)
    z = G.scatter_sum(x[src], dst, n) + _canon.scalar(1.0 + eps) * x
    return G.linear(relu(G.linear(z, w1, b1)), w2, b2)


# --------------------------------------------------------------------------- diffusion


def transition(edge_index: Any, edge_weight: Any, n: int) -> tuple[Any, ...]:
    """(src, dst, coef) of P = D^-1 A as messages: (P h)_t = sum_{s->t} w_st h_s / d_t with
    d_t the in-degree (0 where d_t = 0); every edge counts, self loops included."""
    src, dst = G.check_edges(edge_index, n)
    w = G.weights(edge_weight, src.size)
    return src, dst, w * G.inv(G.in_degree(dst, w, n))[dst]


def diffusion(x: Any, edge_index: Any, edge_weight: Any = None, w: Any = None, b: Any = None, *,
              mode: str = "dcnn", hops: int = 2) -> Any:
    """Diffusion on the random-walk transition P = D^-1 A (``transition``).

    ``mode="dcnn"``: the DCNN features P^k X for k = 1..hops, stacked (N, hops, F) (the
    catalog's form; DCNN's learned elementwise weights are not part of it).
    ``mode="dgc"``: sum_{k=0..hops} P^k X W_k^T + b, w (hops + 1, F_out, F_in) (DGC; PyG's
    TAGConv with ``normalize=False`` and edge weights w / d_target).
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst, coef = transition(edge_index, edge_weight, n)
    powers = [x]
    for _ in range(hops):
        powers.append(_propagate(powers[-1], src, dst, coef, n))
    if mode == "dcnn":
        if w is not None or b is not None:
            raise ValueError("mode='dcnn' takes no weights")
        return np.stack(powers[1:], axis=1)
    if mode != "dgc":
        raise ValueError(f"mode must be 'dcnn' or 'dgc', got {mode!r}")
    w = _canon.asarray(w)
    if w.shape[0] != hops + 1:
        raise ValueError(f"w must hold hops + 1 = {hops + 1} weights, got {w.shape}")
    out = G.linear(powers[0], w[0])
    for k in range(1, hops + 1):
        out = out + G.linear(powers[k], w[k])
    return out if b is None else out + _canon.asarray(b)


# --------------------------------------------------------------------------- MoNet


def gaussian_weights(pseudo: Any, mu: Any, sigma: Any, *, sigma_eps: float = 0.0) -> Any:
    """w_ek = exp(-1/2 sum_d (u_ed - mu_kd)^2 / (sigma_eps + sigma_kd^2)) (E, K): diagonal
    Gaussians on the pseudo-coordinates u (E, D). PyG's GMMConv has sigma_eps = 1e-15."""
    u = _canon.asarray(pseudo)
    mu, sigma = _canon.asarray(mu), _canon.asarray(sigma)
    d = u[:, None, :] - mu[None, :, :]
    var = sigma * sigma
    if sigma_eps:
        var = var + _canon.scalar(sigma_eps)
    return np.exp(_canon.scalar(-0.5) * np.sum(d * d / var[None], axis=-1))


def monet(x: Any, edge_index: Any, pseudo: Any, g: Any, mu: Any, sigma: Any, root: Any = None,
          b: Any = None, *, aggr: str = "sum", sigma_eps: float = 0.0) -> Any:
    """MoNet (GMMConv): h'_t = agg_{s->t} sum_k w_k(u_st) h_s G_k^T + h_t R^T + b.

    pseudo (E, D) pseudo-coordinates per edge, g (K, F_out, F_in) one weight per kernel,
    mu and sigma (K, D) (``gaussian_weights``), root R (F_out, F_in) or None, b or None.
    ``aggr``: "sum" (the MoNet paper's patch operator) or "mean" (PyG's default; 0 for a
    node without in-edges).
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst = G.check_edges(edge_index, n)
    g = _canon.asarray(g)
    kern = gaussian_weights(pseudo, mu, sigma, sigma_eps=sigma_eps)
    per_kernel = [G.linear(x, g[k]) for k in range(g.shape[0])]
    msg = per_kernel[0][src] * kern[:, 0:1]
    for k in range(1, g.shape[0]):
        msg = msg + per_kernel[k][src] * kern[:, k:k + 1]
    out = G.scatter_sum(msg, dst, n)
    if aggr == "mean":
        cnt = _canon.asarray(np.maximum(G.counts(dst, n), 1).astype(np.float64))
        out = out / cnt[:, None]
    elif aggr != "sum":
        raise ValueError(f"aggr must be 'sum' or 'mean', got {aggr!r}")
    if root is not None:
        out = out + G.linear(x, root)
    return out if b is None else out + _canon.asarray(b)
