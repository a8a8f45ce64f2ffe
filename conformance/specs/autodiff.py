"""Specs of the ``ad`` family: each framework's own differentiation machinery (forward mode,
reverse mode, second derivatives) against the oracle's exact dual numbers.

These specs ARE derivative checks: their outputs are derivatives computed by the backend's
jvp / vjp / hessian, so ``grad_wrt`` is empty (no derivative of a derivative is checked).

Variants (the op or function is drawn with the inputs: one spec per derivative rule family
keeps the run short, and the failure message names the op):
  ad.dual_arith               value and tangent of add sub mul div pow maximum minimum (x and
                              y both dual), reciprocal, neg: the framework's forward mode
  ad.dual_arith/tie           maximum/minimum where x == y: which tangent a tie takes (the
                              catalog: the average of both)
  ad.dual_functions           exp log sin cos tanh sigmoid sqrt abs relu polynomial (Horner),
                              inside each domain and off the kinks
  ad.dual_functions/reduce    max/min over the last axis, distinct values
  ad.dual_functions/abs_at_0  abs / relu at exact zeros: the derivative at the kink (catalog:
  ad.dual_functions/relu_at_0 abs'(0) = relu'(0) = 0, divergences.md §0.1 #8)
  ad.dual_functions/reduce_ties max/min with a tied extremum (catalog: the first extremal
                              element's tangent)
  ad.jvp                      (loss, J u) of a 2-layer tanh MLP with a weighted log-softmax loss
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
        k = d(hnp.arrays(np.int64, shape, elements=st.integers(-GRID_MAX, GRID_MAX),
                         unique=True))
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


class MLPVjp(NamedTuple):
    loss: np.ndarray
    x: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray


def mlp_vjp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> MLPVjp:
    """(loss, g^T d loss / d(x, w1, b1, w2, b2)): ``mlp_loss`` and its VJP for the
    cotangent g (N,), as torch.func.vjp / jax.vjp return them."""
    args = [x, w1, b1, w2, b2, t]
    return MLPVjp(mlp_loss(*args), *AD.vjp(mlp_loss, args, None, range(5), [g]))


# (N, D, H, C): one size, since each is a jit compile of the MLP's derivative per dtype
# (the derivative rules, not the shapes, are under test here).
MLP_SIZES = ((2, 3, 4, 3),)


def _mlp_params(d: st.DrawFn) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    n, di, h, c = d(st.sampled_from(MLP_SIZES))
    shapes = ((n, di), (h, di), (h,), (c, h), (c,))
    # |x W1^T + b1| <= D / 2 + 1 / 2 = 2 (D = 3): tanh' >= 0.07. The kernels differentiate tanh from
    # its output (1 - y^2), and TF's and JAX's float32 tanh are few-ulp approximations
    # (4.9 and 4.3 ulp measured on [0, 9]): each hidden unit's derivative then carries
    # ~ulps * 2y / (1 - y^2) relative error, and the sums over hidden units (signs mixed)
    # can leave that above any per-element naive bound once tanh saturates. The saturated
    # derivative itself is checked element by element in ad.dual_functions (tanh, |x| <= 8).
    ranges = ((-1, 1), (-0.5, 0.5), (-0.5, 0.5), (-2, 2), (-2, 2))
    # W2 and t hold distinct values: equal rows of W2 (a constant W2) make the loss
    # independent of h, and a constant t with equal logits puts the loss at its minimum;
    # either way whole gradient outputs are exactly 0 by cancellation of O(1) terms, and the
    # agreement rule's scale (the output's own rms) collapses to 0 under legitimate rounding.
    params = tuple(d(S.arrays(s, *r, unique=i == 3))
                   for i, (s, r) in enumerate(zip(shapes, ranges)))
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


def _mlp_benches(with_g: bool) -> dict[str, Callable[[], Case]]:
    return {k: (lambda s=s: _mlp_bench(*s, with_g=with_g)) for k, s in MLP_BENCH.items()}


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


# Two sizes (n, m): jax.hessian compiles per shape. m = 1 makes logsumexp linear (its
# Hessian 0, only the quadratic's identity remains); Rosenbrock has one term at n = 2.
HESSIAN_N = (2, 4)
HESSIAN_NM = ((2, 1), (4, 3))


def _hessian_lse(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        n, m = d(st.sampled_from(HESSIAN_NM))
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
    arith = dict(oracle=AD.dual_arith, naive_derivative=TB.dual_arith)
    functions = dict(oracle=AD.dual_functions, naive_derivative=TB.dual_functions)
    return [
        OpSpec("ad.dual_arith", inputs=_arith, **arith,
               bench=_elementwise_bench(True, op="mul")),
        OpSpec("ad.dual_arith/tie", inputs=_probes(_tie, ("maximum", "minimum")), **arith),
        OpSpec("ad.dual_functions", inputs=_functions, **functions,
               bench=_elementwise_bench(False, fn="tanh")),
        OpSpec("ad.dual_functions/reduce", inputs=_reduce, **functions,
               bench=_elementwise_bench(False, fn="max")),
        OpSpec("ad.dual_functions/abs_at_0", inputs=_probes(_at_kink, ("abs",)), **functions),
        OpSpec("ad.dual_functions/relu_at_0", inputs=_probes(_at_kink, ("relu",)),
               **functions),
        OpSpec("ad.dual_functions/reduce_ties", inputs=_probes(_reduce_ties, ("max", "min")),
               **functions),
        OpSpec("ad.jvp", mlp_jvp, _mlp_jvp_inputs, naive_derivative=TB.mlp_jvp,
               flops=_mlp_flops, bench=_mlp_benches(with_g=False)),
        OpSpec("ad.vjp", mlp_vjp, _mlp_vjp_inputs, naive_derivative=TB.mlp_vjp,
               flops=_mlp_flops, bench=_mlp_benches(with_g=True)),
        OpSpec("ad.hessian/logsumexp", hessian_logsumexp, _hessian_lse),
        OpSpec("ad.hessian/rosenbrock", hessian_rosenbrock, _hessian_rosen),
        OpSpec("ad.numeric_diff", numeric_diff, _numeric),
    ]


register(*_specs())
