"""Specs of the message-passing ``graph`` ops: GCN, GraphSAGE aggregators, GAT, GIN,
diffusion, MoNet, readout, EdgeConv and DeepGCN stacks.

Graphs from the shared menu (_graphs.py), directed multigraphs included; weights at the
1/sqrt(fan_in) scale; node features at scales 2^-4, 1, 2^4.

Kinks. Every ReLU inside a layer (SAGE's pooling MLP, GIN's MLP, EdgeConv's h_theta) is kept
off its kink channel by channel, as conformance/specs/blocks.py does: from the drawn inputs
a bound m_c >= |z_c| of the pre-activation (a sum of absolute terms, so it also bounds each
dtype's rounding) gives the bias b_c = +-1.5 m_c, so the channel is on or off everywhere, at
least m_c / 2 from 0. GAT's LeakyReLU sees e_st = a_dst . h_t + a_src . h_s: the source
term is drawn (by rejection) at least 2^-4 of its absolute-term bound from 0 at every node,
and the target term is scaled to at most half of the smallest source term, so every logit
keeps the sign of its source term with a margin of half of it: both slopes are exercised,
none near the kink, and the edges into a node mix both slopes, so a_dst has a derivative
(with one slope per node the softmax would not see a_dst at all). Ties of a max (SAGE pool,
EdgeConv, readout) only occur between equal values (multi-edges, off channels, duplicate
points) where the derivative does not depend on the tie rule; near-ties are kept away
too: readout's features are distinct multiples of 2^-3 (exact in every dtype), and the
features of SAGE-pool and EdgeConv are drawn so that the neighbour term being maximized is
spaced (``spaced``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs.graph import _graphs as GS
from conformance.specs.graph._bench import bench_gat, bench_gcn, bench_sage, by_edges, mp_flops
from conformance.textbook import graph as TB
from conformance.textbook.graph import deep as TBD
from oracle import graph as GR

LAYER_SHAPES = GS.SHAPES
# The single node with a self loop normalizes its one weight away (w / w, or GCN's
# (w + 1) / (w + 1)): its derivative w.r.t. the weight is 0, computed by cancellation, and
# measured against a scale of 0. Specs differentiating normalized edge weights leave it out.
WEIGHTED_SHAPES = tuple(s for s in GS.SHAPES if s[0] > 1)
HIDDEN = 4
TRIES = 60


def _graph(d: st.DrawFn, shapes: tuple = LAYER_SHAPES, single_loops: bool = False
           ) -> tuple[GS.Graph, np.random.Generator]:
    shape = d(st.sampled_from(shapes))
    kind = d(st.sampled_from(GS.kinds(shape)))
    rng = np.random.default_rng(d(GS.seeds()))
    return GS.build(shape, kind, rng, single_loops=single_loops), rng


def bias_away(bound: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """+-1.5 m_c per channel: on or off everywhere, at least m_c / 2 from the kink."""
    signs = np.where(rng.integers(0, 2, bound.shape) > 0, 1.0, -1.0)
    return signs * 1.5 * np.maximum(bound, 2.0**-10)


def _abs_bound(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """max over rows of sum_f |z_f| |w_cf|, per output channel c (w is (out, in))."""
    return (np.abs(z) @ np.abs(w).T).max(axis=0) if z.size else np.zeros(w.shape[0])


def _x(rng: np.random.Generator, g: GS.Graph, dtype: str) -> np.ndarray:
    return GS.features(rng, (g.n, GS.F_IN), dtype)


def conditioned_weight(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A layer weight with condition number <= 8 (``spaced`` solves through it)."""
    for _ in range(TRIES):
        w = GS.weight(rng, shape)
        if np.linalg.cond(w) <= 8:
            return w
    return np.eye(*shape) / np.sqrt(shape[1])


def spaced(rng: np.random.Generator, n: int, w: np.ndarray) -> np.ndarray:
    """Features x (n, F_IN) whose images x w^T (w (out, F_IN), full row rank) are, column by
    column, a permutation of n values 2/n apart in [-1, 1] (times a scale): a max over any
    set of nodes is 2/n of the range from the runner-up, far beyond any dtype's rounding of
    the product (bfloat16: ~1e-2 of it), so the argmax and its derivative never flip. A
    random component in the null space of w keeps x itself generic."""
    grid = (np.arange(n) - (n - 1) / 2) * (2.0 / max(n, 1))
    z = np.stack([rng.permutation(grid) for _ in range(w.shape[0])], axis=1)
    x = z @ np.linalg.pinv(w).T
    null = np.linalg.svd(w)[2][w.shape[0]:]
    if null.size:
        x = x + rng.uniform(-1.0, 1.0, (n, null.shape[0])) @ null
    return GS.SCALES[int(rng.integers(len(GS.SCALES)))] * x


