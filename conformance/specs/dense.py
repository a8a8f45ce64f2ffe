"""Specs of ``nn.dense``, the fully connected layer (notes 004).

Variants (one spec each, because ``grad_wrt`` and the argument list differ):
  nn.dense                        x, w (out, in), b; identity / sigmoid / tanh
  nn.dense/nobias                 x, w; identity
  nn.dense/relu                   x, w, b on a dyadic grid that keeps x W^T + b off the kink
  nn.dense/gemm                   x, w, b; Gemm scales alpha (x W^T) + beta b (torch.addmm)
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.textbook import dense as TB
from oracle import dense as D

# (*batch, in, out), one or two batch axes: x is (*batch, in), w is (out, in). A small menu:
# JAX compiles per shape and dtype (and per derivative mode).
DENSE = S.shapes(3, 4, 1, 5, menu=4)
ACTIVATIONS = ("identity", "sigmoid", "tanh")


def _dense_shapes(menu_shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(*batch, in, out) from the DENSE menu -> x's shape (*batch, in) and out."""
    return menu_shape[:-1], menu_shape[-1]


def _dense(bias: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            xshape, out = _dense_shapes(d(DENSE))
            x = d(S.arrays(xshape, -2, 2))
            w = d(S.arrays((out, xshape[-1]), -2, 2))
            if not bias:
                # The activation path is nn.dense's; this variant covers the bias-free call.
                return Case((x, w), {"activation": "identity"}, ("x", "w"))
            b = d(S.arrays((out,), -2, 2))
            return Case((x, w, b), {"activation": d(st.sampled_from(ACTIVATIONS))},
                        ("x", "w", "b"))

        return draw()

    return inputs


def _grid(shape: tuple[int, ...], lo: int, hi: int, step: float,
          odd: bool = False) -> st.SearchStrategy[np.ndarray]:
    ks = S.integer_arrays(tuple(shape), lo, hi)
    return ks.map(lambda k: (2 * k + 1) * step) if odd else ks.map(lambda k: k * step)


def _dense_relu(dtype: str) -> st.SearchStrategy[Case]:
    """x, w multiples of 1/2 in [-2, 2] and b odd multiples of 1/8 in [-15/8, 15/8]: every
    partial sum of x W^T + b is a multiple of 1/8 below 2^5, exact in bfloat16's 8 bits, so
    every framework computes z exactly and |z| >= 1/8 keeps ReLU off its kink (its derivative
    at 0 is a convention, not what this spec tests)."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        xshape, out = _dense_shapes(d(DENSE))
        x = d(_grid(xshape, -4, 4, 0.5))
        w = d(_grid((out, xshape[-1]), -4, 4, 0.5))
        b = d(_grid((out,), -8, 7, 0.125, odd=True))
        return Case((x, w, b), {"activation": "relu"}, ("x", "w", "b"))

    return draw()


def _dense_gemm(dtype: str) -> st.SearchStrategy[Case]:
    """Gemm scales alpha, beta: dyadic in [-2, 2] (0 included: torch.addmm then ignores the
    bias or the product, as ONNX Gemm does); identity activation (the activation path is
    nn.dense's)."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        xshape, out = _dense_shapes(d(DENSE))
        x = d(S.arrays(xshape, -2, 2))
        w = d(S.arrays((out, xshape[-1]), -2, 2))
        b = d(S.arrays((out,), -2, 2))
        kwargs = {"activation": "identity", "alpha": d(S.dyadic(-2.0, 2.0)),
                  "beta": d(S.dyadic(-2.0, 2.0))}
        return Case((x, w, b), kwargs, ("x", "w", "b"))

    return draw()


# --- benchmarks -----------------------------------------------------------------------------
# (N, in, out)
BENCH_DENSE = {"small": (64, 64, 64), "medium": (256, 512, 512), "large": (2048, 2048, 2048)}


def _bench_dense() -> dict:
    def make(nio: tuple[int, ...]) -> Case:
        n, i, o = nio
        return Case((B.normal((n, i)), B.normal((o, i), i**-0.5), B.normal((o,))),
                    {"activation": "identity"}, ("x", "w", "b"))

    return B.by_size(make, BENCH_DENSE)


def _dense_flops(case: Case) -> int:
    x, w = case.args[0], case.args[1]
    return 2 * int(np.prod(x.shape)) * int(w.shape[0])


register(
    OpSpec("nn.dense", D.dense, _dense(bias=True), grad_wrt=(0, 1, 2), bench=_bench_dense(),
           flops=_dense_flops, textbook=TB.dense),
    OpSpec("nn.dense/nobias", D.dense, _dense(bias=False), grad_wrt=(0, 1),
           textbook=TB.dense),
    OpSpec("nn.dense/relu", D.dense, _dense_relu, grad_wrt=(0, 1, 2),
           textbook=TB.dense),
    OpSpec("nn.dense/gemm", D.dense, _dense_gemm, grad_wrt=(0, 1, 2), textbook=TB.dense,
           notes="Gemm's alpha and beta (torch.addmm)"),
)
