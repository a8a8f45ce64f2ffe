"""Specs of the ``norm`` family: batch/layer normalization, weight and cosine normalization,
standardization and local response normalization.

Conventions that frameworks store differently are drawn, not fixed: BatchNorm's momentum
convention (``momentum_on``) in both specs, and its running-variance bias as two variants
(``norm.batch_norm_train`` stores the unbiased variance, torch's convention;
``/biased_running_var`` the biased one, Keras 3's and Flax's), so that coverage reports per
backend which convention is native and which is composed. LRN comes in three variants, so
that a divergence can name each: NCHW with odd window sizes (AlexNet), NCHW with even sizes
(torch's asymmetric window; TensorFlow's is symmetric) and (N, C, L) inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from oracle import normalization as N

# Each normalized group (a BatchNorm channel, a LayerNorm sample, a standardized slice) is
# drawn as s * (u + z): z has mean 0 and standard deviation 1 over the group, s is a power of
# two (the group's spread, from well below to well above sqrt(eps)) and |u| <= MEAN_RATIO, so
# |mean| <= MEAN_RATIO * std. That ratio is the conditioning that matters: torch's and
# Keras's kernels fold the normalization into x * a + (beta - mean * a), a backward-stable
# form whose error is eps * |mean| / std (against the naive subtraction's eps), and a
# variance computed as E[x^2] - E[x]^2 (jax.nn.standardize's "fast" default) loses
# eps * (mean / std)^2. Constant groups are excluded: there the output is 0 / sqrt(eps), and
# the float64 oracle's own mean (sum, then divide) is off by an ulp, so "exact" would not be.
# |u| >= MEAN_RATIO_MIN: a zero-mean group makes BatchNorm's running-mean output pure
# rounding noise (infinitely ill-conditioned), which no error bound can judge.
MEAN_RATIO = 4.0
MEAN_RATIO_MIN = 0.25
SPREAD_EXP = (-6, 2)
# Weight-norm and cosine-norm slices are kept away from zero norm, where the oracle is
# undefined (no eps) and each framework's eps convention would be tested instead (§2.3).
NONZERO_GAP = 2.0**-3

# Eps as powers of two (exact in every dtype, including a float32-stored attribute).
EPS = S.eps_values(-16, -2)
MOMENTUM = S.dyadic(0.0, 1.0)
MOMENTUM_ON = st.sampled_from(["batch", "running"])


def _unit_rows(z: np.ndarray) -> np.ndarray:
    """Each row of z shifted and scaled to mean 0 and (biased) std 1; a row that is
    (nearly) constant becomes a centred ramp instead; a one-element row becomes 0."""
    m = z.shape[1]
    if m == 1:
        return np.zeros_like(z)
    ramp = np.arange(m) - (m - 1) / 2
    ramp = ramp / np.sqrt(np.mean(ramp**2))
    zc = z - z.mean(axis=1, keepdims=True)
    sd = np.sqrt(np.mean(zc**2, axis=1, keepdims=True))
    return np.where(sd > 2.0**-10, zc / np.where(sd > 0, sd, 1.0), ramp)


def _groups(d: st.DrawFn, shape: tuple[int, ...],
            reduced: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x of ``shape`` with one group per index of the kept axes; returns (x, s, u) with s
    and u of the kept axes' shape (the groups' spread and mean / spread)."""
    kept = [i for i in range(len(shape)) if i not in reduced]
    perm = kept + list(reduced)
    group_shape = tuple(shape[i] for i in kept)
    g = int(np.prod(group_shape))
    z = np.transpose(d(S.arrays(shape, -1.0, 1.0)), perm).reshape(g, -1)
    s = 2.0 ** d(hnp.arrays(np.int64, (g, 1), elements=st.integers(*SPREAD_EXP)))
    u = d(S.arrays((g, 1), MEAN_RATIO_MIN, MEAN_RATIO)) * d(
        hnp.arrays(np.int64, (g, 1), elements=st.sampled_from([-1, 1])))
    if z.shape[1] == 1:
        # A one-element group is constant whatever its value: only 0 keeps mean / std
        # bounded (0 / 0), so the folded form is not charged for an infinite ratio.
        u = np.zeros_like(u)
    rows = s * (u + _unit_rows(z))
    x = np.transpose(rows.reshape([shape[i] for i in perm]), np.argsort(perm))
    return x, s.reshape(group_shape), u.reshape(group_shape)


def _bn_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    # min_side 2: n = N * prod(spatial) > 1, which the unbiased running variance needs.
    return S.shapes(2, 4, 2, 4)


