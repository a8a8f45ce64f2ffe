"""Specs of optim.newton and optim.lbfgs on the drawn test functions (mode ``state``).

Each framework evaluates f(x) = 1/2 (x - a)^T Q (x - a) + sum b phi(x - c) itself and
differentiates it with its own autodiff (Newton: its own Hessian and linear solve); the
oracle's gradient and Hessian are its dual numbers. L-BFGS variants name the first-step
and pair conventions (docs/conventions/optimizers.md §L-BFGS): the textbook form
(``optim.lbfgs``), torch's (``/l1_first_step``: first step scaled by min(1, 1/||g||_1),
pairs with s^T y > 1e-10, s the step as computed) and optax's (``/l2_first_step``:
min(1, 1/||g||_2), every pair, s the difference of the stored parameters). The history is
the state: (s, y) oldest first, zero-padded to ``history`` rows, and the number of pairs.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from conformance.registry import Case, OpSpec, Override
from conformance.specs.optimizers import _draw as D
from conformance.vocabulary import FLOAT_DTYPES
from oracle import optimizers as O

NEWTON_MENU = ((3, 1), (3, 2), (3, 3))
# (n, steps, history): histories shorter than the run, so that the oldest pairs drop out.
LBFGS_MENU = ((3, 1, 2), (3, 3, 2), (3, 6, 3), (3, 12, 2))
# L-BFGS takes full quasi-Newton steps; lr <= 1/2 keeps the first (gradient) step inside the
# region where the drawn problems' iteration contracts.
LBFGS_LR = st.sampled_from([0.125, 0.25, 0.375, 0.5])
# No float16: rho = 1 / s^T y overflows float16 (max 65504) once s^T y < 1.5e-5, a few steps
# before the iterates converge, and every float16 L-BFGS turns inf there (torch's LBFGS and
# optax's measured: inf from step 9 of 12; the oracle's own float16 run too), where the
# exact trajectory is finite: no bound can judge it. bfloat16 has float32's range.
LBFGS_DTYPES = tuple(d for d in FLOAT_DTYPES if d != "float16")
# y = g_{t+1} - g_t near the minimum is a difference of small gradients, each itself the
# cancelling sum Q (x - a) + b phi'(x - c): its rounding is eps |Q (x - a)|, set by the order
# in which each framework's autodiff sums those terms (the oracle's are dual numbers). The
# naive run has that error in size but not element by element; measured worst 1.06 (torch,
# float64), 1.007 (TensorFlow, float64), 1.08 (JAX, bfloat16) of the rule's bound.
GRADIENT_ORDER = Override(2.0, "y = g_{t+1} - g_t of cancelling gradient sums: rounding set "
                          "by each autodiff's summation order; measured <= 1.08x the bound",
                          modes=("state",), dtypes=LBFGS_DTYPES)
LBFGS_FORMS = {
    "": {"first_step": "identity", "min_curvature": 0.0, "pair": "step"},
    "/l1_first_step": {"first_step": "l1", "min_curvature": 1e-10, "pair": "step"},
    "/l2_first_step": {"first_step": "l2", "min_curvature": None, "pair": "difference"},
}


def _newton(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        n, steps = d(st.sampled_from(NEWTON_MENU))
        kw = {"kind": d(st.sampled_from(D.KINDS)), "steps": steps}
        return Case(d(D.problem(n)), kw, D.PROBLEM_NAMES)

    return draw()


def _lbfgs(form: dict) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n, steps, history = d(st.sampled_from(LBFGS_MENU))
            kw = {"kind": d(st.sampled_from(D.KINDS)), "steps": steps, "lr": d(LBFGS_LR),
                  "history": history, **form}
            return Case(d(D.problem(n)), kw, D.PROBLEM_NAMES)

        return draw()

    return inputs


SPECS = [
    OpSpec("optim.newton", O.newton, _newton, dtypes=("float64", "float32"), trajectory=True,
           bench=D.bench_problem({"small": 30, "medium": 300}, kind="softplus", steps=1),
           notes="composed everywhere: the framework's Hessian and solve; no half types "
                 "(LAPACK has none)"),
    *[OpSpec(f"optim.lbfgs{variant}", O.lbfgs, _lbfgs(form), dtypes=LBFGS_DTYPES,
             trajectory=True, overrides=(GRADIENT_ORDER,),
             bench=D.bench_problem({"small": 1_000}, kind="softplus", steps=2, lr=0.5,
                                   history=2, **form))
      for variant, form in LBFGS_FORMS.items()],
]