# --------------------------------------------------------------------------- GCN


def _gcn_inputs(weighted: bool = True):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            loops = d(st.sampled_from(("add", "remaining")))
            g, rng = _graph(d, WEIGHTED_SHAPES if weighted else LAYER_SHAPES,
                            single_loops=True)
            w = GS.edge_weights(g, rng) if weighted else None
            args = (_x(rng, g, dtype), g.edge_index, w, GS.weight(rng, (GS.F_OUT, GS.F_IN)),
                    rng.uniform(-1.0, 1.0, GS.F_OUT))
            return Case(args, {"self_loops": loops, "improved": d(st.booleans())},
                        ("x", "edge_index", "edge_weight", "w", "b"))

        return draw()

    return inputs


# --------------------------------------------------------------------------- GraphSAGE


def _sage_inputs(aggrs: tuple[str, ...], lstm_padding: str = "none"):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            aggr = d(st.sampled_from(aggrs))
            g, rng = _graph(d)
            w_p = conditioned_weight(rng, (GS.F_IN, GS.F_IN))
            x = spaced(rng, g.n, w_p) if aggr == "max_pool" else _x(rng, g, dtype)
            base = (x, g.edge_index, GS.weight(rng, (GS.F_OUT, GS.F_IN)),
                    rng.uniform(-1.0, 1.0, GS.F_OUT), GS.weight(rng, (GS.F_OUT, GS.F_IN)))
            names = ("x", "edge_index", "w_l", "b_l", "w_r")
            kwargs: dict[str, Any] = {"aggr": aggr}
            if aggr == "max_pool":
                extra = (w_p, bias_away(_abs_bound(x, w_p), rng))
                names += ("w_p", "b_p")
            elif aggr == "lstm":
                hid = GS.F_IN
                extra = (GS.weight(rng, (4 * hid, GS.F_IN)), GS.weight(rng, (4 * hid, hid)),
                         rng.uniform(-0.5, 0.5, 4 * hid))
                names += ("w_ih", "w_hh", "b")
                kwargs["lstm_padding"] = lstm_padding
            else:
                extra = ()
            return Case(base + extra, kwargs, names)

        return draw()

    return inputs


# --------------------------------------------------------------------------- GAT


