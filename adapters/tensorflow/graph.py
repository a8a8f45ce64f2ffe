"""TensorFlow mappings of the ``graph`` family, composed from ``tf.math.unsorted_segment_*``,
``tf.gather``, ``tf.tensor_scatter_nd_add`` and ``tf.linalg.eigh`` (docs/conventions/graph.md).

TensorFlow and Keras 3 have no graph layers. tensorflow-gnn (1.0.3, the GNN library of
TensorFlow) fails to import under Keras 3 (tensorflow/gnn#874: it needs tf-keras and
TF_USE_LEGACY_KERAS=1, which switches the whole process to Keras 2) and has no ChebConv or
GIN anyway, so everything here is composed. The structure follows adapters/jax/graph.py:
self loops masked by weight or by a -inf logit, never filtered, so every shape is static.
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import tf
from adapters.tensorflow._params import NAME

SUM = "tensorflow.math.unsorted_segment_sum"
MAX = "tensorflow.math.unsorted_segment_max"
SCATTER = "tensorflow.tensor_scatter_nd_add"
# the Laplacian: out-degrees by unsorted_segment_sum, the off-diagonal scattered in
LAP = (SUM, SCATTER)
P_SEG = NAME
P_LAP = {**NAME, "bad_indices_policy": "fixed: '' (default: an error on CPU, ignored on "
         "GPU); indices are in range by construction"}
NO_TFGNN = {"tensorflow_gnn": "not covered: tensorflow-gnn 1.0.3 raises ImportError under "
            "Keras 3 (tensorflow/gnn#874), and has no ChebConv or GIN; composed instead"}
EIGH = "tensorflow.linalg.eigh"


def _sum(data: Any, ids: Any, n: int) -> Any:
    return tf.math.unsorted_segment_sum(data, ids, n)


def _count(ids: Any, n: int, dtype: Any) -> Any:
    return _sum(tf.ones(tf.shape(ids), dtype), ids, n)


def _max0(data: Any, ids: Any, n: int) -> Any:
    """Segment max, 0 for an empty segment (TF fills it with the dtype's lowest value)."""
    m = tf.math.unsorted_segment_max(data, ids, n)
    cnt = _count(ids, n, data.dtype)
    cnt = tf.reshape(cnt, [n] + [1] * (len(data.shape) - 1))
    return tf.where(cnt > 0, m, tf.zeros_like(m))


def _weights(edge_weight: Any, e: int, like: Any) -> Any:
    return tf.ones([e], like.dtype) if edge_weight is None else edge_weight


def _safe_inv(d: Any, power: float) -> Any:
    pos = d > 0
    safe = tf.where(pos, d, tf.ones_like(d))
    return tf.where(pos, safe ** -power, tf.zeros_like(d))


def _linear(x: Any, w: Any, b: Any = None) -> Any:
    y = tf.matmul(x, w, transpose_b=True)
    return y if b is None else y + b


def _laplacian(edge_index: Any, w: Any, n: int, normalization: str | None,
               isolated: str = "one") -> Any:
    src, dst = edge_index[0], edge_index[1]
    wn = tf.where(src != dst, w, tf.zeros_like(w))
    deg = _sum(wn, src, n)
    if normalization is None:
        off, diag = wn, deg
    elif normalization in ("sym", "rw"):
        if normalization == "sym":
            s = _safe_inv(deg, 0.5)
            off = tf.gather(s, src) * wn * tf.gather(s, dst)
        else:
            off = tf.gather(_safe_inv(deg, 1.0), src) * wn
        diag = tf.ones_like(deg) if isolated == "one" else tf.cast(deg > 0, deg.dtype)
    else:
        raise ValueError(f"unknown normalization {normalization!r}")
    idx = tf.stack([src, dst], axis=1)
    return tf.tensor_scatter_nd_add(tf.linalg.diag(diag), idx, -off)


def _spectrum(edge_index: Any, w: Any, n: int, normalization: str | None,
              isolated: str) -> tuple[Any, Any]:
    lap = _laplacian(edge_index, w, n, normalization, isolated)
    return tf.linalg.eigh(0.5 * (lap + tf.transpose(lap)))


def _columns(x: Any) -> Any:
    return x[:, None] if len(x.shape) == 1 else x


def _response(lam: Any, kernel: str, t: float) -> Any:
    return {"heat": lambda: tf.exp(-t * lam), "rational": lambda: 1 / (1 + t * lam),
            "cosine": lambda: tf.cos(t * lam)}[kernel]()


def _propagate(h: Any, src: Any, dst: Any, coef: Any, n: int) -> Any:
    return _sum(coef[:, None] * tf.gather(h, src), dst, n)


def gcn(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, self_loops: str = "add",
        improved: bool = False) -> Any:
    n = x.shape[0]
    src, dst = edge_index[0], edge_index[1]
    wt = _weights(edge_weight, src.shape[0], x)
    fill = tf.fill([n], tf.constant(2.0 if improved else 1.0, x.dtype))
    if self_loops == "remaining":
        is_loop = src == dst
        has = _sum(tf.cast(is_loop, x.dtype), src, n) > 0
        fill = tf.where(has, _sum(tf.where(is_loop, wt, tf.zeros_like(wt)), src, n), fill)
        wt = tf.where(is_loop, tf.zeros_like(wt), wt)
    elif self_loops != "add":
        raise ValueError(f"unknown self_loops {self_loops!r}")
    loops = tf.range(n, dtype=src.dtype)
    s2, d2, w2 = tf.concat([src, loops], 0), tf.concat([dst, loops], 0), tf.concat([wt, fill], 0)
    s = _safe_inv(_sum(w2, d2, n), 0.5)
    out = _propagate(_linear(x, w), s2, d2, tf.gather(s, s2) * w2 * tf.gather(s, d2), n)
    return out if b is None else out + b


def _lstm(seq: Any, steps: Any, w_ih: Any, w_hh: Any, b: Any) -> Any:
    """Steps past the largest ``steps`` change nothing: eagerly the loop stops there (the
    value is known), under tf.function it runs all E steps (the static bound)."""
    n, hid = seq.shape[0], w_hh.shape[1]
    h = c = tf.zeros([n, hid], seq.dtype)
    length = int(tf.reduce_max(steps)) if tf.executing_eagerly() else seq.shape[1]
    for t in range(length):
        z = _linear(seq[:, t], w_ih, b) + _linear(h, w_hh)
        i, f, g, o = (z[:, k * hid:(k + 1) * hid] for k in range(4))
        c2 = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h2 = tf.sigmoid(o) * tf.tanh(c2)
        on = (t < steps)[:, None]
        h, c = tf.where(on, h2, h), tf.where(on, c2, c)
    return h


def knn_edges(points: Any, k: int, dilation: int, self_loops: bool) -> tuple[Any, Any]:
    """The oracle's dilated k-NN graph: exact float64 squared distances, stable argsort."""
    p = tf.cast(tf.stop_gradient(points), tf.float64)
    d2 = tf.reduce_sum((p[:, None, :] - p[None, :, :]) ** 2, axis=-1)
    n = p.shape[0]
    if not self_loops:
        d2 = tf.where(tf.eye(n, dtype=tf.bool), tf.constant(float("inf"), tf.float64), d2)
    order = tf.argsort(d2, axis=1, stable=True)[:, :k * dilation:dilation]
    return tf.reshape(order, [-1]), tf.repeat(tf.range(n), k)


class GraphOps:
    @implements("graph.laplacian", composed=True, native=LAP, params=P_LAP)
    def graph_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int) -> Any:
        return _laplacian(edge_index, edge_weight, num_nodes, None)

    @implements("graph.normalized_laplacian", composed=True, native=LAP, params=P_LAP)
    def graph_normalized_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int,
                                   normalization: str = "sym", isolated: str = "one") -> Any:
        return _laplacian(edge_index, edge_weight, num_nodes, normalization, isolated)

    @implements("graph.dirichlet_energy", composed=True, native=LAP, params=P_LAP)
    def graph_dirichlet_energy(self, x: Any, edge_index: Any, edge_weight: Any, *,
                               form: str = "pairwise") -> Any:
        if form == "pairwise":
            diff = tf.gather(x, edge_index[0]) - tf.gather(x, edge_index[1])
            w = edge_weight if len(x.shape) == 1 else edge_weight[:, None]
            return 0.5 * tf.reduce_sum(w * diff * diff, axis=0)
        lap = _laplacian(edge_index, edge_weight, x.shape[0], None)
        return tf.reduce_sum(x * tf.matmul(lap, x), axis=0)

    @implements("graph.fourier/distinct", composed=True, native=(EIGH, *LAP), params=P_LAP)
    @implements("graph.fourier/repeated", composed=True, native=(EIGH, *LAP), params=P_LAP)
    def graph_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                 clusters: Any = None, *, normalization: str | None = None,
                                 isolated: str = "one") -> Any:
        xc = _columns(x)
        n = xc.shape[0]
        lam, u = _spectrum(edge_index, edge_weight, n, normalization, isolated)
        x_hat = tf.matmul(u, xc, transpose_a=True)
        ids = tf.range(n) if clusters is None else clusters
        proj = tf.gather(_sum(tf.transpose(u)[:, :, None] * x_hat[:, None, :], ids, n), ids)
        return lam, tf.matmul(u * lam, u, transpose_b=True), proj, tf.matmul(u, x_hat)

    @implements("graph.inverse_fourier/distinct", composed=True, native=(EIGH, *LAP),
                params=P_LAP)
    @implements("graph.inverse_fourier/repeated", composed=True, native=(EIGH, *LAP),
                params=P_LAP)
    def graph_inverse_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                         c: Any, clusters: Any = None, *,
                                         normalization: str | None = None,
                                         isolated: str = "one") -> Any:
        xc = _columns(x)
        lam, u = _spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
        x_hat = tf.matmul(u, xc, transpose_a=True)
        per = c if clusters is None else tf.gather(c, clusters)
        return tf.matmul(u, per[:, None] * x_hat), tf.matmul(u, x_hat)

    @implements("graph.spectral_filter", composed=True, native=(EIGH, *LAP), params=P_LAP)
    def graph_spectral_filter(self, x: Any, edge_index: Any, edge_weight: Any, *,
                              kernel: str = "heat", t: float = 1.0,
                              normalization: str | None = None, isolated: str = "one") -> Any:
        xc = _columns(x)
        lam, u = _spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
        g = _response(lam, kernel, t)[:, None]
        y = tf.matmul(u, g * tf.matmul(u, xc, transpose_a=True))
        return y[:, 0] if len(x.shape) == 1 else y

    @implements("graph.chebyshev", composed=True, native=LAP, params={**P_LAP, **NO_TFGNN})
    def graph_chebyshev(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, *,
                        lambda_max: float, normalization: str | None = "sym",
                        isolated: str = "one") -> Any:
        n = x.shape[0]
        lap = _laplacian(edge_index, edge_weight, n, normalization, isolated)
        op = (2.0 / lambda_max) * tf.transpose(lap) - tf.eye(n, dtype=x.dtype)
        terms = [x] + ([tf.matmul(op, x)] if w.shape[0] > 1 else [])
        for _ in range(2, w.shape[0]):
            terms.append(2.0 * tf.matmul(op, terms[-1]) - terms[-2])
        out = _linear(terms[0], w[0])
        for k in range(1, w.shape[0]):
            out = out + _linear(terms[k], w[k])
        return out if b is None else out + b

    @implements("graph.gcn", composed=True, native=SUM, params={**P_SEG, **NO_TFGNN})
    def graph_gcn(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
                  self_loops: str = "add", improved: bool = False) -> Any:
        return gcn(x, edge_index, edge_weight, w, b, self_loops, improved)

    @implements("graph.aggregate", composed=True, native=(SUM, MAX, "tensorflow.scatter_nd"),
                params={**P_LAP, **NO_TFGNN})
    def graph_aggregate(self, x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any,
                        *params: Any, aggr: str = "mean", lstm_padding: str = "none") -> Any:
        n = x.shape[0]
        src, dst = edge_index[0], edge_index[1]
        deg = _count(dst, n, tf.int32)
        if aggr in ("sum", "mean"):
            agg = _sum(tf.gather(x, src), dst, n)
            if aggr == "mean":
                agg = agg / tf.cast(tf.maximum(deg, 1), x.dtype)[:, None]
        elif aggr == "max_pool":
            agg = _max0(tf.gather(tf.nn.relu(_linear(x, params[0], params[1])), src), dst, n)
        elif aggr == "lstm":
            e = src.shape[0]
            onehot = tf.cast(dst[:, None] == tf.range(n, dtype=dst.dtype)[None, :], tf.int32)
            rank = tf.gather(tf.cumsum(onehot, axis=0), dst, axis=1, batch_dims=1) - 1
            idx = tf.stack([dst, tf.cast(rank, dst.dtype)], axis=1)
            seq = tf.scatter_nd(idx, tf.gather(x, src), [n, e, x.shape[1]])
            steps = deg if lstm_padding == "none" else tf.fill([n], tf.reduce_max(deg))
            agg = _lstm(seq, steps, *params)
        else:
            raise ValueError(f"unknown aggr {aggr!r}")
        return _linear(agg, w_l, b_l) + _linear(x, w_r)

    @implements("graph.gat", composed=True, native=(SUM, MAX), params={**P_SEG, **NO_TFGNN})
    def graph_gat(self, x: Any, edge_index: Any, w: Any, att_src: Any, att_dst: Any,
                  b: Any = None, *, concat: bool = True, negative_slope: float = 0.2) -> Any:
        n = x.shape[0]
        heads, ch = att_src.shape
        loops = tf.range(n, dtype=edge_index.dtype)
        src = tf.concat([edge_index[0], loops], 0)
        dst = tf.concat([edge_index[1], loops], 0)
        keep = tf.concat([edge_index[0] != edge_index[1], tf.ones([n], tf.bool)], 0)[:, None]
        h = tf.reshape(_linear(x, w), [n, heads, ch])
        e = tf.gather(tf.reduce_sum(h * att_src, -1), src) + tf.gather(
            tf.reduce_sum(h * att_dst, -1), dst)
        e = tf.nn.leaky_relu(e, alpha=negative_slope)
        e = tf.where(keep, e, tf.zeros_like(e))
        top = tf.stop_gradient(tf.math.unsorted_segment_max(
            tf.where(keep, e, tf.fill(tf.shape(e), tf.constant(-float("inf"), e.dtype))), dst, n))
        ex = tf.where(keep, tf.exp(e - tf.gather(top, dst)), tf.zeros_like(e))
        alpha = ex / tf.gather(_sum(ex, dst, n), dst)
        out = _sum(alpha[:, :, None] * tf.gather(h, src), dst, n)
        out = tf.reshape(out, [n, heads * ch]) if concat else tf.reduce_mean(out, axis=1)
        return out if b is None else out + b

    @implements("graph.gin", composed=True, native=SUM, params={**P_SEG, **NO_TFGNN})
    def graph_gin(self, x: Any, edge_index: Any, w1: Any, b1: Any, w2: Any, b2: Any, *,
                  eps: float = 0.0) -> Any:
        z = _sum(tf.gather(x, edge_index[0]), edge_index[1], x.shape[0]) + (1.0 + eps) * x
        return _linear(tf.nn.relu(_linear(z, w1, b1)), w2, b2)

    def _transition(self, x: Any, edge_index: Any, edge_weight: Any) -> Any:
        w = _weights(edge_weight, edge_index.shape[1], x)
        return w * tf.gather(_safe_inv(_sum(w, edge_index[1], x.shape[0]), 1.0), edge_index[1])

    @implements("graph.diffusion/dcnn", composed=True, native=SUM, params=P_SEG)
    def graph_diffusion_dcnn(self, x: Any, edge_index: Any, edge_weight: Any, *,
                             mode: str = "dcnn", hops: int = 2) -> Any:
        coef = self._transition(x, edge_index, edge_weight)
        powers, h = [], x
        for _ in range(hops):
            h = _propagate(h, edge_index[0], edge_index[1], coef, x.shape[0])
            powers.append(h)
        return tf.stack(powers, axis=1)

    @implements("graph.diffusion/dgc", composed=True, native=SUM, params=P_SEG)
    def graph_diffusion_dgc(self, x: Any, edge_index: Any, edge_weight: Any, w: Any,
                            b: Any = None, *, mode: str = "dgc", hops: int = 2) -> Any:
        coef = self._transition(x, edge_index, edge_weight)
        out, h = _linear(x, w[0]), x
        for k in range(1, hops + 1):
            h = _propagate(h, edge_index[0], edge_index[1], coef, x.shape[0])
            out = out + _linear(h, w[k])
        return out if b is None else out + b

    @implements("graph.monet", composed=True, native=SUM, params=P_SEG)
    def graph_monet(self, x: Any, edge_index: Any, pseudo: Any, g: Any, mu: Any, sigma: Any,
                    root: Any = None, b: Any = None, *, aggr: str = "sum",
                    sigma_eps: float = 0.0) -> Any:
        n = x.shape[0]
        src, dst = edge_index[0], edge_index[1]
        d = pseudo[:, None, :] - mu[None, :, :]
        kern = tf.exp(-0.5 * tf.reduce_sum(d * d / (sigma * sigma + sigma_eps)[None], axis=-1))
        msg = tf.gather(_linear(x, g[0]), src) * kern[:, 0:1]
        for k in range(1, g.shape[0]):
            msg = msg + tf.gather(_linear(x, g[k]), src) * kern[:, k:k + 1]
        out = _sum(msg, dst, n)
        if aggr == "mean":
            out = out / tf.maximum(_count(dst, n, x.dtype), 1)[:, None]
        if root is not None:
            out = out + _linear(x, root)
        return out if b is None else out + b

    @implements("graph.readout", composed=True, native=(SUM, MAX), params=P_SEG)
    def graph_readout(self, x: Any, batch: Any, *, num_graphs: int, reduce: str = "sum") -> Any:
        if reduce == "max":
            return _max0(x, batch, num_graphs)
        total = _sum(x, batch, num_graphs)
        if reduce == "sum":
            return total
        return total / tf.maximum(_count(batch, num_graphs, x.dtype), 1)[:, None]

    @implements("graph.edge_conv", composed=True, native=(MAX, "tensorflow.argsort"), params={
        **P_SEG, "axis": "fixed: 1, neighbours per row", "direction": "fixed: 'ASCENDING', the "
        "nearest first", "stable": "fixed: True, ties by the lower index (the oracle's "
        "convention)"})
    def graph_edge_conv(self, x: Any, pos: Any, w: Any, b: Any, *, k: int, dilation: int = 1,
                        self_loops: bool = False) -> Any:
        src, dst = knn_edges(x if pos is None else pos, k, dilation, self_loops)
        xt = tf.gather(x, dst)
        msg = tf.nn.relu(_linear(tf.concat([xt, tf.gather(x, src) - xt], -1), w, b))
        return tf.math.unsorted_segment_max(msg, dst, x.shape[0])

    @implements("graph.residual_dense", composed=True, native=SUM, params=P_SEG)
    def graph_residual_dense(self, x: Any, edge_index: Any, edge_weight: Any, *params: Any,
                             block: str = "res", activation: str = "tanh") -> Any:
        act = {"tanh": tf.tanh, "relu": tf.nn.relu, "identity": lambda z: z}[activation]
        h = x
        for i in range(0, len(params), 2):
            w, b = params[i], params[i + 1]
            if block == "res+":
                h = h + gcn(act(h), edge_index, edge_weight, w, b)
                continue
            f = act(gcn(h, edge_index, edge_weight, w, b))
            h = h + f if block == "res" else tf.concat([h, f], axis=-1)
        return h
