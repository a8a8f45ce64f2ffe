"""Specs of the ``ad`` family: each framework's own differentiation machinery (forward mode,
reverse mode, second derivatives) against the oracle's exact dual numbers.

These specs ARE derivative checks: their outputs are derivatives computed by the backend's
jvp / vjp / hessian, so ``grad_wrt`` is empty (no derivative of a derivative is checked).

Variants (one spec each, so that a convention is reported op by op):
  ad.dual_arith/<op>          value and tangent of add sub mul div pow maximum minimum (x and
                              y both dual), reciprocal, neg; forward mode of the framework's op
  ad.dual_arith/maximum_tie   maximum/minimum where x == y at some elements: which tangent a
  ad.dual_arith/minimum_tie   tie takes (the catalog: the average of both)
  ad.dual_functions/<fn>      exp log sin cos tanh sigmoid sqrt abs relu polynomial (Horner)
                              max min (last-axis reductions), inputs in each domain, off kinks
  ad.dual_functions/abs_at_0  abs and relu with exact zeros: the derivative at the kink
  ad.dual_functions/relu_at_0 (catalog: abs'(0) = relu'(0) = 0, divergences.md §0.1 #8)
  ad.dual_functions/max_ties  max/min reductions with a tied extremum (catalog: the first
  ad.dual_functions/min_ties  extremal element's tangent)
  ad.jvp                      J u of a 2-layer tanh MLP with a weighted log-softmax loss
  ad.vjp                      v^T J of the same function (reverse mode)
  ad.hessian/logsumexp        Hessian of logsumexp(A x) + |x|^2 / 2
  ad.hessian/rosenbrock       Hessian of sum b (x_{i+1} - x_i^2)^2 + (a - x_i)^2
  ad.numeric_diff             forward / central difference quotient (no framework has one)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs import autodiff_textbook as TB
from oracle import _canon
from oracle import autodiff as AD
from oracle.activations import log_softmax
from oracle.dense import dense

# Elementwise shapes: a short shared menu, since eager JAX compiles each primitive of the
# jvp per shape and dtype (the ops are elementwise: more shapes would test nothing new).
SHAPES = S.shapes(1, 2, 1, 5, menu=3)
ROWS = S.shapes(1, 2, 2, 5, menu=3)  # reductions over the last axis, at least 2 long
TANGENT = 4.0
# Distance kept from a kink (abs, relu at 0) and from a pole (1/y at 0).
KINK_GAP = 2.0**-6
POLE_GAP = 2.0**-2
# maximum/minimum keep |x - y| >= TIE_GAP: after rounding to bfloat16 (ulp 2^-6 on [2, 4))
# x and y still differ, so no tie is created by the dtype. Ties are their own variants: the
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


def _push(a: np.ndarray, center: np.ndarray, gap: float) -> np.ndarray:
    """Move the elements of ``a`` within ``gap`` of ``center`` to ``gap`` away from it."""
    near = np.abs(a - center) < gap
    return np.where(near, center + np.where(a >= center, gap, -gap), a)


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


def _arith(op: str, tie: bool = False) -> Callable[[str], st.SearchStrategy[Case]]:
    (xlo, xhi), yr = ARITH_RANGES[op]

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(SHAPES)
        x, x_dot = d(S.arrays(shape, xlo, xhi)), d(S.arrays(shape, -TANGENT, TANGENT))
        if op == "reciprocal":
            x = _push(x, np.zeros_like(x), POLE_GAP)
        if yr is None:
            return _pair(x, x_dot, op=op)
        y, y_dot = d(S.arrays(shape, *yr)), d(S.arrays(shape, -TANGENT, TANGENT))
        if op == "div":
            y = _push(y, np.zeros_like(y), POLE_GAP)
        if op in ("maximum", "minimum"):
            y = _push(y, x, TIE_GAP)
            if tie:  # ties where drawn, and always at the first element with distinct tangents
                mask = d(hnp.arrays(np.bool_, shape))
                mask.flat[0] = True
                y = np.where(mask, x, y)
                x_dot.flat[0], y_dot.flat[0] = 1.0, -1.0
        return _pair(x, x_dot, y, y_dot, op=op)

    return lambda dtype: draw()


# --- dual_functions -------------------------------------------------------------------------
# Domains: log and sqrt on positive values, abs and relu off the kink, the others where the
# value and f' x' stay finite in float16 (exp(8) * 4 ~ 1.2e4 < 65504).
FUNCTION_RANGES: dict[str, tuple[float, float]] = {
    "exp": (-8, 8), "log": (2.0**-4, 64), "sin": (-8, 8), "cos": (-8, 8), "tanh": (-8, 8),
    "sigmoid": (-16, 16), "sqrt": (2.0**-4, 64), "abs": (-4, 4), "relu": (-4, 4),
    "polynomial": (-2, 2),
}
KINKED = ("abs", "relu")


def _function(fn: str, at_kink: bool = False) -> Callable[[str], st.SearchStrategy[Case]]:
    lo, hi = FUNCTION_RANGES[fn]

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(SHAPES)
        x, x_dot = d(S.arrays(shape, lo, hi)), d(S.arrays(shape, -TANGENT, TANGENT))
        if fn in KINKED:
            x = _push(x, np.zeros_like(x), KINK_GAP)
            if at_kink:  # zeros where drawn, and always at the first element
                mask = d(hnp.arrays(np.bool_, shape))
                mask.flat[0] = True
                x = np.where(mask, 0.0, x)
                x_dot.flat[0] = 1.0
        kwargs: dict[str, Any] = {"fn": fn}
        if fn == "polynomial":  # degree 0..4, dyadic coefficients: exact in every dtype
            kwargs["coeffs"] = tuple(d(st.lists(S.dyadic(-2, 2, bits=4), min_size=1,
                                                max_size=5)))
        return _pair(x, x_dot, **kwargs)

    return lambda dtype: draw()


def _reduction(fn: str, ties: bool = False) -> Callable[[str], st.SearchStrategy[Case]]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(ROWS)
        k = d(hnp.arrays(np.int64, shape, elements=st.integers(-GRID_MAX, GRID_MAX),
                         unique=True))
        x, x_dot = k / GRID, d(S.arrays(shape, -TANGENT, TANGENT))
        if ties:  # the extremum twice, at positions 0 and 1 of every row, distinct tangents
            ext = x.max(axis=-1) + 0.25 if fn == "max" else x.min(axis=-1) - 0.25
            x[..., 0] = x[..., 1] = ext
            x_dot[..., 0], x_dot[..., 1] = 1.0, -1.0
        return _pair(x, x_dot, fn=fn)

    return lambda dtype: draw()


# --- jvp / vjp of a 2-layer MLP -------------------------------------------------------------
def mlp_loss(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> Any:
    """loss_n = -sum_c t[n, c] log_softmax(tanh(x W1^T + b1) W2^T + b2)[n, c], shape (N,).

    Layouts: x (N, D), w1 (H, D), b1 (H,), w2 (C, H), b2 (C,) (torch Linear), t (N, C)
    nonnegative class weights (held constant: not differentiated)."""
    h = dense(x, w1, b1, activation="tanh")
    return -np.sum(_canon.asarray(t) * log_softmax(dense(h, w2, b2), axis=1), axis=1)


PARAMS = ("x", "w1", "b1", "w2", "b2")


def mlp_jvp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, dx: Any, dw1: Any, db1: Any,
            dw2: Any, db2: Any) -> AD.DualResult:
    """(loss, J u): ``mlp_loss`` and its directional derivative along u = (dx .. db2)."""
    (value,), (tangent,) = AD.jvp(mlp_loss, [x, w1, b1, w2, b2, t], None,
                                  dict(enumerate((dx, dw1, db1, dw2, db2))))
    return AD.DualResult(value, tangent)


class MLPGrads(NamedTuple):
    x: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray


def mlp_vjp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> MLPGrads:
    """g^T d loss / d(x, w1, b1, w2, b2): ``mlp_loss``'s VJP for the cotangent g (N,)."""
    return MLPGrads(*AD.vjp(mlp_loss, [x, w1, b1, w2, b2, t], None, range(5), [g]))


