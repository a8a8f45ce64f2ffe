"""TensorFlow mappings of the ``norm`` family.

BatchNorm and LayerNorm are the Keras 3 layers that TF users train with, called through
``Layer.stateless_call``: the given gamma/beta (and running statistics) stand in for the
layer's variables as ordinary tensors, so GradientTape and ForwardAccumulator differentiate
with respect to them, and the updated moving statistics come back as tensors instead of being
assigned. The layers compute half-precision inputs in float32 (tf.nn.moments, two-pass) and
normalize with tf.nn.batch_normalization. Keras momentum = 1 - torch momentum, and Keras 3
stores the biased batch variance (docs/conventions/normalization.md §1.1).
"""

from __future__ import annotations

import functools
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import MATMUL, NAME


def _keras_momentum(momentum: float, momentum_on: str) -> float:
    """Keras weights the old running value by its momentum (the oracle's "running")."""
    return momentum if momentum_on == "running" else 1.0 - momentum


# Built once per (kind, shape, dtype, axes): building a Keras layer cost about twice its call
# on the conformance inputs; epsilon and momentum are plain attributes its call reads, set
# per call (keras/src/layers/normalization/batch_normalization.py, layer_normalization.py).
@functools.lru_cache(maxsize=512)
def _built(kind: str, shape: tuple[int, ...], dtype: str, axis: Any) -> Any:
    cls = {"batch": keras.layers.BatchNormalization, "layer": keras.layers.LayerNormalization}
    layer = cls[kind](axis=list(axis) if isinstance(axis, tuple) else axis, dtype=dtype)
    layer.build(shape)
    return layer


def _batch_norm_layer(x: Any, eps: float, momentum: float = 0.99) -> Any:
    layer = _built("batch", tuple(x.shape), x.dtype.name, 1)
    layer.epsilon, layer.momentum = float(eps), float(momentum)
    return layer


def _nhwc(x: Any) -> Any:
    """(N, C, L) or (N, C, H, W) to the NHWC tensor TF's LRN needs."""
    if x.shape.rank == 3:
        x = x[..., None]
    return tf.transpose(x, (0, 2, 3, 1))


def _from_nhwc(y: Any, rank: int) -> Any:
    y = tf.transpose(y, (0, 3, 1, 2))
    return y[..., 0] if rank == 3 else y


_GIVEN = "fixed: default, unused (the given tensors replace the variables)"
_AFFINE = {"center": "fixed: True (beta)", "scale": "fixed: True (gamma)",
           "beta_initializer": _GIVEN, "gamma_initializer": _GIVEN,
           "beta_regularizer": "fixed: None (a loss term, outside the forward value)",
           "gamma_regularizer": "fixed: None (a loss term, outside the forward value)",
           "beta_constraint": "fixed: None (applied by optimizers after a step)",
           "gamma_constraint": "fixed: None (applied by optimizers after a step)",
           "epsilon": "drawn: from eps", "return_losses": "fixed: False (no losses)"}
_BN = ("keras.layers.BatchNormalization", "keras.layers.Layer.stateless_call")
_BN_PARAMS = {**_AFFINE, "axis": "fixed: 1, the channel axis (NC...)",
              "momentum": "drawn: from momentum, momentum_on (Keras weights the old value)",
              "moving_mean_initializer": _GIVEN, "moving_variance_initializer": _GIVEN,
              "renorm": "not covered: False; batch renormalization (renorm=True) would need "
              "its own oracle (r, d corrections and their running statistics)",
              "renorm_clipping": "fixed: None, unused without renorm",
              "renorm_momentum": "fixed: default, unused without renorm",
              "synchronized": "fixed: False, one device (the cross-replica mean is not "
              "covered)"}


