"""JAX mappings of the ``attn`` family (docs/conventions/attention.md).

``jax.nn.dot_product_attention`` takes (B, T, N, H) arrays (sequence before heads): the
oracle's (N, H, L, E) are transposed in and out; its boolean ``mask`` attends where True and
its ``bias`` is added, both (B, N, T, S) like the oracle's. It computes the logits in at
least float32 and the softmax always in float32, also for float64 inputs
(jax/_src/nn/functions.py ``_dot_product_attention_core``), and fills masked logits with
-0.7 * float32 max, so a fully masked row averages V uniformly. ``implementation`` is the
default (None = "xla") except in ``attn.scaled_dot_product/cudnn`` ("cudnn", GPU only).

``attn.multi_head`` is Flax's ``nn.MultiHeadDotProductAttention`` with the canonical weights
as its parameters: kernels (E, H, d) = w^T reshaped, output kernel (H, d, Eo) = w_o^T
reshaped, ``param_dtype`` and ``dtype`` the tested dtype; its weights come from
``sow_weights=True`` (the 'intermediates' collection).
"""

from __future__ import annotations

from typing import Any

from adapters.base import LazyModule, implements
from adapters.jax._lazy import jax, jnp
from adapters.jax._params import FLAX_MODULE

flax_nn = LazyModule("flax.linen", extra="jax")

_DPA = "jax.nn.dot_product_attention"
_DPA_PARAMS = {
    "bias": "drawn", "mask": "drawn", "scale": "drawn", "is_causal": "drawn",
    "query_seq_lengths": "fixed: None (padding is one of the boolean masks drawn)",
    "key_value_seq_lengths": "fixed: None (padding is one of the boolean masks drawn)",
    "local_window_size": "fixed: None here; attn.truncated draws it",
    "implementation": "fixed: None ('xla'); attn.scaled_dot_product/cudnn selects 'cudnn'",
    "return_residual": "fixed: False",
}
_MHA_PARAMS = {**FLAX_MODULE,
    "num_heads": "drawn", "qkv_features": "drawn: from w_q.shape",
    "out_features": "drawn: from w_o.shape", "mask": "drawn",
    "dtype": "fixed: the tested dtype", "param_dtype": "fixed: the tested dtype",
    "use_bias": "fixed: True", "dropout_rate": "fixed: 0.0", "deterministic": "fixed: True",
    "broadcast_dropout": "fixed: True (no dropout)", "precision": "fixed: None, the "
    "adapter's jax_default_matmul_precision ('highest' in strict runs)",
    "sow_weights": "fixed: True in attn.multi_head (its weights output), False otherwise",
    "decode": "fixed: False", "normalize_qk": "fixed: False",
    "force_fp32_for_softmax": "fixed: False, the default",
    "attention_fn": "fixed: flax.linen.dot_product_attention, the default",
    "kernel_init": "fixed: replaced by the given weights",
    "bias_init": "fixed: replaced by the given biases",
    "out_kernel_init": "fixed: replaced", "out_bias_init": "fixed: replaced",
    "inputs_kv": "fixed: None (deprecated)", "dropout_rng": "fixed: None",
    "qkv_dot_general": "fixed: None", "out_dot_general": "fixed: None",
    "qkv_dot_general_cls": "fixed: None", "out_dot_general_cls": "fixed: None",
    "qk_attn_weights_einsum_cls": "fixed: None", "attn_weights_value_einsum_cls":
    "fixed: None",
}


def _bthd(x: Any) -> Any:
    """(N, H, L, E) <-> (N, L, H, E)."""
    return jnp.swapaxes(x, 1, 2)


def _dpa(q: Any, k: Any, v: Any, mask: Any, bias: Any, scale: Any, is_causal: bool,
         implementation: str | None = None, window: tuple[int, int] | None = None) -> Any:
    out = jax.nn.dot_product_attention(_bthd(q), _bthd(k), _bthd(v), bias=bias, mask=mask,
                                       scale=scale, is_causal=is_causal,
                                       local_window_size=window,
                                       implementation=implementation)
    return _bthd(out)


