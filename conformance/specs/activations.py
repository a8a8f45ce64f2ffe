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


register(
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
