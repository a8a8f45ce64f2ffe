"""Specs of the ``pool`` family beyond one window value: stochastic pooling (the test-time
expectation, and the training-time sampling as a statistical spec), max unpooling and
k-max pooling.

Stochastic pooling exists in no framework: each adapter composes it with its own RNG
(torch.multinomial, jax.random.categorical, tf.random.categorical). ``pool.stochastic/train``
checks the picks statistically at the suite's false-alarm rate (``conformance.statistics``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from scipy import stats

from adapters.base import Adapter
from conformance import agreement, checks
from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs.pooling.windows import (
    BENCH_SHAPES,
    bench,
    menu,
    scenario_inputs,
    tied_values,
    unique_values,
)
from conformance.statistics import ALPHA, pvalue_agreement
from conformance.vocabulary import numpy_dtype
from oracle import pooling as P

STOCHASTIC_KEYS = ("kernel", "stride")
# Picks per window in the statistical check. Activations lie in [1, 4] (below), so with at
# most 9 slots every p_i >= 1 / (1 + 8 * 4) and every expected count >= 2048 / 33 > 60:
# the chi-square approximation of the Pearson statistic holds well into its tail.
REPLICAS = 2048
# Distinct k/32 in [1, 4] (k = 32..128, 97 values): exact in every dtype, so each pick
# identifies its slot; the values' spread gives unequal probabilities.
STOCHASTIC_GRID = range(32, 129)
STOCHASTIC_MENU = (menu(1, 2, padding=False, max_size=len(STOCHASTIC_GRID))
                   + menu(2, 3, padding=False, max_size=len(STOCHASTIC_GRID)))
UNPOOL_MENU = (menu(1, 2, ceil=True, stride_ge_kernel=True)
               + menu(2, 3, ceil=True, stride_ge_kernel=True)
               + menu(3, 2, ceil=True, stride_ge_kernel=True))


def _positive(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Activations after a ReLU, kept >= 1/4: a window of zeros has no derivative."""
    return S.arrays(shape, 0.25, 4.0)


def _distinct_positive(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return S.distinct_from(tuple(STOCHASTIC_GRID), tuple(shape), 1 / 32)


def _stochastic_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                      seed: int) -> checks.CheckOutcome:
    """x repeated REPLICAS times along the batch axis, one seeded call: every window is
    sampled REPLICAS times. Each pick must be one of its window's values (compared with the
    nearest one, which names the slot), and the slot counts of all windows pass a
    chi-square test against the oracle's p_i = a_i / sum a: the Pearson statistics summed
    over the (independently sampled) windows, with sum(K - 1) degrees of freedom, at
    ALPHA = 1e-6."""
    x = case.args[0].astype(numpy_dtype(dtype))
    kwargs = dict(case.kwargs)
    x64 = x.astype(np.float64)
    win = P.pool_windows(x64, kernel=kwargs["kernel"], stride=kwargs["stride"],
                         padding=0).values
    adapter.seed(seed)
    with adapter.context():
        big = adapter.to_native(np.tile(x, (REPLICAS,) + (1,) * (x.ndim - 1)), dtype)
        y = adapter.to_numpy(adapter.op(spec.id)(big, **kwargs)).astype(np.float64)
    y = y.reshape((REPLICAS,) + win.shape[:-1])
    slot = np.argmin(np.abs(y[..., None] - win), axis=-1)
    picked = np.take_along_axis(np.broadcast_to(win, y.shape + win.shape[-1:]),
                                slot[..., None], axis=-1)[..., 0]
    n_k = win.shape[-1]
    counts = (slot[..., None] == np.arange(n_k)).sum(axis=0)
    probs = P.stochastic_pool_probs(x64, **kwargs).reshape(counts.shape)
    pearson = stats.chisquare(counts, REPLICAS * probs, axis=-1).statistic
    pvalue = float(stats.chi2.sf(pearson.sum(), pearson.size * (n_k - 1)))
    freq = counts / REPLICAS
    worst = np.unravel_index(np.argmax(np.abs(freq - probs)), freq.shape)
    parts = [agreement.compare("picked value", y, picked, picked, dtype),
             pvalue_agreement("slot frequencies (chi-square test)", pvalue,
                              float(freq[worst]), float(probs[worst]),
                              float(stats.chi2.isf(ALPHA, pearson.size * (n_k - 1))))]
    return checks.CheckOutcome(parts, [], [c.output for c in parts])