def _bn_args(d: st.DrawFn, *, near_batch: bool) -> tuple[np.ndarray, ...]:
    """(x, gamma, beta, running_mean, running_var). ``near_batch``: running statistics
    within a spread of the batch's own (mean) and a factor 4 of its variance, as in a
    trained network, so that inference keeps |running_mean| / std bounded too."""
    shape = d(_bn_shapes())
    c = shape[1]
    x, s, u = _groups(d, shape, (0, *range(2, len(shape))))
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


def _bn_train(unbiased: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            kwargs = {"eps": d(EPS), "momentum": d(MOMENTUM), "momentum_on": d(MOMENTUM_ON),
                      "running_var_unbiased": unbiased}
            return Case(_bn_args(d, near_batch=False), kwargs, BN_NAMES)

        return draw()

    return inputs


def _bn_eval(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        return Case(_bn_args(d, near_batch=True), {"eps": d(EPS)}, BN_NAMES)

    return draw()


def _layer_norm(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 4, 1, 4))
        k = d(st.integers(1, len(shape)))
        x, _, _ = _groups(d, shape, tuple(range(len(shape) - k, len(shape))))
        trailing = shape[len(shape) - k:]
        gamma = d(S.arrays(trailing, -2.0, 2.0))
        beta = d(S.arrays(trailing, -2.0, 2.0))
        return Case((x, gamma, beta), {"normalized_ndim": k, "eps": d(EPS)},
                    ("x", "gamma", "beta"))

    return draw()


def _weight_norm(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 4, 1, 4))
        v = d(S.away_from(S.arrays(shape, -4.0, 4.0), [0.0], NONZERO_GAP))
        # Negative axes included: the oracle's -1 is the last axis (torch's dim=-1 would be
        # the whole tensor, a mapping trap the adapters must handle).
        axis = d(st.one_of(st.none(), S.axis_of(len(shape))))
        g_shape = () if axis is None else (shape[axis],)
        g = d(S.arrays(g_shape, -4.0, 4.0))
        return Case((v, g), {"axis": axis}, ("v", "g"))

    return draw()


def _cosine_norm(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        n, o, i = d(st.sampled_from([(1, 1, 1), (2, 3, 4), (3, 2, 5), (4, 4, 3), (5, 3, 6)]))
        x = d(S.away_from(S.arrays((n, i), -4.0, 4.0), [0.0], NONZERO_GAP))
        w = d(S.away_from(S.arrays((o, i), -4.0, 4.0), [0.0], NONZERO_GAP))
        return Case((x, w), {}, ("x", "w"))

    return draw()


def _axes(ndim: int) -> st.SearchStrategy[Any]:
    """An int axis (negative allowed) or a non-empty tuple of distinct axes."""
    subset = st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim).map(
        lambda s: tuple(sorted(s)))
    return st.one_of(S.axis_of(ndim), subset)


