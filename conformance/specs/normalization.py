"""Specs of the ``norm`` family: batch/layer normalization, weight and cosine normalization,
standardization and local response normalization.

Conventions that frameworks store differently are drawn, not fixed: BatchNorm's momentum
convention (``momentum_on``) in both specs, and its running-variance bias as two variants
(``norm.batch_norm_train`` stores the unbiased variance, torch's convention;
``/biased_running_var`` the biased one, Keras 3's and Flax's), so that coverage reports per
backend which convention is native and which is composed.

Variants exist where a framework takes a different code path, so that a divergence can name
exactly the checks it covers (a divergence glob on the catalog id matches every variant):
weight norm over an outer axis (torch's fused kernel), an inner axis, or the whole tensor;
LRN on NCHW with odd window sizes (AlexNet), with even sizes (torch's asymmetric window;
TensorFlow's is symmetric) and on (N, C, L) inputs.
The textbook derivatives the gradient checks are held to live in
``conformance.textbook.normalization``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from conformance import strategies as S
from conformance.checks import FORWARD_TEXTBOOK
from conformance.registry import Case, OpSpec, Override, register
from conformance.textbook import normalization as D
from conformance.textbook.normalization import offset as DO
from oracle import normalization as N

# Each normalized group (a BatchNorm channel, a LayerNorm sample, a standardized slice) is
# drawn as s * (u + z): z has mean 0 and standard deviation 1 over the group, s is a power of
# two (the group's spread, from well below to well above sqrt(eps)) and |u| = |mean| / std is
# in [MEAN_RATIO_MIN, MEAN_RATIO_MAX] (log-uniform when that is wide: the aim is 1e4, the
# offsets of raw pixel data and un-normalized activations, issue 17). That ratio is the
# conditioning that matters: torch's and Keras's kernels fold the normalization into
# x * a + (beta - mean * a), a backward-stable form whose error is eps * |mean| / std
# (against the naive subtraction's eps); a variance computed as E[x^2] - E[x]^2 (a
# one-pass bug, or jax.nn.standardize's "fast" default) loses eps * (mean / std)^2, caught
# there. The half types are to stop at 2^6 std: rounding an input
# 1e4 std from its mean to float16 (eps 2^-10) would leave nothing of the group's spread.
# Constant groups are excluded: there the output is 0 / sqrt(eps), and the float64 oracle's
# own mean (sum, then divide) is off by an ulp, so "exact" would not be.
# |u| >= MEAN_RATIO_MIN: a zero-mean group makes BatchNorm's running-mean output pure
# rounding noise (infinitely ill-conditioned), which no error bound can judge.
# The ordinary specs keep |mean| <= 4 std; the ``/offset`` variants draw up to
# OFFSET_RATIO = 1e4 std (issue 17) in every mode, and are judged by the magnitudes of the
# centring's terms, |x| + |mean| (conformance/textbook/normalization/offset.py): at 1e4 every
# kernel's x - mean (folded, or after a mean summed in its own order) is off by a few
# eps |mean|, up to 100x the one sample of it the naive evaluation makes.
MEAN_RATIO_MAX = 4.0
# The /offset variants: groups whose |mean| reaches 1e4 std (float32 / float64 only).
OFFSET_RATIO = 1e4
OFFSET_DTYPES = ("float64", "float32")
OFFSET_NOTE = "|mean| up to 1e4 std (raw pixels, activations)"
MEAN_RATIO_MAX_HALF = 4.0
MEAN_RATIO_MIN = 0.25
# torch's CPU kernels and Keras (tf.nn.batch_normalization) fold the normalization into
# y = x * a + (beta - mean * a), a = gamma * r: one multiply-add per element, backward stable,
# but its rounding is eps (|x| + |mean|) |a| where the naive (x - mean) * a makes
# eps |x - mean| |a|. With |mean| <= 4 std that is within twice the rule's constant for
# most elements (a value near the mean of a group with one outlier, hypothesis's favourite,
# reached 1.05x in float64); beyond, up to MEAN_RATIO_MAX, what each kernel does is a
# measured precision divergence (conformance/divergences/*/normalization.toml). Half types
# are computed in float32 by those kernels (no need).
FOLDED = Override(2.0, "y = x * a + (beta - mean * a) (torch CPU, Keras): rounding "
                  "eps (|x| + |mean|) |a| instead of the naive eps |x - mean| |a|; "
                  "|mean| <= 4 std keeps it within 2x", modes=("forward",),
                  dtypes=("float64", "float32"))
# Groups have >= GROUP_MIN values (shapes with sides >= 3): one value standardizes to 0
# (output beta, d/dx identically 0) and two to +-sqrt(var / (var + eps)), whose derivative is
# O(eps / var). Both come out of kernels as differences of nearly equal terms, rounding noise
# against an (almost) exact 0 that no error bound can judge.
GROUP_MIN = 3
SPREAD_EXP = (-6, 2)
# Weight-norm and cosine-norm slices are kept away from zero norm, where the oracle is
# undefined (no eps) and each framework's eps convention would be tested instead
# (docs/conventions/normalization.md §2.3).
NONZERO_GAP = 2.0**-3
MAX_COS = 0.96875

# Four shapes per op instead of the default six: eager JAX compiles every primitive per shape
# and dtype, and the composed normalizations have ~10 primitives each.
MENU = 4
# Eps as powers of two (exact in every dtype, including a float32-stored attribute).
EPS = S.eps_values(-16, -2)
MOMENTUM = S.dyadic(0.0, 1.0)
MOMENTUM_ON = st.sampled_from(["batch", "running"])


def _unit_rows(z: np.ndarray) -> np.ndarray:
    """Each row of z (at least 3 values) shifted and scaled to mean 0 and (biased) std 1; a
    row that is (nearly) constant becomes a centred ramp instead."""
    m = z.shape[1]
    ramp = np.arange(m) - (m - 1) / 2
    ramp = ramp / np.sqrt(np.mean(ramp**2))
    zc = z - z.mean(axis=1, keepdims=True)
    sd = np.sqrt(np.mean(zc**2, axis=1, keepdims=True))
    return np.where(sd > 2.0**-10, zc / np.where(sd > 0, sd, 1.0), ramp)


def _mean_ratio_max(dtype: str) -> float:
    return MEAN_RATIO_MAX_HALF if dtype in ("float16", "bfloat16") else MEAN_RATIO_MAX


def _groups(d: st.DrawFn, shape: tuple[int, ...], reduced: tuple[int, ...],
            dtype: str, top: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x of ``shape`` with one group per index of the kept axes; returns (x, s, u) with s
    and u of the kept axes' shape (the groups' spread and mean / spread); ``top``: the
    largest |mean| / std (default ``_mean_ratio_max``)."""
    kept = [i for i in range(len(shape)) if i not in reduced]
    perm = kept + list(reduced)
    group_shape = tuple(shape[i] for i in kept)
    g = int(np.prod(group_shape))
    z = np.transpose(d(S.arrays(shape, -1.0, 1.0)), perm).reshape(g, -1)
    s = 2.0 ** d(S.integer_arrays((g, 1), *SPREAD_EXP))
    top = _mean_ratio_max(dtype) if top is None else top
    if top <= 4.0:  # the range drawn before issue 17, drawn as it was
        u = d(S.arrays((g, 1), MEAN_RATIO_MIN, top))
    else:  # log-uniform, so that small offsets stay as likely as large ones
        u = np.exp2(d(S.arrays((g, 1), np.log2(MEAN_RATIO_MIN), np.log2(top))))
    u = u * d(S.signs((g, 1)))
    rows = s * (u + _unit_rows(z))
    x = np.transpose(rows.reshape([shape[i] for i in perm]), np.argsort(perm))
    return x, s.reshape(group_shape), u.reshape(group_shape)


