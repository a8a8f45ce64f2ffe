"""Strategies shared by the optimizer specs: gradient sequences, test problems and
hyper-parameters, all exact in the tested dtype.

Hyper-parameters are drawn as values the tested dtype represents exactly, and float32 too
for float64 runs (Keras casts Python floats through float32: docs/conventions/README.md
§0.1 #4), so a constant is never a rounding difference between the oracle and a framework:
learning rates m 2^e with m odd and < 8 (3 bits, exact even in bfloat16), decay rates k/64
or 1 - 2^-j with j up to the dtype's precision (bfloat16 8 bits, float16 11, float32 24,
capped at 20), eps 2^e or 0.

Gradient sequences (K, *S) come from a small menu of (K, S) pairs: eager JAX compiles each
primitive once per shape and dtype, and every K is a new shape of the stacked trajectory.
The menu has K = 1, 2, 3 (bias correction matters most there) and up to 12; the other
menus (test problems, schedules) reuse these K.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case

# One parameter shape: elementwise optimizers do not depend on it, and every new shape costs
# eager JAX a compile of each primitive (the test problems have n = 3 too, sharing them).
SEQUENCES = ((1, (3,)), (2, (3,)), (3, (3,)), (6, (3,)), (12, (3,)))
# Largest 2^j with 1 - 2^-j exact in the dtype (Keras: float32 for float64 as well).
NEAR_ONE_BITS = {"float64": 20, "float32": 20, "float16": 11, "bfloat16": 8}
# Gradient magnitudes 2^e: float16 keeps g^2 and (1 - b2) g^2 within its range.
GRAD_EXP = {"float64": (-20, 10), "float32": (-20, 10), "float16": (-6, 5),
            "bfloat16": (-20, 10)}
# eps = 2^e (0 only in float64/float32, with no zero gradients: 0/0 is undefined).
EPS_EXP = {"float64": (-30, 0), "float32": (-30, 0), "float16": (-14, 0),
           "bfloat16": (-30, 0)}


def lr(lo_exp: int = -12, hi_exp: int = -3) -> st.SearchStrategy[float]:
    return st.builds(lambda m, e: m * 2.0**e, st.sampled_from([1, 3, 5, 7]),
                     st.integers(lo_exp, hi_exp))


def decay(dtype: str, lo: float = 1 / 64) -> st.SearchStrategy[float]:
    """A decay rate in [lo, 1): k/64, or 1 - 2^-j near 1 (b2 = 0.999 is about 1 - 2^-10)."""
    near = st.integers(1, NEAR_ONE_BITS[dtype]).map(lambda j: 1.0 - 2.0**-j)
    return st.one_of(S.dyadic(lo, 63 / 64, bits=6), near.filter(lambda v: v >= lo))


def eps(dtype: str, allow_zero: bool = True) -> st.SearchStrategy[float]:
    lo, hi = EPS_EXP[dtype]
    powers = st.integers(lo, hi).map(lambda e: 2.0**e)
    if allow_zero and dtype in ("float64", "float32"):
        return st.one_of(st.just(0.0), powers)
    return powers


def weight_decay() -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), lr(-10, -2))


@st.composite
def gradient_sequence(d: st.DrawFn, dtype: str, nonzero: bool = False
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(params (*S), grads (K, *S)): params in [-4, 4]; gradients 2^e u with u in [-1, 1]
    (hypothesis favours 0 and the ends), one scale per step, some steps entirely zero.
    ``nonzero``: no zero gradient element (for eps = 0, where 0/0 would be undefined)."""
    k, shape = d(st.sampled_from(SEQUENCES))
    params = d(S.arrays(shape, -4.0, 4.0))
    lo, hi = GRAD_EXP[dtype]
    exps = d(hnp.arrays(np.int64, (k,) + (1,) * len(shape), elements=st.integers(lo, hi)))
    u = d(S.arrays((k, *shape), -1.0, 1.0))
    if nonzero:
        u = np.where(np.abs(u) < 2.0**-4, np.where(u < 0, -(2.0**-4), 2.0**-4), u)
    elif k > 1 and d(st.booleans()):
        u[d(st.integers(0, k - 1))] = 0.0
    return params, np.ldexp(u, exps)


def sequence_case(d: st.DrawFn, dtype: str, kwargs: dict, nonzero: bool = False) -> Case:
    params, grads = d(gradient_sequence(dtype, nonzero))
    return Case((params, grads), kwargs, ("params", "grads"))


# Benchmarks: one step on 1e3, 1e5 and 1e7 parameters.
PARAMS = {"small": 1_000, "medium": 100_000, "large": 10_000_000}


def bench_sequence(**kwargs: object) -> dict:
    def make(shape: tuple[int, ...]) -> Case:
        n = shape[0]
        return Case((B.normal((n,)), B.normal((1, n), 0.1)), dict(kwargs), ("params", "grads"))

    return B.by_size(make, {size: (n,) for size, n in PARAMS.items()})


# --- test problems (NAG, Newton, L-BFGS) ---------------------------------------------------
KINDS = ("softplus", "logcosh", "quartic")


@st.composite
def problem(d: st.DrawFn, n: int) -> tuple[np.ndarray, ...]:
    """(x0, q, a, b, c): Q = M M^T / n + diag(u), u in [1/2, 2] (positive definite,
    condition <= 2n + 4), the quadratic's centre a with 1/2 <= |a_i| <= 2 (the minimum is
    away from 0: the trajectory has a scale), b in [0, 1/2] (some 0: the quadratic alone),
    x0 in [-2, 2], c in [-1, 1]."""
    m = d(S.arrays((n, n), -1.0, 1.0))
    q = m @ m.T / n + np.diag(d(S.arrays((n,), 0.5, 2.0)))
    q = (q + q.T) / 2
    signs = d(hnp.arrays(np.int64, (n,), elements=st.sampled_from([-1, 1])))
    a = d(S.arrays((n,), 0.5, 2.0)) * signs
    return (d(S.arrays((n,), -2.0, 2.0)), q, a, d(S.arrays((n,), 0.0, 0.5)),
            d(S.arrays((n,), -1.0, 1.0)))


PROBLEM_NAMES = ("x0", "q", "a", "b", "c")


def bench_problem(sizes: dict[str, int], **kwargs: object) -> dict:
    """Benchmarks on the test function with n parameters (a dense (n, n) Q)."""
    def make(shape: tuple[int, ...]) -> Case:
        n = shape[0]
        m = B.normal((n, n)) / np.sqrt(n)
        q = m @ m.T / n + np.eye(n)
        return Case((B.normal((n,)), q, np.ones(n), np.full(n, 0.25), B.normal((n,), 0.5)),
                    dict(kwargs), PROBLEM_NAMES)

    return B.by_size(make, {size: (n,) for size, n in sizes.items()})
