"""torch mappings of the ``attn`` family (docs/conventions/attention.md).

``F.scaled_dot_product_attention`` (SDPA) has several kernels; a check pins one with
``torch.nn.attention.sdpa_kernel`` so that its record says which ran: the feature variants of
``attn.scaled_dot_product`` (masks, causal, fully masked rows), ``attn.self_attention`` and
``attn.truncated`` run the MATH kernel (the composite reference, differentiable in both
modes); ``/flash``, ``/efficient`` and ``/cudnn`` pin FLASH_ATTENTION (on CPU the
``_scaled_dot_product_flash_attention_for_cpu`` kernel, which the default dispatch picks
whenever q, k and v share a head dim), EFFICIENT_ATTENTION and CUDNN_ATTENTION (CUDA only).
SDPA's boolean mask attends where True, like the oracle; a float mask is added.

``nn.MultiheadAttention`` blocks where its boolean ``attn_mask`` is True (the opposite of
SDPA): the mapping passes ``~mask``, repeated per head as its (N * H, L, S) form. It runs
in training mode (dropout 0) so that the module's inference fast path never replaces the
``F.multi_head_attention_forward`` path; with ``need_weights`` it computes the weights
explicitly (bmm + softmax), without them it calls SDPA (default dispatch).
"""

from __future__ import annotations

import math
from typing import Any

from adapters.base import LazyModule, implements
from adapters.torch._lazy import F, nn, torch
from adapters.torch._params import OUT

sdpa_attention = LazyModule("torch.nn.attention", extra="torch")
flex = LazyModule("torch.nn.attention.flex_attention", extra="torch")

_SDPA_PARAMS = {
    "attn_mask": "drawn: from mask, bias (a boolean or an additive mask, or None)",
    "is_causal": "drawn", "scale": "drawn",
    "dropout_p": "fixed: 0.0, deterministic attention (dropout is reg.*'s subject)",
    "enable_gqa": "fixed: False, as many key/value heads as query heads",
}
_MODULES: dict[tuple[Any, ...], Any] = {}
_BLOCK_MASKS: dict[tuple[Any, ...], Any] = {}


def _sdpa(q: Any, k: Any, v: Any, mask: Any, bias: Any, scale: float | None,
          is_causal: bool, backend: str) -> Any:
    if mask is not None and bias is not None:
        raise ValueError("SDPA takes one attn_mask: a boolean mask or an additive one")
    attn_mask = mask if mask is not None else bias
    with sdpa_attention.sdpa_kernel(getattr(sdpa_attention.SDPBackend, backend)):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=0.0,
                                              is_causal=is_causal, scale=scale)