def _bn_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    # n = N * prod(spatial) >= GROUP_MIN (the unbiased running variance needs n > 1 anyway).
    return S.shapes(2, 4, GROUP_MIN, 4, menu=MENU)


def _bn_args(d: st.DrawFn, dtype: str, *, near_batch: bool,
             top: float | None = None) -> tuple[np.ndarray, ...]:
    """(x, gamma, beta, running_mean, running_var). ``near_batch``: running statistics
    within a spread of the batch's own (mean) and a factor 4 of its variance, as in a
    trained network, so that inference keeps |running_mean| / std bounded too."""
    shape = d(_bn_shapes())
    c = shape[1]
    x, s, u = _groups(d, shape, (0, *range(2, len(shape))), dtype, top)
    gamma = d(S.arrays((c,), -2.0, 2.0))
    beta = d(S.arrays((c,), -2.0, 2.0))
    if near_batch:
        running_mean = s * (u + d(S.arrays((c,), -1.0, 1.0)))
        running_var = s**2 * d(S.arrays((c,), 0.25, 4.0))
    else:
        running_mean = d(S.arrays((c,), -4.0, 4.0))
        running_var = d(S.arrays((c,), 2.0**-4, 4.0))  # a variance: positive
    return x, gamma, beta, running_mean, running_var


BN_NAMES = ("x", "gamma", "beta", "running_mean", "running_var")


