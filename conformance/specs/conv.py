"""Specs of the ``conv`` family: 1/2/3-d convolution, transposed and depthwise 2-d
convolution, and the notes' edge detector.

Geometry comes from small fixed MENUS of scenarios (input shape, weight shape, stride,
padding, dilation, groups, output_padding), drawn by hypothesis: eager JAX compiles a
convolution and its two transposes per shape and geometry, so free geometry would compile
per example. Each menu is written out by hand so that, among few entries, it covers:
stride > 1 with windows that fall off the end (the last input rows no window reaches),
rectangular kernels, int and per-axis padding, 'valid', 'same' with an even kernel (the
extra padding after) and 'same' with stride > 1 (TF's split: torch has no such padding and
pads explicitly), a 1x1 convolution (the notes' bottleneck), and output_padding both below
the stride and, with dilation, at or above it.

Each rank has a base spec (groups = 1, dilation = 1) and an ``/extended`` variant in which
every scenario has groups > 1 or dilation > 1 (both in one of them): TensorFlow's CPU kernels
lack some of these (divergences/tensorflow.toml), and a variant keeps that record narrow.
The weights are scaled by 1/sqrt(fan_in), so outputs stay O(|x|) in every dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from oracle import conv as C

# (x shape, w shape, keyword geometry); w is OI.. (transposed: I, O/groups, ..).
Scenario = tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]

CONV1D = [
    ((2, 3, 8), (4, 3, 3), {"stride": 2, "padding": 1}),  # 8+2-3 = 7: last row unused
    ((1, 2, 7), (3, 2, 2), {"stride": 2, "padding": "same"}),  # even k, strided: (0, 1)
]
CONV1D_EXT = [
    ((2, 4, 9), (6, 2, 3), {"stride": 1, "padding": "same", "dilation": 2, "groups": 2}),
    ((1, 6, 9), (3, 2, 2), {"stride": 2, "padding": "valid", "dilation": 3, "groups": 3}),
]
CONV2D = [
    ((2, 3, 6, 5), (4, 3, 3, 2), {"stride": (2, 1), "padding": (1, 0)}),  # rect, off-edge
    ((2, 2, 7, 6), (2, 2, 2, 3), {"stride": 2, "padding": "same"}),  # H (0, 1), W (0, 1)
    ((1, 3, 4, 5), (2, 3, 1, 1), {"stride": 1, "padding": "valid"}),  # 1x1 channel mix
]
CONV2D_EXT = [
    ((2, 4, 7, 6), (6, 2, 3, 2),
     {"stride": 1, "padding": (2, 1), "dilation": (2, 1), "groups": 2}),
    ((1, 6, 8, 7), (3, 2, 2, 2),
     {"stride": 2, "padding": "valid", "dilation": 2, "groups": 3}),  # stride and dilation
]
CONV3D = [
    ((1, 2, 5, 4, 4), (3, 2, 3, 2, 2), {"stride": (2, 1, 1), "padding": (1, 0, 1)}),
    ((2, 2, 4, 4, 3), (2, 2, 2, 2, 2), {"stride": 2, "padding": "same"}),
]
CONV3D_EXT = [
    ((1, 4, 5, 5, 4), (4, 2, 2, 2, 2),
     {"stride": 1, "padding": 1, "dilation": (2, 1, 2), "groups": 2}),
    ((1, 3, 6, 5, 5), (3, 1, 2, 2, 2),
     {"stride": 2, "padding": "valid", "dilation": 2, "groups": 3}),
]
CONV_T = [
    ((2, 3, 3, 4), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 2, 3, 3), (2, 2, 3, 2),
     {"stride": (3, 2), "padding": (0, 1), "output_padding": (2, 1)}),
]
CONV_T_EXT = [
    # output_padding 1 >= stride 1 (allowed below the dilation 2).
    ((1, 2, 3, 4), (2, 2, 2, 3),
     {"stride": 1, "padding": (1, 2), "output_padding": (1, 0), "dilation": 2}),
    ((1, 4, 3, 3), (4, 2, 2, 2),
     {"stride": 2, "padding": 0, "output_padding": 1, "dilation": 2, "groups": 2}),
]
DEPTHWISE = [
    ((2, 3, 7, 6), (6, 1, 3, 3), {"stride": 1, "padding": 2, "dilation": 2}),  # mult 2
    ((1, 4, 7, 6), (4, 1, 2, 3), {"stride": 2, "padding": "same"}),
]
# Stride > 1 with dilation > 1: its own spec, since TF computes something else there.
DEPTHWISE_STRIDED_DILATED = [
    ((1, 1, 7, 7), (1, 1, 3, 3), {"stride": 2, "padding": 2, "dilation": 2}),
]
# torch's Conv padding_mode (reflect needs padding < n, circular <= n); JAX and TF pad with
# jnp.pad / tf.pad (or a gather) themselves. torch's layers allow 'same' only at stride 1.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
CONV1D_MODES = [
    ((2, 2, 6), (3, 2, 3), {"stride": 2, "padding": 2}),
    ((1, 2, 7), (2, 2, 3), {"stride": 1, "padding": 1}),
]
CONV2D_MODES = [
    ((2, 3, 6, 5), (4, 3, 3, 2), {"stride": (2, 1), "padding": (1, 1)}),
    ((1, 2, 5, 6), (3, 2, 3, 3), {"stride": 1, "padding": (2, 1)}),  # reflect: 2 < 5
    ((1, 2, 5, 6), (2, 2, 2, 3), {"stride": 1, "padding": "same"}),  # H (0, 1), W (1, 1)
]
EDGE_SHAPES = [(5, 6), (2, 1, 5, 6)]


def _c_out(x_shape: tuple[int, ...], w_shape: tuple[int, ...], g: dict[str, Any],
           transposed: bool) -> int:
    return w_shape[1] * g.get("groups", 1) if transposed else w_shape[0]


def _check_menu(oracle: Callable[..., Any], menu: list[Scenario], transposed: bool) -> None:
    """Every scenario must be valid for the oracle (a typo here would silently test less)."""
    for xs, ws, g in menu:
        oracle(np.zeros(xs), np.zeros(ws), np.zeros(_c_out(xs, ws, g, transposed)), **g)


# Nonzero magnitudes below this become 0. The float64 check's naive error is the float32
# run of the oracle, scaled: elements (and their products) below float32's normal range
# flush there, so that estimate drops to 0 where float64 still rounds, and the check would
# blame a kernel for float64's own rounding (a cancelling sum of 1e-274-sized terms).
TINY = 2.0**-60


def arrays(shape: tuple[int, ...], lo: float, hi: float,
           unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """``strategies.arrays`` without magnitudes below TINY (products stay float32-normal)."""
    return S.arrays(shape, lo, hi, unique=unique).map(
        lambda a: np.where(np.abs(a) < TINY, 0.0, a))


def _seeded(shape: tuple[int, ...], lo: float, hi: float) -> st.SearchStrategy[np.ndarray]:
    return st.integers(0, 2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).uniform(lo, hi, shape))


def scenario_inputs(menu: list[Scenario], transposed: bool = False, seeded: bool = False,
                    modes: bool = False):
    """Case((x, w, b), geometry) for one scenario of the menu; x in [-4, 4], w in
    [-1, 1] / sqrt(fan in), b in [-2, 2]. ``seeded``: values from a generator seeded by one
    drawn integer, for a spec whose known divergence is in the geometry, not the values
    (hypothesis then shrinks one integer, not every element, on each expected failure).
    ``modes``: a padding_mode drawn from PADDING_MODES too."""
    values = _seeded if seeded else arrays

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            xs, ws, g = d(st.sampled_from(menu))
            fan_in = math.prod(ws[1:]) if not transposed else math.prod(ws[2:]) * ws[0]
            scale = fan_in**-0.5
            x = d(values(xs, -4.0, 4.0))
            w = d(values(ws, -scale, scale))
            b = d(values((_c_out(xs, ws, g, transposed),), -2.0, 2.0))
            kwargs = dict(g)
            if modes:
                kwargs["padding_mode"] = d(st.sampled_from(PADDING_MODES))
            return Case((x, w, b), kwargs, ("x", "w", "b"))

        return draw()

    return inputs


def _edge_inputs(dtype: str) -> st.SearchStrategy[Case]:
    # Distinct pixels: a constant patch makes the exact output 0 by cancellation, where a
    # float64 kernel may leave an ulp of the terms that the float32-based naive estimate of
    # the float64 error need not show (the bound's floor scales with the output, not with
    # the terms).
    return st.sampled_from(EDGE_SHAPES).flatmap(
        lambda s: arrays(s, -4.0, 4.0, unique=True)).map(lambda x: Case((x,), {}, ("image",)))


# --- benchmarks --------------------------------------------------------------------------
BENCH_X = {
    1: {"small": (2, 8, 64), "medium": (8, 32, 1024), "large": (32, 32, 4096)},
    2: {"small": (2, 8, 16, 16), "medium": (8, 32, 32, 32), "large": (32, 32, 64, 64)},
    3: {"small": (1, 4, 8, 8, 8), "medium": (4, 16, 16, 16, 16),
        "large": (16, 8, 32, 32, 32)},
}


def _bench_conv(rank: int, depthwise: bool = False, transposed: bool = False) -> dict:
    """Kernel 3, stride 1, padding 1, C_out = C_in (depthwise: multiplier 1)."""

    def make(xs: tuple[int, ...]) -> Case:
        c = xs[1]
        ws = (c, 1 if depthwise else c) + (3,) * rank
        kw: dict[str, Any] = {"stride": 1, "padding": 1}
        if not depthwise:
            kw["dilation"] = 1
            kw["groups"] = 1
        if transposed:
            kw["output_padding"] = 0
        return Case((B.normal(xs), B.normal(ws, (c * 3**rank) ** -0.5), B.normal((c,))), kw,
                    ("x", "w", "b"))

    return B.by_size(make, BENCH_X[rank])


def conv_flops(case: Case) -> int:
    """2 multiply-adds per (output element, kernel tap of its group's input channels)."""
    w = case.args[1]
    transposed = "output_padding" in case.kwargs
    if transposed:  # the adjoint: every input element meets every tap of its C_out/groups
        return 2 * int(case.args[0].size) * int(np.prod(w.shape[1:]))
    out = C.conv2d if w.ndim == 4 else (C.conv1d if w.ndim == 3 else C.conv3d)
    spatial = np.zeros((1, 1) + case.args[0].shape[2:])
    geometry = {k: v for k, v in case.kwargs.items() if k in ("stride", "padding", "dilation")}
    n_out = out(spatial, np.zeros((1, 1) + w.shape[2:]), **geometry).size
    return 2 * case.args[0].shape[0] * int(w.shape[0]) * n_out * int(np.prod(w.shape[1:]))


def _edge_bench() -> dict:
    shapes = {"small": (4, 1, 32, 32), "medium": (16, 1, 128, 128), "large": (64, 1, 256, 256)}
    return B.by_size(lambda s: Case((B.normal(s),), {}, ("image",)), shapes)


for _oracle, _menu, _t in [
    (C.conv1d, CONV1D + CONV1D_EXT, False), (C.conv2d, CONV2D + CONV2D_EXT, False),
    (C.conv3d, CONV3D + CONV3D_EXT, False), (C.conv_transpose2d, CONV_T + CONV_T_EXT, True),
    (C.depthwise_conv2d, DEPTHWISE + DEPTHWISE_STRIDED_DILATED, False),
]:
    _check_menu(_oracle, _menu, _t)

XWB = (0, 1, 2)
register(
    OpSpec("conv.conv1d", C.conv1d, scenario_inputs(CONV1D), grad_wrt=XWB,
           bench=_bench_conv(1), flops=conv_flops),
    OpSpec("conv.conv1d/extended", C.conv1d, scenario_inputs(CONV1D_EXT), grad_wrt=XWB,
           notes="groups > 1 or dilation > 1"),
    OpSpec("conv.conv2d", C.conv2d, scenario_inputs(CONV2D), grad_wrt=XWB,
           bench=_bench_conv(2), flops=conv_flops),
    OpSpec("conv.conv2d/extended", C.conv2d, scenario_inputs(CONV2D_EXT), grad_wrt=XWB,
           notes="groups > 1 or dilation > 1"),
    OpSpec("conv.conv1d/padding_mode", C.conv1d, scenario_inputs(CONV1D_MODES, modes=True),
           grad_wrt=XWB, notes="torch's padding_mode: zeros, reflect, replicate, circular"),
    OpSpec("conv.conv2d/padding_mode", C.conv2d, scenario_inputs(CONV2D_MODES, modes=True),
           grad_wrt=XWB, notes="torch's padding_mode: zeros, reflect, replicate, circular"),
    OpSpec("conv.conv3d", C.conv3d, scenario_inputs(CONV3D), grad_wrt=XWB,
           bench=_bench_conv(3), flops=conv_flops),
    OpSpec("conv.conv3d/extended", C.conv3d, scenario_inputs(CONV3D_EXT), grad_wrt=XWB,
           notes="groups > 1 and dilation > 1"),
    OpSpec("conv.conv_transpose2d", C.conv_transpose2d, scenario_inputs(CONV_T, True),
           grad_wrt=XWB, bench=_bench_conv(2, transposed=True), flops=conv_flops),
    OpSpec("conv.conv_transpose2d/extended", C.conv_transpose2d,
           scenario_inputs(CONV_T_EXT, True), grad_wrt=XWB,
           notes="groups > 1 or dilation > 1"),
    OpSpec("conv.depthwise2d", C.depthwise_conv2d, scenario_inputs(DEPTHWISE), grad_wrt=XWB,
           bench=_bench_conv(2, depthwise=True), flops=conv_flops),
    OpSpec("conv.depthwise2d/strided_dilated", C.depthwise_conv2d,
           scenario_inputs(DEPTHWISE_STRIDED_DILATED, seeded=True), grad_wrt=XWB,
           notes="stride > 1 and dilation > 1"),
    OpSpec("conv.edge_detect", C.edge_detect, _edge_inputs, grad_wrt=(0,),
           bench=_edge_bench()),
)
