"""Spec modules, one per oracle family; importing this package registers every spec."""

from conformance.registry import REGISTRY, OpSpec
from conformance.specs import (
    activations,  # noqa: F401
    architectures,  # noqa: F401
    attention,  # noqa: F401
    augmentation,  # noqa: F401
    autodiff,  # noqa: F401
    blocks,  # noqa: F401
    conv,  # noqa: F401
    dense,  # noqa: F401
    graph,  # noqa: F401
    losses,  # noqa: F401
    normalization,  # noqa: F401
    optimizers,  # noqa: F401
    pooling,  # noqa: F401
    regularization,  # noqa: F401
    rnn,  # noqa: F401
    schedules,  # noqa: F401
)


def all_specs() -> dict[str, OpSpec]:
    """Every registered spec (importing this package registered them)."""
    return REGISTRY
