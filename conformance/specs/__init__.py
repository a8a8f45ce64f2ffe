"""Spec modules, one per oracle family; importing this package registers every spec."""

from conformance.registry import REGISTRY, OpSpec
from conformance.specs import (
    activations,  # noqa: F401
    autodiff,  # noqa: F401
    autodiff_composite,  # noqa: F401
    blocks,  # noqa: F401
    conv,  # noqa: F401
    losses,  # noqa: F401
    normalization,  # noqa: F401
    pooling,  # noqa: F401
    pooling_special,  # noqa: F401
    regularization,  # noqa: F401
)


def all_specs() -> dict[str, OpSpec]:
    """Every registered spec (importing this package registered them)."""
    return REGISTRY