class NormalizationOps:
    def _bn_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                  eps: float, momentum: float, momentum_on: str) -> tuple[Any, Any, Any, float]:
        m = _keras_momentum(momentum, momentum_on)
        layer = _batch_norm_layer(x, eps, m)
        y, (new_mean, new_var) = layer.stateless_call(
            [gamma, beta], [running_mean, running_var], x, training=True)
        return y, new_mean, new_var, m

    @implements("norm.batch_norm_train/biased_running_var", native=_BN, params=_BN_PARAMS)
    def batch_norm_train_biased(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                                running_var: Any, *, eps: float, momentum: float,
                                momentum_on: str = "batch",
                                running_var_unbiased: bool = False) -> Any:
        if running_var_unbiased:
            raise ValueError("Keras 3 stores the biased running variance: use the "
                             "norm.batch_norm_train mapping for the unbiased one")
        y, new_mean, new_var, _ = self._bn_train(x, gamma, beta, running_mean, running_var,
                                                 eps, momentum, momentum_on)
        return y, new_mean, new_var

    @implements("norm.batch_norm_train", composed=True, native=_BN, params=_BN_PARAMS)
    def batch_norm_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                         running_var: Any, *, eps: float, momentum: float,
                         momentum_on: str = "batch", running_var_unbiased: bool = True) -> Any:
        """The Keras layer, then its biased running-variance update corrected exactly:
        Keras stores M old + (1 - M) var, and torch's convention M old + (1 - M) var n/(n-1)."""
        if not running_var_unbiased:
            raise ValueError("this mapping is the unbiased running-variance variant")
        y, new_mean, new_var, m = self._bn_train(x, gamma, beta, running_mean, running_var,
                                                 eps, momentum, momentum_on)
        n = x.shape.num_elements() // x.shape[1]
        keep = running_var * m
        return y, new_mean, keep + (new_var - keep) * (n / (n - 1))

    @implements("norm.batch_norm_eval", native=_BN, params={
        **_BN_PARAMS, "momentum": "fixed: default, unused in inference (training=False)"})
    def batch_norm_eval(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                        running_var: Any, *, eps: float) -> Any:
        layer = _batch_norm_layer(x, eps)
        y, _ = layer.stateless_call([gamma, beta], [running_mean, running_var], x,
                                    training=False)
        return y

    @implements("norm.layer_norm", native=("keras.layers.LayerNormalization",
                                           "keras.layers.Layer.stateless_call"),
                params={**_AFFINE, "axis": "drawn: from normalized_ndim (the last axes)"})
    def layer_norm(self, x: Any, gamma: Any, beta: Any, *, normalized_ndim: int,
                   eps: float) -> Any:
        rank = x.shape.rank
        layer = _built("layer", tuple(x.shape), x.dtype.name,
                       tuple(range(rank - normalized_ndim, rank)))
        layer.epsilon = float(eps)
        y, _ = layer.stateless_call([gamma, beta], [], x)
        return y

    @implements("norm.weight_norm", composed=True)
    def weight_norm(self, v: Any, g: Any, *, axis: int | None = 0) -> Any:
        """No weight normalization in TF core or Keras 3 (tfa's layer is gone)."""
        if axis is None:
            return g * v / tf.sqrt(tf.reduce_sum(v * v))
        rank = v.shape.rank
        axis = axis % rank
        others = [i for i in range(rank) if i != axis]
        shape = [1] * rank
        shape[axis] = v.shape[axis]
        norm = tf.sqrt(tf.reduce_sum(v * v, axis=others, keepdims=True))
        return tf.reshape(g, shape) * v / norm

    @implements("norm.cosine_norm", composed=True, native="tf.linalg.matmul", params=MATMUL)
    def cosine_norm(self, x: Any, w: Any) -> Any:
        """tf.math.l2_normalize puts its eps on the sum of squares
        (docs/conventions/normalization.md §2.3): the oracle's eps-free formula is composed
        instead."""
        x_norm = tf.sqrt(tf.reduce_sum(x * x, axis=1, keepdims=True))
        w_norm = tf.sqrt(tf.reduce_sum(w * w, axis=1, keepdims=True))
        return tf.linalg.matmul(x, w, transpose_b=True) / (x_norm * tf.transpose(w_norm))

    @implements("norm.standardize", composed=True, native="tf.nn.moments", params={
        **NAME, "shift": "fixed: None (deprecated, unused)", "keepdims": "fixed: True"})
    def standardize(self, x: Any, *, axis: int | tuple[int, ...] = 0, eps: float) -> Any:
        """tf.nn.moments (two-pass), then (x - mean) / sqrt(var + eps)."""
        axes = [axis] if isinstance(axis, int) else list(axis)
        mean, var = tf.nn.moments(x, axes=axes, keepdims=True)
        return (x - mean) / tf.sqrt(var + eps)

    @implements("norm.lrn", native="tf.nn.local_response_normalization", params={
        **NAME, "depth_radius": "drawn: from size ((size - 1) / 2)", "bias": "drawn: from k",
        "alpha": "drawn: from alpha, size (alpha / size)", "beta": "drawn"})
    def lrn(self, x: Any, *, size: int, alpha: float, beta: float, k: float) -> Any:
        """tf.nn.local_response_normalization sums a symmetric window of radius r over the
        last axis of an NHWC tensor and does not divide by the window size: radius
        (size - 1) / 2, alpha / size, bias k. Even sizes have no symmetric equivalent."""
        if size % 2 == 0:
            raise ValueError(f"TF's LRN window is symmetric: even size {size} inexpressible")
        y = tf.nn.local_response_normalization(
            _nhwc(x), depth_radius=(size - 1) // 2, bias=k, alpha=alpha / size, beta=beta)
        return _from_nhwc(y, x.shape.rank)
