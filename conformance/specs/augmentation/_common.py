"""Inputs shared by the aug specs: small NCHW image menus (JAX compiles per shape), RGB
pixels away from the colour ops' kinks, and the 224x224 / 1024x1024 benchmark batches."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case

# Fixed image shapes (N, C, H, W): at most 64 elements where the full Jacobian is checked
# (one dual pass per element: the cost of a vjp check grows with it), one larger shape
# checked through <g, u> = <v, J u> only. Three per menu: JAX compiles per shape, dtype and
# mode, most of the family's JAX time (a fourth shape cost ~10% of the run).
IMAGES = ((1, 1, 3, 4), (2, 3, 2, 3), (2, 3, 5, 4))
RGB = ((1, 3, 2, 2), (2, 3, 2, 3), (2, 3, 5, 4))
# Benchmarks: RGB batches of 224x224 (one image and 16) and 1024x1024 (4 images).
BENCH_IMAGES = {"small": (1, 3, 224, 224), "medium": (16, 3, 224, 224),
                "large": (4, 3, 1024, 1024)}
# Colour values are multiples of 2^-8: exact in bfloat16 (8 significant bits) and above.
GRID = 256


def images(shapes: tuple[tuple[int, ...], ...] = IMAGES, lo: float = -4.0, hi: float = 4.0,
           unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    return st.sampled_from(shapes).flatmap(lambda s: S.arrays(s, lo, hi, unique=unique))


@st.composite
def rgb_pixels(d: st.DrawFn, shape: tuple[int, ...], lo: int = 24, hi: int = 232,
               gap: int = 8) -> np.ndarray:
    """RGB images on the 1/256 grid in [lo, hi]/256 whose three channels differ by at least
    gap/256 at every pixel (no ties in the HSV max and min), in a drawn order per pixel.
    One integer array is drawn (per pixel: the lowest value, two gaps, the order) and decoded,
    which costs hypothesis a quarter of four separate draws."""
    n, c, h, w = shape
    codes = d(hnp.arrays(np.int64, (n * h * w, 4), elements=st.integers(0, 2**12 - 1)))
    base = lo + codes[:, 0] % (hi - 2 * gap - lo + 1)
    room = hi - base
    g1 = np.minimum(gap + codes[:, 1] % (3 * gap + 1), room - gap)
    g2 = np.minimum(gap + codes[:, 2] % (3 * gap + 1), room - g1)
    perms = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
    vals = np.stack([base, base + g1, base + g1 + g2], axis=1)
    vals = np.take_along_axis(vals, perms[codes[:, 3] % 6], axis=1)
    return (vals / GRID).reshape(n, h, w, 3).transpose(0, 3, 1, 2).copy()


def bench_images(make: Callable[[tuple[int, ...]], Case]) -> dict[str, Callable[[], Case]]:
    return B.by_size(make, BENCH_IMAGES)


def bench_unit(**kwargs) -> dict[str, Callable[[], Case]]:
    """Benchmark images with values in [0, 1] and fixed keyword arguments."""
    return bench_images(lambda s: Case((B.rng().uniform(0.0, 1.0, s),), dict(kwargs), ("x",)))
