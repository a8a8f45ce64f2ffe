"""The JAX backend: ``JaxAdapter`` = the core plus one mixin per oracle family."""

from adapters.jax.activations import ActivationOps
from adapters.jax.adapter import JaxCore
from adapters.jax.losses import LossOps
from adapters.jax.normalization import NormalizationOps


class JaxAdapter(ActivationOps, LossOps, NormalizationOps, JaxCore):
    """jax.nn / jax.lax kernels, run eagerly with x64 enabled."""


__all__ = ["JaxAdapter"]