def _bn_train(unbiased: bool, top: float | None = None):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            kwargs = {"eps": d(EPS), "momentum": d(MOMENTUM), "momentum_on": d(MOMENTUM_ON),
                      "running_var_unbiased": unbiased}
            return Case(_bn_args(d, dtype, near_batch=False, top=top), kwargs, BN_NAMES)

        return draw()

    return inputs


def _bn_eval(dtype: str, top: float | None = None) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        return Case(_bn_args(d, dtype, near_batch=True, top=top), {"eps": d(EPS)}, BN_NAMES)

    return draw()


def _layer_norm(dtype: str, top: float | None = None) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 4, GROUP_MIN, 4, menu=MENU))
        k = d(st.integers(1, len(shape)))
        x, _, _ = _groups(d, shape, tuple(range(len(shape) - k, len(shape))), dtype, top)
        trailing = shape[len(shape) - k:]
        gamma = d(S.arrays(trailing, -2.0, 2.0))
        beta = d(S.arrays(trailing, -2.0, 2.0))
        return Case((x, gamma, beta), {"normalized_ndim": k, "eps": d(EPS)},
                    ("x", "gamma", "beta"))

    return draw()


def _weight_norm(where: str):
    """where="outer": axis 0 or the last axis (torch's default dim=0 for Linear (out, in) and
    OIHW weights, Flax's feature_axes=-1; torch's fused kernel); "inner": an axis in between
    (torch composes norm_except_dim); "whole": axis=None, one norm and a scalar g."""

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            # Sides >= 2: every slice has >= 2 elements (a one-element slice gives
            # w = g * sign(v), whose d/dv is identically 0: noise against an exact 0).
            shape = d(S.shapes(3 if where == "inner" else 2, 4, 2, 4, menu=MENU))
            nd = len(shape)
            v = d(S.away_from(S.arrays(shape, -4.0, 4.0), [0.0], NONZERO_GAP))
            # Negative axes included: the oracle's -1 is the last axis (torch's dim=-1 would
            # be the whole tensor, a mapping trap the adapters must handle).
            axes = {"outer": [0, nd - 1, -1, -nd], "whole": [None],
                    "inner": [*range(1, nd - 1), *range(-nd + 1, -1)]}[where]
            axis = d(st.sampled_from(axes))
            g_shape = () if axis is None else (shape[axis],)
            g = d(S.arrays(g_shape, -4.0, 4.0))
            return Case((v, g), {"axis": axis}, ("v", "g"))

        return draw()

    return inputs


def _cosine_norm(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        # in >= 2: with one input feature the cosine is +-1 and its derivative identically 0.
        n, o, i = d(st.sampled_from([(1, 1, 2), (2, 3, 4), (3, 2, 5), (4, 4, 3), (5, 3, 6)]))
        x = d(S.away_from(S.arrays((n, i), -4.0, 4.0), [0.0], NONZERO_GAP))
        w = d(S.away_from(S.arrays((o, i), -4.0, 4.0), [0.0], NONZERO_GAP))
        # No (anti)parallel pair: there the cosine is at its extremum +-1 and the derivative
        # vanishes as a difference of O(1/|x|) terms, rounding noise against an exact 0 (a
        # stationary point, like a kink). |cos| <= MAX_COS bounds that cancellation.
        cos = (x @ w.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(w, axis=1))
        assume(bool(np.all(np.abs(cos) <= MAX_COS)))
        return Case((x, w), {}, ("x", "w"))

    return draw()


def _axes(ndim: int) -> st.SearchStrategy[Any]:
    """An int axis (negative allowed) or a non-empty tuple of distinct axes."""
    subset = st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim).map(
        lambda s: tuple(sorted(s)))
    return st.one_of(S.axis_of(ndim), subset)


def _standardize(dtype: str, top: float | None = None) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 3, GROUP_MIN, 5, menu=MENU))
        axis = d(_axes(len(shape)))
        reduced = (axis,) if isinstance(axis, int) else axis
        x, _, _ = _groups(d, shape, tuple(sorted({a % len(shape) for a in reduced})), dtype,
                          top)
        return Case((x,), {"axis": axis, "eps": d(EPS)}, ("x",))

    return draw()


def _lrn(sizes: list[int], ndim: int):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            x = d(S.arrays(d(S.shapes(ndim, ndim, 1, 6, menu=MENU)), -4.0, 4.0))
            size = d(st.sampled_from(sizes))
            # alpha = size * a dyadic: TensorFlow takes alpha / size as a float32 attribute,
            # exact only when alpha / size is dyadic. k >= 1 keeps the base >= 1 (no
            # power of a value near 0). beta in (0, 1] (AlexNet: 0.75).
            alpha = size * d(S.dyadic(2.0**-6, 1.0))
            kwargs = {"size": size, "alpha": alpha, "beta": d(S.dyadic(2.0**-6, 1.0)),
                      "k": d(S.dyadic(1.0, 2.0))}
            return Case((x,), kwargs, ("x",))

        return draw()

    return inputs


