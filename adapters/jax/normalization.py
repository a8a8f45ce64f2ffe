"""JAX mappings of the ``norm`` family.

JAX core has no BatchNorm, LayerNorm or LRN (those live in Flax, not a dependency here):
they are composed from ``jax.nn.standardize`` with ``algorithm="stable"`` (the two-pass
variance; its default "fast" E[x^2] - E[x]^2 loses ~1e-3 at mean 1e6,
docs/conventions/README.md §0.1 #6) and ``lax.reduce_window``. ``jax.nn.standardize`` itself
is the native z-score.
BatchNorm and LayerNorm follow Flax's numerics for half inputs: statistics and the
normalization in float32, the result cast back (flax.linen.normalization promotes to at least
float32), so that the composition is what a JAX user's layer computes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters.base import implements
from adapters.jax._lazy import jax, jnp, lax
from adapters.jax._params import MATMUL


def _channel(v: Any, ndim: int) -> Any:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against an (N, C, *) batch."""
    return v.reshape((1, v.shape[0]) + (1,) * (ndim - 2))


def _affine(xhat: Any, gamma: Any, beta: Any) -> Any:
    return xhat * gamma + beta


def _at_least_f32(*arrays: Any) -> tuple[Any, ...]:
    dtype = jnp.promote_types(arrays[0].dtype, jnp.float32)
    return tuple(a.astype(dtype) for a in arrays)


# jax.nn.standardize with the statistics given (batch norm) or computed (layer norm).
_GIVEN_STATS = {"axis": "fixed: every axis but the channels (1)", "epsilon": "drawn: from eps",
                "mean": "fixed: the batch (or running) mean", "variance": "fixed: the batch "
                "(or running) variance, two-pass", "where": "fixed: None, every element",
                "algorithm": "fixed: default, unused when mean and variance are given"}


