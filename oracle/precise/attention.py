"""mpmath transcriptions of the ``attn`` family, written from the notes' formulas (004) and
the layouts stated in ``oracle/attention.py``, independently of the NumPy code.

Arrays are NumPy object arrays of ``mpmath.mpf``, evaluated at the caller's precision
(``mpmath.workdps``). Every score, softmax denominator and weighted sum is one
``mpmath.fsum``; the softmax is written directly as exp(s_j) / sum_k exp(s_k) over the
allowed keys (no shift: at 50 digits exp neither overflows nor loses the small terms for the
scores the specs draw). Masks, windows and the fully-masked-row conventions are the oracle's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.attention import Attention


def mp(a: Any) -> np.ndarray:
    """float64 (or already mpf) values as an object array of mpf."""
    arr = np.asarray(a, dtype=object)
    if not arr.size:
        return arr
    return np.vectorize(lambda v: mpmath.mpf(v), otypes=[object])(arr)


def _scale(scale: float | None, depth: int) -> Any:
    return 1 / mpmath.sqrt(depth) if scale is None else mpmath.mpf(scale)


def _dot(a: np.ndarray, b: np.ndarray) -> Any:
    return mpmath.fsum(x * y for x, y in zip(a, b))


def _softmax_row(scores: list[Any], allowed: list[bool], masked_rows: str) -> list[Any]:
    if not any(allowed):
        fill = {"zeros": mpmath.mpf(0), "uniform": mpmath.mpf(1) / len(scores),
                "nan": mpmath.nan}[masked_rows]
        return [fill] * len(scores)
    e = [mpmath.exp(s) if a else mpmath.mpf(0) for s, a in zip(scores, allowed)]
    total = mpmath.fsum(e)
    return [x / total for x in e]


def _attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: Any,
            allowed: np.ndarray, bias: np.ndarray | None, masked_rows: str
            ) -> tuple[np.ndarray, np.ndarray]:
    """One head: q (L, E), k (S, E), v (S, Ev), allowed (L, S) -> (out (L, Ev), w (L, S))."""
    length, source = q.shape[0], k.shape[0]
    out = np.empty((length, v.shape[1]), dtype=object)
    weights = np.empty((length, source), dtype=object)
    for i in range(length):
        scores = []
        for j in range(source):
            s = scale * _dot(q[i], k[j])
            if bias is not None and bias[i, j] != -mpmath.inf:
                s = s + bias[i, j]
            scores.append(s)
        w = _softmax_row(scores, [bool(a) for a in allowed[i]], masked_rows)
        weights[i] = w
        for d in range(v.shape[1]):
            out[i, d] = mpmath.fsum(w[j] * v[j, d] for j in range(source))
    return out, weights


def scaled_dot_product(q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None, *,
                       scale: float | None = None, is_causal: bool = False,
                       masked_rows: str = "zeros") -> np.ndarray:
    q, k, v = mp(q), mp(k), mp(v)
    n, h, length, e = q.shape
    source = k.shape[2]
    full = (n, h, length, source)
    allowed = np.ones(full, dtype=bool)
    if mask is not None:
        allowed &= np.broadcast_to(np.asarray(mask, dtype=bool), full)
    b = None
    if bias is not None:
        bf = np.broadcast_to(np.asarray(bias, dtype=np.float64), full)
        allowed &= bf > -np.inf
        b = mp(bf)
    if is_causal:
        for i in range(length):
            allowed[..., i, i + 1:] = False
    out = np.empty((n, h, length, v.shape[-1]), dtype=object)
    for a in range(n):
        for c in range(h):
            out[a, c], _ = _attend(q[a, c], k[a, c], v[a, c], _scale(scale, e), allowed[a, c],
                                   None if b is None else b[a, c], masked_rows)
    return out


def self_attention(x: Any, w_q: Any, w_k: Any, w_v: Any, *,
                   scale: float | None = 1.0) -> np.ndarray:
    x, w_q, w_k, w_v = mp(x), mp(w_q), mp(w_k), mp(w_v)
    n, length, _ = x.shape
    out = np.empty((n, length, w_v.shape[0]), dtype=object)
    for a in range(n):
        # The notes' Q = W^q I with the inputs as columns: q_i = W_q x_i.
        q = np.array([[_dot(w_q[r], x[a, i]) for r in range(w_q.shape[0])]
                      for i in range(length)], dtype=object)
        k = np.array([[_dot(w_k[r], x[a, i]) for r in range(w_k.shape[0])]
                      for i in range(length)], dtype=object)
        v = np.array([[_dot(w_v[r], x[a, i]) for r in range(w_v.shape[0])]
                      for i in range(length)], dtype=object)
        out[a], _ = _attend(q, k, v, _scale(scale, w_q.shape[0]),
                            np.ones((length, length), dtype=bool), None, "zeros")
    return out


def truncated(q: Any, k: Any, v: Any, *, left: int, right: int,
              scale: float | None = None) -> np.ndarray:
    length = np.shape(q)[2]
    band = np.array([[i - left <= j <= i + right for j in range(length)]
                     for i in range(length)])
    return scaled_dot_product(q, k, v, band, scale=scale)


def additive_score(q: Any, k: Any, w_q: Any, w_k: Any, v_a: Any) -> np.ndarray:
    q, k, w_q, w_k, v_a = mp(q), mp(k), mp(w_q), mp(w_k), mp(v_a)
    n, length, _ = q.shape
    source = k.shape[1]
    units = w_q.shape[0]
    out = np.empty((n, length, source), dtype=object)
    for a in range(n):
        pq = [[_dot(w_q[u], q[a, i]) for u in range(units)] for i in range(length)]
        pk = [[_dot(w_k[u], k[a, j]) for u in range(units)] for j in range(source)]
        for i in range(length):
            for j in range(source):
                out[a, i, j] = mpmath.fsum(v_a[u] * mpmath.tanh(pq[i][u] + pk[j][u])
                                           for u in range(units))
    return out


def additive_attention(q: Any, k: Any, value: Any, w_q: Any, w_k: Any, v_a: Any,
                       mask: Any = None, *, masked_rows: str = "zeros") -> Attention:
    scores = additive_score(q, k, w_q, w_k, v_a)
    value = mp(value)
    n, length, source = scores.shape
    out = np.empty((n, length, value.shape[-1]), dtype=object)
    weights = np.empty((n, length, source), dtype=object)
    for a in range(n):
        keep = [True] * source if mask is None else [bool(m) for m in np.asarray(mask)[a]]
        for i in range(length):
            w = _softmax_row(list(scores[a, i]), keep, masked_rows)
            weights[a, i] = w
            for d in range(value.shape[-1]):
                out[a, i, d] = mpmath.fsum(w[j] * value[a, j, d] for j in range(source))
    return Attention(out, weights)


def multi_head(query: Any, key: Any, value: Any, w_q: Any, w_k: Any, w_v: Any, w_o: Any,
               b_q: Any = None, b_k: Any = None, b_v: Any = None, b_o: Any = None,
               mask: Any = None, *, num_heads: int, average_weights: bool = False,
               masked_rows: str = "zeros") -> Attention:
    query, key, value = mp(query), mp(key), mp(value)
    w_q, w_k, w_v, w_o = mp(w_q), mp(w_k), mp(w_v), mp(w_o)

    def bias(b: Any, size: int) -> np.ndarray:
        return mp(np.zeros(size)) if b is None else mp(b)

    b_q, b_k = bias(b_q, w_q.shape[0]), bias(b_k, w_k.shape[0])
    b_v, b_o = bias(b_v, w_v.shape[0]), bias(b_o, w_o.shape[0])
    n, length, _ = query.shape
    source = key.shape[1]
    dk, dv = w_q.shape[0] // num_heads, w_v.shape[0] // num_heads
    out = np.empty((n, length, w_o.shape[0]), dtype=object)
    weights = np.empty((n, num_heads, length, source), dtype=object)
    for a in range(n):
        if mask is None:
            allowed = np.ones((length, source), dtype=bool)
        else:
            m = np.asarray(mask, dtype=bool)
            allowed = m[a] if m.ndim == 3 else m
        concat = np.empty((length, num_heads * dv), dtype=object)
        for h in range(num_heads):
            rq, rv = range(h * dk, (h + 1) * dk), range(h * dv, (h + 1) * dv)

            def proj(x: np.ndarray, w: np.ndarray, b: np.ndarray, rows: range) -> np.ndarray:
                return np.array([[mpmath.fsum([*(w[r, c] * x[i, c] for c in range(x.shape[1])),
                                               b[r]]) for r in rows]
                                 for i in range(x.shape[0])], dtype=object)

            q, k = proj(query[a], w_q, b_q, rq), proj(key[a], w_k, b_k, rq)
            v = proj(value[a], w_v, b_v, rv)
            o, w = _attend(q, k, v, 1 / mpmath.sqrt(dk), allowed, None, masked_rows)
            concat[:, h * dv:(h + 1) * dv] = o
            weights[a, h] = w
        for i in range(length):
            for r in range(w_o.shape[0]):
                out[a, i, r] = mpmath.fsum([_dot(w_o[r], concat[i]), b_o[r]])
    if average_weights:
        avg = np.empty((n, length, source), dtype=object)
        for idx in np.ndindex(n, length, source):
            avg[idx] = mpmath.fsum(weights[idx[0], h, idx[1], idx[2]]
                                   for h in range(num_heads)) / num_heads
        weights = avg
    return Attention(out, weights)


def multi_head_output(*args: Any, **kwargs: Any) -> np.ndarray:
    return multi_head(*args, **kwargs).output


def positional_encoding(positions: Any, *, d_model: int, max_wavelength: float = 10000.0,
                        layout: str = "interleaved") -> np.ndarray:
    p = mp(positions)
    out = np.empty(p.shape + (d_model,), dtype=object)
    base = mpmath.mpf(max_wavelength)
    half = (d_model + 1) // 2
    for idx in np.ndindex(p.shape):
        for i in range(half):
            angle = p[idx] / base ** (mpmath.mpf(2 * i) / d_model)
            if layout == "concatenated":
                out[idx + (i,)] = mpmath.sin(angle)
                out[idx + (half + i,)] = mpmath.cos(angle)
            else:
                out[idx + (2 * i,)] = mpmath.sin(angle)
                if 2 * i + 1 < d_model:
                    out[idx + (2 * i + 1,)] = mpmath.cos(angle)
    return out


PRECISE: dict[str, Callable[..., Any]] = {
    "attn.self_attention": self_attention,
    "attn.scaled_dot_product": scaled_dot_product,
    "attn.additive_score": additive_score,
    "attn.multi_head": multi_head,
    "attn.positional_encoding": positional_encoding,
    "attn.truncated": truncated,
}
