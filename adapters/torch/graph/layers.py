"""torch mappings of the message-passing ``graph`` ops through PyG layers (GCNConv,
SAGEConv, GATConv, GINConv, TAGConv, SimpleConv, GMMConv, EdgeConv, DeepGCNLayer,
global_*_pool), with the canonical weights loaded (docs/conventions/graph.md).

Weights are (out, in) in the oracle and in PyG's Linear, so they load unchanged; GMMConv's
``g`` (F_in, K F_out) is the oracle's (K, F_out, F_in) permuted. Conventions mapped here:
GCN's A + I (every node's loop added, existing loops kept) is GCNConv(add_self_loops=False)
on the edge list with one loop per node appended; PyG's ``improved=True`` is ignored when
``edge_weight`` is None (gcn_norm drops the fill value 2 then), so the unweighted mapping
passes explicit ones in that case; SAGEConv's LSTM aggregator needs edges sorted by target
(a stable sort keeps the neighbour order); DGC is TAGConv(normalize=False) with the weights
of P = D^-1 A. The k-NN graph of EdgeConv is built from ``torch.cdist`` and a stable sort
(``knn_graph`` and DynamicEdgeConv need pyg-lib, not installable here; ``topk`` leaves the
order of tied distances unspecified, the oracle breaks ties by index).
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import nn, torch
from adapters.torch.graph._pyg import conv, layer, module, pool, run, utils


def _loops(edge_index: Any, edge_weight: Any, n: int, fill: float, like: Any) -> tuple[Any, Any]:
    """The edge list with one loop (i, i) of weight ``fill`` per node appended."""
    ar = torch.arange(n, device=edge_index.device)
    w = torch.ones(edge_index.shape[1], dtype=like.dtype, device=like.device) \
        if edge_weight is None else edge_weight
    return (torch.cat([edge_index, torch.stack([ar, ar])], dim=1),
            torch.cat([w, torch.full((n,), fill, dtype=w.dtype, device=w.device)]))


def _gcn(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, self_loops: str,
         improved: bool) -> Any:
    n = x.shape[0]
    if self_loops == "add":
        ei, ew = _loops(edge_index, edge_weight, n, 2.0 if improved else 1.0, x)
        m = layer(conv("GCNConv"), w.shape[1], w.shape[0], add_self_loops=False,
                  bias=b is not None)
    elif self_loops == "remaining":
        ei, ew = edge_index, edge_weight
        if improved and ew is None:  # PyG drops improved's fill value 2 without weights
            ew = torch.ones(ei.shape[1], dtype=x.dtype, device=x.device)
        m = layer(conv("GCNConv"), w.shape[1], w.shape[0], improved=improved,
                  add_self_loops=True, bias=b is not None)
    else:
        raise ValueError(f"unknown self_loops {self_loops!r}")
    return run(m, {"lin.weight": w, "bias": b}, x, ei, ew)


# The graph specs draw one feature size in and one out (x is (n, 3), the layers' outputs 2
# wide: conformance/specs/graph), and always a bias.
IN_OUT = {"in_channels": "fixed: 3, the one input feature size the graph specs draw",
          "out_channels": "fixed: 2, the one output size the graph specs draw"}
BIAS = {"bias": "fixed: True; the specs always draw b (a layer without bias is not drawn)"}
GCN_PARAMS = {**IN_OUT, **BIAS, "improved": "drawn",
              "add_self_loops": "drawn: from self_loops (False for 'add': the loops are "
              "added before, with improved's fill)", "cached": "fixed: False, one graph per "
              "call", "normalize": "fixed: True (the renormalization trick)"}


def _mlp(f_in: int, hidden: int, f_out: int) -> Any:
    return nn.Sequential(nn.Linear(f_in, hidden), nn.ReLU(), nn.Linear(hidden, f_out))


def _gin(f_in: int, hidden: int, f_out: int) -> Any:
    return conv("GINConv")(_mlp(f_in, hidden, f_out), train_eps=False)


def _edge_conv(f_in: int, f_out: int) -> Any:
    return conv("EdgeConv")(nn.Sequential(nn.Linear(2 * f_in, f_out), nn.ReLU()), aggr="max")


def _gmm(f_in: int, f_out: int, dim: int, kernels: int, aggr: str, root: bool,
         bias: bool) -> Any:
    m = conv("GMMConv")(f_in, f_out, dim=dim, kernel_size=kernels, aggr=aggr,
                        root_weight=True, bias=bias)
    if not root:
        m.root = None  # root_weight=False raises AttributeError in PyG 2.8.1's forward
    return m


def _deep(block: str, act: str, f_in: int, f_out: int) -> Any:
    acts = {"tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}
    gcn = conv("GCNConv")(f_in, f_out, add_self_loops=False)
    return module("torch_geometric.nn").DeepGCNLayer(gcn, act=acts[act](), block=block)


def transition_weights(edge_index: Any, edge_weight: Any, n: int, like: Any) -> Any:
    """w_st / d_t: the messages of P = D^-1 A (in-degrees; 0 where d_t = 0)."""
    w = torch.ones(edge_index.shape[1], dtype=like.dtype, device=like.device) \
        if edge_weight is None else edge_weight
    deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add(0, edge_index[1], w)
    inv = torch.where(deg > 0, 1 / torch.where(deg > 0, deg, torch.ones_like(deg)),
                      torch.zeros_like(deg))
    return w * inv[edge_index[1]]


def knn_edges(points: Any, k: int, dilation: int, self_loops: bool) -> Any:
    """The oracle's dilated k-NN graph: exact float64 distances, ties by the lower index."""
    p = points.detach().to(torch.float64)
    d = torch.cdist(p, p, compute_mode="donot_use_mm_for_euclid_dist")
    if not self_loops:
        d = d + torch.diag(torch.full((p.shape[0],), float("inf"), dtype=d.dtype,
                                      device=d.device))
    order = torch.sort(d, dim=1, stable=True).indices[:, :k * dilation:dilation]
    centers = torch.arange(p.shape[0], device=p.device).repeat_interleave(k)
    return torch.stack([order.reshape(-1), centers])


