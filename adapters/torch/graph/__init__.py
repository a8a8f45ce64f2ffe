"""torch mappings of the ``graph`` family (PyG 2.8.1 layers, torch.linalg.eigh)."""

from adapters.torch.graph.layers import LayerOps
from adapters.torch.graph.spectral import SpectralOps


class GraphOps(SpectralOps, LayerOps):
    pass


__all__ = ["GraphOps"]
