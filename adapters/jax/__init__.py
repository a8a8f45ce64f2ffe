"""The JAX backend: ``JaxAdapter`` = the core plus one mixin per oracle family."""

from adapters.jax.activations import ActivationOps
from adapters.jax.adapter import JaxCore
from adapters.jax.autodiff import AutodiffOps
from adapters.jax.blocks import BlockOps
from adapters.jax.conv import ConvOps
from adapters.jax.losses import LossOps
from adapters.jax.normalization import NormalizationOps
from adapters.jax.pooling import PoolingOps
from adapters.jax.regularization import RegularizationOps


class JaxAdapter(ActivationOps, LossOps, NormalizationOps, PoolingOps, RegularizationOps,
                 AutodiffOps, ConvOps, BlockOps, JaxCore):
    """jax.nn / jax.lax kernels, run eagerly with x64 enabled."""


__all__ = ["JaxAdapter"]
