"""Attention (catalog family ``attn``, notes 004 "self-attention").

The notes write the inputs I as columns: Q = W^q I, K = W^k I, V = W^v I, A = K^T Q,
A' = softmax of A over the keys, O = V A'. Here sequences are rows, as every framework stores
them: x (N, L, F) and Q = x W_q^T, so the same W_q (out, in) serves both forms (torch
``Linear`` layout); scores[i, j] = q_i . k_j and every softmax runs over the keys j.

Layouts: kernels take heads first, q (N, H, L, E), k (N, H, S, E), v (N, H, S, Ev) (torch's
``scaled_dot_product_attention``; JAX and Keras want (N, L, H, E): the adapters transpose).
Layers take (N, L, F) sequences and (out, in) weights.

Masks. A boolean ``mask`` is True where a query may attend to a key (SDPA, JAX, Keras, Flax;
``torch.nn.MultiheadAttention`` is the opposite and its adapter inverts it). An additive mask
(``bias``) is added to the scaled scores; its -inf entries count as masked. ``is_causal``
keeps key j for query i iff j <= i (top-left aligned, tril(L, S), when L != S too).

The softmax over the allowed keys is shifted by the row's maximum allowed score (the first
maximal element, chosen on the primal and taken from the scores themselves, so the shifted
value there is exactly 0 and every other one is <= 0) and its denominator is written 1 + s,
s the sum over the other allowed keys: no exp overflows, and the max's term is exactly 1.

A fully masked row (no allowed key) is outside the formula; ``masked_rows`` names the
convention: "zeros" (canonical: every weight 0, so the output row is 0; torch SDPA since 2.5),
"uniform" (every key weighted 1/S, i.e. the mean of V: JAX, Keras and Flax, which fill masked
scores with a large finite negative), "nan" (what -inf scores give, 0/0: torch
``nn.MultiheadAttention`` when it returns weights). docs/conventions/attention.md
§Fully masked rows has the measurements.

Everything goes through ``oracle._canon`` and the NumPy subset that ``oracle.autodiff.Dual``
implements, so every op has its exact JVP; products are plain float64 matmuls (no
compensation), as in the dense and conv families.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon

MASKED_ROWS = ("zeros", "uniform", "nan")
LAYOUTS = ("interleaved", "concatenated")


class Attention(NamedTuple):
    output: Any
    weights: Any


def _mm(a: Any, b: Any) -> Any:
    # asarray: ml_dtypes' bfloat16 matmul returns float32; keep the compute dtype.
    return _canon.asarray(np.matmul(a, b))


def _t(a: Any) -> Any:
    """Swap the last two axes."""
    return np.swapaxes(a, -1, -2)


def _scale_value(scale: float | None, depth: int) -> np.ndarray:
    """``scale``, or 1/sqrt(depth) when None (every framework's default), in the compute dtype."""
    return _canon.scalar(1.0 / np.sqrt(depth) if scale is None else scale)


def causal_mask(length: int, source: int) -> np.ndarray:
    """(L, S) booleans, True where key j <= query i (top-left aligned)."""
    return np.arange(source)[None, :] <= np.arange(length)[:, None]


def window_mask(length: int, source: int, left: int, right: int) -> np.ndarray:
    """(L, S) booleans, True where i - left <= j <= i + right."""
    i, j = np.arange(length)[:, None], np.arange(source)[None, :]
    return (j >= i - left) & (j <= i + right)


def masked_softmax(scores: Any, allowed: np.ndarray | None = None, *,
                   masked_rows: str = "zeros") -> Any:
    """Softmax over the last axis restricted to ``allowed`` (booleans broadcastable to the
    scores; None: all), with the max shift and the 1 + s denominator of the module docstring.
    Masked positions get weight exactly 0; a row with no allowed position follows
    ``masked_rows``."""
    if masked_rows not in MASKED_ROWS:
        raise ValueError(f"masked_rows must be one of {MASKED_ROWS}, got {masked_rows!r}")
    s = _canon.asarray(scores)
    p = _canon.primal(s)
    allowed = (np.ones(p.shape, dtype=bool) if allowed is None
               else np.broadcast_to(np.asarray(allowed, dtype=bool), p.shape))
    zeros = np.zeros_like(s)
    # The first maximal allowed score of each row (any index for an empty row: replaced below).
    idx = np.argmax(np.where(allowed, p, -np.inf), axis=-1)[..., None]
    m = np.take_along_axis(s, idx, axis=-1)
    is_max = np.arange(p.shape[-1]) == idx
    # Masked scores are zeroed before exp (never exp of a large positive), then dropped.
    shifted = np.where(allowed, s - m, zeros)
    e = np.where(allowed, np.exp(shifted), zeros)
    rest = np.sum(np.where(is_max, zeros, e), axis=-1, keepdims=True)
    w = e / (1 + rest)
    empty = ~np.any(allowed, axis=-1, keepdims=True)
    if not np.any(empty):
        return w
    fill = {"zeros": 0.0, "uniform": 1.0 / p.shape[-1], "nan": np.nan}[masked_rows]
    return np.where(empty, np.full_like(w, fill), w)


def _allowed(shape: tuple[int, ...], mask: Any, bias: Any, is_causal: bool) -> np.ndarray:
    """The keys each query may attend to: mask AND finite bias AND the causal triangle."""
    allowed = np.ones(shape, dtype=bool)
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool:
            raise ValueError(f"mask must be boolean (True = attend), got {m.dtype}")
        allowed = allowed & m
    if bias is not None:
        allowed = allowed & (_canon.primal(bias) > -np.inf)
    if is_causal:
        allowed = allowed & causal_mask(shape[-2], shape[-1])
    return allowed


def scaled_dot_product(q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None, *,
                       scale: float | None = None, is_causal: bool = False,
                       masked_rows: str = "zeros") -> Any:
    """O = softmax(scale * Q K^T + bias, over the allowed keys) V, per batch and head.

    q (N, H, L, E), k (N, H, S, E), v (N, H, S, Ev) -> O (N, H, L, Ev). ``scale`` None means
    1/sqrt(E) (the notes' scaled form; every framework's default). ``mask`` booleans
    broadcastable to (N, H, L, S), True = attend; ``bias`` an additive float mask of the same
    broadcast shape (its -inf entries are masked positions); ``is_causal`` the top-left
    triangle. The three combine by AND. Fully masked rows: ``masked_rows`` (module docstring).
    """
    q, k, v = _canon.asarray(q), _canon.asarray(k), _canon.asarray(v)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("q, k, v must be (N, H, L, E), (N, H, S, E), (N, H, S, Ev)")
    if q.shape[-1] != k.shape[-1] or k.shape[:3] != v.shape[:3]:
        raise ValueError(f"q {q.shape}, k {k.shape}, v {v.shape} do not match")
    w = attention_weights(q, k, mask, bias, scale=scale, is_causal=is_causal,
                          masked_rows=masked_rows)
    return _mm(w, v)


def attention_weights(q: Any, k: Any, mask: Any = None, bias: Any = None, *,
                      scale: float | None = None, is_causal: bool = False,
                      masked_rows: str = "zeros") -> Any:
    """The weights A' = softmax(scale * Q K^T + bias) over the allowed keys, (..., L, S),
    with the masks and conventions of ``scaled_dot_product``."""
    q, k = _canon.asarray(q), _canon.asarray(k)
    scores = _mm(q, _t(k)) * _scale_value(scale, q.shape[-1])
    if bias is not None:
        b = _canon.asarray(bias)
        # -inf entries are masked (below): adding them would only put -inf into the row max.
        scores = scores + np.where(_canon.primal(b) > -np.inf, b, np.zeros_like(b))
    allowed = _allowed(_canon.primal(scores).shape, mask, bias, is_causal)
    return masked_softmax(scores, allowed, masked_rows=masked_rows)


def self_attention(x: Any, w_q: Any, w_k: Any, w_v: Any, *, scale: float | None = 1.0) -> Any:
    """The notes' self-attention: Q = x W_q^T, K = x W_k^T, V = x W_v^T,
    A' = softmax(scale * Q K^T) over the keys, O = A' V.

    x (N, L, F); w_q, w_k (D, F), w_v (Dv, F) ((out, in), torch ``Linear``; Keras and Flax
    kernels are the transposes) -> O (N, L, Dv). Dot-product scores: ``scale`` 1 (the notes'
    A = K^T Q, and Keras ``Attention``'s default), None for 1/sqrt(D), or any value.
    """
    x = _canon.asarray(x)
    w_q, w_k, w_v = _canon.asarray(w_q), _canon.asarray(w_k), _canon.asarray(w_v)
    if x.ndim != 3 or any(w.ndim != 2 or w.shape[1] != x.shape[-1] for w in (w_q, w_k, w_v)):
        raise ValueError(f"x must be (N, L, F) and each weight (out, F), got x {x.shape}")
    if w_q.shape[0] != w_k.shape[0]:
        raise ValueError(f"w_q {w_q.shape} and w_k {w_k.shape} need the same output size")
    q, k, v = _mm(x, w_q.T), _mm(x, w_k.T), _mm(x, w_v.T)
    scores = _mm(q, _t(k)) * _scale_value(scale, w_q.shape[0])
    return _mm(masked_softmax(scores), v)


def truncated(q: Any, k: Any, v: Any, *, left: int, right: int,
              scale: float | None = None) -> Any:
    """Truncated (local) self-attention: query i attends only to keys i - left .. i + right
    (the window clipped at the sequence ends), scaled dot-product scores.

    q (N, H, L, E), k (N, H, L, E), v (N, H, L, Ev) -> (N, H, L, Ev); positions are aligned
    (query i and key i are the same token), so every row keeps at least itself. left = right
    = w is the symmetric window |i - j| <= w; right = 0 a causal window of left + 1 keys.
    """
    q, k = _canon.asarray(q), _canon.asarray(k)
    if left < 0 or right < 0:
        raise ValueError(f"window sizes must be >= 0, got left={left}, right={right}")
    if q.shape[-2] != k.shape[-2]:
        raise ValueError("truncated self-attention needs as many queries as keys")
    band = window_mask(q.shape[-2], k.shape[-2], left, right)
    return scaled_dot_product(q, k, v, band, scale=scale)


def additive_score(q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> Any:
    """Additive (Bahdanau) scores: score(q_i, k_j) = v_a^T tanh(W_q q_i + W_k k_j).

    q (N, L, Eq), k (N, S, Ek), w_q (A, Eq), w_k (A, Ek), v_a (A,) -> scores (N, L, S).
    No biases (the notes' form; a bias folds into either projection).
    """
    q, k = _canon.asarray(q), _canon.asarray(k)
    w_q, w_k, v_a = _canon.asarray(w_q), _canon.asarray(w_k), _canon.asarray(v_a)
    if w_q.shape[0] != w_k.shape[0] or v_a.shape != (w_q.shape[0],):
        raise ValueError(f"w_q {w_q.shape}, w_k {w_k.shape}, v_a {v_a.shape} do not match")
    pq = _mm(q, w_q.T)[:, :, None, :]  # (N, L, 1, A)
    pk = _mm(k, w_k.T)[:, None, :, :]  # (N, 1, S, A)
    return _mm(np.tanh(pq + pk), v_a)


def additive_attention(q: Any, k: Any, value: Any, w_q: Any, w_k: Any, v_a: Any,
                       mask: Any = None, *, masked_rows: str = "zeros") -> Attention:
    """Attention with additive scores: weights = softmax over the keys of
    ``additive_score(q, k, w_q, w_k, v_a)``, output = weights @ value.

    value (N, S, Ev); ``mask`` (N, S) booleans, True = the key takes part (a key padding
    mask, Keras ``AdditiveAttention``'s value mask). Returns (output (N, L, Ev), weights
    (N, L, S)).
    """
    scores = additive_score(q, k, w_q, w_k, v_a)
    allowed = None if mask is None else np.asarray(mask, dtype=bool)[:, None, :]
    w = masked_softmax(scores, allowed, masked_rows=masked_rows)
    return Attention(_mm(w, _canon.asarray(value)), w)


def _heads(x: Any, n: int) -> Any:
    """(N, L, H*d) -> (N, H, L, d): head h is the contiguous feature chunk h*d:(h+1)*d."""
    b, length, features = x.shape
    return np.swapaxes(x.reshape(b, length, n, features // n), 1, 2)


def multi_head(query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any, w_o: Any,
               b_q: Any = None, b_k: Any = None, b_v: Any = None, b_o: Any = None,
               mask: Any = None, *, num_heads: int, average_weights: bool = False,
               masked_rows: str = "zeros") -> Attention:
    """Multi-head attention: each head h has its own W_q, W_k, W_v (row chunks of the packed
    weights), scaled dot-product attention per head, heads concatenated and projected by W_o.

    query (N, L, Eq), key (N, S, Ek), value (N, S, Ev). w_q (H*dk, Eq), w_k (H*dk, Ek),
    w_v (H*dv, Ev), w_o (Eo, H*dv), all (out, in); biases b_q (H*dk,), b_k (H*dk,),
    b_v (H*dv,), b_o (Eo,) or None. Head h uses rows h*dk:(h+1)*dk of w_q and w_k and
    h*dv:(h+1)*dv of w_v, and columns h*dv:(h+1)*dv of w_o (torch's packed ``in_proj_weight``
    = [w_q; w_k; w_v]; Keras and Flax kernels (E, H, d) = w^T reshaped, output kernel
    (H, dv, Eo) = w_o^T reshaped). Scores scaled by 1/sqrt(dk). ``mask`` (L, S) or (N, L, S)
    booleans, True = attend, the same for every head.

    Returns (output (N, L, Eo), weights (N, H, L, S), or their mean over the heads (N, L, S)
    with ``average_weights``, torch's default).
    """
    query, key, value = _canon.asarray(query), _canon.asarray(key), _canon.asarray(value)
    ws = [_canon.asarray(w) for w in (w_q, w_k, w_v, w_o)]
    if any(w.ndim != 2 for w in ws) or ws[0].shape[0] % num_heads or ws[2].shape[0] % num_heads:
        raise ValueError(f"projection rows must split into {num_heads} heads")
    if ws[0].shape[0] != ws[1].shape[0] or ws[3].shape[1] != ws[2].shape[0]:
        raise ValueError("w_q/w_k rows or w_v rows / w_o columns do not match")

    def project(x: Any, w: Any, b: Any) -> Any:
        y = _mm(x, w.T)
        return y if b is None else y + _canon.asarray(b)

    q = _heads(project(query, ws[0], b_q), num_heads)
    k = _heads(project(key, ws[1], b_k), num_heads)
    v = _heads(project(value, ws[2], b_v), num_heads)
    scores = _mm(q, _t(k)) * _scale_value(None, q.shape[-1])
    allowed = None
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        allowed = m[:, None] if m.ndim == 3 else m
    w = masked_softmax(scores, allowed, masked_rows=masked_rows)
    heads = _mm(w, v)  # (N, H, L, dv)
    n, _, length, dv = heads.shape
    concat = np.swapaxes(heads, 1, 2).reshape(n, length, num_heads * dv)
    out = project(concat, ws[3], b_o)
    return Attention(out, np.mean(w, axis=1) if average_weights else w)


def multi_head_output(*args: Any, **kwargs: Any) -> Any:
    """``multi_head``'s output alone (the path frameworks take when no weights are asked
    for: torch's and Keras' fused attention kernels)."""
    return multi_head(*args, **kwargs).output


def positional_encoding(positions: Any, *, d_model: int, max_wavelength: float = 10000.0,
                        layout: str = "interleaved") -> Any:
    """Sinusoidal positional encoding of each position p (any float array of positions):
        PE(p, 2i) = sin(p / max_wavelength^(2i/d)), PE(p, 2i+1) = cos(p / max_wavelength^(2i/d))

    for i = 0 .. ceil(d/2) - 1 (an odd d ends with a sine). Returns positions.shape + (d,).
    ``layout``: "interleaved" (the paper's, and keras_hub ``SinePositionEncoding``'s: sines
    in the even columns, cosines in the odd ones) or "concatenated" (all sines, then all
    cosines, the same frequencies; d even). Frequencies are max_wavelength^(-2i/d), computed
    as one power each (not by repeated products, which accumulate rounding).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if d_model < 1 or (layout == "concatenated" and d_model % 2):
        raise ValueError(f"d_model {d_model} does not fit layout {layout!r}")
    p = _canon.asarray(positions)
    half = (d_model + 1) // 2
    exponents = np.array([-2.0 * i / d_model for i in range(half)])
    freq = np.power(_canon.scalar(max_wavelength), exponents.astype(_canon.current_dtype()))
    angles = p[..., None] * _canon.asarray(freq)  # (..., half)
    sin, cos = np.sin(angles), np.cos(angles)
    if layout == "concatenated":
        return np.concatenate([sin, cos], axis=-1)
    out = _canon.zeros(p.shape + (d_model,), like=p)
    out[..., 0::2] = sin
    out[..., 1::2] = cos[..., : d_model // 2]
    return out


ORACLE: dict[str, Callable[..., Any]] = {
    "attn.self_attention": self_attention,
    "attn.scaled_dot_product": scaled_dot_product,
    "attn.additive_score": additive_score,
    "attn.multi_head": multi_head,
    "attn.positional_encoding": positional_encoding,
    "attn.truncated": truncated,
}
