"""Specs of the ``ad`` family, forward mode on single operations: each framework's own JVP
rules (torch forward AD, jax.jvp, tf ForwardAccumulator) against the oracle's exact dual
numbers (``oracle.autodiff.elementary``). The composite derivatives (jvp, vjp, hessian,
numeric_diff) are specified in ``conformance.specs.autodiff.composite``.

These specs ARE derivative checks: their outputs are a value and its tangent computed by the
backend's forward mode, so ``grad_wrt`` is empty (no derivative of a derivative is checked).

Variants (the op or function is drawn with the inputs: one spec per derivative rule family
keeps the run short, and the failure message names the op):
  ad.dual_arith               value and tangent of add sub mul div pow maximum minimum (x and
                              y both dual), reciprocal, neg
  ad.dual_arith/tie           maximum/minimum where x == y: which tangent a tie takes (the
                              catalog: the average of both)
  ad.dual_functions           exp log sin cos tanh sigmoid sqrt abs relu polynomial (Horner),
                              inside each domain and off the kinks
  ad.dual_functions/reduce    max/min over the last axis, distinct values
  ad.dual_functions/abs_at_0  abs / relu at exact zeros: the derivative at the kink (catalog:
  ad.dual_functions/relu_at_0 abs'(0) = relu'(0) = 0; docs/conventions/README.md §0.1 #8)
  ad.dual_functions/reduce_ties max/min with a tied extremum (catalog: the first extremal
                              element's tangent)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.textbook import autodiff as TB
from oracle import autodiff as AD

# Elementwise shapes: a short shared menu, since eager JAX compiles each primitive of the
# jvp per shape and dtype (the ops are elementwise: more shapes would test nothing new).
SHAPES = S.shapes(1, 2, 1, 5, menu=2)
ROWS = S.shapes(1, 2, 2, 5, menu=2)  # reductions over the last axis, at least 2 long
TANGENT = 4.0
# Distance kept from a kink (abs, relu at 0) and from a pole (1/y at 0).
KINK_GAP = 2.0**-6
POLE_GAP = 2.0**-2
# maximum/minimum keep |x - y| >= TIE_GAP: after rounding to bfloat16 (ulp 2^-6 on [2, 4))
# x and y still differ, so no tie is created by the dtype. Ties are their own variant: the
# frameworks do not agree on them (TF hands the whole tangent to x, torch and JAX average).
TIE_GAP = 2.0**-3
# Reductions draw distinct values on the grid k / 16 (|k| <= 64): exact in every dtype, so
# the rounding to the tested dtype cannot create a tie either.
GRID = 16
GRID_MAX = 64


def _pair(x: np.ndarray, x_dot: np.ndarray, y: np.ndarray | None = None,
          y_dot: np.ndarray | None = None, **kwargs: Any) -> Case:
    if y is None:
        return Case((x, x_dot), kwargs, ("x", "x_dot"))
    return Case((x, x_dot, y, y_dot), kwargs, ("x", "x_dot", "y", "y_dot"))


def _push(a: np.ndarray, center: np.ndarray | float, gap: float) -> np.ndarray:
    """Move the elements of ``a`` within ``gap`` of ``center`` to ``gap`` away from it."""
    near = np.abs(a - center) < gap
    return np.where(near, center + np.where(a >= center, gap, -gap), a)


# The tie and kink variants probe one convention at points placed by construction: each is
# a short fixed menu of cases (per op and menu shape, values from a fixed generator), so a
# known, recorded failure replays and shrinks in a few examples instead of hundreds.
PROBE_SHAPES = ((1,), (3, 4))
# A tie or kink rule is one formula per op in each framework's derivative tables, the same
# for every dtype: checked in float64 and float32 (each expected failure costs seconds of
# hypothesis' shrink and explain phases).
PROBE_DTYPES = ("float64", "float32")


def _probes(make: Callable[[np.random.Generator, str, tuple[int, ...]], Case],
            names: tuple[str, ...]) -> Callable[[str], st.SearchStrategy[Case]]:
    rng = np.random.default_rng(20261123)
    cases = [make(rng, name, shape) for name in names for shape in PROBE_SHAPES]
    return lambda dtype: st.sampled_from(cases)


# --- dual_arith -----------------------------------------------------------------------------
ARITH_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float] | None]] = {
    "add": ((-4, 4), (-4, 4)),
    "sub": ((-4, 4), (-4, 4)),
    "mul": ((-4, 4), (-4, 4)),
    "div": ((-4, 4), (-4, 4)),  # y kept POLE_GAP away from 0
    "pow": ((0.25, 4), (-3, 3)),  # x > 0: the y-tangent needs log(x); |x^y| <= 64
    "maximum": ((-4, 4), (-4, 4)),  # y kept TIE_GAP away from x
    "minimum": ((-4, 4), (-4, 4)),
    "reciprocal": ((-4, 4), None),  # x kept POLE_GAP away from 0
    "neg": ((-4, 4), None),
}


def _arith(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        op, shape = d(st.sampled_from(tuple(ARITH_RANGES))), d(SHAPES)
        (xlo, xhi), yr = ARITH_RANGES[op]
        x, x_dot = d(S.arrays(shape, xlo, xhi)), d(S.arrays(shape, -TANGENT, TANGENT))
        if op == "reciprocal":
            x = _push(x, 0.0, POLE_GAP)
        if yr is None:
            return _pair(x, x_dot, op=op)
        y, y_dot = d(S.arrays(shape, *yr)), d(S.arrays(shape, -TANGENT, TANGENT))
        if op == "div":
            y = _push(y, 0.0, POLE_GAP)
        if op in ("maximum", "minimum"):
            y = _push(y, x, TIE_GAP)
        return _pair(x, x_dot, y, y_dot, op=op)

    return draw()


def _tie(rng: np.random.Generator, op: str, shape: tuple[int, ...]) -> Case:
    """x == y at random elements and always at the first one, with tangents 1 and -1 there
    (the average is 0, x's tangent 1); elsewhere |x - y| >= TIE_GAP."""
    x, y = rng.uniform(-4, 4, shape), rng.uniform(-4, 4, shape)
    tie = rng.random(shape) < 0.5
    tie.flat[0] = True
    y = np.where(tie, x, _push(y, x, TIE_GAP))
    x_dot, y_dot = rng.uniform(-TANGENT, TANGENT, (2, *shape))
    x_dot.flat[0], y_dot.flat[0] = 1.0, -1.0
    return _pair(x, x_dot, y, y_dot, op=op)


# --- dual_functions -------------------------------------------------------------------------
# Domains: log and sqrt on positive values, abs and relu off the kink, the others where the
# value and f' x' stay finite in float16 (exp(8) * 4 ~ 1.2e4 < 65504).
FUNCTION_RANGES: dict[str, tuple[float, float]] = {
    "exp": (-8, 8), "log": (2.0**-4, 64), "sin": (-8, 8), "cos": (-8, 8), "tanh": (-8, 8),
    "sigmoid": (-16, 16), "sqrt": (2.0**-4, 64), "abs": (-4, 4), "relu": (-4, 4),
    "polynomial": (-2, 2),
}
KINKED = ("abs", "relu")


def _functions(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        fn, shape = d(st.sampled_from(tuple(FUNCTION_RANGES))), d(SHAPES)
        x, x_dot = d(S.arrays(shape, *FUNCTION_RANGES[fn])), d(S.arrays(shape, -TANGENT, TANGENT))
        if fn in KINKED:
            x = _push(x, 0.0, KINK_GAP)
        if fn != "polynomial":
            return _pair(x, x_dot, fn=fn)
        # Degree 0..4, dyadic coefficients: exact in every dtype.
        coeffs = tuple(d(st.lists(S.dyadic(-2, 2, bits=4), min_size=1, max_size=5)))
        return _pair(x, x_dot, fn=fn, coeffs=coeffs)

    return draw()


def _at_kink(rng: np.random.Generator, fn: str, shape: tuple[int, ...]) -> Case:
    """Exact zeros at random elements and always at the first one (tangent 1 there)."""
    x, x_dot = rng.uniform(-4, 4, shape), rng.uniform(-TANGENT, TANGENT, shape)
    zero = rng.random(shape) < 0.5
    zero.flat[0] = True
    x_dot.flat[0] = 1.0
    return _pair(np.where(zero, 0.0, x), x_dot, fn=fn)


def _reduce(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        fn, shape = d(st.sampled_from(("max", "min"))), d(ROWS)
        k = d(S.integer_arrays(shape, -GRID_MAX, GRID_MAX, unique=True))
        return _pair(k / GRID, d(S.arrays(shape, -TANGENT, TANGENT)), fn=fn)

    return draw()


def _reduce_ties(rng: np.random.Generator, fn: str, shape: tuple[int, ...]) -> Case:
    """The extremum twice in every row, at positions 0 and 1, with tangents 1 and -1 (the
    first one's tangent is 1, the even split 0); the other values distinct."""
    shape = (*shape[:-1], max(shape[-1], 2))
    x = (rng.permutation(2 * GRID_MAX + 1)[:int(np.prod(shape))] - GRID_MAX) / GRID
    x = x.reshape(shape)
    ext = x.max(axis=-1) + 0.25 if fn == "max" else x.min(axis=-1) - 0.25
    x[..., 0] = x[..., 1] = ext
    x_dot = rng.uniform(-TANGENT, TANGENT, shape)
    x_dot[..., 0], x_dot[..., 1] = 1.0, -1.0
    return _pair(x, x_dot, fn=fn)


# --- registration ---------------------------------------------------------------------------
def _elementwise_bench(binary: bool, **kwargs: Any) -> dict[str, Callable[[], Case]]:
    def make(s: tuple[int, ...]) -> Case:
        x = np.abs(B.normal(s)) + 0.5  # positive: in every function's domain
        args = (x, B.normal(s), x[::-1].copy(), B.normal(s)) if binary else (x, B.normal(s))
        return Case(args, dict(kwargs))

    return B.by_size(make, B.ELEMENTWISE)


def _specs() -> list[OpSpec]:
    arith = dict(oracle=AD.dual_arith, textbook=TB.dual_arith)
    functions = dict(oracle=AD.dual_functions, textbook=TB.dual_functions)
    return [
        OpSpec("ad.dual_arith", inputs=_arith, **arith,
               bench=_elementwise_bench(True, op="mul")),
        OpSpec("ad.dual_arith/tie", inputs=_probes(_tie, ("maximum", "minimum")),
               dtypes=PROBE_DTYPES, **arith),
        OpSpec("ad.dual_functions", inputs=_functions, **functions,
               bench=_elementwise_bench(False, fn="tanh")),
        OpSpec("ad.dual_functions/reduce", inputs=_reduce, **functions,
               bench=_elementwise_bench(False, fn="max")),
        OpSpec("ad.dual_functions/abs_at_0", inputs=_probes(_at_kink, ("abs",)),
               dtypes=PROBE_DTYPES, **functions),
        OpSpec("ad.dual_functions/relu_at_0", inputs=_probes(_at_kink, ("relu",)),
               dtypes=PROBE_DTYPES, **functions),
        OpSpec("ad.dual_functions/reduce_ties", inputs=_probes(_reduce_ties, ("max", "min")),
               dtypes=PROBE_DTYPES, **functions),
    ]


register(*_specs())