def _gat_inputs(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        g, rng = _graph(d)
        heads, ch = d(st.sampled_from((1, 2))), GS.F_OUT
        x = _x(rng, g, dtype)
        w = GS.weight(rng, (heads * ch, GS.F_IN))
        h = (x @ w.T).reshape(g.n, heads, ch)
        habs = (np.abs(x) @ np.abs(w).T).reshape(g.n, heads, ch)
        for _ in range(TRIES):
            a_src = rng.uniform(-1.0, 1.0, (heads, ch))
            source = np.einsum("nhc,hc->nh", h, a_src)
            if np.all(np.abs(source) >= 2.0**-4 * np.einsum("nhc,hc->nh", habs,
                                                            np.abs(a_src))):
                break
        else:
            assume(False)
        a_dst = rng.uniform(-1.0, 1.0, (heads, ch))
        target = np.einsum("nhc,hc->nh", habs, np.abs(a_dst))  # bounds |a_dst . h_t|
        a_dst *= (0.5 * np.abs(source).min(axis=0) / np.maximum(target.max(axis=0),
                                                                 1e-300))[:, None]
        concat = d(st.booleans())
        b = rng.uniform(-1.0, 1.0, heads * ch if concat else ch)
        return Case((x, g.edge_index, w, a_src, a_dst, b),
                    {"concat": concat, "negative_slope": d(S.dyadic(0.0, 0.5, bits=4))},
                    ("x", "edge_index", "w", "att_src", "att_dst", "b"))

    return draw()


# --------------------------------------------------------------------------- GIN


def _gin_inputs(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        g, rng = _graph(d)
        eps = d(S.dyadic(-0.5, 1.0, bits=3))
        x = _x(rng, g, dtype)
        z = (1 + eps) * x
        np.add.at(z, g.edge_index[1], x[g.edge_index[0]])
        w1 = GS.weight(rng, (HIDDEN, GS.F_IN))
        b1 = bias_away(_abs_bound(np.abs(x) * (1 + abs(eps)) + _in_abs(x, g), w1), rng)
        return Case((x, g.edge_index, w1, b1, GS.weight(rng, (GS.F_OUT, HIDDEN)),
                     rng.uniform(-1.0, 1.0, GS.F_OUT)), {"eps": eps},
                    ("x", "edge_index", "w1", "b1", "w2", "b2"))

    return draw()


def _in_abs(x: np.ndarray, g: GS.Graph) -> np.ndarray:
    """sum over in-edges of |x_s| per node."""
    out = np.zeros_like(x)
    np.add.at(out, g.edge_index[1], np.abs(x[g.edge_index[0]]))
    return out


# --------------------------------------------------------------------------- diffusion


def _diffusion_inputs(mode: str):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            g, rng = _graph(d, WEIGHTED_SHAPES)
            hops = d(st.sampled_from((1, 2, 3)))
            args = (_x(rng, g, dtype), g.edge_index, GS.edge_weights(g, rng))
            names = ("x", "edge_index", "edge_weight")
            if mode == "dgc":
                args += (GS.weight(rng, (hops + 1, GS.F_OUT, GS.F_IN)),
                         rng.uniform(-1.0, 1.0, GS.F_OUT))
                names += ("w", "b")
            return Case(args, {"mode": mode, "hops": hops}, names)

        return draw()

    return inputs


# --------------------------------------------------------------------------- MoNet
KERNELS, PSEUDO_DIM = 2, 2


def _monet_inputs(root: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            g, rng = _graph(d)
            args = (_x(rng, g, dtype), g.edge_index,
                    rng.uniform(-1.0, 1.0, (g.e, PSEUDO_DIM)),
                    GS.weight(rng, (KERNELS, GS.F_OUT, GS.F_IN)),
                    rng.uniform(-1.0, 1.0, (KERNELS, PSEUDO_DIM)),
                    rng.uniform(0.5, 2.0, (KERNELS, PSEUDO_DIM)),
                    GS.weight(rng, (GS.F_OUT, GS.F_IN)) if root else None,
                    rng.uniform(-1.0, 1.0, GS.F_OUT))
            return Case(args, {"aggr": d(st.sampled_from(("sum", "mean")))},
                        ("x", "edge_index", "pseudo", "g", "mu", "sigma", "root", "b"))

        return draw()

    return inputs


# --------------------------------------------------------------------------- readout


def _readout_inputs(reduces: tuple[str, ...]):
    return lambda dtype: _readout(dtype, reduces)


def _readout(dtype: str, reduces: tuple[str, ...]) -> st.SearchStrategy[Case]:
    """Features: distinct multiples of 2^-3 (0 included: ReLU outputs feed readouts)."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        n = d(st.sampled_from(tuple(s[0] for s in GS.SHAPES)))
        rng = np.random.default_rng(d(GS.seeds()))
        grid = rng.permutation(np.arange(-64, 65))[:n * GS.F_IN] / 8.0
        scale = 2.0 ** int(rng.integers(-4, 5)) if dtype != "float16" else 1.0
        num_graphs = d(st.sampled_from((1, 3)))
        batch = rng.integers(0, num_graphs, n)
        if d(st.booleans()):
            batch = np.sort(batch)  # PyG's collated batches are sorted; others need not be
        return Case((scale * grid.reshape(n, GS.F_IN), batch),
                    {"num_graphs": num_graphs,
                     "reduce": d(st.sampled_from(reduces))}, ("x", "batch"))

    return draw()


# --------------------------------------------------------------------------- EdgeConv


def _edge_conv_inputs(dynamic: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n = d(st.sampled_from(tuple(s[0] for s in GS.SHAPES if s[0] > 1)))
            rng = np.random.default_rng(d(GS.seeds()))
            self_loops = d(st.booleans())
            dilation = d(st.sampled_from((1, 2)))
            k = d(st.sampled_from(tuple(k for k in (1, 2, 3)
                                        if k * dilation <= n - (0 if self_loops else 1))))
            w = np.concatenate([GS.weight(rng, (GS.F_OUT, GS.F_IN)),
                                conditioned_weight(rng, (GS.F_OUT, GS.F_IN))], axis=1)
            if dynamic:  # integer features: exact distances and many ties
                x = rng.integers(-3, 4, (n, GS.F_IN)).astype(np.float64)
                pos = None
            else:  # the neighbour term x_s W_2^T spaced: no near-ties in the max
                x = spaced(rng, n, w[:, GS.F_IN:])
                pos = rng.integers(-3, 4, (n, 2))
            src, dst = GR.knn_graph(x if pos is None else pos, k=k, dilation=dilation,
                                    self_loops=self_loops)
            msg_in = np.concatenate([x[dst], x[src] - x[dst]], axis=1)
            b = bias_away(_abs_bound(msg_in, w), rng)
            return Case((x, pos, w, b), {"k": k, "dilation": dilation,
                                         "self_loops": self_loops}, ("x", "pos", "w", "b"))

        return draw()

    return inputs


# --------------------------------------------------------------------------- DeepGCN


def _deep_inputs(dense: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            g, rng = _graph(d, WEIGHTED_SHAPES)
            block = "dense" if dense else d(st.sampled_from(("res", "res+")))
            f, grow = GS.F_IN, GS.F_OUT
            shapes = [(grow, f), (grow, f + grow)] if dense else [(f, f), (f, f)]
            params: list[np.ndarray] = []
            for shape in shapes:
                params += [GS.weight(rng, shape), rng.uniform(-1.0, 1.0, shape[0])]
            return Case((_x(rng, g, dtype), g.edge_index, GS.edge_weights(g, rng), *params),
                        {"block": block, "activation": "tanh"},
                        ("x", "edge_index", "edge_weight", "w1", "b1", "w2", "b2"))

        return draw()

    return inputs


register(
    OpSpec("graph.gcn", GR.gcn, _gcn_inputs(), grad_wrt=(0, 2, 3, 4),
           bench=by_edges(bench_gcn), flops=mp_flops,
           notes="A + I (every node's loop added) or PyG's remaining loops (an existing loop "
           "keeps its weight), improved (2I) drawn"),
    OpSpec("graph.gcn/unweighted", GR.gcn, _gcn_inputs(weighted=False), grad_wrt=(0, 3, 4),
           notes="edge_weight None (PyG's path without weights)"),
    OpSpec("graph.aggregate", GR.aggregate, _sage_inputs(("sum", "mean")),
           grad_wrt=(0, 2, 3, 4), bench=by_edges(bench_sage), flops=mp_flops,
           notes="sum (NN4G) and mean (GraphSAGE-mean) aggregators"),
    OpSpec("graph.aggregate/max_pool", GR.aggregate, _sage_inputs(("max_pool",)),
           grad_wrt=(0, 2, 3, 4, 5, 6), notes="max over neighbours of relu(W_p h + b_p)"),
    OpSpec("graph.aggregate/lstm", GR.aggregate, _sage_inputs(("lstm",)),
           grad_wrt=(0, 2, 3, 4, 5, 6, 7), notes="h after each node's own neighbours"),
    OpSpec("graph.aggregate/lstm_padded", GR.aggregate, _sage_inputs(("lstm",), "max_degree"),
           grad_wrt=(0, 2, 3, 4, 5, 6, 7),
           notes="PyG's LSTMAggregation: zero-padded to the largest in-degree"),
    OpSpec("graph.gat", GR.gat, _gat_inputs, grad_wrt=(0, 2, 3, 4, 5), textbook=TB.gat,
           bench=by_edges(bench_gat), notes="1 or 2 heads, concat or mean, slope drawn"),
    OpSpec("graph.gin", GR.gin, _gin_inputs, grad_wrt=(0, 2, 3, 4, 5), notes="eps drawn"),
    OpSpec("graph.diffusion/dcnn", GR.diffusion, _diffusion_inputs("dcnn"), grad_wrt=(0, 2),
           textbook=TB.diffusion, notes="P^k X, k = 1..hops"),
    OpSpec("graph.diffusion/dgc", GR.diffusion, _diffusion_inputs("dgc"),
           grad_wrt=(0, 2, 3, 4), textbook=TB.diffusion, notes="sum_k P^k X W_k^T + b (TAGConv)"),
    OpSpec("graph.monet", GR.monet, _monet_inputs(True), grad_wrt=(0, 2, 3, 4, 5, 6, 7),
           notes="2 Gaussian kernels on 2-d pseudo-coordinates, sum or mean"),
    OpSpec("graph.monet/no_root", GR.monet, _monet_inputs(False), grad_wrt=(0, 2, 3, 4, 5, 7)),
    OpSpec("graph.readout", GR.readout, _readout_inputs(("sum", "mean")), grad_wrt=(0,),
           notes="sum and mean per graph; empty graphs read 0"),
    OpSpec("graph.readout/max", GR.readout, _readout_inputs(("max",)), grad_wrt=(0,),
           notes="max per graph (distinct values, 0 among them); empty graphs read 0"),
    OpSpec("graph.edge_conv", GR.edge_conv, _edge_conv_inputs(False), grad_wrt=(0, 2, 3),
           textbook=TBD.edge_conv,
           notes="k-NN of integer positions (ties by index), dilation 1-2, self loops drawn"),
    OpSpec("graph.edge_conv/dynamic", GR.edge_conv, _edge_conv_inputs(True),
           notes="k-NN of the features themselves (DynamicEdgeConv); no derivative of the "
           "graph, so forward only"),
    OpSpec("graph.residual_dense", GR.residual_dense, _deep_inputs(False),
           grad_wrt=(0, 2, 3, 4, 5, 6), textbook=TBD.residual_dense,
           notes="two GCN layers, res or res+, tanh"),
    OpSpec("graph.residual_dense/dense", GR.residual_dense, _deep_inputs(True),
           grad_wrt=(0, 2, 3, 4, 5, 6), textbook=TBD.residual_dense,
           notes="two GCN layers concatenated (DenseGCN)"),
)
