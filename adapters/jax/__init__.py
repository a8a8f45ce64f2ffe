"""The JAX backend: ``JaxAdapter`` = the core plus one mixin per oracle family."""

from adapters.jax.activations import ActivationOps
from adapters.jax.adapter import JaxCore
from adapters.jax.architectures import ArchitectureOps
from adapters.jax.attention import AttentionOps
from adapters.jax.augmentation import AugmentationOps
from adapters.jax.autodiff import AutodiffOps
from adapters.jax.blocks import BlockOps
from adapters.jax.conv import ConvOps
from adapters.jax.dense import DenseOps
from adapters.jax.graph import GraphOps
from adapters.jax.losses import LossOps
from adapters.jax.normalization import NormalizationOps
from adapters.jax.optimizers import OptimizerOps
from adapters.jax.pooling import PoolingOps
from adapters.jax.regularization import RegularizationOps
from adapters.jax.rnn import RnnOps
from adapters.jax.schedules import ScheduleOps


class JaxAdapter(ActivationOps, LossOps, DenseOps, NormalizationOps, PoolingOps, RegularizationOps,
                 AutodiffOps, ConvOps, BlockOps, ArchitectureOps, GraphOps, AugmentationOps,
                 AttentionOps, OptimizerOps, ScheduleOps, RnnOps, JaxCore):
    """jax.nn / jax.lax kernels, run eagerly with x64 enabled."""


__all__ = ["JaxAdapter"]
