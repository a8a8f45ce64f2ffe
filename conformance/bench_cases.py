"""Fixed benchmark inputs, separate from the (small) conformance inputs.

Three sizes per op: "small" (launch/dispatch overhead dominates), "medium" (fits in cache),
"large" (tens of MB: leaves the caches, so memory-bound kernels show their bandwidth).
Values come from a fixed generator: a benchmark must time the same work every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from conformance.registry import Case

SIZES = ("small", "medium", "large")


def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def normal(shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return scale * rng().standard_normal(shape)


def by_size(make: Callable[[tuple[int, ...]], Case],
            shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Callable[[], Case]]:
    """{size: factory} from one case builder and a shape per size."""
    return {size: (lambda s=shape: make(s)) for size, shape in shapes.items()}


ELEMENTWISE = {"small": (64, 64), "medium": (512, 512), "large": (4096, 2048)}
ROWS = {"small": (64, 64), "medium": (256, 1024), "large": (8192, 1024)}


def unary(**kwargs: Any) -> dict[str, Callable[[], Case]]:
    return by_size(lambda s: Case((normal(s, 3.0),), dict(kwargs), ("x",)), ELEMENTWISE)


def rowwise(**kwargs: Any) -> dict[str, Callable[[], Case]]:
    return by_size(lambda s: Case((normal(s, 3.0),), dict(kwargs), ("x",)), ROWS)
