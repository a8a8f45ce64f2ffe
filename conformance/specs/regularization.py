"""Specs of the ``reg`` family: penalties, the total loss, dropout, the l1 proximal operator
and early stopping.

Dropout is random: no framework's RNG can be matched, so ``reg.dropout`` is a statistical
spec (mode "stat", ``_dropout_check``) at the suite's false-alarm rate
(``conformance.statistics``).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy import stats

from adapters.base import Adapter
from conformance import agreement, checks
from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.statistics import ALPHA, pvalue_agreement
from conformance.textbook import regularization as TB
from conformance.vocabulary import numpy_dtype
from oracle import regularization as R

# Kinks of |w| (0) and of the soft threshold (+-lam) are kept this far away: no subgradient
# convention is tested there.
KINK_GAP = 2.0**-6
# Dropout draws at least this many elements per check (the drawn x, tiled), so the binomial
# test sees a kept-fraction error of ~5 standard deviations = 5 * sqrt(p(1-p)/n) <= 1.4%.
DROPOUT_ELEMENTS = 1 << 15
LAMBDA = S.dyadic(0.0, 2.0, bits=4)


def _weights(lo_side: int = 1, max_dims: int = 3):
    return S.away_from(S.arrays(S.shapes(1, max_dims, lo_side, 6), -4.0, 4.0), [0.0], KINK_GAP)


def _single(values):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        return values.map(lambda w: Case((w,), {}, ("w",)))

    return inputs


def _group_ids(d: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """Per-axis groups (one per filter/row) or free ids in [-1, 3] (-1: in no group)."""
    if d(st.booleans()):
        return R.groups_along(shape, d(S.axis_of(len(shape))))
    return d(S.integer_arrays(tuple(shape), -1, 3))


def _group(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        w = d(_weights())
        form = d(st.sampled_from(["squares", "lasso"]))
        return Case((w, _group_ids(d, w.shape)), {"form": form}, ("w", "groups"))

    return draw()


def _total_loss(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        w1, w2 = d(_weights(max_dims=2)), d(_weights())
        g1, g2 = (_group_ids(d, w.shape) if d(st.booleans()) else None for w in (w1, w2))
        kwargs = {"lambda_r": d(LAMBDA), "penalty": d(st.sampled_from(["l1", "l2", "l2_squared"])),
                  "lambda_g": 0.0 if g1 is None and g2 is None else d(LAMBDA),
                  "group_form": d(st.sampled_from(["squares", "lasso"]))}
        return Case((d(S.arrays((), -4.0, 4.0)), w1, w2, g1, g2), kwargs,
                    ("data_loss", "w1", "w2", "g1", "g2"))

    return draw()


def _prox(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        lam = d(LAMBDA)
        w = d(S.away_from(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0), [lam, -lam], KINK_GAP))
        return Case((w,), {"lam": lam}, ("w",))

    return draw()


def _prox_step(dtype: str) -> st.SearchStrategy[Case]:
    """w = k/16, grad = m/16, lr = 2^-j: w - lr * grad = (k 2^j - m) / 2^(4+j) with
    |k 2^j - m| <= 160, exact in every dtype, so no dtype rounds it onto the threshold
    lr * lam = l / 2^(4+j); the numerator is moved off +-l (the kink) by one."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 3, 1, 6))
        j, lam_16 = d(st.integers(0, 2)), d(st.integers(0, 16))
        k = d(S.integer_arrays(shape, -32, 32))
        m = d(S.integer_arrays(shape, -32, 32))
        m = np.where(np.abs(k * 2**j - m) == lam_16, m + 1, m)
        return Case((k / 16.0, m / 16.0), {"lr": 2.0**-j, "lam": lam_16 / 16.0},
                    ("w", "grad"))

    return draw()


# --- dropout: a statistical spec ---------------------------------------------------------

def _dropout(dtype: str) -> st.SearchStrategy[Case]:
    # |x| >= 1/2: a kept element is never 0, so the mask is recovered as y != 0.
    xs = S.away_from(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0), [0.0], 0.5)
    return st.builds(lambda x, p: Case((x,), {"p": p}, ("x",)), xs, S.dyadic(1 / 16, 15 / 16, 4))


