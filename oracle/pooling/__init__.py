"""Pooling (catalog family ``pool``, notes 003), one package: ``windows`` holds the window
rule and every pooling that reduces a window to one value (max, min, average, L2, global);
``special`` the selections beyond one window value (stochastic pooling, max unpooling,
k-max pooling). Everything public is re-exported here, so ``from oracle import pooling as P;
P.max_pool`` needs no knowledge of the split.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.pooling import special, windows
from oracle.pooling.special import (
    kmax_pool,
    max_unpool,
    stochastic_pool_eval,
    stochastic_pool_probs,
)
from oracle.pooling.windows import (
    IntOrTuple,
    MaxPoolResult,
    Windows,
    avg_pool,
    first_extremum,
    global_avg_pool,
    global_max_pool,
    l2_pool,
    max_pool,
    max_pool_with_indices,
    min_pool,
    pool_geometry,
    pool_windows,
    same_pads,
    sliding_windows,
    spatial_rank,
)

__all__ = [
    "ORACLE", "IntOrTuple", "MaxPoolResult", "Windows", "avg_pool", "first_extremum",
    "global_avg_pool", "global_max_pool", "kmax_pool", "l2_pool", "max_pool",
    "max_pool_with_indices", "max_unpool", "min_pool", "pool_geometry", "pool_windows",
    "same_pads", "sliding_windows", "spatial_rank", "stochastic_pool_eval", "stochastic_pool_probs",
]

ORACLE: dict[str, Callable[..., Any]] = {**windows.ORACLE, **special.ORACLE}
