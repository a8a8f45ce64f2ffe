"""``OPS``: every implemented catalog id mapped to its oracle function.

Assembled explicitly from the ``ORACLE`` dict at the bottom of each family module; an id
registered twice is an error, never a silent override.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

# One import line and one _FAMILIES entry per family module.
import oracle.activations as activations
import oracle.architectures as architectures
import oracle.attention as attention
import oracle.augmentation as augmentation
import oracle.autodiff as autodiff
import oracle.blocks as blocks
import oracle.conv as conv
import oracle.dense as dense
import oracle.graph as graph
import oracle.losses as losses
import oracle.normalization as normalization
import oracle.optimizers as optimizers
import oracle.pooling as pooling
import oracle.regularization as regularization
import oracle.rnn as rnn
import oracle.schedules as schedules

OracleFn = Callable[..., Any]

_FAMILIES: tuple[Mapping[str, OracleFn], ...] = (
    activations.ORACLE,
    losses.ORACLE,
    dense.ORACLE,
    normalization.ORACLE,
    pooling.ORACLE,
    regularization.ORACLE,
    conv.ORACLE,
    blocks.ORACLE,
    architectures.ORACLE,
    autodiff.ORACLE,
    augmentation.ORACLE,
    rnn.ORACLE,
    attention.ORACLE,
    graph.ORACLE,
    optimizers.ORACLE,
    schedules.ORACLE,
)


def _assemble(families: Iterable[Mapping[str, OracleFn]]) -> dict[str, OracleFn]:
    ops: dict[str, OracleFn] = {}
    for family in families:
        for op_id, fn in family.items():
            if op_id in ops:
                raise ValueError(f"catalog id {op_id!r} registered twice")
            ops[op_id] = fn
    return ops


OPS: dict[str, OracleFn] = _assemble(_FAMILIES)
