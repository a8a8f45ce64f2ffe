"""Specs of the ``graph`` family, one module per part of ``oracle/graph/``: ``spectral``
(Laplacians, energy, Fourier, filters, Chebyshev) and ``layers`` (message passing, readout,
DeepGCN). Graph strategies: ``_graphs``. Importing the package registers both."""

from conformance.specs.graph import layers, spectral  # noqa: F401
