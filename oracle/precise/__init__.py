"""mpmath transcriptions of the oracle's formulas, written separately from the NumPy ones.

Each family module ``oracle/precise/<module>.py`` holds, per catalog id, a function with the
oracle function's signature (float64 NumPy inputs, keyword hyper-parameters) that returns the
same structure as NumPy object arrays of ``mpmath.mpf``, evaluated at the caller's mpmath
precision (``mpmath.workdps(50)``). They are the truth the oracle's own accuracy is measured
against (``python -m oracle accuracy``). Registration is explicit: one import and one
``_FAMILIES`` entry per family module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from oracle.precise import (
    activations,
    architectures,
    attention,
    augmentation,
    autodiff,
    blocks,
    conv,
    dense,
    graph,
    losses,
    normalization,
    optimizers,
    pooling,
    regularization,
    rnn,
    schedules,
)

PreciseFn = Callable[..., Any]

_FAMILIES: tuple[Mapping[str, PreciseFn], ...] = (
    activations.PRECISE,
    losses.PRECISE,
    dense.PRECISE,
    normalization.PRECISE,
    pooling.PRECISE,
    regularization.PRECISE,
    conv.PRECISE,
    blocks.PRECISE,
    architectures.PRECISE,
    autodiff.PRECISE,
    augmentation.PRECISE,
    attention.PRECISE,
    optimizers.PRECISE,
    schedules.PRECISE,
    graph.PRECISE,
    rnn.PRECISE,
)


def _assemble(families: Iterable[Mapping[str, PreciseFn]]) -> dict[str, PreciseFn]:
    out: dict[str, PreciseFn] = {}
    for family in families:
        for op, fn in family.items():
            if op in out:
                raise ValueError(f"{op!r} has two mpmath transcriptions")
            out[op] = fn
    return out


PRECISE: dict[str, PreciseFn] = _assemble(_FAMILIES)