class LayerOps:
    @implements("graph.gcn", native="torch_geometric.nn.conv.GCNConv", params=GCN_PARAMS)
    def graph_gcn(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
                  self_loops: str = "add", improved: bool = False) -> Any:
        return _gcn(x, edge_index, edge_weight, w, b, self_loops, improved)

    @implements("graph.aggregate", native="torch_geometric.nn.conv.SAGEConv", params={
        **IN_OUT, "aggr": "drawn",
        "normalize": "fixed: False (the layer without output L2 normalization)",
        "root_weight": "fixed: True (the W_r h_t term)",
        "project": "drawn: from aggr (True for max_pool)",
        "bias": "fixed: True (b_l)"})
    def graph_aggregate(self, x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any,
                        *params: Any, aggr: str = "mean", lstm_padding: str = "none") -> Any:
        f_out, f_in = w_l.shape
        names = {"lin_l.weight": w_l, "lin_l.bias": b_l, "lin_r.weight": w_r}
        if aggr in ("sum", "mean"):
            m = layer(conv("SAGEConv"), f_in, f_out, aggr=aggr)
        elif aggr == "max_pool":
            m = layer(conv("SAGEConv"), f_in, f_out, aggr="max", project=True)
            names |= {"lin.weight": params[0], "lin.bias": params[1]}
        elif aggr == "lstm" and lstm_padding == "max_degree":
            m = layer(conv("SAGEConv"), f_in, f_out, aggr="lstm")
            w_ih, w_hh, b = params
            names |= {"aggr_module.lstm.weight_ih_l0": w_ih,
                      "aggr_module.lstm.weight_hh_l0": w_hh,
                      "aggr_module.lstm.bias_ih_l0": b,
                      "aggr_module.lstm.bias_hh_l0": torch.zeros_like(b)}
            order = torch.sort(edge_index[1], stable=True).indices
            edge_index = edge_index[:, order]
        else:
            raise ValueError("the canonical LSTM aggregator is graph.aggregate/lstm")
        return run(m, names, x, edge_index)

    @implements("graph.aggregate/lstm", composed=True, native="torch.nn.LSTM", params={
        "input_size": "fixed: 3, the one feature size the graph specs draw",
        "hidden_size": "fixed: 3, the one LSTM width the spec draws", "num_layers": "fixed: 1",
        "bias": "fixed: True (b_ih = b, b_hh = 0)", "batch_first": "fixed: True",
        "dropout": "fixed: 0", "bidirectional": "fixed: False", "proj_size": "fixed: 0"})
    def graph_aggregate_lstm(self, x: Any, edge_index: Any, w_l: Any, b_l: Any, w_r: Any,
                             w_ih: Any, w_hh: Any, b: Any, *, aggr: str = "lstm",
                             lstm_padding: str = "none") -> Any:
        """nn.LSTM over each node's neighbours (edges sorted stably by target, padded to the
        largest in-degree by PyG's to_dense_batch), h read at the node's own last
        neighbour: later padded steps never reach it (PyG's LSTMAggregation reads the last
        padded step instead). A node without neighbours aggregates 0."""
        n, hid = x.shape[0], w_hh.shape[1]
        order = torch.sort(edge_index[1], stable=True).indices
        src, dst = edge_index[0, order], edge_index[1, order]
        seq, _ = utils().to_dense_batch(x[src], dst, batch_size=n)
        lstm = layer(nn.LSTM, x.shape[1], hid, batch_first=True)
        out, _ = run(lstm, {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b,
                            "bias_hh_l0": torch.zeros_like(b)}, seq)
        deg = torch.bincount(dst, minlength=n)
        last = out[torch.arange(n, device=x.device), (deg - 1).clamp(min=0)]
        agg = torch.where((deg > 0)[:, None], last, torch.zeros_like(last))
        return agg @ w_l.T + b_l + x @ w_r.T

    @implements("graph.gat", native="torch_geometric.nn.conv.GATConv", params={
        "in_channels": IN_OUT["in_channels"],
        "out_channels": "fixed: 2 per head, the one size the spec draws",
        "heads": "drawn: from att_src.shape", "concat": "drawn",
        "negative_slope": "drawn", "dropout": "fixed: 0.0 (deterministic)",
        "add_self_loops": "fixed: True (the neighbourhood includes the node)",
        "edge_dim": "not covered: the catalog's GAT has no edge features",
        "fill_value": "fixed: unused without edge features", **BIAS,
        "residual": "not covered: residual connections are graph.residual_dense"})
    def graph_gat(self, x: Any, edge_index: Any, w: Any, att_src: Any, att_dst: Any,
                  b: Any = None, *, concat: bool = True, negative_slope: float = 0.2) -> Any:
        heads, ch = att_src.shape
        m = layer(conv("GATConv"), x.shape[1], ch, heads=heads, concat=concat,
                  negative_slope=negative_slope, bias=b is not None)
        return run(m, {"lin.weight": w, "att_src": att_src[None], "att_dst": att_dst[None],
                       "bias": b}, x, edge_index)

    @implements("graph.gin", native="torch_geometric.nn.conv.GINConv", params={
        "nn": "fixed: Linear, ReLU, Linear (the canonical MLP)", "eps": "drawn",
        "train_eps": "fixed: False (eps a fixed buffer)"})
    def graph_gin(self, x: Any, edge_index: Any, w1: Any, b1: Any, w2: Any, b2: Any, *,
                  eps: float = 0.0) -> Any:
        m = layer(_gin, w1.shape[1], w1.shape[0], w2.shape[0])
        return run(m, {"nn.0.weight": w1, "nn.0.bias": b1, "nn.2.weight": w2,
                       "nn.2.bias": b2, "eps": torch.full((1,), eps, dtype=x.dtype,
                                                          device=x.device)}, x, edge_index)

    @implements("graph.diffusion/dcnn", composed=True,
                native="torch_geometric.nn.conv.SimpleConv", params={
                    "aggr": "fixed: sum of w_st / d_t h_s (P = D^-1 A)",
                    "combine_root": "fixed: None"})
    def graph_diffusion_dcnn(self, x: Any, edge_index: Any, edge_weight: Any, *,
                             mode: str = "dcnn", hops: int = 2) -> Any:
        coef = transition_weights(edge_index, edge_weight, x.shape[0], x)
        m = layer(conv("SimpleConv"), aggr="sum")
        powers, h = [], x
        for _ in range(hops):
            h = m(h, edge_index, coef)
            powers.append(h)
        return torch.stack(powers, dim=1)

    @implements("graph.diffusion/dgc", native="torch_geometric.nn.conv.TAGConv", params={
        **IN_OUT, "K": "drawn: from hops", **BIAS,
        "normalize": "fixed: False, with the edge weights of P = D^-1 A"})
    def graph_diffusion_dgc(self, x: Any, edge_index: Any, edge_weight: Any, w: Any,
                            b: Any = None, *, mode: str = "dgc", hops: int = 2) -> Any:
        coef = transition_weights(edge_index, edge_weight, x.shape[0], x)
        m = layer(conv("TAGConv"), w.shape[2], w.shape[1], K=hops, bias=b is not None,
                  normalize=False)
        params = {f"lins.{k}.weight": w[k] for k in range(hops + 1)} | {"bias": b}
        return run(m, params, x, edge_index, coef)

    @implements("graph.monet", native="torch_geometric.nn.conv.GMMConv", params={
        **IN_OUT, "dim": "fixed: 2, the one pseudo-coordinate size the spec draws",
        "kernel_size": "fixed: 2, the one kernel count the spec draws", "aggr": "drawn",
        **BIAS,
        "separate_gaussians": "not covered: one Gaussian per kernel is the MoNet layer",
        "root_weight": "fixed: True; without a root weight, root = None after construction "
                       "(root_weight=False raises AttributeError in PyG 2.8.1)"})
    def graph_monet(self, x: Any, edge_index: Any, pseudo: Any, g: Any, mu: Any, sigma: Any,
                    root: Any = None, b: Any = None, *, aggr: str = "sum",
                    sigma_eps: float = 0.0) -> Any:
        kernels, f_out, f_in = g.shape
        m = layer(_gmm, f_in, f_out, pseudo.shape[1], kernels,
                  "add" if aggr == "sum" else aggr, root is not None, b is not None)
        # PyG divides by 1e-15 + sigma^2: sigma is given so that this is sigma_eps + sigma^2.
        s = sigma if sigma_eps == 1e-15 else torch.sqrt(sigma * sigma + (sigma_eps - 1e-15))
        return run(m, {"g": g.permute(2, 0, 1).reshape(f_in, kernels * f_out), "mu": mu,
                       "sigma": s, "root.weight": root, "bias": b}, x, edge_index, pseudo)

    @implements("graph.readout", native=("torch_geometric.nn.pool.global_add_pool",
                                         "torch_geometric.nn.pool.global_mean_pool",
                                         "torch_geometric.nn.pool.global_max_pool"),
                params={"size": "drawn: from num_graphs"})
    def graph_readout(self, x: Any, batch: Any, *, num_graphs: int, reduce: str = "sum") -> Any:
        fn = {"sum": pool().global_add_pool, "mean": pool().global_mean_pool,
              "max": pool().global_max_pool}[reduce]
        return fn(x, batch, size=num_graphs)

    @implements("graph.edge_conv", native=("torch_geometric.nn.conv.EdgeConv", "torch.cdist"),
                params={"nn": "fixed: Linear, ReLU (h_theta)", "aggr": "fixed: max",
                        "compute_mode": "fixed: exact distances (no matmul form)",
                        "p": "fixed: 2, Euclidean (the oracle's squared distances, same "
                        "order)",
                        "knn_graph": "not covered: torch_geometric.nn.knn_graph and "
                        "DynamicEdgeConv need pyg-lib (torch.ops.pyg.knn), which is not "
                        "installable here; the k-NN graph is torch.cdist + a stable sort"})
    def graph_edge_conv(self, x: Any, pos: Any, w: Any, b: Any, *, k: int, dilation: int = 1,
                        self_loops: bool = False) -> Any:
        ei = knn_edges(x if pos is None else pos, k, dilation, self_loops)
        m = layer(_edge_conv, x.shape[1], w.shape[0])
        return run(m, {"nn.0.weight": w, "nn.0.bias": b}, x, ei)

    @implements("graph.residual_dense", native="torch_geometric.nn.DeepGCNLayer", params={
        "conv": "fixed: GCNConv on A + I", "norm": "fixed: None",
        "act": "fixed: tanh, the one activation the specs draw (relu's kink is not "
        "drawn)",
        "block": "drawn", "dropout": "fixed: 0.0", "ckpt_grad": "fixed: False"})
    def graph_residual_dense(self, x: Any, edge_index: Any, edge_weight: Any, *params: Any,
                             block: str = "res", activation: str = "tanh") -> Any:
        ei, ew = _loops(edge_index, edge_weight, x.shape[0], 1.0, x)
        h = x
        for i in range(0, len(params), 2):
            w, b = params[i], params[i + 1]
            m = layer(_deep, block, activation, w.shape[1], w.shape[0])
            h = run(m, {"conv.lin.weight": w, "conv.bias": b}, h, ei, ew)
        return h
