"""Specs of the ``ad`` family, composite derivatives: forward mode (ad.jvp), reverse mode
(ad.vjp) and second derivatives (ad.hessian) of fixed functions built from the framework's
ops, against the oracle's dual numbers run on the same functions written with oracle
primitives (``oracle.autodiff.composite``); and the difference quotient (ad.numeric_diff),
which no framework offers.

These specs ARE derivative checks: their outputs are derivatives computed by the backend's
jvp / vjp / hessian, so ``grad_wrt`` is empty (no derivative of a derivative is checked).

  ad.jvp                  (loss, J u) of a 2-layer tanh MLP with a weighted log-softmax loss
  ad.vjp                  (loss, g^T J) of the same function (reverse mode)
  ad.hessian/logsumexp    Hessian of logsumexp(A x) + |x|^2 / 2
  ad.hessian/rosenbrock   Hessian of sum b (x_{i+1} - x_i^2)^2 + (a - x_i)^2
  ad.numeric_diff         forward / central difference quotient of sin(x) exp(x / 2)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.textbook import autodiff as TB
from oracle.autodiff import composite as C

# Elementwise shapes of the difference quotient (one menu, as in the elementwise specs).
SHAPES = S.shapes(1, 2, 1, 5, menu=2)


# --- jvp / vjp of a 2-layer MLP -------------------------------------------------------------
PARAMS = ("x", "w1", "b1", "w2", "b2")


# (N, D, H, C): one small size, since each size is a jit compile of the MLP's derivative
# per dtype and the oracle's VJP takes one dual pass per parameter element (25 here): the
# derivative rules, not the shapes, are under test.
MLP_SIZES = ((2, 2, 3, 3),)


def _mlp_params(d: st.DrawFn) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    n, di, h, c = d(st.sampled_from(MLP_SIZES))
    shapes = ((n, di), (h, di), (h,), (c, h), (c,))
    # |x W1^T + b1| <= D / 2 + 1 / 2 = 1.5 (D = 2), so tanh' >= 0.18. The kernels
    # differentiate tanh from its output (1 - y^2), and TF's and JAX's float32 tanh are
    # few-ulp approximations (4.9 and 4.3 ulp measured on [0, 9]): each hidden unit's
    # derivative then carries ~ulps * 2y / (1 - y^2) relative error, and the sums over
    # hidden units (signs mixed) can leave that above any per-element naive bound once tanh
    # saturates. The saturated derivative itself is checked element by element in
    # ad.dual_functions (tanh, |x| <= 8).
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


# (N, D, H, C); "large" moves ~20 MB (x and dx) for ~8 GFLOP: a few seconds per benchmark.
MLP_BENCH = {"small": (64, 64, 64, 10), "medium": (256, 256, 256, 10),
             "large": (4096, 512, 512, 100)}


def _mlp_benches(with_g: bool) -> dict[str, Callable[[], Case]]:
    return {k: (lambda s=s: _mlp_bench(*s, with_g=with_g)) for k, s in MLP_BENCH.items()}


def _mlp_flops(case: Case) -> int:
    """Two matmuls forward (2 N H (D + C)), three times that with the derivative pass."""
    (n, di), (h, _), (c, _) = case.args[0].shape, case.args[1].shape, case.args[3].shape
    return 3 * 2 * n * h * (di + c)


# --- hessian --------------------------------------------------------------------------------
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
def _numeric(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(SHAPES)
        kwargs = {"h": d(st.integers(4, 12).map(lambda e: 2.0**-e)),
                  "scheme": d(st.sampled_from(("forward", "central")))}
        return Case((d(S.arrays(shape, -3, 3)), d(S.arrays(shape, -1, 1))), kwargs, ("x", "u"))

    return draw()


# --- registration ---------------------------------------------------------------------------
register(
    OpSpec("ad.jvp", C.mlp_jvp, _mlp_jvp_inputs, textbook=TB.mlp_jvp,
           flops=_mlp_flops, bench=_mlp_benches(with_g=False)),
    OpSpec("ad.vjp", C.mlp_vjp, _mlp_vjp_inputs, textbook=TB.mlp_vjp,
           flops=_mlp_flops, bench=_mlp_benches(with_g=True)),
    OpSpec("ad.hessian/logsumexp", C.hessian_logsumexp, _hessian_lse),
    OpSpec("ad.hessian/rosenbrock", C.hessian_rosenbrock, _hessian_rosen),
    OpSpec("ad.numeric_diff", C.numeric_diff, _numeric),
)
