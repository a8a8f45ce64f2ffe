"""TensorFlow mappings of the ``attn`` family, Keras 3 ops and layers
(docs/conventions/attention.md).

``keras.ops.dot_product_attention`` takes (B, T, N, H) tensors like JAX (the oracle's
(N, H, L, E) are transposed in and out), a boolean ``mask`` that attends where True and an
additive ``bias``; masked logits become -0.7 * the dtype's max, so a fully masked row
averages V uniformly; its default scale is 1 / sqrt(H) computed in float32, and a Python
float scale goes through tf.cast, i.e. through float32 too (keras/src/backend/tensorflow/
nn.py). It has no flash or fused path on TensorFlow (``flash_attention=True`` raises).

Layers run through ``Layer.stateless_call`` with the canonical weights as their variables'
values (differentiable as ordinary tensors), built once per configuration and dtype:
``Attention(use_scale=True)`` (the scale is its scalar variable; without use_scale it is
unscaled: the notes' dot-product form), ``AdditiveAttention(use_scale=True)`` (its scale
vector is v_a; it has no W_q, W_k: bias-free ``Dense`` layers in front of it) and
``MultiHeadAttention`` (call order query, value, key; kernels (E, H, d) = w^T reshaped,
output kernel (H, d, Eo) = w_o^T reshaped; ``attention_mask`` True = attend; with
``return_attention_scores`` it computes the weights explicitly, otherwise it calls
``ops.dot_product_attention``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import KERAS_DENSE, NAME

_LAYERS: dict[tuple[Any, ...], Any] = {}
_DPA = "keras.ops.dot_product_attention"
_DPA_PARAMS = {
    "bias": "drawn", "mask": "drawn", "scale": "drawn", "is_causal": "drawn",
    "flash_attention": "fixed: None (True raises on the TensorFlow backend)",
    "attn_logits_soft_cap": "fixed: None",
}
_MHA_PARAMS = {
    "num_heads": "drawn", "key_dim": "drawn: from w_q.shape, num_heads (E / heads)",
    "value_dim": "drawn: from w_v.shape, num_heads", "output_shape": "drawn: from w_o.shape",
    "attention_mask": "drawn: from mask",
    "return_attention_scores": "fixed: True in attn.multi_head, False in /no_weights",
    "use_bias": "fixed: True", "dropout": "fixed: 0.0", "dtype": "fixed: the tested dtype",
    "attention_axes": "fixed: None (the sequence axis)", "use_causal_mask": "fixed: False "
    "(a causal mask is a mask)", "sliding_window": "not covered: attn.truncated checks "
    "windows on the kernel", "use_gate": "fixed: False",
    "query_mask": "fixed: None", "value_mask": "fixed: None", "key_mask": "fixed: None",
    "flash_attention": "fixed: None", "seed": "fixed: None (no dropout)",
    "kernel_initializer": "fixed: replaced by the given weights",
    "bias_initializer": "fixed: replaced by the given biases",
    "kernel_regularizer": "fixed: None", "bias_regularizer": "fixed: None",
    "activity_regularizer": "fixed: None", "kernel_constraint": "fixed: None",
    "bias_constraint": "fixed: None", "training": "fixed: None (inference)",
}


def _layer(key: tuple[Any, ...], make: Callable[[], Any], *shapes: Any) -> Any:
    """A built Keras layer per (configuration, shapes, dtype), cached."""
    full = key + tuple(tuple(s) for s in shapes)
    if full not in _LAYERS:
        layer = make()
        layer.build(*shapes)
        _LAYERS[full] = layer
    return _LAYERS[full]


def _bthd(x: Any) -> Any:
    return tf.transpose(x, (0, 2, 1, 3))


def _dense(x: Any, w: Any) -> Any:
    """keras.layers.Dense(use_bias=False) with kernel w^T (w is (out, in))."""
    dt = x.dtype.name
    layer = _layer(("dense", int(w.shape[0]), dt),
                   lambda: keras.layers.Dense(int(w.shape[0]), use_bias=False, dtype=dt),
                   (None, int(w.shape[1])))
    y, _ = layer.stateless_call([tf.transpose(w)], [], x)
    return y


def _dpa(q: Any, k: Any, v: Any, mask: Any, bias: Any, scale: Any, is_causal: bool) -> Any:
    out = keras.ops.dot_product_attention(_bthd(q), _bthd(k), _bthd(v), bias=bias,
                                          mask=mask, scale=scale, is_causal=is_causal)
    return _bthd(out)


class AttentionOps:
    UNSUPPORTED = {
        "attn.scaled_dot_product/flash": "Keras' flash_attention=True raises on the "
                                         "TensorFlow backend ('Flash attention is not "
                                         "supported in tensorflow backend')",
        "attn.scaled_dot_product/efficient": "no memory-efficient attention kernel in "
                                             "TensorFlow or Keras",
        "attn.scaled_dot_product/cudnn": "no cuDNN fused attention in TensorFlow or Keras",
        "attn.truncated/flex": "torch's flex_attention; TensorFlow's window is attn.truncated",
    }

    @implements("attn.scaled_dot_product", native=_DPA, params=_DPA_PARAMS)
    def scaled_dot_product(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None,
                           *, scale: float | None = None, is_causal: bool = False,
                           masked_rows: str = "zeros") -> Any:
        """Keras' own convention for fully masked rows is "uniform" (any masked_rows)."""
        return _dpa(q, k, v, mask, bias, scale, is_causal)

    @implements("attn.truncated", composed=True, native=_DPA, params={
        **_DPA_PARAMS, "mask": "drawn: from left, right (the band)", "bias": "fixed: None",
        "is_causal": "fixed: False (the band is the mask)"})
    def truncated(self, q: Any, k: Any, v: Any, *, left: int, right: int,
                  scale: float | None = None) -> Any:
        """No window in keras.ops: the band i - left <= j <= i + right as its mask."""
        length = q.shape[-2]
        i, j = tf.range(length)[:, None], tf.range(length)[None, :]
        band = ((j >= i - left) & (j <= i + right))[None, None]
        return _dpa(q, k, v, band, None, scale, False)

    @implements("attn.self_attention", composed=True,
                native=("keras.layers.Dense", "keras.layers.Attention"),
                params={**KERAS_DENSE,
                        "use_scale": "fixed: True, its scalar set to the drawn scale",
                        "score_mode": "fixed: 'dot'", "dropout": "fixed: 0.0",
                        "seed": "fixed: None, unused without dropout",
                        "use_bias": "fixed: False (Dense)", "mask": "fixed: None",
                        "use_causal_mask": "fixed: False",
                        "return_attention_scores": "fixed: False"})
    def self_attention(self, x: Any, w_q: Any, w_k: Any, w_v: Any, *,
                       scale: float | None = 1.0) -> Any:
        """Dense projections, then Attention([q, v, k]) with use_scale=True and its scale
        variable holding the scale (1/sqrt(D) when None)."""
        q, k, v = _dense(x, w_q), _dense(x, w_k), _dense(x, w_v)
        dt = x.dtype.name
        layer = _layer(("attention", dt),
                       lambda: keras.layers.Attention(use_scale=True, dtype=dt),
                       [q.shape, v.shape, k.shape])
        s = 1.0 / math.sqrt(int(w_q.shape[0])) if scale is None else scale
        y, _ = layer.stateless_call([tf.constant(s, dtype=x.dtype)], [], [q, v, k])
        return y

    @implements("attn.additive_score", composed=True,
                native=("keras.layers.Dense", "tensorflow.math.tanh"),
                params={**KERAS_DENSE, **NAME,
                        "use_bias": "fixed: False, the notes' projections have none"})
    def additive_score(self, q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> Any:
        """AdditiveAttention keeps its raw scores to itself (a private _calculate_scores):
        v_a^T tanh(W_q q_i + W_k k_j) from Dense projections and tf ops."""
        pq, pk = _dense(q, w_q)[:, :, None, :], _dense(k, w_k)[:, None, :, :]
        return tf.reduce_sum(v_a * tf.tanh(pq + pk), axis=-1)

    @implements("attn.additive_score/attention", composed=True,
                native=("keras.layers.Dense", "keras.layers.AdditiveAttention"),
                params={**KERAS_DENSE, "use_scale": "fixed: True, its scale vector is v_a",
                        "dropout": "fixed: 0.0", "mask": "drawn",
                        "return_attention_scores": "fixed: True (the weights output)",
                        "use_causal_mask": "fixed: False", "use_bias": "fixed: False"})
    def additive_attention(self, q: Any, k: Any, value: Any, w_q: Any, w_k: Any, v_a: Any,
                           mask: Any = None, *, masked_rows: str = "zeros") -> Any:
        """Dense(W_q), Dense(W_k) (no bias) in front of AdditiveAttention, whose
        learned scale vector is v_a; the mask is its value mask (True = the key counts)."""
        pq, pk = _dense(q, w_q), _dense(k, w_k)
        dt = q.dtype.name
        layer = _layer(("additive", dt),
                       lambda: keras.layers.AdditiveAttention(use_scale=True, dtype=dt),
                       [pq.shape, value.shape, pk.shape])
        masks = None if mask is None else [None, mask]
        (out, w), _ = layer.stateless_call([v_a], [], [pq, value, pk], mask=masks,
                                           return_attention_scores=True)
        return out, w

    def _mha(self, query: Any, key: Any, value: Any, weights: list[Any], mask: Any,
             num_heads: int, scores: bool) -> Any:
        w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o = weights
        e, eo = int(w_q.shape[0]), int(w_o.shape[0])
        d, dt = e // num_heads, query.dtype.name
        layer = _layer(("mha", num_heads, d, eo, dt),
                       lambda: keras.layers.MultiHeadAttention(
                           num_heads=num_heads, key_dim=d, value_dim=d, output_shape=eo,
                           use_bias=True, dropout=0.0, dtype=dt),
                       query.shape, value.shape, key.shape)

        def kernel(w: Any) -> Any:
            return tf.reshape(tf.transpose(w), (int(w.shape[1]), num_heads, d))

        variables = [kernel(w_q), tf.reshape(b_q, (num_heads, d)), kernel(w_k),
                     tf.reshape(b_k, (num_heads, d)), kernel(w_v),
                     tf.reshape(b_v, (num_heads, d)),
                     tf.reshape(tf.transpose(w_o), (num_heads, d, eo)), b_o]
        out, _ = layer.stateless_call(variables, layer.non_trainable_variables, query, value,
                                      key=key, attention_mask=mask,
                                      return_attention_scores=scores)
        return out

    @implements("attn.multi_head", native="keras.layers.MultiHeadAttention", params=_MHA_PARAMS)
    def multi_head(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any,
                   w_o: Any, b_q: Any = None, b_k: Any = None, b_v: Any = None,
                   b_o: Any = None, mask: Any = None, *, num_heads: int,
                   average_weights: bool = False, masked_rows: str = "zeros") -> Any:
        """Keras returns per-head weights; their mean over the heads is the average."""
        out, w = self._mha(query, key, value, [w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o], mask,
                           num_heads, True)
        return out, (tf.reduce_mean(w, axis=1) if average_weights else w)

    @implements("attn.multi_head/no_weights", native="keras.layers.MultiHeadAttention",
                params=_MHA_PARAMS)
    def multi_head_output(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any,
                          w_v: Any, w_o: Any, b_q: Any = None, b_k: Any = None,
                          b_v: Any = None, b_o: Any = None, mask: Any = None, *,
                          num_heads: int, masked_rows: str = "zeros") -> Any:
        return self._mha(query, key, value, [w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o], mask,
                         num_heads, False)

    @implements("attn.positional_encoding", composed=True,
                native=("tensorflow.math.sin", "tensorflow.math.cos"),
                params={"max_wavelength": "drawn", "d_model": "drawn", "layout": "drawn",
                        **NAME})
    def positional_encoding(self, positions: Any, *, d_model: int,
                            max_wavelength: float = 10000.0,
                            layout: str = "interleaved") -> Any:
        """No sinusoidal encoding in TF core or Keras core (keras_hub's is not a
        dependency): the TensorFlow tutorial's angle rates 1 / max_wavelength^(2i/d),
        computed in float64 (its NumPy) and cast to the positions' dtype."""
        dt = positions.dtype
        two_i = tf.range(0, d_model, 2, dtype=tf.float64)
        rates = 1.0 / tf.pow(tf.constant(max_wavelength, tf.float64), two_i / d_model)
        angles = positions[..., None] * tf.cast(rates, dt)
        sin, cos = tf.sin(angles), tf.cos(angles)
        if layout == "concatenated":
            return tf.concat([sin, cos], axis=-1)
        pairs = tf.reshape(tf.stack([sin, cos], axis=-1),
                           tf.concat([tf.shape(angles)[:-1], [-1]], axis=0))
        return pairs[..., :d_model]
