"""The PyTorch backend: ``TorchAdapter`` = the core plus one mixin per oracle family."""

from adapters.torch.activations import ActivationOps
from adapters.torch.adapter import TorchCore
from adapters.torch.architectures import ArchitectureOps
from adapters.torch.attention import AttentionOps
from adapters.torch.augmentation import AugmentationOps
from adapters.torch.autodiff import AutodiffOps
from adapters.torch.blocks import BlockOps
from adapters.torch.conv import ConvOps
from adapters.torch.dense import DenseOps
from adapters.torch.graph import GraphOps
from adapters.torch.losses import LossOps
from adapters.torch.normalization import NormalizationOps
from adapters.torch.optimizers import OptimizerOps
from adapters.torch.pooling import PoolingOps
from adapters.torch.regularization import RegularizationOps
from adapters.torch.rnn import RnnOps
from adapters.torch.schedules import ScheduleOps


class TorchAdapter(ActivationOps, LossOps, DenseOps, NormalizationOps, PoolingOps,
                   RegularizationOps, AutodiffOps, ConvOps, BlockOps, ArchitectureOps, RnnOps,
                   GraphOps, AttentionOps, OptimizerOps, ScheduleOps, AugmentationOps, TorchCore):
    """torch.nn.functional kernels (torch.nn modules where the functional API has none)."""


__all__ = ["TorchAdapter"]
