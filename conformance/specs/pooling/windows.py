"""Specs of the ``pool`` family, window pooling: max (values, dilated windows, torch's
indices, ties), min, average, L2 and global pooling.

Geometry comes from a fixed MENU of (input shape, kernel, stride, padding, dilation,
ceil_mode) scenarios per spec, drawn by hypothesis like ``strategies.shapes``: eager JAX
compiles reduce_window per shape and geometry, so free geometry would compile per example.
Each menu is a pure function of its parameters and covers, among its few entries, padding,
stride != kernel, ceil-mode partial windows, inputs whose end no window covers and
non-square kernels. Dilation has its own spec (``pool.max/dilated``, every scenario dilated):
JAX has no reverse mode for it. ``count_include_pad`` and ``mean`` change no shape and are
drawn freely.

Max/min pooling gradients are checked on tie-free inputs (distinct values on a grid that
every dtype holds exactly). Ties are checked separately (``pool.max/ties``): torch, TF and
JAX's reverse mode route the gradient to the first maximum, the oracle's rule (JAX's forward
mode does not always). Global max with ties (``pool.global_max/ties``) is where they part:
tf.reduce_max and jnp.max split it equally between the tied maxima.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from oracle import pooling as P

Scenario = tuple[tuple[int, ...], dict[str, Any]]
# Distinct integers, scaled by 2**-4: exact in bfloat16 (8 significant bits) and float16.
UNIQUE_GRID = range(-128, 129)
UNIQUE_SCALE = 2.0**-4
# Values with many ties (small integers) for the tie-rule specs.
TIED = (0.0, 1.0, 2.0)
# L2 pooling is not differentiable where a window is all zero: keep |x| >= this.
NONZERO_GAP = 2.0**-4


def _features(shape: tuple[int, ...], g: dict[str, Any]) -> set[str]:
    found = set()
    axes = zip(shape[2:], g["kernel"], g["stride"], g["padding"], g["dilation"], strict=True)
    for n, k, s, p, d in axes:
        span = n + 2 * p - d * (k - 1) - 1
        found |= {"pad"} if p else set()
        found |= {"stride"} if s != k else set()
        found |= {"dil"} if d > 1 else set()
        found |= {"ceil" if g["ceil_mode"] else "edge"} if span % s else set()
    if len(set(g["kernel"])) > 1:
        found.add("rect")
    return found


def menu(rank: int, count: int, *, dilation: bool = False, ceil: bool = False,
         padding: bool = True, stride_ge_kernel: bool = False,
         max_size: int = len(UNIQUE_GRID) - 1) -> list[Scenario]:
    """``count`` valid scenarios from a fixed generator, each added only while it brings a
    feature (padding, stride, ceil overhang, uncovered end, dilation, rectangle) that the
    menu lacks; at most ``max_size`` elements (the unique-value grid). With ``dilation``
    every scenario has a dilation > 1."""
    rng = np.random.default_rng([rank, count, dilation, ceil, padding, stride_ge_kernel])
    optional = {"pad": padding, "dil": dilation, "ceil": ceil, "rect": rank > 1}
    wanted = {"stride", "edge"} | {f for f, on in optional.items() if on}
    side = 7 if rank < 3 else 5
    found: list[Scenario] = []
    covered: set[str] = set()
    for attempt in range(100_000):
        if len(found) == count:
            break
        k = [int(v) for v in rng.integers(2, 4, rank)]
        s = [int(v) for v in rng.integers(1, 4, rank)]
        if stride_ge_kernel:
            s = [max(a, b) for a, b in zip(s, k, strict=True)]
        geometry = {
            "kernel": tuple(k), "stride": tuple(s),
            "padding": tuple(int(rng.integers(0, v // 2 + 1)) if padding else 0 for v in k),
            "dilation": tuple(int(v) for v in rng.integers(1, 3, rank)) if dilation
            else (1,) * rank,
            "ceil_mode": bool(rng.integers(2)) if ceil else False,
        }
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)),
                 *(int(v) for v in rng.integers(3, side + 1, rank)))
        if math.prod(shape) > max_size or not _valid(shape, geometry):
            continue
        if dilation and max(geometry["dilation"]) == 1:
            continue
        feats = _features(shape, geometry) & wanted
        # Late attempts take any valid scenario: the menu size is fixed either way.
        if feats - covered or covered == wanted or attempt > 10_000:
            found.append((shape, geometry))
            covered |= feats
    return found


def _valid(shape: tuple[int, ...], geometry: dict[str, Any]) -> bool:
    try:
        P.pool_windows(np.zeros(shape), **geometry)
    except ValueError:
        return False
    return True


def unique_values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Distinct grid values (no ties, in every dtype), at most len(UNIQUE_GRID) of them."""
    return S.distinct_from(tuple(UNIQUE_GRID), tuple(shape), UNIQUE_SCALE)


def tied_values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return S.picked(TIED, tuple(shape))


