"""Specs of the ``loss`` family (notes 004).

Variants (one spec each, because ``grad_wrt`` and the argument list differ):
  loss.mse                        y, t; reduction mean / sum / none
  loss.mse/weight_decay           y, t, w; + weight_decay * sum(w^2) after a mean / sum
  loss.binary_cross_entropy/probs probabilities p, targets t
  loss.binary_cross_entropy/logits
  loss.cross_entropy/index        logits (N, C), int64 class indices (N,)
  loss.cross_entropy/probs        logits (N, C), probability rows (N, C)
  loss.cross_entropy/index_options  + class weights, ignore_index, label_smoothing
  loss.cross_entropy/index_ignore   ignore_index alone (Keras' ignore_class path)
  loss.cross_entropy/probs_options  probability rows + class weights, label_smoothing
  loss.cross_entropy/probs_smoothing  label_smoothing alone (Keras' / optax's smoothing)
  loss.sequence_cross_entropy     logits (T, N, C), int64 targets (T, N)

Targets t of MSE and BCE are floating inputs that every framework differentiates (torch's
binary_cross_entropy has a target derivative in both modes; TF and JAX compose the loss
from differentiable ops), so they are in ``grad_wrt``; integer class indices are not.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.textbook import losses as TB
from oracle import losses as L

# (y - t)^2 summed over the largest menu shape (216 elements) must stay below float16's
# 65504: |y - t| <= 8 gives at most 216 * 64.
MSE_HALF = 4.0
MSE_WIDE = 100.0
# Probability-space BCE: p in [2^-10, 1 - 2^-10]. torch clamps each log at -100 and Keras
# clips p to [1e-7, 1 - 1e-7] (docs/conventions/losses.md §9.3), and in float16 / bfloat16
# 1 - 1e-7 rounds to 1, so nearer to 0 or 1 the frameworks stop computing the catalog's
# formula.
# 1 - 2^-10 is exact in float16 (spacing 2^-11 below 1); bfloat16 has only 8 significand
# bits, its largest value below 1 is 1 - 2^-8 (1 - 2^-10 would round to 1).
P_LO = 2.0**-10
P_HI = {"bfloat16": 1 - 2.0**-8}
P_HI_DEFAULT = 1 - 2.0**-10
# BCE logits: the stable form agrees at +-30 in every framework
# (docs/conventions/losses.md §9.3).
LOGIT_MAX = 30.0
# Shape menus, small and shared between specs: JAX compiles per shape and dtype (and per
# derivative mode), so every extra shape costs compile time on every dtype.
ELEMENTWISE = S.shapes(1, 3, 1, 6, menu=4)
ROWS = S.shapes(2, 2, 2, 6, menu=4)
STEPS = S.shapes(3, 3, 2, 5, menu=4)


def _reduction(*allowed: str) -> st.SearchStrategy[str]:
    return st.sampled_from(allowed)


# --- mse ------------------------------------------------------------------------------------
def _mse_range(dtype: str) -> float:
    return MSE_HALF if dtype == "float16" else MSE_WIDE


def _mse(dtype: str) -> st.SearchStrategy[Case]:
    m = _mse_range(dtype)

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(ELEMENTWISE)
        y, t = d(S.arrays(shape, -m, m)), d(S.arrays(shape, -m, m))
        return Case((y, t), {"reduction": d(_reduction("mean", "sum", "none"))}, ("y", "t"))

    return draw()


def _mse_decay(dtype: str) -> st.SearchStrategy[Case]:
    m = _mse_range(dtype)

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(ELEMENTWISE)
        y, t = d(S.arrays(shape, -m, m)), d(S.arrays(shape, -m, m))
        # The penalty's weights, any shape (the sum is over every entry); |w| <= 4.
        w = d(S.arrays(ELEMENTWISE, -4, 4))
        kwargs = {"reduction": d(_reduction("mean", "sum")),
                  "weight_decay": d(S.dyadic(0.0, 1.0))}
        return Case((y, t, w), kwargs, ("y", "t", "w"))

    return draw()


# --- binary cross-entropy -------------------------------------------------------------------
def _bce(from_logits: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        lo, hi = ((-LOGIT_MAX, LOGIT_MAX) if from_logits
                  else (P_LO, P_HI.get(dtype, P_HI_DEFAULT)))

        @st.composite
        def draw(d: st.DrawFn) -> Case:
            shape = d(ELEMENTWISE)
            # Soft targets in [0, 1]; hypothesis favours the ends, i.e. hard labels.
            p, t = d(S.arrays(shape, lo, hi)), d(S.arrays(shape, 0.0, 1.0))
            kwargs = {"reduction": d(_reduction("mean", "sum", "none")),
                      "from_logits": from_logits}
            return Case((p, t), kwargs, ("z" if from_logits else "p", "t"))

        return draw()

    return inputs


# --- softmax cross-entropy ------------------------------------------------------------------
def _logit_shift(dtype: str) -> float:
    """Twice the log of the dtype's largest value: a common shift there overflows any kernel
    that exponentiates without subtracting the max (the loss is shift-invariant)."""
    return 2 * float(np.log(float(np.finfo(np.float32 if dtype == "bfloat16" else dtype).max)))


def _shifted_logits(d: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    limit = _logit_shift(dtype)
    return d(S.arrays(shape, -8, 8)) + d(S.finite(-limit, limit))


def _labels(shape: tuple[int, ...], classes: int) -> st.SearchStrategy[np.ndarray]:
    return S.integer_arrays(tuple(shape), 0, classes - 1)


def _simplex_rows(raw: np.ndarray) -> np.ndarray:
    """Rows of nonnegative weights scaled to sum 1 (an all-zero row becomes uniform):
    one-hot and label-smoothed targets are the corners and faces hypothesis favours."""
    sums = raw.sum(axis=1, keepdims=True)
    uniform = np.full_like(raw, 1.0 / raw.shape[1])
    return np.where(sums > 0, raw / np.where(sums > 0, sums, 1.0), uniform)


def _ce(target: str):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n, c = d(ROWS)
            z = _shifted_logits(d, (n, c), dtype)
            if target == "index":
                t = d(_labels((n,), c))
            else:
                t = _simplex_rows(d(S.arrays((n, c), 0.0, 1.0)))
            return Case((z, t), {"reduction": d(_reduction("mean", "sum", "none"))},
                        ("logits", "target"))

        return draw()

    return inputs


def _sequence_ce(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        steps, n, c = d(STEPS)
        z = _shifted_logits(d, (steps, n, c), dtype)
        t = d(_labels((steps, n), c))
        return Case((z, t), {"reduction": d(_reduction("mean", "sum"))}, ("logits", "target"))

    return draw()


# --- cross-entropy options (issue 17) ----------------------------------------------------------
# Per-class weights, positive: torch divides the mean by the kept targets' weights.
WEIGHT_LO, WEIGHT_HI = 0.25, 4.0


def _ce_options(target: str, *, weight: bool, ignore: bool, smoothing: bool):
    """Cross-entropy with the options torch's F.cross_entropy takes: ``weight`` (a positional
    (C,) array, not differentiated: torch's nll_loss has no weight derivative),
    ``ignore_index`` (None or a class; at least one sample keeps its target, else the mean
    is 0 / 0) and ``label_smoothing`` (a dyadic s in [0, 1])."""

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n, c = d(ROWS)
            z = _shifted_logits(d, (n, c), dtype)
            kwargs: dict = {"reduction": d(_reduction("mean", "sum", "none"))}
            if target == "index":
                t = d(_labels((n,), c))
                if ignore:
                    ii = d(st.sampled_from((None, *range(c))))
                    if ii is not None and np.all(t == ii):
                        t = t.copy()
                        t[0] = (ii + 1) % c
                    kwargs["ignore_index"] = ii
            else:
                t = _simplex_rows(d(S.arrays((n, c), 0.0, 1.0)))
            if smoothing:
                kwargs["label_smoothing"] = d(S.dyadic(0.0, 1.0))
            args, names = (z, t), ("logits", "target")
            if weight:
                args, names = (*args, d(S.arrays((c,), WEIGHT_LO, WEIGHT_HI))), (*names, "weight")
            return Case(args, kwargs, names)

        return draw()

    return inputs


# --- benchmarks -----------------------------------------------------------------------------
def _bench_ce() -> dict:
    def make(shape: tuple[int, ...]) -> Case:
        labels = B.rng().integers(0, shape[1], shape[0])
        return Case((B.normal(shape, 3.0), labels), {"reduction": "mean"}, ("logits", "target"))

    return B.by_size(make, B.ROWS)


register(
    OpSpec("loss.mse", L.mse, _mse, grad_wrt=(0, 1), textbook=TB.mse,
           bench=B.by_size(lambda s: Case((B.normal(s), B.normal(s)), {"reduction": "mean"},
                                          ("y", "t")), B.ELEMENTWISE)),
    OpSpec("loss.mse/weight_decay", L.mse, _mse_decay, grad_wrt=(0, 1, 2),
           textbook=TB.mse),
    OpSpec("loss.binary_cross_entropy/probs", L.binary_cross_entropy, _bce(False),
           grad_wrt=(0, 1), textbook=TB.binary_cross_entropy),
    OpSpec("loss.binary_cross_entropy/logits", L.binary_cross_entropy, _bce(True),
           grad_wrt=(0, 1), textbook=TB.binary_cross_entropy),
    OpSpec("loss.cross_entropy/index", L.cross_entropy, _ce("index"), grad_wrt=(0,),
           bench=_bench_ce(), textbook=TB.cross_entropy),
    OpSpec("loss.cross_entropy/probs", L.cross_entropy, _ce("probs"), grad_wrt=(0, 1),
           textbook=TB.cross_entropy),
    OpSpec("loss.cross_entropy/index_options", L.cross_entropy,
           _ce_options("index", weight=True, ignore=True, smoothing=True), grad_wrt=(0,),
           textbook=TB.cross_entropy_options,
           notes="class weights, ignore_index and label_smoothing together (torch's options)"),
    OpSpec("loss.cross_entropy/index_ignore", L.cross_entropy,
           _ce_options("index", weight=False, ignore=True, smoothing=False), grad_wrt=(0,),
           textbook=TB.cross_entropy_options,
           notes="ignore_index alone (Keras' SparseCategoricalCrossentropy(ignore_class))"),
    OpSpec("loss.cross_entropy/probs_options", L.cross_entropy,
           _ce_options("probs", weight=True, ignore=False, smoothing=True), grad_wrt=(0, 1),
           textbook=TB.cross_entropy_options,
           notes="class weights and label_smoothing on probability targets"),
    OpSpec("loss.cross_entropy/probs_smoothing", L.cross_entropy,
           _ce_options("probs", weight=False, ignore=False, smoothing=True), grad_wrt=(0, 1),
           textbook=TB.cross_entropy_options,
           notes="label_smoothing alone (Keras' CategoricalCrossentropy(label_smoothing), "
                 "optax.smooth_labels)"),
    OpSpec("loss.sequence_cross_entropy", L.sequence_cross_entropy, _sequence_ce,
           grad_wrt=(0,), textbook=TB.sequence_cross_entropy),
)