# (N, D, H, C): few sizes, each a JAX compile of every primitive of the MLP and its jvp.
MLP_SIZES = ((1, 2, 3, 2), (2, 3, 4, 3), (3, 4, 5, 4))


def _mlp_params(d: st.DrawFn) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    n, di, h, c = d(st.sampled_from(MLP_SIZES))
    shapes = ((n, di), (h, di), (h,), (c, h), (c,))
    # Weights of scale ~1 so that tanh is neither linear nor saturated everywhere. W2 and t
    # hold distinct values: equal rows of W2 (a constant W2) make the loss independent of
    # h, and a constant t with equal logits puts the loss at its minimum; either way whole
    # gradient outputs are exactly 0 by cancellation of O(1) terms, and the agreement rule's
    # scale (the output's own rms) collapses to 0 under the kernels' legitimate rounding.
    params = tuple(d(S.arrays(s, -2, 2, unique=i == 3)) for i, s in enumerate(shapes))
    return params, d(S.arrays((n, c), 0, 1, unique=True))


def _mlp_jvp_inputs(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        params, t = _mlp_params(d)
        # Distinct dW2, db2: constant ones shift every logit equally (J u = 0 exactly).
        tangents = tuple(d(S.arrays(p.shape, -1, 1, unique=i >= 3))
                         for i, p in enumerate(params))
        names = (*PARAMS, "t", *(f"d{n}" for n in PARAMS))
        return Case((*params, t, *tangents), {}, names)

    return draw()


def _mlp_vjp_inputs(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        params, t = _mlp_params(d)
        g = d(S.arrays((params[0].shape[0],), -1, 1))
        return Case((*params, t, g), {}, (*PARAMS, "t", "g"))

    return draw()


def _mlp_bench(n: int, di: int, h: int, c: int, with_g: bool) -> Case:
    shapes = ((n, di), (h, di), (h,), (c, h), (c,))
    params = tuple(B.normal(s, 0.5) for s in shapes)
    t = np.abs(B.normal((n, c)))
    extra = (B.normal((n,)),) if with_g else tuple(B.normal(p.shape) for p in params)
    return Case((*params, t, *extra), {})


MLP_BENCH = {"small": (64, 64, 64, 10), "medium": (256, 512, 512, 10),
             "large": (4096, 1024, 1024, 100)}


def _mlp_flops(case: Case) -> int:
    """Two matmuls forward (2 N H (D + C)), three times that with the derivative pass."""
    (n, di), (h, _), (c, _) = case.args[0].shape, case.args[1].shape, case.args[3].shape
    return 3 * 2 * n * h * (di + c)


# --- hessian --------------------------------------------------------------------------------
def logsumexp_quadratic(x: Any, *, A: Any) -> Any:
    """logsumexp(A x) + |x|^2 / 2, a scalar (x (n,), A (m, n)). The shift m = max(A x) is
    taken on the primal values: logsumexp(z) = m + log(sum(exp(z - m))) for any constant m,
    so the derivatives are those of logsumexp itself."""
    x, A = _canon.asarray(x), _canon.asarray(A)
    z = A @ x
    m = np.max(_canon.primal(z))
    return m + np.log(np.sum(np.exp(z - m))) + np.sum(x * x) / 2


def rosenbrock(x: Any, *, a: float, b: float) -> Any:
    """sum_{i < n-1} b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, a scalar (x (n,), n >= 2)."""
    x = _canon.asarray(x)
    head, tail = x[:-1], x[1:]
    return np.sum(_canon.scalar(b) * np.square(tail - head * head)
                  + np.square(_canon.scalar(a) - head))


def hessian_logsumexp(x: Any, A: Any) -> Any:
    """The (n, n) Hessian of ``logsumexp_quadratic`` at x, by nested duals."""
    return AD.hessian(logsumexp_quadratic, x, {"A": A})


def hessian_rosenbrock(x: Any, *, a: float, b: float) -> Any:
    """The (n, n) Hessian of ``rosenbrock`` at x, by nested duals."""
    return AD.hessian(rosenbrock, x, {"a": a, "b": b})


HESSIAN_N = (2, 3, 5)  # few sizes: jax.hessian compiles per shape


def _hessian_lse(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        n, m = d(st.sampled_from(HESSIAN_N)), d(st.sampled_from((1, 3)))
        return Case((d(S.arrays((n,), -2, 2)), d(S.arrays((m, n), -2, 2))), {}, ("x", "A"))

    return draw()


def _hessian_rosen(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        x = d(S.arrays((d(st.sampled_from(HESSIAN_N)),), -2, 2))
        # b up to 100 (the classic value); Hessian entries up to 1200 x^2 ~ 5e3: float16-safe.
        kwargs = {"a": d(S.dyadic(-2, 2, bits=2)), "b": d(st.sampled_from((1.0, 10.0, 100.0)))}
        return Case((x,), kwargs, ("x",))

    return draw()


# --- numeric_diff ---------------------------------------------------------------------------
def smooth(x: Any) -> Any:
    """sin(x) exp(x / 2), elementwise: the function the difference quotient is taken of."""
    x = _canon.asarray(x)
    return np.sin(x) * np.exp(x / 2)


def numeric_diff(x: Any, u: Any, *, h: float, scheme: str) -> Any:
    """The ``scheme`` difference quotient of ``smooth`` at x along u with step h."""
    return AD.finite_difference(smooth, x, u, h=h, scheme=scheme)


def _numeric(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(SHAPES)
        kwargs = {"h": d(st.integers(4, 12).map(lambda e: 2.0**-e)),
                  "scheme": d(st.sampled_from(("forward", "central")))}
        return Case((d(S.arrays(shape, -3, 3)), d(S.arrays(shape, -1, 1))), kwargs, ("x", "u"))

    return draw()


# --- registration ---------------------------------------------------------------------------
def _elementwise_bench(binary: bool, **kwargs: Any) -> dict[str, Callable[[], Case]]:
    def make(s: tuple[int, ...]) -> Case:
        x = np.abs(B.normal(s)) + 0.5  # positive: in every function's domain
        args = (x, B.normal(s), x[::-1].copy(), B.normal(s)) if binary else (x, B.normal(s))
        return Case(args, dict(kwargs))

    return B.by_size(make, B.ELEMENTWISE)


def _specs() -> list[OpSpec]:
    specs = [OpSpec(f"ad.dual_arith/{op}", AD.dual_arith, _arith(op),
                    naive_derivative=TB.TEXTBOOK.get(op),
                    bench=_elementwise_bench(yr is not None, op=op))
             for op, (_, yr) in ARITH_RANGES.items()]
    specs += [OpSpec(f"ad.dual_arith/{op}_tie", AD.dual_arith, _arith(op, tie=True),
                     naive_derivative=TB.TEXTBOOK[op]) for op in ("maximum", "minimum")]
    specs += [OpSpec(f"ad.dual_functions/{fn}", AD.dual_functions, _function(fn),
                     naive_derivative=TB.TEXTBOOK.get(fn),
                     bench=_elementwise_bench(False, fn=fn) if fn != "polynomial" else {})
              for fn in FUNCTION_RANGES]
    specs += [OpSpec(f"ad.dual_functions/{fn}_at_0", AD.dual_functions, _function(fn, True))
              for fn in KINKED]
    specs += [OpSpec(f"ad.dual_functions/{fn}", AD.dual_functions, _reduction(fn),
                     bench=_elementwise_bench(False, fn=fn)) for fn in ("max", "min")]
    specs += [OpSpec(f"ad.dual_functions/{fn}_ties", AD.dual_functions, _reduction(fn, True))
              for fn in ("max", "min")]
    specs += [
        OpSpec("ad.jvp", mlp_jvp, _mlp_jvp_inputs, naive_derivative=TB.mlp_jvp, flops=_mlp_flops,
               bench={k: (lambda s=s: _mlp_bench(*s, with_g=False)) for k, s in MLP_BENCH.items()}),
        OpSpec("ad.vjp", mlp_vjp, _mlp_vjp_inputs, naive_derivative=TB.mlp_vjp, flops=_mlp_flops,
               bench={k: (lambda s=s: _mlp_bench(*s, with_g=True)) for k, s in MLP_BENCH.items()}),
        OpSpec("ad.hessian/logsumexp", hessian_logsumexp, _hessian_lse),
        OpSpec("ad.hessian/rosenbrock", hessian_rosenbrock, _hessian_rosen),
        OpSpec("ad.numeric_diff", numeric_diff, _numeric),
    ]
    return specs


register(*_specs())
