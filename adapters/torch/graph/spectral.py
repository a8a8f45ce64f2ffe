"""torch mappings of the spectral ``graph`` ops: PyG's ``get_laplacian`` and ``ChebConv``,
``torch.linalg.eigh`` for the Fourier basis (docs/conventions/graph.md §Laplacians, §Fourier).

PyG's Laplacian comes as an edge list (self loops removed, one diagonal entry per node);
``to_dense_adj`` sums it into the dense (N, N) array, duplicates adding as in the oracle.
The spectral ops decompose the symmetrized Laplacian (L + L^T) / 2 as the oracle does, and
read out the same basis-free quantities (composed: eigenvalues, reconstruction, eigenspace
projections) from torch's own eigenvectors.
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import torch
from adapters.torch._params import EIGH as EIGH_PARAMS
from adapters.torch.graph._pyg import conv, layer, run, utils
from adapters.torch.graph.layers import BIAS, IN_OUT

EIGH = "torch.linalg.eigh"
LAP = "torch_geometric.utils.get_laplacian"
LAP_PARAMS = {"edge_index": "drawn", "edge_weight": "drawn",
              "num_nodes": "drawn: from num_nodes or x.shape (the node count)",
              "dtype": "fixed: edge weights are always given, so it is unused",
              "normalization": "drawn"}
COMBINATORIAL = {**LAP_PARAMS, "normalization": "fixed: None, L = D - A"}


def dense_laplacian(edge_index: Any, edge_weight: Any, num_nodes: int,
                    normalization: str | None, isolated: str = "one") -> Any:
    """L from ``get_laplacian`` (PyG puts 1 on an isolated node's normalized diagonal);
    ``isolated="zero"`` removes that 1 (where the out-degree without loops is 0)."""
    ei, w = utils().get_laplacian(edge_index, edge_weight, normalization=normalization,
                                  num_nodes=num_nodes)
    lap = utils().to_dense_adj(ei, edge_attr=w, max_num_nodes=num_nodes)[0]
    if normalization is not None and isolated == "zero":
        src, dst = edge_index
        real = (src != dst).to(edge_weight.dtype) * edge_weight
        deg = torch.zeros(num_nodes, dtype=edge_weight.dtype, device=edge_weight.device)
        deg = deg.index_add(0, src, real)
        lap = lap - torch.diag((deg == 0).to(lap.dtype))
    elif isolated not in ("one", "zero"):
        raise ValueError(f"isolated must be 'one' or 'zero', got {isolated!r}")
    return lap


def _spectrum(edge_index: Any, edge_weight: Any, n: int, normalization: str | None,
              isolated: str) -> tuple[Any, Any]:
    lap = dense_laplacian(edge_index, edge_weight, n, normalization, isolated)
    return torch.linalg.eigh(0.5 * (lap + lap.T))


def _columns(x: Any) -> Any:
    return x[:, None] if x.dim() == 1 else x


def _response(lam: Any, kernel: str, t: float) -> Any:
    if kernel == "heat":
        return torch.exp(-t * lam)
    if kernel == "rational":
        return 1 / (1 + t * lam)
    if kernel == "cosine":
        return torch.cos(t * lam)
    raise ValueError(f"unknown kernel {kernel!r}")


class SpectralOps:
    @implements("graph.laplacian", native=LAP, params=COMBINATORIAL)
    def graph_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int) -> Any:
        return dense_laplacian(edge_index, edge_weight, num_nodes, None)

    @implements("graph.normalized_laplacian", native=LAP, params=LAP_PARAMS)
    def graph_normalized_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int,
                                   normalization: str = "sym", isolated: str = "one") -> Any:
        """PyG's Laplacian; ``isolated="zero"`` removes the 1 it puts on isolated nodes."""
        return dense_laplacian(edge_index, edge_weight, num_nodes, normalization, isolated)

    @implements("graph.dirichlet_energy", composed=True, native=LAP, params=COMBINATORIAL)
    def graph_dirichlet_energy(self, x: Any, edge_index: Any, edge_weight: Any, *,
                               form: str = "pairwise") -> Any:
        """No library has it: the pairwise sum over edges, or x^T L x with PyG's L."""
        if form == "pairwise":
            diff = x[edge_index[0]] - x[edge_index[1]]
            w = edge_weight if x.dim() == 1 else edge_weight[:, None]
            return 0.5 * (w * diff * diff).sum(0)
        lap = dense_laplacian(edge_index, edge_weight, x.shape[0], None)
        return (x * (lap @ x)).sum(0)

    @implements("graph.fourier/distinct", composed=True, native=(EIGH, LAP),
                params={**LAP_PARAMS, **EIGH_PARAMS})
    @implements("graph.fourier/repeated", composed=True, native=(EIGH, LAP),
                params={**LAP_PARAMS, **EIGH_PARAMS})
    def graph_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                 clusters: Any = None, *, normalization: str | None = None,
                                 isolated: str = "one") -> Any:
        xc = _columns(x)
        n = xc.shape[0]
        lam, u = _spectrum(edge_index, edge_weight, n, normalization, isolated)
        x_hat = u.T @ xc
        ids = torch.arange(n, device=x.device) if clusters is None else clusters
        terms = u.T[:, :, None] * x_hat[:, None, :]  # term i: u_i x_hat_i
        proj = torch.zeros_like(terms).index_add(0, ids, terms)[ids]
        return lam, (u * lam) @ u.T, proj, u @ x_hat

    @implements("graph.inverse_fourier/distinct", composed=True, native=(EIGH, LAP),
                params={**LAP_PARAMS, **EIGH_PARAMS})
    @implements("graph.inverse_fourier/repeated", composed=True, native=(EIGH, LAP),
                params={**LAP_PARAMS, **EIGH_PARAMS})
    def graph_inverse_fourier_invariants(self, x: Any, edge_index: Any, edge_weight: Any,
                                         c: Any, clusters: Any = None, *,
                                         normalization: str | None = None,
                                         isolated: str = "one") -> Any:
        xc = _columns(x)
        n = xc.shape[0]
        lam, u = _spectrum(edge_index, edge_weight, n, normalization, isolated)
        x_hat = u.T @ xc
        per = c if clusters is None else c[clusters]
        return u @ (per[:, None] * x_hat), u @ x_hat

    @implements("graph.spectral_filter", composed=True, native=(EIGH, LAP),
                params={**LAP_PARAMS, **EIGH_PARAMS})
    def graph_spectral_filter(self, x: Any, edge_index: Any, edge_weight: Any, *,
                              kernel: str = "heat", t: float = 1.0,
                              normalization: str | None = None, isolated: str = "one") -> Any:
        xc = _columns(x)
        lam, u = _spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
        y = u @ (_response(lam, kernel, t)[:, None] * (u.T @ xc))
        return y[:, 0] if x.dim() == 1 else y

    @implements("graph.chebyshev", native="torch_geometric.nn.conv.ChebConv", params={
        **IN_OUT, "K": "drawn: from w.shape (its leading size)",
        "normalization": "drawn", **BIAS,
        "lambda_max": "drawn",
        "batch": "not covered: one lambda_max per batch is the same op per graph"})
    def graph_chebyshev(self, x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any, *,
                        lambda_max: float, normalization: str | None = "sym",
                        isolated: str = "one") -> Any:
        if isolated != "one":
            raise ValueError("ChebConv's Laplacian has 1 on isolated nodes (isolated='one')")
        k, f_out, f_in = w.shape
        m = layer(conv("ChebConv"), f_in, f_out, k, normalization, b is not None)
        params = {f"lins.{i}.weight": w[i] for i in range(k)} | {"bias": b}
        return run(m, params, x, edge_index, edge_weight, lambda_max=lambda_max)
