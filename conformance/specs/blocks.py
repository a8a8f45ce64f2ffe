"""Specs of the ``block`` family: the residual block, the Inception block and the flatten +
dense head.

Every ReLU in a block follows a convolution with a bias. Its input is kept away from the
kink by construction, channel by channel: from the drawn x and weights (float64), a bound
m_c >= |conv(x, w)[:, c]| is computed as conv(|x|, |w|) (a sum of absolute terms, so it also
bounds every dtype's rounding of the sum), and the bias is b_c = s_c (1.25 m_c + 1/2) with a
drawn sign s_c: channel c is then on everywhere or off everywhere, at least m_c/4 + 1/2
from 0, more than any dtype's rounding of the sum (< 50 terms: at most ~0.1 m_c in
bfloat16). Near the kink the rounding of a kernel would flip ReLU's derivative between 0
and 1, a disagreement of O(1) that says nothing about the kernel. Inception's max pool sees
distinct values (no ties), exact in every dtype.

Geometry from fixed menus (eager JAX compiles per shape), with odd kernels ('same' is k // 2
in the oracle) and stride 2 on even and odd sizes (where Keras 'same' would differ from the
symmetric padding and adapters pad explicitly).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs.conv import arrays, conv_flops
from oracle import blocks as BL
from oracle.activations import relu
from oracle.conv import conv2d
from oracle.pooling import max_pool

# Distinct integers scaled by 2**-4 (exact in bfloat16): Inception's max pool has no ties.
UNIQUE_GRID = range(-128, 129)
UNIQUE_SCALE = 2.0**-4


def _weights(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    s = math.prod(shape[1:]) ** -0.5
    return arrays(shape, -s, s)


def _bias_away(inp: np.ndarray, w: np.ndarray, signs: list[bool], stride: int = 1,
               extra: np.ndarray | None = None) -> np.ndarray:
    """b_c = +-(1.25 m_c + 1/2), m_c = max over n and positions of conv(|inp|, |w|) (+ |extra|,
    a term added before the ReLU), with the 'same' padding k // 2 of the blocks."""
    pad = tuple(k // 2 for k in w.shape[2:])
    m = conv2d(np.abs(inp), np.abs(w), stride=stride, padding=pad)
    if extra is not None:
        m = m + np.abs(extra)
    m = m.max(axis=(0, 2, 3))
    return np.where(signs, 1.0, -1.0) * np.ceil((1.25 * m + 0.5) * 8) / 8


def _signs(d: st.DrawFn, n: int) -> list[bool]:
    return [bool(k) for k in d(S.integer_arrays((n,), 0, 1))]


# --- residual block ----------------------------------------------------------------------
# (x shape, C_out, kernel, stride, shortcut)
RESIDUAL = [
    ((2, 3, 5, 5), 3, 3, 1, "identity"),
    ((1, 2, 6, 5), 4, 3, 2, "zero_pad"),  # stride 2 on an even and an odd side
]
RESIDUAL_PROJECTION = [((2, 3, 6, 5), 4, 3, 2, "projection")]


def _shortcut(x: np.ndarray, c_out: int, kind: str, ws: np.ndarray | None,
               stride: int) -> np.ndarray:
    """The shortcut term (the notes' two options and identity), for the bias bound only."""
    if kind == "projection":
        return conv2d(x, ws, stride=stride)
    sub = x[:, :, ::stride, ::stride]
    zeros = np.zeros((sub.shape[0], c_out - sub.shape[1]) + sub.shape[2:])
    return np.concatenate([sub, zeros], axis=1)


def _residual(menu: list[tuple[Any, ...]]):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            xs, c_out, k, stride, shortcut = d(st.sampled_from(menu))
            x = d(arrays(xs, -4.0, 4.0))
            w1 = d(_weights((c_out, xs[1], k, k)))
            w2 = d(_weights((c_out, c_out, k, k)))
            ws = d(_weights((c_out, xs[1], 1, 1))) if shortcut == "projection" else None
            b1 = _bias_away(x, w1, _signs(d, c_out), stride)
            a1 = relu(conv2d(x, w1, b1, stride=stride, padding=k // 2))
            short = _shortcut(x, c_out, shortcut, ws, stride)
            b2 = _bias_away(a1, w2, _signs(d, c_out), extra=short)
            args = (x, w1, b1, w2, b2) + ((ws,) if ws is not None else ())
            names = ("x", "w1", "b1", "w2", "b2") + (("ws",) if ws is not None else ())
            return Case(args, {"shortcut": shortcut, "stride": stride}, names)

        return draw()

    return inputs


# --- Inception block ---------------------------------------------------------------------
# (x shape, (c1, r3, c3, r5, c5, cp))
INCEPTION = [((2, 3, 4, 5), (2, 2, 3, 1, 2, 2))]
INCEPTION_NAMES = ("x", "w1", "b1", "w3r", "b3r", "w3", "b3", "w5r", "b5r", "w5", "b5",
                   "wp", "bp")


def _unique(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return S.distinct_from(tuple(UNIQUE_GRID), tuple(shape), UNIQUE_SCALE)


def _inception(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        xs, (c1, r3, c3, r5, c5, cp) = d(st.sampled_from(INCEPTION))
        x = d(_unique(xs))
        pooled = max_pool(x, kernel=3, stride=1, padding=1)
        out: list[np.ndarray] = [x]

        def conv_relu(inp: np.ndarray, c_out: int, k: int) -> np.ndarray:
            w = d(_weights((c_out, inp.shape[1], k, k)))
            b = _bias_away(inp, w, _signs(d, c_out))
            out.extend([w, b])
            return relu(conv2d(inp, w, b, padding=k // 2))

        conv_relu(x, c1, 1)
        conv_relu(conv_relu(x, r3, 1), c3, 3)
        conv_relu(conv_relu(x, r5, 1), c5, 5)
        conv_relu(pooled, cp, 1)
        return Case(tuple(out), {}, INCEPTION_NAMES)

    return draw()


# --- flatten + dense ---------------------------------------------------------------------
FLATTEN_FC = [((2, 3, 2, 3), 4), ((1, 2, 4, 3), 3)]


def _flatten_fc(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        xs, out = d(st.sampled_from(FLATTEN_FC))
        x = d(arrays(xs, -4.0, 4.0))
        w = d(_weights((out, math.prod(xs[1:]))))
        b = d(arrays((out,), -2.0, 2.0))
        return Case((x, w, b), {}, ("x", "w", "b"))

    return draw()


# --- benchmarks --------------------------------------------------------------------------
BENCH_X = {"small": (2, 8, 16, 16), "medium": (8, 32, 32, 32), "large": (32, 32, 64, 64)}


def _bench_residual() -> dict:
    def make(xs: tuple[int, ...]) -> Case:
        c = xs[1]
        w = [B.normal((c, c, 3, 3), (9 * c) ** -0.5) for _ in range(2)]
        return Case((B.normal(xs), w[0], B.normal((c,)), w[1], B.normal((c,))),
                    {"shortcut": "identity", "stride": 1}, ("x", "w1", "b1", "w2", "b2"))

    return B.by_size(make, BENCH_X)


def _residual_flops(case: Case) -> int:
    x, w1, _, w2 = case.args[:4]
    s = case.kwargs["stride"]
    first = Case((x, w1), {"stride": s, "padding": w1.shape[2] // 2})
    a1 = np.zeros((x.shape[0], w1.shape[0], -(-x.shape[2] // s), -(-x.shape[3] // s)))
    return conv_flops(first) + conv_flops(Case((a1, w2), {"padding": w2.shape[2] // 2}))


def _bench_flatten() -> dict:
    def make(xs: tuple[int, ...]) -> Case:
        n_in = math.prod(xs[1:])
        return Case((B.normal(xs), B.normal((256, n_in), n_in**-0.5), B.normal((256,))), {},
                    ("x", "w", "b"))

    return B.by_size(make, {"small": (8, 8, 8, 8), "medium": (64, 16, 16, 16),
                            "large": (256, 32, 16, 16)})


register(
    OpSpec("block.residual", BL.residual_block, _residual(RESIDUAL), grad_wrt=(0, 1, 2, 3, 4),
           bench=_bench_residual(), flops=_residual_flops,
           notes="identity and zero-padding shortcuts"),
    OpSpec("block.residual/projection", BL.residual_projection, _residual(RESIDUAL_PROJECTION),
           grad_wrt=(0, 1, 2, 3, 4, 5), notes="1x1 projection shortcut ws"),
    OpSpec("block.inception", BL.inception_block, _inception, grad_wrt=tuple(range(13))),
    OpSpec("block.flatten_fc", BL.flatten_fc, _flatten_fc, grad_wrt=(0, 1, 2),
           bench=_bench_flatten(),
           flops=lambda c: 2 * c.args[0].shape[0] * int(c.args[1].size)),
)