def _band(length: int, left: int, right: int, device: Any) -> Any:
    i = torch.arange(length, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    return (j >= i - left) & (j <= i + right)


def _mha(e: int, heads: int, ek: int, ev: int, dtype: Any, device: Any) -> Any:
    key = (e, heads, ek, ev, dtype, device)
    if key not in _MODULES:
        module = nn.MultiheadAttention(e, heads, dropout=0.0, bias=True, kdim=ek, vdim=ev,
                                       batch_first=True, dtype=dtype, device=device)
        _MODULES[key] = module.train()
    return _MODULES[key]


class AttentionOps:
    @implements("attn.scaled_dot_product",
                native="torch.nn.functional.scaled_dot_product_attention", params=_SDPA_PARAMS)
    def scaled_dot_product(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None,
                           *, scale: float | None = None, is_causal: bool = False,
                           masked_rows: str = "zeros") -> Any:
        """MATH kernel pinned. Its fully masked rows are 0 (masked_rows="zeros")."""
        return _sdpa(q, k, v, mask, bias, scale, is_causal, "MATH")

    @implements("attn.scaled_dot_product/flash",
                native="torch.nn.functional.scaled_dot_product_attention", params=_SDPA_PARAMS)
    def sdpa_flash(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None, *,
                   scale: float | None = None, is_causal: bool = False,
                   masked_rows: str = "zeros") -> Any:
        return _sdpa(q, k, v, mask, bias, scale, is_causal, "FLASH_ATTENTION")

    @implements("attn.scaled_dot_product/efficient",
                native="torch.nn.functional.scaled_dot_product_attention", params=_SDPA_PARAMS)
    def sdpa_efficient(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None, *,
                       scale: float | None = None, is_causal: bool = False,
                       masked_rows: str = "zeros") -> Any:
        return _sdpa(q, k, v, mask, bias, scale, is_causal, "EFFICIENT_ATTENTION")

    @implements("attn.scaled_dot_product/cudnn",
                native="torch.nn.functional.scaled_dot_product_attention", params=_SDPA_PARAMS)
    def sdpa_cudnn(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None, *,
                   scale: float | None = None, is_causal: bool = False,
                   masked_rows: str = "zeros") -> Any:
        return _sdpa(q, k, v, mask, bias, scale, is_causal, "CUDNN_ATTENTION")

    @implements("attn.self_attention", composed=True,
                native=("torch.nn.functional.linear",
                        "torch.nn.functional.scaled_dot_product_attention"),
                params={"scale": "drawn", "attn_mask": "fixed: None, no mask in the notes' form",
                        "is_causal": "fixed: False", "dropout_p": "fixed: 0.0",
                        "enable_gqa": "fixed: False", "bias": "fixed: None (F.linear)"})
    def self_attention(self, x: Any, w_q: Any, w_k: Any, w_v: Any, *,
                       scale: float | None = 1.0) -> Any:
        """Three F.linear projections (no bias) and SDPA (MATH) with one head."""
        q, k, v = (F.linear(x, w)[:, None] for w in (w_q, w_k, w_v))
        return _sdpa(q, k, v, None, None, scale, False, "MATH")[:, 0]

    @implements("attn.truncated", composed=True,
                native="torch.nn.functional.scaled_dot_product_attention", params={
                    **_SDPA_PARAMS, "attn_mask": "drawn: from left, right (the band)",
                    "is_causal": "fixed: False (the band is the mask)"})
    def truncated(self, q: Any, k: Any, v: Any, *, left: int, right: int,
                  scale: float | None = None) -> Any:
        """SDPA (MATH) with the band i - left <= j <= i + right as its boolean mask."""
        return _sdpa(q, k, v, _band(q.shape[-2], left, right, q.device), None, scale, False,
                     "MATH")

    @implements("attn.truncated/flex",
                native=("torch.nn.attention.flex_attention.flex_attention",
                        "torch.nn.attention.flex_attention.create_block_mask"),
                params={"block_mask": "drawn: from left, right (the window mask_mod)",
                        "scale": "drawn",
                        "score_mod": "fixed: None, the window is a mask_mod",
                        "enable_gqa": "fixed: False", "return_lse": "fixed: False",
                        "kernel_options": "fixed: None, the defaults",
                        "return_aux": "fixed: None", "B": "fixed: None (broadcast)",
                        "H": "fixed: None (broadcast)", "Q_LEN": "drawn: from q.shape",
                        "KV_LEN": "drawn: from k.shape",
                        "device": "fixed: the adapter's", "BLOCK_SIZE": "fixed: default",
                        "_compile": "fixed: False, eager (the CPU path)",
                        "separate_full_blocks": "fixed: default, block-sparsity metadata "
                        "(which blocks are full), not the values",
                        "compute_dq_write_order": "fixed: default, backward scheduling "
                        "metadata for the compiled kernels",
                        "dq_kv_order": "fixed: default, backward scheduling metadata"})
    def truncated_flex(self, q: Any, k: Any, v: Any, *, left: int, right: int,
                       scale: float | None = None) -> Any:
        """flex_attention, eager, with a window mask_mod (its block mask cached per length
        and window). On CPU it has no backward and, everywhere, no forward-mode rule."""
        length = q.shape[-2]
        key = (length, left, right, str(q.device))
        if key not in _BLOCK_MASKS:
            def window(b: Any, h: Any, i: Any, j: Any) -> Any:
                return (j >= i - left) & (j <= i + right)

            _BLOCK_MASKS[key] = flex.create_block_mask(window, None, None, length, length,
                                                       device=q.device)
        return flex.flex_attention(q, k, v, block_mask=_BLOCK_MASKS[key], scale=scale)

    @implements("attn.additive_score", composed=True,
                native=("torch.nn.functional.linear", "torch.tanh"),
                params={"bias": "fixed: None, the notes' projections have none", **OUT})
    def additive_score(self, q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> Any:
        """torch has no additive attention: v_a^T tanh(W_q q_i + W_k k_j) from F.linear."""
        pq, pk = F.linear(q, w_q)[:, :, None, :], F.linear(k, w_k)[:, None, :, :]
        return torch.tanh(pq + pk) @ v_a

    @implements("attn.additive_score/attention", composed=True,
                native=("torch.nn.functional.linear", "torch.tanh", "torch.softmax"),
                params={"bias": "fixed: None, the notes' projections have none",
                        "dim": "fixed: -1, over the keys", **OUT,
                        "dtype": "fixed: None, the scores' dtype (no upcast)"})
    def additive_attention(self, q: Any, k: Any, value: Any, w_q: Any, w_k: Any, v_a: Any,
                           mask: Any = None, *, masked_rows: str = "zeros") -> Any:
        scores = self.additive_score(q, k, w_q, w_k, v_a)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], -math.inf)
        w = torch.softmax(scores, dim=-1)
        return w @ value, w

    def _multi_head(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any,
                    w_o: Any, b_q: Any, b_k: Any, b_v: Any, b_o: Any, mask: Any,
                    num_heads: int, need_weights: bool, average: bool) -> Any:
        e = w_q.shape[0]
        module = _mha(e, num_heads, key.shape[-1], value.shape[-1], query.dtype, query.device)
        params = {"in_proj_bias": torch.cat([b_q, b_k, b_v]), "out_proj.weight": w_o,
                  "out_proj.bias": b_o}
        if module._qkv_same_embed_dim:
            params["in_proj_weight"] = torch.cat([w_q, w_k, w_v])
        else:
            params.update(q_proj_weight=w_q, k_proj_weight=w_k, v_proj_weight=w_v)
        # Polarity: nn.MultiheadAttention blocks where True.
        blocked = None if mask is None else (~mask).repeat_interleave(num_heads, dim=0)
        return torch.func.functional_call(
            module, params, (query, key, value),
            {"attn_mask": blocked, "need_weights": need_weights,
             "average_attn_weights": average, "key_padding_mask": None, "is_causal": False})

    _MHA_PARAMS = {
        "embed_dim": "drawn: from query.shape", "num_heads": "drawn",
        "kdim": "drawn: from key.shape", "vdim": "drawn: from value.shape",
        "attn_mask": "drawn: from mask (True = attend; inverted to torch's blocked)",
        "average_attn_weights": "drawn: from average_weights",
        "need_weights": "fixed: True here, False in attn.multi_head/no_weights",
        "dropout": "fixed: 0.0", "bias": "fixed: True", "batch_first": "fixed: True",
        "add_bias_kv": "fixed: False", "add_zero_attn": "fixed: False",
        "key_padding_mask": "fixed: None (a key padding mask is one of the masks drawn)",
        "is_causal": "fixed: False (a causal mask is a mask)",
        "device": "fixed: the adapter's", "dtype": "fixed: the tested dtype",
    }

    @implements("attn.multi_head", native="torch.nn.MultiheadAttention", params=_MHA_PARAMS)
    def multi_head(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any,
                   w_o: Any, b_q: Any = None, b_k: Any = None, b_v: Any = None,
                   b_o: Any = None, mask: Any = None, *, num_heads: int,
                   average_weights: bool = False, masked_rows: str = "zeros") -> Any:
        return self._multi_head(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                                mask, num_heads, True, average_weights)

    @implements("attn.multi_head/no_weights", native="torch.nn.MultiheadAttention",
                params={**_MHA_PARAMS, "need_weights": "fixed: False (the output only)",
                        "average_attn_weights": "fixed: unused without weights"})
    def multi_head_output(self, query: Any, key: Any, value: Any, w_q: Any, w_k: Any,
                          w_v: Any, w_o: Any, b_q: Any = None, b_k: Any = None,
                          b_v: Any = None, b_o: Any = None, mask: Any = None, *,
                          num_heads: int, masked_rows: str = "zeros") -> Any:
        return self._multi_head(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                                mask, num_heads, False, False)[0]

    @implements("attn.positional_encoding", composed=True,
                native=("torch.exp", "torch.sin", "torch.cos"),
                params={"max_wavelength": "drawn", "d_model": "drawn", "layout": "drawn", **OUT})
    def positional_encoding(self, positions: Any, *, d_model: int,
                            max_wavelength: float = 10000.0,
                            layout: str = "interleaved") -> Any:
        """No sinusoidal encoding in torch: the PyTorch tutorial's form, div_term =
        exp(arange(0, d, 2) * (-log(max_wavelength) / d)), in the positions' dtype."""
        two_i = torch.arange(0, d_model, 2, dtype=positions.dtype, device=positions.device)
        div = torch.exp(two_i * (-math.log(max_wavelength) / d_model))
        angles = positions[..., None] * div
        sin, cos = torch.sin(angles), torch.cos(angles)
        if layout == "concatenated":
            return torch.cat([sin, cos], dim=-1)
        pairs = torch.stack([sin, cos], dim=-1).flatten(-2)
        return pairs[..., :d_model]