class NormalizationOps:
    def _bn_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                  eps: float, momentum: float, momentum_on: str,
                  unbiased: bool) -> tuple[Any, Any, Any]:
        dtype = x.dtype
        x, gamma, beta, running_mean, running_var = _at_least_f32(
            x, gamma, beta, running_mean, running_var)
        axes = (0, *range(2, x.ndim))
        n = x.size // x.shape[1]
        mean = jnp.mean(x, axis=axes)
        var = jnp.mean(jnp.square(x - _channel(mean, x.ndim)), axis=axes)
        xhat = jax.nn.standardize(x, axis=axes, mean=_channel(mean, x.ndim),
                                  variance=_channel(var, x.ndim), epsilon=eps)
        y = _affine(xhat, _channel(gamma, x.ndim), _channel(beta, x.ndim))
        keep, take = (1 - momentum, momentum) if momentum_on == "batch" else (
            momentum, 1 - momentum)
        stored = var * (n / (n - 1)) if unbiased else var
        return tuple(a.astype(dtype) for a in (
            y, keep * running_mean + take * mean, keep * running_var + take * stored))

    @implements("norm.batch_norm_train", composed=True, native="jax.nn.standardize",
                params=_GIVEN_STATS)
    def batch_norm_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                         running_var: Any, *, eps: float, momentum: float,
                         momentum_on: str = "batch", running_var_unbiased: bool = True) -> Any:
        return self._bn_train(x, gamma, beta, running_mean, running_var, eps, momentum,
                              momentum_on, running_var_unbiased)

    @implements("norm.batch_norm_train/biased_running_var", composed=True,
                native="jax.nn.standardize", params=_GIVEN_STATS)
    def batch_norm_train_biased(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                                running_var: Any, *, eps: float, momentum: float,
                                momentum_on: str = "batch",
                                running_var_unbiased: bool = False) -> Any:
        return self._bn_train(x, gamma, beta, running_mean, running_var, eps, momentum,
                              momentum_on, running_var_unbiased)

    @implements("norm.batch_norm_eval", composed=True, native="jax.nn.standardize",
                params=_GIVEN_STATS)
    def batch_norm_eval(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                        running_var: Any, *, eps: float) -> Any:
        dtype = x.dtype
        x, gamma, beta, running_mean, running_var = _at_least_f32(
            x, gamma, beta, running_mean, running_var)
        axes = (0, *range(2, x.ndim))
        xhat = jax.nn.standardize(x, axis=axes, mean=_channel(running_mean, x.ndim),
                                  variance=_channel(running_var, x.ndim), epsilon=eps)
        return _affine(xhat, _channel(gamma, x.ndim), _channel(beta, x.ndim)).astype(dtype)

    @implements("norm.layer_norm", composed=True, native="jax.nn.standardize", params={
        "axis": "drawn: from normalized_ndim (the last axes)", "epsilon": "drawn: from eps",
        "mean": "fixed: None, computed", "variance": "fixed: None, computed",
        "where": "fixed: None, every element",
        "algorithm": "fixed: 'stable', the two-pass variance ('fast' is not covered)"})
    def layer_norm(self, x: Any, gamma: Any, beta: Any, *, normalized_ndim: int,
                   eps: float) -> Any:
        dtype = x.dtype
        x, gamma, beta = _at_least_f32(x, gamma, beta)
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        xhat = jax.nn.standardize(x, axis=axes, epsilon=eps, algorithm="stable")
        return _affine(xhat, gamma, beta).astype(dtype)

    @implements("norm.weight_norm", composed=True)
    def weight_norm(self, v: Any, g: Any, *, axis: int | None = 0) -> Any:
        if axis is None:
            return g * v / jnp.sqrt(jnp.sum(v * v))
        axis = axis % v.ndim
        others = tuple(i for i in range(v.ndim) if i != axis)
        shape = [1] * v.ndim
        shape[axis] = v.shape[axis]
        return g.reshape(shape) * v / jnp.sqrt(jnp.sum(v * v, axis=others, keepdims=True))

    @implements("norm.cosine_norm", composed=True, native="jax.numpy.matmul", params=MATMUL)
    def cosine_norm(self, x: Any, w: Any) -> Any:
        x_norm = jnp.sqrt(jnp.sum(x * x, axis=1, keepdims=True))
        w_norm = jnp.sqrt(jnp.sum(w * w, axis=1, keepdims=True))
        return jnp.matmul(x, w.T) / (x_norm * w_norm.T)

    @implements("norm.standardize", native="jax.nn.standardize", params={
        "axis": "drawn", "epsilon": "drawn: from eps", "mean": "fixed: None, computed",
        "variance": "fixed: None, computed", "where": "not covered: None; a masked z-score "
        "(where=) would need a spec drawing the mask",
        "algorithm": "fixed: 'stable', the two-pass variance ('fast' loses ~1e-3 at mean 1e6, "
        "docs/conventions/README.md §0.1 #6); 'fast' is not covered"})
    def standardize(self, x: Any, *, axis: int | tuple[int, ...] = 0, eps: float) -> Any:
        return jax.nn.standardize(x, axis=axis, epsilon=eps, algorithm="stable")

    @implements("norm.lrn", composed=True, native="jax.lax.reduce_window", params={
        "window_strides": "fixed: 1 everywhere", "padding": "drawn: from size "
        "((size // 2, (size - 1) // 2) on the channels, torch's)",
        "base_dilation": "fixed: None (1)", "window_dilation": "fixed: None (1)"})
    def lrn(self, x: Any, *, size: int, alpha: float, beta: float, k: float) -> Any:
        """Window sums of squares over the channel axis with lax.reduce_window, zero padded
        by (size // 2, (size - 1) // 2) as torch does. The init value is a concrete NumPy
        zero: lax only recognises a differentiable window sum from a concrete init (a traced
        one, jnp.zeros under jit, makes the generic reduce_window, which cannot linearize)."""
        window = (1, size) + (1,) * (x.ndim - 2)
        padding = ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (x.ndim - 2)
        sums = lax.reduce_window(x * x, np.zeros((), x.dtype), lax.add, window,
                                 (1,) * x.ndim, padding)
        return x / (k + (alpha / size) * sums) ** beta
