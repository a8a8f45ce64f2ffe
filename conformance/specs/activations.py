"""Specs of the ``act`` family: elementwise activations and the softmax pair."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.textbook import activations as TB
from oracle import activations as A

# Kink gap: the relu family is checked away from 0, where every framework's derivative is
# the one-sided one and no subgradient convention is being tested.
KINK_GAP = 2.0**-6


def _elementwise(lo: float, hi: float, kink: bool = False):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        m = S.magnitude(dtype, max(abs(lo), abs(hi)))
        xs = S.arrays(S.shapes(1, 3, 1, 6), max(lo, -m), min(hi, m))
        if kink:
            xs = S.away_from(xs, [0.0], KINK_GAP)
        return xs.map(lambda x: Case((x,), {}, ("x",)))

    return inputs


def _leaky(dtype: str) -> st.SearchStrategy[Case]:
    xs = S.away_from(S.arrays(S.shapes(1, 3, 1, 6), -50, 50), [0.0], KINK_GAP)
    return st.builds(lambda x, s: Case((x,), {"slope": s}, ("x",)), xs, S.dyadic(0.0, 0.5))


def _softmax(dtype: str) -> st.SearchStrategy[Case]:
    """Logits around a common shift reaching twice the log of the dtype's largest value:
    softmax is shift-invariant, and a kernel that skips the max subtraction overflows there."""
    limit = 2 * float(np.log(float(np.finfo(np.float32 if dtype == "bfloat16" else dtype).max)))

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 3, 1, 6))
        x = d(S.arrays(shape, -8, 8)) + d(S.finite(-limit, limit))
        return Case((x,), {"axis": d(S.axis_of(len(shape)))}, ("x",))

    return draw()


# Long half-precision rows: a kernel that accumulates the softmax denominator in float16 /
# bfloat16 itself (instead of float32, as torch, JAX and TensorFlow do) loses about n eps of
# it once the running sum dwarfs the terms; over a few thousand terms in [-2, 2] that is
# 40-110 eps of float16 (measured: sequential float16 sums of rows of 2053 and 4099), beyond
# the rule's 32 eps floor, where the oracle's own float16 run (NumPy's pairwise sum) stays
# within 1.3 eps. Lengths just above powers of two (SIMD tails); two shapes only (JAX
# compiles per shape); forward only: the accumulation is in the value.
LONG_ROWS = st.sampled_from([(1, 4099), (2, 8195)])


def _softmax_long(dtype: str) -> st.SearchStrategy[Case]:
    return st.builds(lambda x: Case((x,), {"axis": -1}, ("x",)), S.arrays(LONG_ROWS, -2, 2))


def _softmax_special(dtype: str) -> st.SearchStrategy[Case]:
    """NaN, +-inf and -0.0 among the logits (at least one NaN per example): the oracle's row
    is NaN when it holds a NaN or +inf or only -infs, and a -inf logit (a masked position)
    gets probability 0."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 3, 1, 6, menu=4))
        x = d(S.arrays(shape, -8, 8, special=True))
        return Case((x,), {"axis": d(S.axis_of(len(shape)))}, ("x",))

    return draw()


register(
    OpSpec("act.softmax/special", A.softmax, _softmax_special,
           notes="IEEE special values: NaN rows, masked (-inf) logits"),
    OpSpec("act.softmax/long_half", A.softmax, _softmax_long, dtypes=("float16", "bfloat16"),
           notes="rows of 4099 and 8195 elements: float16 / bfloat16 accumulation is caught"),
    OpSpec("act.sigmoid", A.sigmoid, _elementwise(-40, 40), grad_wrt=(0,), bench=B.unary(),
           textbook=TB.sigmoid),
    OpSpec("act.tanh", A.tanh, _elementwise(-20, 20), grad_wrt=(0,), bench=B.unary(),
           textbook=TB.tanh),
    OpSpec("act.relu", A.relu, _elementwise(-50, 50, kink=True), grad_wrt=(0,),
           bench=B.unary()),
    OpSpec("act.leaky_relu", A.leaky_relu, _leaky, grad_wrt=(0,),
           bench=B.unary(slope=0.125)),
    OpSpec("act.softmax", A.softmax, _softmax, grad_wrt=(0,), bench=B.rowwise(axis=-1),
           textbook=TB.softmax),
    OpSpec("act.log_softmax", A.log_softmax, _softmax, grad_wrt=(0,),
           bench=B.rowwise(axis=-1), textbook=TB.log_softmax),
)