def _unpool(dtype: str) -> st.SearchStrategy[Case]:
    """Pooled values and the indices of non-overlapping windows (stride >= kernel): every
    index is written once. (Overlapping windows may pick one element twice; the gradient
    of such a scatter is a convention: torch gathers it to every copy.)"""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape, geometry = d(st.sampled_from(UNPOOL_MENU))
        win = P.pool_windows(np.zeros(shape), **geometry)
        choice = d(S.integer_arrays(tuple(shape[:2]) + tuple(win.out_shape), 0, 2**20))
        valid = win.valid.reshape(-1, win.valid.shape[-1])
        flat = win.flat_index.reshape(valid.shape)
        per_window = [flat[w][valid[w]] for w in range(valid.shape[0])]
        picks = choice.reshape(shape[0] * shape[1], -1)
        indices = np.array([[per_window[w][c % per_window[w].size] for w, c in enumerate(row)]
                            for row in picks], dtype=np.int64).reshape(choice.shape)
        values = d(S.arrays(choice.shape, -4.0, 4.0))
        return Case((values, indices), {"output_size": shape[2:]}, ("values", "indices"))

    return draw()


def _kmax(values, smallest: bool = False):
    """``smallest``: torch.topk(largest=False) drawn too (largest True or False)."""

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            shape = d(S.shapes(1, 3, 1, 6, menu=5))
            axis = d(S.axis_of(len(shape)))
            k = d(st.integers(1, shape[axis]))
            kwargs = {"k": k, "axis": axis}
            if smallest:
                kwargs["largest"] = d(st.booleans())
            return Case((d(values(shape)),), kwargs, ("x",))

        return draw()

    return inputs


def _unpool_bench() -> dict:
    """2x2 windows, stride 2, over the 2-d benchmark shapes: one random slot per window."""

    def make(shape: tuple[int, ...]) -> Case:
        n, c, h, w = shape
        rng = B.rng()
        rows = 2 * np.arange(h // 2)[:, None] + rng.integers(0, 2, (n, c, h // 2, w // 2))
        cols = 2 * np.arange(w // 2)[None, :] + rng.integers(0, 2, (n, c, h // 2, w // 2))
        return Case((B.normal((n, c, h // 2, w // 2)), (rows * w + cols).astype(np.int64)),
                    {"output_size": (h, w)}, ("values", "indices"))

    return B.by_size(make, BENCH_SHAPES[2])


def _kmax_bench() -> dict:
    return B.by_size(lambda s: Case((B.normal(s),), {"k": s[-1] // 4, "axis": -1}, ("x",)),
                     B.ROWS)


register(
    OpSpec("pool.stochastic/eval", P.stochastic_pool_eval,
           scenario_inputs(STOCHASTIC_MENU, _positive, STOCHASTIC_KEYS), grad_wrt=(0,),
           bench=bench(2, STOCHASTIC_KEYS, positive=True)),
    OpSpec("pool.stochastic/train", P.stochastic_pool_probs,
           scenario_inputs(STOCHASTIC_MENU, _distinct_positive, STOCHASTIC_KEYS),
           check=_stochastic_check,
           notes="training-time picks: chi-square test of the slot frequencies"),
    OpSpec("pool.max_unpool", P.max_unpool, _unpool, grad_wrt=(0,), bench=_unpool_bench()),
    OpSpec("pool.kmax", P.kmax_pool, _kmax(unique_values, smallest=True), grad_wrt=(0,),
           bench=_kmax_bench()),
    OpSpec("pool.kmax/ties", P.kmax_pool, _kmax(tied_values), grad_wrt=(0,),
           notes="ties: the lowest index is kept first (JAX's and TF's top_k rule)"),
)