register(
    OpSpec("norm.batch_norm_train", N.batch_norm_train, _bn_train(unbiased=True),
           grad_wrt=(0, 1, 2), grad_outputs=(0,), textbook=D.bn, overrides=(FOLDED,),
           notes="running statistics are buffers: only y carries gradients"),
    OpSpec("norm.batch_norm_train/biased_running_var", N.batch_norm_train,
           _bn_train(unbiased=False), grad_wrt=(0, 1, 2), grad_outputs=(0,),
           textbook=D.bn, overrides=(FOLDED,),
           notes="Keras 3 / Flax store the biased batch variance in the running variance"),
    OpSpec("norm.batch_norm_eval", N.batch_norm_eval, _bn_eval, grad_wrt=(0, 1, 2),
           overrides=(FOLDED,)),
    OpSpec("norm.layer_norm", N.layer_norm, _layer_norm, grad_wrt=(0, 1, 2),
           textbook=D.ln, overrides=(FOLDED,)),
    # Offsets up to OFFSET_RATIO std (issue 17), float32 and float64, values and both
    # derivative modes: what each kernel does there is a measured divergence (conformance/
    # divergences/*/normalization.toml); a one-pass variance is off by eps (mean / std)^2.
    OpSpec("norm.layer_norm/offset", N.layer_norm,
           lambda dtype: _layer_norm(dtype, OFFSET_RATIO), dtypes=OFFSET_DTYPES,
           grad_wrt=(0, 1, 2), textbook=DO.layer_norm, overrides=(FOLDED,),
           tags=frozenset({FORWARD_TEXTBOOK}), notes=OFFSET_NOTE),
    OpSpec("norm.batch_norm_train/offset", N.batch_norm_train,
           _bn_train(unbiased=True, top=OFFSET_RATIO), dtypes=OFFSET_DTYPES,
           grad_wrt=(0, 1, 2), grad_outputs=(0,), textbook=DO.batch_norm_train,
           overrides=(FOLDED,), tags=frozenset({FORWARD_TEXTBOOK}), notes=OFFSET_NOTE),
    OpSpec("norm.batch_norm_eval/offset", N.batch_norm_eval,
           lambda dtype: _bn_eval(dtype, OFFSET_RATIO), dtypes=OFFSET_DTYPES,
           grad_wrt=(0, 1, 2), textbook=DO.batch_norm_eval, overrides=(FOLDED,),
           tags=frozenset({FORWARD_TEXTBOOK}), notes=OFFSET_NOTE),
    OpSpec("norm.standardize/offset", N.standardize,
           lambda dtype: _standardize(dtype, OFFSET_RATIO), dtypes=OFFSET_DTYPES,
           grad_wrt=(0,), textbook=DO.standardize, tags=frozenset({FORWARD_TEXTBOOK}),
           notes=OFFSET_NOTE),
    *[OpSpec(f"norm.weight_norm/{where}", N.weight_norm,
             _weight_norm(where), grad_wrt=(0, 1), textbook=D.weight_norm)
      for where in ("outer", "inner", "whole")],
    OpSpec("norm.cosine_norm", N.cosine_norm, _cosine_norm, grad_wrt=(0, 1),
           textbook=D.cosine, tags=frozenset({FORWARD_TEXTBOOK})),
    OpSpec("norm.standardize", N.standardize, _standardize, grad_wrt=(0,),
           textbook=D.standardize, tags=frozenset({FORWARD_TEXTBOOK})),
    OpSpec("norm.lrn/nchw", N.lrn, _lrn([1, 3, 5, 7], 4), grad_wrt=(0,),
           notes="NCHW, odd window sizes (AlexNet: 5), expressible in every framework",
           textbook=D.lrn),
    OpSpec("norm.lrn/nchw_even_size", N.lrn, _lrn([2, 4, 6], 4), grad_wrt=(0,),
           notes="torch's asymmetric window [c - size//2, c + (size-1)//2]",
           textbook=D.lrn),
    OpSpec("norm.lrn/ncl", N.lrn, _lrn([1, 3, 5, 7], 3), grad_wrt=(0,),
           notes="(N, C, L) input: torch takes another path (avg_pool2d, not avg_pool3d)",
           textbook=D.lrn),
)
