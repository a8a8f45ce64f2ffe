"""Graph neural networks and spectral graph theory (catalog family ``graph``, notes 000,
001, 002, 004), float64 NumPy.

One graph representation for every op (``_base.py``): ``edge_index`` (2, E) integers with
messages flowing source -> target, optional ``edge_weight`` (E,), N from the node features
(or ``num_nodes``); an undirected graph lists both directions. Modules:

* ``spectral``: Laplacians (combinatorial, normalized with an explicit isolated-node
  convention), Dirichlet energy (pairwise and quadratic forms), the graph Fourier transform,
  its inverse and their basis-free invariants, spectral filters g(L) x, Chebyshev (ChebNet).
* ``layers``: GCN, GraphSAGE aggregators (sum, mean, max-pool, LSTM), GAT, GIN, diffusion
  (DCNN, DGC), MoNet.
* ``deep``: per-graph readout, EdgeConv over a dilated k-NN graph, residual/dense stacks.

Every op runs unchanged on dual numbers; the eigendecomposition has an explicit derivative
rule (``oracle/autodiff/linalg.py``), which raises at repeated eigenvalues.
"""

from collections.abc import Callable
from typing import Any

from oracle.graph._base import adjacency
from oracle.graph.deep import edge_conv, knn_graph, readout, residual_dense
from oracle.graph.layers import aggregate, diffusion, gat, gcn, gin, monet
from oracle.graph.spectral import (
    FourierInvariants,
    GraphFourier,
    InverseFourierInvariants,
    chebyshev,
    dirichlet_energy,
    fourier,
    fourier_invariants,
    inverse_fourier,
    inverse_fourier_invariants,
    laplacian,
    normalized_laplacian,
    spectral_filter,
    spectrum,
)

__all__ = [
    "FourierInvariants", "GraphFourier", "InverseFourierInvariants", "adjacency", "aggregate",
    "chebyshev", "diffusion", "dirichlet_energy", "edge_conv", "fourier", "fourier_invariants",
    "gat", "gcn", "gin", "inverse_fourier", "inverse_fourier_invariants", "knn_graph",
    "laplacian", "monet", "normalized_laplacian", "readout", "residual_dense",
    "spectral_filter", "spectrum",
]

ORACLE: dict[str, Callable[..., Any]] = {
    "graph.laplacian": laplacian,
    "graph.normalized_laplacian": normalized_laplacian,
    "graph.dirichlet_energy": dirichlet_energy,
    "graph.fourier": fourier,
    "graph.inverse_fourier": inverse_fourier,
    "graph.spectral_filter": spectral_filter,
    "graph.chebyshev": chebyshev,
    "graph.gcn": gcn,
    "graph.aggregate": aggregate,
    "graph.gat": gat,
    "graph.gin": gin,
    "graph.diffusion": diffusion,
    "graph.monet": monet,
    "graph.readout": readout,
    "graph.edge_conv": edge_conv,
    "graph.residual_dense": residual_dense,
}