class AttentionOps:
    UNSUPPORTED = {
        "attn.scaled_dot_product/flash": "a torch SDPA kernel: jax.nn.dot_product_attention "
                                         "implements only 'xla' and 'cudnn' (checked as "
                                         "attn.scaled_dot_product and /cudnn)",
        "attn.scaled_dot_product/efficient": "a torch SDPA kernel: jax.nn.dot_product_"
                                             "attention implements only 'xla' and 'cudnn'",
        "attn.truncated/flex": "torch's flex_attention; JAX's window is attn.truncated "
                               "(local_window_size)",
    }

    @implements("attn.scaled_dot_product", native=_DPA, params=_DPA_PARAMS)
    def scaled_dot_product(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None,
                           *, scale: float | None = None, is_causal: bool = False,
                           masked_rows: str = "zeros") -> Any:
        """JAX's own convention for fully masked rows is "uniform" (any masked_rows)."""
        return _dpa(q, k, v, mask, bias, scale, is_causal)

    @implements("attn.scaled_dot_product/cudnn", native=_DPA, params=_DPA_PARAMS)
    def scaled_dot_product_cudnn(self, q: Any, k: Any, v: Any, mask: Any = None,
                                 bias: Any = None, *, scale: float | None = None,
                                 is_causal: bool = False, masked_rows: str = "zeros") -> Any:
        """implementation='cudnn': cuDNN's fused attention (GPU, half types)."""
        return _dpa(q, k, v, mask, bias, scale, is_causal, "cudnn")

    @implements("attn.truncated", native=_DPA, params={
        **_DPA_PARAMS, "local_window_size": "drawn: from left, right",
        "mask": "fixed: None (the window is local_window_size)", "bias": "fixed: None",
        "is_causal": "fixed: False (the window is local_window_size)"})
    def truncated(self, q: Any, k: Any, v: Any, *, left: int, right: int,
                  scale: float | None = None) -> Any:
        return _dpa(q, k, v, None, None, scale, False, window=(left, right))

    @implements("attn.self_attention", composed=True, native=(_DPA, "jax.nn.softmax"), params={
        **_DPA_PARAMS, "mask": "fixed: None, no mask in the notes' form", "bias": "fixed: None",
        "is_causal": "fixed: False", "axis": "fixed: -1, over the keys (Dv != D)",
        "where": "fixed: None, no mask"})
    def self_attention(self, x: Any, w_q: Any, w_k: Any, w_v: Any, *,
                       scale: float | None = 1.0) -> Any:
        """Projections x W^T, then jax.nn.dot_product_attention with one head. That kernel
        needs value rows as long as key rows: for Dv != D the softmax is composed
        (jax.nn.softmax of the scaled scores, in the input dtype)."""
        q, k, v = ((x @ w.T)[:, :, None, :] for w in (w_q, w_k, w_v))
        if w_v.shape[0] == w_q.shape[0]:
            return jax.nn.dot_product_attention(q, k, v, scale=scale)[:, :, 0, :]
        s = 1.0 / w_q.shape[0] ** 0.5 if scale is None else scale
        w = jax.nn.softmax((q[:, :, 0] @ jnp.swapaxes(k[:, :, 0], 1, 2)) * s, axis=-1)
        return w @ v[:, :, 0]

    @implements("attn.additive_score", composed=True, native=("jax.numpy.tanh",))
    def additive_score(self, q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> Any:
        """No additive attention in JAX or Flax: v_a^T tanh(W_q q_i + W_k k_j)."""
        pq, pk = (q @ w_q.T)[:, :, None, :], (k @ w_k.T)[:, None, :, :]
        return jnp.tanh(pq + pk) @ v_a

    @implements("attn.additive_score/attention", composed=True,
                native=("jax.numpy.tanh", "jax.nn.softmax"),
                params={"where": "drawn: from mask", "axis": "fixed: -1, over the keys"})
    def additive_attention(self, q: Any, k: Any, value: Any, w_q: Any, w_k: Any, v_a: Any,
                           mask: Any = None, *, masked_rows: str = "zeros") -> Any:
        scores = self.additive_score(q, k, w_q, w_k, v_a)
        w = jax.nn.softmax(scores, axis=-1, where=None if mask is None else mask[:, None, :])
        return w @ value, w

    def _flax_mha(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any,
                  w_o: Any, b_q: Any, b_k: Any, b_v: Any, b_o: Any, mask: Any,
                  num_heads: int, sow: bool) -> Any:
        e, eo = w_q.shape[0], w_o.shape[0]
        d = e // num_heads
        module = flax_nn.MultiHeadDotProductAttention(
            num_heads=num_heads, qkv_features=e, out_features=eo, dtype=query.dtype,
            param_dtype=query.dtype, use_bias=True, dropout_rate=0.0, deterministic=True)

        def dense(w: Any, b: Any) -> dict[str, Any]:
            return {"kernel": w.T.reshape(w.shape[1], num_heads, d),
                    "bias": b.reshape(num_heads, d)}

        params = {"query": dense(w_q, b_q), "key": dense(w_k, b_k), "value": dense(w_v, b_v),
                  "out": {"kernel": w_o.T.reshape(num_heads, d, eo), "bias": b_o}}
        m = None if mask is None else mask[:, None]
        if not sow:
            return module.apply({"params": params}, query, key, value, mask=m)
        out, state = module.apply({"params": params}, query, key, value, mask=m,
                                  sow_weights=True, mutable=["intermediates"])
        return out, state["intermediates"]["attention_weights"][0]

    @implements("attn.multi_head", native="flax.linen.MultiHeadDotProductAttention",
                params=_MHA_PARAMS)
    def multi_head(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any,
                   w_o: Any, b_q: Any = None, b_k: Any = None, b_v: Any = None,
                   b_o: Any = None, mask: Any = None, *, num_heads: int,
                   average_weights: bool = False, masked_rows: str = "zeros") -> Any:
        """Flax returns per-head weights; their mean over the heads is the average."""
        out, w = self._flax_mha(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                                mask, num_heads, True)
        return out, (jnp.mean(w, axis=1) if average_weights else w)

    @implements("attn.multi_head/no_weights", native="flax.linen.MultiHeadDotProductAttention",
                params=_MHA_PARAMS)
    def multi_head_output(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any,
                          w_v: Any, w_o: Any, b_q: Any = None, b_k: Any = None,
                          b_v: Any = None, b_o: Any = None, mask: Any = None, *,
                          num_heads: int, masked_rows: str = "zeros") -> Any:
        return self._flax_mha(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                              mask, num_heads, False)

    @implements("attn.positional_encoding", composed=True,
                native=("jax.numpy.sin", "jax.numpy.cos"),
                params={"max_wavelength": "drawn", "d_model": "drawn", "layout": "drawn"})
    def positional_encoding(self, positions: Any, *, d_model: int,
                            max_wavelength: float = 10000.0,
                            layout: str = "interleaved") -> Any:
        """No sinusoidal encoding in JAX or Flax: freq = max_wavelength^(-2i/d) in the
        positions' dtype, then sin/cos of positions * freq."""
        dt = positions.dtype
        two_i = jnp.arange(0, d_model, 2, dtype=dt)
        freq = jnp.power(jnp.asarray(max_wavelength, dt), -two_i / d_model)
        angles = positions[..., None] * freq
        sin, cos = jnp.sin(angles), jnp.cos(angles)
        if layout == "concatenated":
            return jnp.concatenate([sin, cos], axis=-1)
        pairs = jnp.stack([sin, cos], axis=-1).reshape(*angles.shape[:-1], -1)
        return pairs[..., :d_model]
