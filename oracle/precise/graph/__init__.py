"""mpmath transcriptions of the ``graph`` family (oracle/graph/), written from the formulas
in the oracle's docstrings, not by calling it: loops over edges and nodes on NumPy object
arrays of ``mpmath.mpf``, evaluated at the caller's precision (``mpmath.workdps(50)``).

The eigendecomposition is ``mpmath.eigsy`` (Jacobi), sorted ascending, each column's entry of
largest magnitude made positive (the oracle's sign convention); at repeated eigenvalues that
basis is as arbitrary as any, so ``fourier`` and ``inverse_fourier`` are comparable with the
oracle only for distinct spectra (their invariants are comparable always).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.precise.graph._mp import _mp
from oracle.precise.graph.layers import (
    aggregate,
    diffusion,
    edge_conv,
    gat,
    gcn,
    gin,
    monet,
    readout,
    residual_dense,
)
from oracle.precise.graph.spectral import (
    chebyshev,
    dirichlet_energy,
    fourier,
    inverse_fourier,
    laplacian,
    normalized_laplacian,
    spectral_filter,
)

__all__ = ["PRECISE", "_mp"]

PRECISE: dict[str, Callable[..., Any]] = {
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
