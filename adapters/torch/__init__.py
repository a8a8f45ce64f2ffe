"""The PyTorch backend: ``TorchAdapter`` = the core plus one mixin per oracle family."""

from adapters.torch.activations import ActivationOps
from adapters.torch.adapter import TorchCore
from adapters.torch.autodiff import AutodiffOps
from adapters.torch.blocks import BlockOps
from adapters.torch.conv import ConvOps
from adapters.torch.losses import LossOps
from adapters.torch.normalization import NormalizationOps
from adapters.torch.pooling import PoolingOps
from adapters.torch.regularization import RegularizationOps


class TorchAdapter(ActivationOps, LossOps, NormalizationOps, PoolingOps, RegularizationOps,
                   AutodiffOps, ConvOps, BlockOps, TorchCore):
    """torch.nn.functional kernels (torch.nn modules where the functional API has none)."""


__all__ = ["TorchAdapter"]
