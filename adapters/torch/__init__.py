"""The PyTorch backend: ``TorchAdapter`` = the core plus one mixin per oracle family."""

from adapters.torch.activations import ActivationOps
from adapters.torch.adapter import TorchCore


class TorchAdapter(ActivationOps, TorchCore):
    """torch.nn.functional kernels (torch.nn modules where the functional API has none)."""


__all__ = ["TorchAdapter"]
