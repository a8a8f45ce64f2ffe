"""JAX mappings of the ``graph`` family, composed from ``jax.ops.segment_sum`` /
``segment_max``, ``.at[]`` scatters and ``jnp.linalg.eigh`` (docs/conventions/graph.md).

JAX has no graph layers; jraph (0.0.6.dev0, a 2022 prerelease) offers GraphConvolution and a
generic GAT whose normalization and self-edge conventions differ from the catalog's (senders
normalized by out-degree, no self-edges, LeakyReLU after aggregation) and nothing for
Chebyshev, GIN, MoNet or EdgeConv: every layer here would be the same segment_sum
composition with jraph's GraphsTuple around it, so it is not used.

Every mapping is a jitted function (``_jitted``: one compilation per shape, dtype and
static hyper-parameters, floats traced), as JAX libraries ship their layers (jax.numpy's
own functions are jitted): called directly it runs compiled, and inside an outer jax.jit or
jax.vjp it is inlined. The edge list is a traced array: nothing is filtered by value
(shapes would depend on data). Self loops are masked out by weight
(Laplacians, GCN's "remaining" loops) or by a -inf attention logit (GAT) instead of being
removed; the LSTM aggregator scans over E steps (the largest possible in-degree) and
freezes each node's state after its last step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp, lax
from adapters.jax._params import AT_ADD, SCAN, SEGMENT
from adapters.jax._params import EIGH as EIGH_PARAMS

SUM = "jax.ops.segment_sum"
MAX = "jax.ops.segment_max"
AT = "jax.Array.at[].add"
EIGH = "jax.numpy.linalg.eigh"
# the Laplacian: out-degrees by segment_sum, the off-diagonal scattered by .at[].add
LAP = (SUM, AT)
P_LAP = {**SEGMENT, **AT_ADD}
P_SEG = SEGMENT
P_EIGH = {**SEGMENT, **AT_ADD, **EIGH_PARAMS, "symmetrize_input": "fixed: True (default); "
          "the matrix is already 0.5 (L + L^T)"}
NO_JRAPH = {"jraph": "not covered: jraph 0.0.6.dev0 (a 2022 prerelease) has GraphConvolution "
            "and GAT with other conventions and nothing more; the segment_sum composition is "
            "the same code"}

_ARGSORT = {"axis": "fixed: 1, neighbours per row", "kind": "fixed: None (deprecated)",
            "order": "fixed: None (structured arrays only)", "stable": "fixed: True, ties by "
            "the lower index (the oracle's convention)", "descending": "fixed: False, the "
            "nearest first", "dtype": "fixed: None, the default index dtype"}


def _jitted(method: Callable[..., Any]) -> Callable[..., Any]:
    """The mapping compiled by jax.jit once per adapter, static keywords (strings, ints,
    bools, None) and which positional arguments are None; float keywords (slopes, eps,
    lambda_max, t) are traced arguments, so one compilation serves every value drawn."""
    cache: dict[Any, Any] = {}

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        dynamic = {k: v for k, v in kwargs.items()
                   if not isinstance(v, (str, bool, int, tuple, type(None)))}
        static = {k: v for k, v in kwargs.items() if k not in dynamic}
        key = (id(self), tuple(sorted(static.items())), tuple(sorted(dynamic)),
               tuple(a is None for a in args))
        if key not in cache:
            cache[key] = jax.jit(lambda dyn, *a: method(self, *a, **static, **dyn))
        return cache[key](dynamic, *args)

    return run


def _sum(data: Any, ids: Any, n: int) -> Any:
    return jax.ops.segment_sum(data, ids, num_segments=n)


def _max0(data: Any, ids: Any, n: int) -> Any:
    """Segment max with 0 for an empty segment (the oracle's and PyG's convention)."""
    m = jax.ops.segment_max(data, ids, num_segments=n)
    count = _sum(jnp.ones(ids.shape, data.dtype), ids, n)
    shape = (n,) + (1,) * (data.ndim - 1)
    return jnp.where(count.reshape(shape) > 0, m, jnp.zeros_like(m))


def _weights(edge_weight: Any, e: int, like: Any) -> Any:
    return jnp.ones((e,), like.dtype) if edge_weight is None else edge_weight


def _safe_inv(d: Any, power: float) -> Any:
    pos = d > 0
    safe = jnp.where(pos, d, jnp.ones_like(d))
    return jnp.where(pos, safe ** -power, jnp.zeros_like(d))


def _linear(x: Any, w: Any, b: Any = None) -> Any:
    y = x @ w.T
    return y if b is None else y + b


def _laplacian(edge_index: Any, w: Any, n: int, normalization: str | None,
               isolated: str = "one") -> Any:
    """Dense L as the oracle: out-degrees, self loops weighted 0."""
    src, dst = edge_index[0], edge_index[1]
    wn = jnp.where(src != dst, w, jnp.zeros_like(w))
    deg = _sum(wn, src, n)
    if normalization is None:
        off, diag = wn, deg
    elif normalization in ("sym", "rw"):
        if normalization == "sym":
            s = _safe_inv(deg, 0.5)
            off = s[src] * wn * s[dst]
        else:
            off = _safe_inv(deg, 1.0)[src] * wn
        diag = jnp.ones_like(deg) if isolated == "one" else (deg > 0).astype(deg.dtype)
    else:
        raise ValueError(f"unknown normalization {normalization!r}")
    return jnp.zeros((n, n), w.dtype).at[src, dst].add(-off) + jnp.diag(diag)


def _spectrum(edge_index: Any, w: Any, n: int, normalization: str | None,
              isolated: str) -> tuple[Any, Any]:
    lap = _laplacian(edge_index, w, n, normalization, isolated)
    return jnp.linalg.eigh(0.5 * (lap + lap.T))


def _columns(x: Any) -> Any:
    return x[:, None] if x.ndim == 1 else x


def _response(lam: Any, kernel: str, t: Any) -> Any:
    return {"heat": lambda: jnp.exp(-t * lam), "rational": lambda: 1 / (1 + t * lam),
            "cosine": lambda: jnp.cos(t * lam)}[kernel]()


def _propagate(h: Any, src: Any, dst: Any, coef: Any, n: int) -> Any:
    return _sum(coef[:, None] * h[src], dst, n)


def gcn(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, self_loops: str = "add",
        improved: bool = False) -> Any:
    n = x.shape[0]
    src, dst = edge_index[0], edge_index[1]
    wt = _weights(edge_weight, src.shape[0], x)
    fill = jnp.full((n,), 2.0 if improved else 1.0, x.dtype)
    if self_loops == "remaining":
        is_loop = src == dst
        has = _sum(is_loop.astype(x.dtype), src, n) > 0
        fill = jnp.where(has, _sum(jnp.where(is_loop, wt, jnp.zeros_like(wt)), src, n), fill)
        wt = jnp.where(is_loop, jnp.zeros_like(wt), wt)
    elif self_loops != "add":
        raise ValueError(f"unknown self_loops {self_loops!r}")
    loops = jnp.arange(n)
    s2, d2, w2 = (jnp.concatenate([src, loops]), jnp.concatenate([dst, loops]),
                  jnp.concatenate([wt, fill]))
    s = _safe_inv(_sum(w2, d2, n), 0.5)
    out = _propagate(_linear(x, w), s2, d2, s[s2] * w2 * s[d2], n)
    return out if b is None else out + b


def _lstm(seq: Any, steps: Any, w_ih: Any, w_hh: Any, b: Any) -> Any:
    n, hid = seq.shape[0], w_hh.shape[1]

    def step(carry: Any, inp: Any) -> Any:
        h, c = carry
        xt, t = inp
        z = xt @ w_ih.T + h @ w_hh.T + b
        i, f, g, o = (z[:, k * hid:(k + 1) * hid] for k in range(4))
        c2 = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h2 = jax.nn.sigmoid(o) * jnp.tanh(c2)
        on = (t < steps)[:, None]
        return (jnp.where(on, h2, h), jnp.where(on, c2, c)), None

    zero = jnp.zeros((n, hid), seq.dtype)
    (h, _), _ = lax.scan(step, (zero, zero), (jnp.swapaxes(seq, 0, 1),
                                               jnp.arange(seq.shape[1])))
    return h


def knn_edges(points: Any, k: int, dilation: int, self_loops: bool) -> Any:
    """The oracle's dilated k-NN graph: exact float64 squared distances of the points,
    stable argsort (ties by the lower index), no derivative."""
    p = lax.stop_gradient(points).astype(jnp.float64)
    d2 = jnp.sum((p[:, None, :] - p[None, :, :]) ** 2, axis=-1)
    n = p.shape[0]
    if not self_loops:
        d2 = jnp.where(jnp.eye(n, dtype=bool), jnp.inf, d2)
    order = jnp.argsort(d2, axis=1, stable=True)[:, :k * dilation:dilation]
    return order.reshape(-1), jnp.repeat(jnp.arange(n), k)


class GraphOps:
    @implements("graph.laplacian", composed=True, native=LAP, params=P_LAP)
    @_jitted
    def graph_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int) -> Any:
        return _laplacian(edge_index, edge_weight, num_nodes, None)

    @implements("graph.normalized_laplacian", composed=True, native=LAP, params=P_LAP)
    @_jitted
    def graph_normalized_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int,
                                   normalization: str = "sym", isolated: str = "one") -> Any:
        return _laplacian(edge_index, edge_weight, num_nodes, normalization, isolated)

    @implements("graph.dirichlet_energy", composed=True, native=LAP, params=P_LAP)
    @_jitted
    def graph_dirichlet_energy(self, x: Any, edge_index: Any, edge_weight: Any, *,
                               form: str = "pairwise") -> Any:
        if form == "pairwise":
            diff = x[edge_index[0]] - x[edge_index[1]]
            w = edge_weight if x.ndim == 1 else edge_weight[:, None]
            return 0.5 * jnp.sum(w * diff * diff, axis=0)
        lap = _laplacian(edge_index, edge_weight, x.shape[0], None)
        return jnp.sum(x * (lap @ x), axis=0)

    @implements("graph.fourier/distinct", composed=True, native=(EIGH, *LAP), params=P_EIGH)
    @implements("graph.fourier/repeated", composed=True, native=(EIGH, *LAP), params=P_EIGH)
    @_jitted
    def graph_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                 clusters: Any = None, *, normalization: str | None = None,
                                 isolated: str = "one") -> Any:
        xc = _columns(x)
        n = xc.shape[0]
        lam, u = _spectrum(edge_index, edge_weight, n, normalization, isolated)
        x_hat = u.T @ xc
        ids = jnp.arange(n) if clusters is None else clusters
        proj = _sum(u.T[:, :, None] * x_hat[:, None, :], ids, n)[ids]  # term i: u_i x_hat_i
        return lam, (u * lam) @ u.T, proj, u @ x_hat

    @implements("graph.inverse_fourier/distinct", composed=True, native=(EIGH, *LAP),
                params=P_EIGH)
    @implements("graph.inverse_fourier/repeated", composed=True, native=(EIGH, *LAP),
                params=P_EIGH)
    @_jitted
    def graph_inverse_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                         c: Any, clusters: Any = None, *,
                                         normalization: str | None = None,
                                         isolated: str = "one") -> Any:
        xc = _columns(x)
        lam, u = _spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
        x_hat = u.T @ xc
        per = c if clusters is None else c[clusters]
        return u @ (per[:, None] * x_hat), u @ x_hat

    @implements("graph.spectral_filter", composed=True, native=(EIGH, *LAP), params=P_EIGH)
    @_jitted
    def graph_spectral_filter(self, x: Any, edge_index: Any, edge_weight: Any, *,
                              kernel: str = "heat", t: Any = 1.0,
                              normalization: str | None = None, isolated: str = "one") -> Any:
        xc = _columns(x)
        lam, u = _spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
        y = u @ (_response(lam, kernel, t)[:, None] * (u.T @ xc))
        return y[:, 0] if x.ndim == 1 else y

    @implements("graph.chebyshev", composed=True, native=LAP, params=P_LAP)
    @_jitted
    def graph_chebyshev(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, *,
                        lambda_max: Any, normalization: str | None = "sym",
                        isolated: str = "one") -> Any:
        n = x.shape[0]
        lap = _laplacian(edge_index, edge_weight, n, normalization, isolated)
        op = (2.0 / lambda_max) * lap.T - jnp.eye(n, dtype=x.dtype)
        terms = [x] + ([op @ x] if w.shape[0] > 1 else [])
        for _ in range(2, w.shape[0]):
            terms.append(2.0 * (op @ terms[-1]) - terms[-2])
        out = sum(_linear(t, w[k]) for k, t in enumerate(terms))
        return out if b is None else out + b

    @implements("graph.gcn", composed=True, native=SUM, params={**P_SEG, **NO_JRAPH})
    @_jitted
    def graph_gcn(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
                  self_loops: str = "add", improved: bool = False) -> Any:
        return gcn(x, edge_index, edge_weight, w, b, self_loops, improved)

    @implements("graph.aggregate", composed=True, native=(SUM, MAX, "jax.lax.scan",
                                                            "jax.Array.at[].set"),
                params={**P_SEG, **SCAN, **AT_ADD, "unique_indices": "fixed: False; (node, "
                        "rank) pairs are unique but not declared so",
                        "xs": "fixed: (the padded neighbour sequences, "
                        "step indices), time-major (lstm)"})
    @_jitted
    def graph_aggregate(self, x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any,
                        *params: Any, aggr: str = "mean", lstm_padding: str = "none") -> Any:
        n = x.shape[0]
        src, dst = edge_index[0], edge_index[1]
        deg = _sum(jnp.ones(src.shape, jnp.int32), dst, n)
        if aggr in ("sum", "mean"):
            agg = _sum(x[src], dst, n)
            if aggr == "mean":
                agg = agg / jnp.maximum(deg, 1).astype(x.dtype)[:, None]
        elif aggr == "max_pool":
            agg = _max0(jax.nn.relu(_linear(x, params[0], params[1]))[src], dst, n)
        elif aggr == "lstm":
            e = src.shape[0]
            onehot = (dst[:, None] == jnp.arange(n)[None, :]).astype(jnp.int32)
            rank = jnp.take_along_axis(jnp.cumsum(onehot, axis=0), dst[:, None], 1)[:, 0] - 1
            seq = jnp.zeros((n, e, x.shape[1]), x.dtype).at[dst, rank].set(x[src])
            steps = deg if lstm_padding == "none" else jnp.full((n,), jnp.max(deg))
            agg = _lstm(seq, steps, *params)
        else:
            raise ValueError(f"unknown aggr {aggr!r}")
        return _linear(agg, w_l, b_l) + _linear(x, w_r)

    @implements("graph.gat", composed=True, native=(SUM, MAX), params={**P_SEG, **NO_JRAPH})
    @_jitted
    def graph_gat(self, x: Any, edge_index: Any, w: Any, att_src: Any, att_dst: Any,
                  b: Any = None, *, concat: bool = True, negative_slope: Any = 0.2) -> Any:
        n = x.shape[0]
        heads, ch = att_src.shape
        loops = jnp.arange(n)
        src = jnp.concatenate([edge_index[0], loops])
        dst = jnp.concatenate([edge_index[1], loops])
        keep = jnp.concatenate([edge_index[0] != edge_index[1], jnp.ones((n,), bool)])
        h = _linear(x, w).reshape(n, heads, ch)
        e = jax.nn.leaky_relu(jnp.sum(h * att_src, -1)[src] + jnp.sum(h * att_dst, -1)[dst],
                              negative_slope)
        e = jnp.where(keep[:, None], e, jnp.zeros_like(e))
        top = lax.stop_gradient(jax.ops.segment_max(
            jnp.where(keep[:, None], e, -jnp.inf), dst, num_segments=n))
        ex = jnp.where(keep[:, None], jnp.exp(e - top[dst]), jnp.zeros_like(e))
        alpha = ex / _sum(ex, dst, n)[dst]
        out = _sum(alpha[:, :, None] * h[src], dst, n)
        out = out.reshape(n, heads * ch) if concat else jnp.mean(out, axis=1)
        return out if b is None else out + b

    @implements("graph.gin", composed=True, native=SUM, params=P_SEG)
    @_jitted
    def graph_gin(self, x: Any, edge_index: Any, w1: Any, b1: Any, w2: Any, b2: Any, *,
                  eps: Any = 0.0) -> Any:
        z = _sum(x[edge_index[0]], edge_index[1], x.shape[0]) + (1 + eps) * x
        return _linear(jax.nn.relu(_linear(z, w1, b1)), w2, b2)

    def _transition(self, x: Any, edge_index: Any, edge_weight: Any) -> Any:
        src, dst = edge_index[0], edge_index[1]
        w = _weights(edge_weight, src.shape[0], x)
        return w * _safe_inv(_sum(w, dst, x.shape[0]), 1.0)[dst]

    @implements("graph.diffusion/dcnn", composed=True, native=SUM, params=P_SEG)
    @_jitted
    def graph_diffusion_dcnn(self, x: Any, edge_index: Any, edge_weight: Any, *,
                             mode: str = "dcnn", hops: int = 2) -> Any:
        coef = self._transition(x, edge_index, edge_weight)
        powers, h = [], x
        for _ in range(hops):
            h = _propagate(h, edge_index[0], edge_index[1], coef, x.shape[0])
            powers.append(h)
        return jnp.stack(powers, axis=1)

    @implements("graph.diffusion/dgc", composed=True, native=SUM, params=P_SEG)
    @_jitted
    def graph_diffusion_dgc(self, x: Any, edge_index: Any, edge_weight: Any, w: Any,
                            b: Any = None, *, mode: str = "dgc", hops: int = 2) -> Any:
        coef = self._transition(x, edge_index, edge_weight)
        out, h = _linear(x, w[0]), x
        for k in range(1, hops + 1):
            h = _propagate(h, edge_index[0], edge_index[1], coef, x.shape[0])
            out = out + _linear(h, w[k])
        return out if b is None else out + b

    @implements("graph.monet", composed=True, native=SUM, params=P_SEG)
    @_jitted
    def graph_monet(self, x: Any, edge_index: Any, pseudo: Any, g: Any, mu: Any, sigma: Any,
                    root: Any = None, b: Any = None, *, aggr: str = "sum",
                    sigma_eps: Any = 0.0) -> Any:
        n = x.shape[0]
        src, dst = edge_index[0], edge_index[1]
        d = pseudo[:, None, :] - mu[None, :, :]
        kern = jnp.exp(-0.5 * jnp.sum(d * d / (sigma * sigma + sigma_eps)[None], axis=-1))
        msg = sum(_linear(x, g[k])[src] * kern[:, k:k + 1] for k in range(g.shape[0]))
        out = _sum(msg, dst, n)
        if aggr == "mean":
            cnt = _sum(jnp.ones(src.shape, x.dtype), dst, n)
            out = out / jnp.maximum(cnt, 1)[:, None]
        if root is not None:
            out = out + _linear(x, root)
        return out if b is None else out + b

    @implements("graph.readout", composed=True, native=(SUM, MAX), params=P_SEG)
    @_jitted
    def graph_readout(self, x: Any, batch: Any, *, num_graphs: int, reduce: str = "sum") -> Any:
        if reduce == "max":
            return _max0(x, batch, num_graphs)
        total = _sum(x, batch, num_graphs)
        if reduce == "sum":
            return total
        cnt = _sum(jnp.ones(batch.shape, x.dtype), batch, num_graphs)
        return total / jnp.maximum(cnt, 1)[:, None]

    @implements("graph.edge_conv", composed=True, native=(MAX, "jax.numpy.argsort"),
                params={**P_SEG, **_ARGSORT})
    @_jitted
    def graph_edge_conv(self, x: Any, pos: Any, w: Any, b: Any, *, k: int, dilation: int = 1,
                        self_loops: bool = False) -> Any:
        src, dst = knn_edges(x if pos is None else pos, k, dilation, self_loops)
        xt = x[dst]
        msg = jax.nn.relu(_linear(jnp.concatenate([xt, x[src] - xt], axis=-1), w, b))
        return jax.ops.segment_max(msg, dst, num_segments=x.shape[0])

    @implements("graph.residual_dense", composed=True, native=SUM, params=P_SEG)
    @_jitted
    def graph_residual_dense(self, x: Any, edge_index: Any, edge_weight: Any, *params: Any,
                             block: str = "res", activation: str = "tanh") -> Any:
        act = {"tanh": jnp.tanh, "relu": jax.nn.relu, "identity": lambda z: z}[activation]
        h = x
        for i in range(0, len(params), 2):
            w, b = params[i], params[i + 1]
            if block == "res+":
                h = h + gcn(act(h), edge_index, edge_weight, w, b)
                continue
            f = act(gcn(h, edge_index, edge_weight, w, b))
            h = h + f if block == "res" else jnp.concatenate([h, f], axis=-1)
        return h