def _standardize(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(S.shapes(1, 3, 2, 5))
        axis = d(_axes(len(shape)))
        reduced = (axis,) if isinstance(axis, int) else axis
        x, _, _ = _groups(d, shape, tuple(sorted({a % len(shape) for a in reduced})))
        return Case((x,), {"axis": axis, "eps": d(EPS)}, ("x",))

    return draw()


def _lrn(sizes: list[int], ndim: int):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            x = d(S.arrays(d(S.shapes(ndim, ndim, 1, 6)), -4.0, 4.0))
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


# Textbook derivatives (OpSpec.naive_derivative): normalization kernels differentiate from the
# saved mean and r = 1 / sqrt(var + eps) with xhat's Jacobian r (I - 1 1^T / n - xhat xhat^T / n),
# which cancels heavily when the seed is nearly in span{1, xhat} (always, for n = 2). That
# formula evaluated in the tested dtype is the naive error those kernels are held to.


def _xhat(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    mean = np.mean(x, axis=axes, keepdims=True)
    d = x - mean
    r = 1 / np.sqrt(np.mean(d * d, axis=axes, keepdims=True) + eps)
    return d * r, r


def _through_xhat(s: np.ndarray, xhat: np.ndarray, r: np.ndarray,
                  axes: tuple[int, ...]) -> np.ndarray:
    """xhat's Jacobian (symmetric) applied to a seed s: both the VJP and the JVP."""
    return r * (s - np.mean(s, axis=axes, keepdims=True)
                - xhat * np.mean(s * xhat, axis=axes, keepdims=True))


def _affine_derivative(mode: str, x: np.ndarray, gamma: np.ndarray, axes: tuple[int, ...],
                       param_shape: tuple[int, ...], eps: float,
                       seeds: list[np.ndarray]) -> list[np.ndarray]:
    """y = gamma * xhat + beta: VJP (dx, dgamma, dbeta) or the JVP of y, gamma and beta
    broadcast as ``param_shape`` (they are summed over every other axis)."""
    xhat, r = _xhat(x, axes, eps)
    g = gamma.reshape(param_shape)
    if mode == "vjp":
        gy = seeds[0]
        others = tuple(i for i in range(x.ndim) if param_shape[i] == 1)
        return [_through_xhat(gy * g, xhat, r, axes),
                np.sum(gy * xhat, axis=others).reshape(gamma.shape),
                np.sum(gy, axis=others).reshape(gamma.shape)]
    ux, ug, ub = seeds
    return [g * _through_xhat(ux, xhat, r, axes) + ug.reshape(param_shape) * xhat
            + ub.reshape(param_shape)]


def _bn_derivative(mode: str, args: list[Any], kwargs: dict[str, Any], outs: list[Any],
                   seeds: list[Any]) -> list[Any]:
    """BatchNorm (train): y's derivatives; the running statistics carry no cotangent
    (grad_outputs), and their tangents are the linear blends of the batch statistics'."""
    x, gamma = args[0], args[1]
    axes = (0, *range(2, x.ndim))
    cshape = tuple(x.shape[1] if i == 1 else 1 for i in range(x.ndim))
    got = _affine_derivative(mode, x, gamma, axes, cshape, kwargs["eps"], seeds)
    if mode == "vjp":
        return got
    m = kwargs["momentum"]
    take = m if kwargs["momentum_on"] == "batch" else 1 - m
    n = x.size // x.shape[1]
    ux = seeds[0]
    d = x - np.mean(x, axis=axes, keepdims=True)
    unbias = n / (n - 1) if kwargs["running_var_unbiased"] else 1
    return [got[0], take * np.mean(ux, axis=axes),
            take * unbias * 2 * np.mean(d * ux, axis=axes)]


def _ln_derivative(mode: str, args: list[Any], kwargs: dict[str, Any], outs: list[Any],
                   seeds: list[Any]) -> list[Any]:
    x, gamma = args[0], args[1]
    k = kwargs["normalized_ndim"]
    axes = tuple(range(x.ndim - k, x.ndim))
    pshape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    return _affine_derivative(mode, x, gamma, axes, pshape, kwargs["eps"], seeds)


def _standardize_derivative(mode: str, args: list[Any], kwargs: dict[str, Any],
                            outs: list[Any], seeds: list[Any]) -> list[Any]:
    x = args[0]
    axis = kwargs["axis"]
    axes = tuple(sorted({a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}))
    xhat, r = _xhat(x, axes, kwargs["eps"])
    return [_through_xhat(seeds[0], xhat, r, axes)]


register(
    OpSpec("norm.batch_norm_train", N.batch_norm_train, _bn_train(unbiased=True),
           grad_wrt=(0, 1, 2), grad_outputs=(0,), naive_derivative=_bn_derivative,
           notes="running statistics are buffers: only y carries gradients"),
    OpSpec("norm.batch_norm_train/biased_running_var", N.batch_norm_train,
           _bn_train(unbiased=False), grad_wrt=(0, 1, 2), grad_outputs=(0,),
           naive_derivative=_bn_derivative,
           notes="Keras 3 / Flax store the biased batch variance in the running variance"),
    OpSpec("norm.batch_norm_eval", N.batch_norm_eval, _bn_eval, grad_wrt=(0, 1, 2)),
    OpSpec("norm.layer_norm", N.layer_norm, _layer_norm, grad_wrt=(0, 1, 2),
           naive_derivative=_ln_derivative),
    OpSpec("norm.weight_norm", N.weight_norm, _weight_norm, grad_wrt=(0, 1)),
    OpSpec("norm.cosine_norm", N.cosine_norm, _cosine_norm, grad_wrt=(0, 1)),
    OpSpec("norm.standardize", N.standardize, _standardize, grad_wrt=(0,),
           naive_derivative=_standardize_derivative),
    OpSpec("norm.lrn/nchw", N.lrn, _lrn([1, 3, 5, 7], 4), grad_wrt=(0,),
           notes="NCHW, odd window sizes (AlexNet: 5), expressible in every framework"),
    OpSpec("norm.lrn/nchw_even_size", N.lrn, _lrn([2, 4, 6], 4), grad_wrt=(0,),
           notes="torch's asymmetric window [c - size//2, c + (size-1)//2]"),
    OpSpec("norm.lrn/ncl", N.lrn, _lrn([1, 3, 5, 7], 3), grad_wrt=(0,),
           notes="(N, C, L) input: torch takes another path (avg_pool2d, not avg_pool3d)"),
)