def _tiled(x: np.ndarray, elements: int) -> np.ndarray:
    return np.tile(x, (-(-elements // x.size),) + (1,) * x.ndim)


def _against_mask(name: str, got: np.ndarray, spec: OpSpec, values: np.ndarray,
                  keep: np.ndarray, p: float, dtype: str) -> agreement.Agreement:
    """got against the oracle's dropout(values, keep, p=p): exact and naive (in dtype)."""
    exact = checks.run_oracle(spec, [values.astype(np.float64), keep], {"p": p}, "float64")
    naive = checks.run_oracle(spec, [values, keep], {"p": p}, checks.naive_dtype(dtype))
    return agreement.compare(name, got, exact[0], naive[0], dtype)


def _dropout_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                   seed: int) -> checks.CheckOutcome:
    """One seeded call under reverse mode and one under forward mode, x tiled to at least
    DROPOUT_ELEMENTS. Each call's keep-mask is recovered as y != 0 (|x| >= 1/2), then:
    y, the VJP and the JVP against the oracle with that mask (dropout is linear in x with a
    diagonal Jacobian keep / (1 - p), so J^T v = J v = dropout(v, keep, p)); and the kept
    count against Binomial(n, 1 - p), two-sided exact test at ALPHA = 1e-6."""
    p = case.kwargs["p"]
    nd = numpy_dtype(dtype)
    x = _tiled(case.args[0], DROPOUT_ELEMENTS).astype(nd)
    rng = np.random.default_rng(seed)
    v, u = (rng.standard_normal(x.shape).astype(nd) for _ in range(2))
    fn = adapter.op(spec.id)

    def call(a):
        return fn(a, p=p)

    adapter.seed(seed)
    with adapter.context():
        outs, grads = adapter.vjp(call, [adapter.to_native(x, dtype)], [0],
                                  [adapter.to_native(v, dtype)])
    y = adapter.to_numpy(outs[0]).astype(np.float64)
    keep = y != 0
    parts = [_against_mask("y", y, spec, x, keep, p, dtype),
             _against_mask("d/dx", adapter.to_numpy(grads[0]), spec, v, keep, p, dtype)]
    adapter.seed(seed)
    with adapter.context():
        outs, tans = adapter.jvp(call, [adapter.to_native(x, dtype)], [0],
                                 [adapter.to_native(u, dtype)])
    keep_f = adapter.to_numpy(outs[0]) != 0
    parts.append(_against_mask("J.u", adapter.to_numpy(tans[0]), spec, u, keep_f, p, dtype))
    n, kept = keep.size, int(keep.sum())
    test = stats.binomtest(kept, n, 1.0 - p)
    spread = stats.norm.isf(ALPHA / 2) * math.sqrt(p * (1 - p) / n)
    parts.append(pvalue_agreement("kept fraction (binomial test)", test.pvalue, kept / n,
                                  1.0 - p, spread))
    return checks.CheckOutcome(parts, [], [c.output for c in parts])


# --- early stopping: plain Python scores --------------------------------------------------

def _early_stopping(dtype: str) -> st.SearchStrategy[Case]:
    """Scores on a 1/16 grid and min_delta a multiple of 1/16: s +- delta is exact in
    float32, where Keras compares (see the close_scores variant); NaN now and then."""
    score = st.one_of(st.integers(0, 64).map(lambda k: k / 16), st.just(math.nan))
    return st.builds(
        lambda s, n, mode, delta: Case((), {"scores": s, "patience": n, "mode": mode,
                                            "min_delta": delta}),
        st.lists(score, min_size=1, max_size=12), st.integers(0, 4),
        st.sampled_from(["min", "max"]), st.sampled_from([0.0, 1 / 16, 1 / 8, -1 / 16]))


def _early_stopping_close(dtype: str) -> st.SearchStrategy[Case]:
    """Each epoch improves on the last by b * 2^-30 (below float32's resolution at b):
    in float64 every epoch is an improvement, so training never stops."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        b, patience, mode = d(S.dyadic(1.0, 2.0)), d(st.integers(0, 3)), d(
            st.sampled_from(["min", "max"]))
        step = (-1 if mode == "min" else 1) * b * 2.0**-30
        scores = [b + e * step for e in range(d(st.integers(max(2, patience + 1), 8)))]
        return Case((), {"scores": scores, "patience": patience, "mode": mode,
                         "min_delta": 0.0})

    return draw()


def _bench_weights(**kwargs) -> dict:
    return B.by_size(lambda s: Case((B.normal(s, 3.0),), dict(kwargs), ("w",)), B.ELEMENTWISE)


register(
    OpSpec("reg.l1", R.l1, _single(_weights()), grad_wrt=(0,), bench=_bench_weights(),
           textbook=TB.l1),
    OpSpec("reg.l2", R.l2, _single(_weights()), grad_wrt=(0,), bench=_bench_weights(),
           textbook=TB.l2),
    OpSpec("reg.l2_squared", R.l2_squared,
           _single(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0)), grad_wrt=(0,),
           bench=_bench_weights(), textbook=TB.l2_squared),
    OpSpec("reg.group", R.group_penalty, _group, grad_wrt=(0,), textbook=TB.group),
    OpSpec("reg.total_loss", R.total_loss_2, _total_loss, grad_wrt=(0, 1, 2),
           textbook=TB.total_loss),
    OpSpec("reg.dropout", R.dropout, _dropout, check=_dropout_check,
           bench=B.by_size(lambda s: Case((B.normal(s),), {"p": 0.25}, ("x",)),
                           B.ELEMENTWISE)),
    OpSpec("reg.prox_l1", R.prox_l1, _prox, grad_wrt=(0,), bench=_bench_weights(lam=0.5)),
    OpSpec("reg.prox_l1/step", R.prox_gradient_step, _prox_step, grad_wrt=(0, 1),
           bench=B.by_size(lambda s: Case((B.normal(s), B.normal(s)), {"lr": 0.25, "lam": 0.5},
                                          ("w", "grad")), B.ELEMENTWISE)),
    OpSpec("reg.early_stopping", R.early_stopping_epochs, _early_stopping, dtypes=("float64",),
           notes="plain Python scores: one dtype (the arrays returned are epoch numbers)"),
    OpSpec("reg.early_stopping/close_scores", R.early_stopping_epochs, _early_stopping_close,
           dtypes=("float64",),
           notes="improvements below float32 resolution (Keras compares in float32)"),
)
