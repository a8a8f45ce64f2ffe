"""The hard input classes the oracle's accuracy is measured on.

Each class draws float64 values of a given shape from a NumPy generator (itself seeded by
hypothesis, so a run is reproducible from ``--seed``). An op lists the classes that lie in
its domain (oracle/accuracy/cases.py): squares of "huge" values overflow and of "minute"
ones underflow, so only ops that scale before squaring take those.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Shape = tuple[int, ...]
Generator = Callable[[np.random.Generator, Shape], np.ndarray]


def _signed(rng: np.random.Generator, shape: Shape, lo: float, hi: float) -> np.ndarray:
    """sign * 10^U(lo, hi): magnitudes spread over the decades lo..hi."""
    sign = rng.choice((-1.0, 1.0), size=shape)
    return sign * 10.0 ** rng.uniform(lo, hi, size=shape)


def ordinary(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.uniform(-3.0, 3.0, size=shape)


def large(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [1e100, 1e150]: products and squares still fit in float64."""
    return _signed(rng, shape, 100.0, 150.0)


def huge(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [1e155, 1e300]: x * x overflows."""
    return _signed(rng, shape, 155.0, 300.0)


def tiny(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [1e-150, 1e-100]: squares stay normal."""
    return _signed(rng, shape, -150.0, -100.0)


def minute(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [1e-300, 1e-155]: x * x underflows to a subnormal or to 0."""
    return _signed(rng, shape, -300.0, -155.0)


def subnormal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Subnormal values (below 2^-1022), signed."""
    sign = rng.choice((-1.0, 1.0), size=shape)
    return sign * rng.integers(1, 2**40, size=shape).astype(np.float64) * 2.0**-1074


def offset(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """A large common offset with small noise: 1e4 + 1e-3 * N(0, 1)."""
    return 1e4 + 1e-3 * rng.standard_normal(shape)


def cancellation(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Values whose sum nearly cancels: +-a pairs of size ~100 with 1e-6 perturbations."""
    n = int(np.prod(shape))
    half = 100.0 * rng.standard_normal((n + 1) // 2)
    vals = np.concatenate([half, -half + 1e-6 * rng.standard_normal(half.shape)])[:n]
    return rng.permutation(vals).reshape(shape)


def near_ties(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Values a few ulps apart around one centre (near-ties for max, sort, softmax)."""
    centre = rng.uniform(-3.0, 3.0)
    steps = rng.integers(-3, 4, size=shape)
    return centre + steps * np.spacing(centre)


def saturation(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """|x| in [30, 700]: logits where sigmoid/softmax saturate and exp(x) nears overflow."""
    return rng.choice((-1.0, 1.0), size=shape) * rng.uniform(30.0, 700.0, size=shape)


CLASSES: dict[str, Generator] = {
    "ordinary": ordinary, "large": large, "huge": huge, "tiny": tiny, "minute": minute,
    "subnormal": subnormal, "offset": offset, "cancellation": cancellation,
    "near_ties": near_ties, "saturation": saturation,
}

DESCRIPTIONS: dict[str, str] = {
    "ordinary": "U(-3, 3)",
    "large": "|x| = 10^U(100, 150)",
    "huge": "|x| = 10^U(155, 300) (squares overflow)",
    "tiny": "|x| = 10^U(-150, -100)",
    "minute": "|x| = 10^U(-300, -155) (squares underflow)",
    "subnormal": "subnormal values",
    "offset": "1e4 + 1e-3 N(0, 1)",
    "cancellation": "+-a pairs (a ~ 100) perturbed by 1e-6: sums cancel",
    "near_ties": "values a few ulps apart",
    "saturation": "|x| = U(30, 700) (saturating logits)",
    "spec": "drawn by the op's conformance spec (conformance/specs)",
}