def free_values(lo: float, hi: float):
    return lambda shape: S.arrays(shape, lo, hi)


def special_values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Values in [-4, 4] with NaN, +-inf and -0.0 among them (at least one NaN): the oracle
    propagates a NaN in a window (the first NaN wins), as torch and JAX do."""
    return S.arrays(shape, -4.0, 4.0, special=True)


def nonzero_values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return S.away_from(S.arrays(shape, -4.0, 4.0), [0.0], NONZERO_GAP)


def scenario_inputs(scenarios: list[Scenario], values, keys: tuple[str, ...],
                    extra: dict[str, st.SearchStrategy[Any]] | None = None):
    """Case((x,), geometry restricted to ``keys`` + the ``extra`` draws) per scenario."""

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            shape, geometry = d(st.sampled_from(scenarios))
            kwargs = {k: geometry[k] for k in keys}
            kwargs.update({k: d(v) for k, v in (extra or {}).items()})
            return Case((d(values(shape)),), kwargs, ("x",))

        return draw()

    return inputs


def _global(values):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            # Rank 3 to 5 (1 to 3 spatial axes); sides <= 3 keep x within the unique grid.
            x = d(values(d(S.shapes(3, 5, 1, 3))))
            return Case((x,), {"keepdims": d(st.booleans())}, ("x",))

        return draw()

    return inputs


MAX_KEYS = ("kernel", "stride", "padding", "dilation", "ceil_mode")
AVG_KEYS = ("kernel", "stride", "padding", "ceil_mode")
L2_KEYS = ("kernel", "stride", "padding")

# One geometry menu per rank for max, min and average pooling (no dilation), and dilated
# max pooling on its own (JAX cannot reverse-differentiate it).
MENUS = {1: menu(1, 3, ceil=True), 2: menu(2, 5, ceil=True), 3: menu(3, 3, ceil=True)}
DILATED_MENU = menu(1, 2, dilation=True, ceil=True) + menu(2, 3, dilation=True, ceil=True)
L2_MENU = menu(2, 4)
CIP = {"count_include_pad": st.booleans()}
# TF's SAME padding (padding="same"), fixed scenarios with odd totals (the extra element at
# the end) on some axes and even ones on others, 1-d and 2-d (3-d pools lack half kernels on
# torch's CPU and float64 ones in TF's MaxPool3D: pool.avg/3d covers those).
_G = {"dilation": None, "ceil_mode": False, "padding": "same"}
SAME_MENU: list[Scenario] = [
    ((2, 2, 7), {**_G, "kernel": (2,), "stride": (1,), "dilation": (1,)}),
    ((1, 2, 7), {**_G, "kernel": (3,), "stride": (2,), "dilation": (1,)}),
    ((1, 2, 6, 5), {**_G, "kernel": (3, 2), "stride": (1, 2), "dilation": (1, 1)}),
    ((2, 1, 5, 5), {**_G, "kernel": (2, 3), "stride": (2, 2), "dilation": (1, 1)}),
]
# Padding above kernel // 2 (wide_padding=True): torch raises, JAX's reduce_window and an
# explicit tf.pad take it. Every window still holds a real element.
_W = {"ceil_mode": False, "wide_padding": True}
WIDE_MENU: list[Scenario] = [
    ((2, 2, 5), {**_W, "kernel": (3,), "stride": (2,), "padding": (2,), "dilation": (1,)}),
    ((2, 1, 7), {**_W, "kernel": (4,), "stride": (3,), "padding": (3,), "dilation": (1,)}),
    ((1, 2, 6, 5), {**_W, "kernel": (2, 3), "stride": (2, 2), "padding": (1, 2),
                    "dilation": (1, 1)}),
]
WIDE = ("wide_padding",)
# torch's avg_pool divisor_override: any nonzero int (1 to past the largest window).
DIVISOR = {"divisor_override": st.integers(1, 12)}
# Lp pooling's powers (torch's LPPool norm_type), dyadic; 2 is pool.l2's own.
LP_NORMS = (1.0, 1.5, 3.0, 4.0)

# --- benchmarks: NC* batches, kernel 3, stride 2, padding 1 ----------------------------------
BENCH_SHAPES = {
    1: {"small": (2, 8, 256), "medium": (8, 32, 4096), "large": (32, 64, 4096)},
    2: {"small": (2, 8, 16, 16), "medium": (8, 32, 32, 32), "large": (32, 64, 64, 64)},
    3: {"small": (1, 4, 8, 8, 8), "medium": (4, 16, 16, 16, 16), "large": (8, 32, 32, 32, 32)},
}


def bench(rank: int, keys: tuple[str, ...], positive: bool = False, **extra: Any) -> dict:
    geometry = {"kernel": (3,) * rank, "stride": (2,) * rank, "padding": (1,) * rank,
                "dilation": (1,) * rank, "ceil_mode": False}
    kwargs = {**{k: geometry[k] for k in keys}, **extra}

    def make(shape: tuple[int, ...]) -> Case:
        x = B.normal(shape, 3.0)
        return Case((np.abs(x) + 0.25 if positive else x,), kwargs, ("x",))

    return B.by_size(make, BENCH_SHAPES[rank])


def _global_bench() -> dict:
    return B.by_size(lambda s: Case((B.normal(s, 3.0),), {"keepdims": False}, ("x",)),
                     BENCH_SHAPES[2])


register(
    *(OpSpec(f"pool.max/{r}d", P.max_pool, scenario_inputs(MENUS[r], unique_values, MAX_KEYS),
             grad_wrt=(0,), bench=bench(r, MAX_KEYS)) for r in (1, 2, 3)),
    OpSpec("pool.max/dilated", P.max_pool,
           scenario_inputs(DILATED_MENU, unique_values, MAX_KEYS), grad_wrt=(0,),
           notes="1-d and 2-d windows with a dilation > 1"),
    OpSpec("pool.max/indices", P.max_pool_with_indices,
           scenario_inputs(MENUS[2], unique_values, MAX_KEYS), grad_wrt=(0,),
           grad_outputs=(0,), bench=bench(2, MAX_KEYS),
           notes="2-d (tf.nn.max_pool_with_argmax has no other rank), no dilation"),
    OpSpec("pool.max/ties", P.max_pool, scenario_inputs(MENUS[2], tied_values, MAX_KEYS),
           grad_wrt=(0,), notes="ties: the gradient goes to the first maximum"),
    OpSpec("pool.min", P.min_pool, scenario_inputs(MENUS[2], unique_values, MAX_KEYS),
           grad_wrt=(0,), bench=bench(2, MAX_KEYS)),
    # IEEE special values (issue 17): values only (no derivative at NaN or inf).
    OpSpec("pool.max/special", P.max_pool, scenario_inputs(MENUS[2], special_values, MAX_KEYS),
           notes="NaN, +-inf, -0.0 in the windows: a NaN propagates"),
    OpSpec("pool.min/special", P.min_pool, scenario_inputs(MENUS[2], special_values, MAX_KEYS),
           notes="NaN, +-inf, -0.0 in the windows: a NaN propagates"),
    *(OpSpec(f"pool.avg/{r}d", P.avg_pool,
             scenario_inputs(MENUS[r], free_values(-4.0, 4.0), AVG_KEYS, CIP),
             grad_wrt=(0,), bench=bench(r, AVG_KEYS, count_include_pad=True))
      for r in (1, 2, 3)),
    OpSpec("pool.avg/divisor", P.avg_pool,
           scenario_inputs(MENUS[2], free_values(-4.0, 4.0), AVG_KEYS, {**CIP, **DIVISOR}),
           grad_wrt=(0,), notes="torch's divisor_override: every window sum over one int"),
    OpSpec("pool.max/same", P.max_pool, scenario_inputs(SAME_MENU, unique_values, MAX_KEYS),
           grad_wrt=(0,), notes="TF's SAME padding, asymmetric for an odd total"),
    OpSpec("pool.avg/same", P.avg_pool,
           scenario_inputs(SAME_MENU, free_values(-4.0, 4.0), AVG_KEYS, CIP), grad_wrt=(0,),
           notes="TF's SAME padding; count_include_pad=False is TF's divisor"),
    OpSpec("pool.max/wide_padding", P.max_pool,
           scenario_inputs(WIDE_MENU, unique_values, MAX_KEYS + WIDE), grad_wrt=(0,),
           notes="padding above kernel // 2 (torch raises)"),
    OpSpec("pool.avg/wide_padding", P.avg_pool,
           scenario_inputs(WIDE_MENU, free_values(-4.0, 4.0), AVG_KEYS + WIDE, CIP),
           grad_wrt=(0,), notes="padding above kernel // 2 (torch raises)"),
    OpSpec("pool.l2", P.l2_pool,
           scenario_inputs(L2_MENU, nonzero_values, L2_KEYS, {"mean": st.booleans(), **CIP}),
           grad_wrt=(0,), bench=bench(2, L2_KEYS, mean=True, count_include_pad=True)),
    OpSpec("pool.l2/lp", P.l2_pool,
           scenario_inputs(L2_MENU, nonzero_values, L2_KEYS,
                           {"mean": st.booleans(), **CIP,
                            "norm_type": st.sampled_from(LP_NORMS)}),
           grad_wrt=(0,), notes="Lp pooling, norm_type P in {1, 1.5, 3, 4}, of |x|"),
    OpSpec("pool.global_avg", P.global_avg_pool, _global(free_values(-4.0, 4.0)),
           grad_wrt=(0,), bench=_global_bench()),
    OpSpec("pool.global_max", P.global_max_pool, _global(unique_values), grad_wrt=(0,),
           bench=_global_bench()),
    OpSpec("pool.global_max/ties", P.global_max_pool, _global(tied_values), grad_wrt=(0,),
           notes="ties: the oracle (and torch's adaptive_max_pool) picks the first maximum"),
)
