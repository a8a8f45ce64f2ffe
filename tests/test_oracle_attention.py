"""The attention oracle against independent evidence: explicit loops over queries written
with ``math``, hand-computed values, the notes' column form, invariants of the softmax
weights (rows sum to 1, masked keys weigh exactly 0), the conventions for fully masked rows,
and the closed form of the sinusoidal encoding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oracle import attention as A

RNG = np.random.default_rng(20261201)


def loop_attention(q, k, v, allowed, scale):
    """One head, one query at a time: exp(s_j - max) / sum over the allowed keys (math)."""
    out = np.zeros((q.shape[0], v.shape[1]))
    for i in range(q.shape[0]):
        keys = [j for j in range(k.shape[0]) if allowed[i][j]]
        s = {j: scale * math.fsum(q[i, c] * k[j, c] for c in range(q.shape[1])) for j in keys}
        top = max(s.values())
        e = {j: math.exp(s[j] - top) for j in keys}
        total = math.fsum(e.values())
        for d in range(v.shape[1]):
            out[i, d] = math.fsum(e[j] / total * v[j, d] for j in keys)
    return out


def _qkv(n=2, h=2, length=4, source=5, e=3, spread=2.0):
    return (RNG.uniform(-spread, spread, (n, h, length, e)),
            RNG.uniform(-spread, spread, (n, h, source, e)),
            RNG.uniform(-1, 1, (n, h, source, e)))


def test_hand_computed_two_keys():
    """scores [1, 0] (unscaled): weights e/(e+1), 1/(e+1); output (e + 3) / (e + 1)."""
    q = np.array([[[[1.0, 0.0]]]])
    k = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    v = np.array([[[[1.0], [3.0]]]])
    out = A.scaled_dot_product(q, k, v, scale=1.0)
    assert out[0, 0, 0, 0] == pytest.approx((math.e + 3) / (math.e + 1), rel=1e-15)
    # Default scale 1/sqrt(2): weights 1 / (1 + exp(-1/sqrt 2)) and the rest.
    w0 = 1 / (1 + math.exp(-1 / math.sqrt(2)))
    assert A.scaled_dot_product(q, k, v)[0, 0, 0, 0] == pytest.approx(w0 + 3 * (1 - w0),
                                                                      rel=1e-15)


@pytest.mark.parametrize("scale", [None, 1.0, 0.3])
def test_matches_an_explicit_loop_over_queries(scale):
    q, k, v = _qkv()
    mask = RNG.random((2, 1, 4, 5)) < 0.6
    mask[..., 0] = True
    got = A.scaled_dot_product(q, k, v, mask, scale=scale)
    s = 1 / math.sqrt(3) if scale is None else scale
    for a in range(2):
        for h in range(2):
            want = loop_attention(q[a, h], k[a, h], v[a, h], mask[a, 0], s)
            np.testing.assert_allclose(got[a, h], want, rtol=1e-13, atol=1e-15)


def test_causal_is_top_left_and_matches_the_loop():
    q, k, v = _qkv(length=3, source=5)
    got = A.scaled_dot_product(q, k, v, is_causal=True)
    tril = [[j <= i for j in range(5)] for i in range(3)]
    for a in range(2):
        for h in range(2):
            want = loop_attention(q[a, h], k[a, h], v[a, h], tril, 1 / math.sqrt(3))
            np.testing.assert_allclose(got[a, h], want, rtol=1e-13, atol=1e-15)
    # The first query sees the first key only: its output is v[0].
    np.testing.assert_array_equal(got[:, :, 0], v[:, :, 0])


def test_weights_sum_to_one_and_masked_keys_weigh_zero():
    q, k, _ = _qkv(spread=8.0)  # scores up to ~200: saturated rows too
    mask = RNG.random((2, 2, 4, 5)) < 0.5
    mask[..., 2] = True
    w = A.attention_weights(q, k, mask)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=0, atol=4e-16)
    assert np.all(w[~mask] == 0.0)
    assert np.all(w >= 0)


def test_additive_mask_adds_and_minus_inf_masks():
    q, k, v = _qkv(n=1, h=1)
    bias = RNG.uniform(-3, 3, (1, 1, 4, 5))
    bias[0, 0, :, 1] = -np.inf
    got = A.scaled_dot_product(q, k, v, None, bias, scale=0.5)
    for i in range(4):
        keys = [j for j in range(5) if j != 1]
        s = [0.5 * float(q[0, 0, i] @ k[0, 0, j]) + bias[0, 0, i, j] for j in keys]
        e = [math.exp(x - max(s)) for x in s]
        want = sum(ej / math.fsum(e) * v[0, 0, j] for ej, j in zip(e, keys))
        np.testing.assert_allclose(got[0, 0, i], want, rtol=1e-13)


@pytest.mark.parametrize("convention,fill", [("zeros", 0.0), ("uniform", 0.2), ("nan", np.nan)])
def test_fully_masked_rows_follow_the_stated_convention(convention, fill):
    q, k, v = _qkv(n=1, h=1)
    mask = np.ones((1, 1, 4, 5), dtype=bool)
    mask[0, 0, 2] = False
    w = A.attention_weights(q, k, mask, masked_rows=convention)
    np.testing.assert_array_equal(w[0, 0, 2], np.full(5, fill))
    out = A.scaled_dot_product(q, k, v, mask, masked_rows=convention)
    want = {"zeros": np.zeros(3), "uniform": v[0, 0].mean(axis=0), "nan": np.full(3, np.nan)}
    np.testing.assert_allclose(out[0, 0, 2], want[convention], rtol=1e-15)
    # The other rows are untouched by the convention.
    np.testing.assert_array_equal(np.delete(w, 2, axis=2),
                                  np.delete(A.attention_weights(q, k, mask), 2, axis=2))


def test_no_overflow_at_huge_scores():
    """Scores of +-1e4: the shift by the row max keeps every exponent <= 0."""
    q = np.array([[[[100.0, 0.0], [-100.0, 50.0]]]])
    k = np.array([[[[100.0, 1.0], [99.0, 0.0], [-100.0, 0.0]]]])
    v = np.array([[[[1.0], [2.0], [3.0]]]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        out = A.scaled_dot_product(q, k, v, scale=1.0)
    # Query 0: scores 10000, 9900, -10000: weight ~1 on key 0 (the others e^-100 and less).
    assert out[0, 0, 0, 0] == pytest.approx(1.0 + math.exp(-100), rel=1e-15)
    # Query 1: scores -9950, -9900, 10000: key 2 wins outright.
    assert out[0, 0, 1, 0] == 3.0


def test_window_matches_an_explicit_band():
    q, k, v = _qkv(length=6, source=6)
    got = A.truncated(q, k, v, left=2, right=1, scale=0.75)
    band = [[i - 2 <= j <= i + 1 for j in range(6)] for i in range(6)]
    for a in range(2):
        for h in range(2):
            want = loop_attention(q[a, h], k[a, h], v[a, h], band, 0.75)
            np.testing.assert_allclose(got[a, h], want, rtol=1e-13, atol=1e-15)
    # A zero window is the identity on values: each query sees only its own key.
    np.testing.assert_array_equal(A.truncated(q, k, v, left=0, right=0), v)


def test_self_attention_in_the_notes_column_form():
    """Q = W^q I, K = W^k I, V = W^v I with the inputs as columns; A = K^T Q; A' = softmax
    of each column (over the keys); O = V A'. The oracle's row form must be its transpose."""
    x = RNG.uniform(-2, 2, (1, 5, 3))
    w_q, w_k, w_v = RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1,
                                                                                       (4, 3))
    i_cols = x[0].T  # (F, L)
    q, k, v = w_q @ i_cols, w_k @ i_cols, w_v @ i_cols
    a = k.T @ q  # (keys, queries)
    a_norm = np.exp(a - a.max(axis=0)) / np.exp(a - a.max(axis=0)).sum(axis=0)
    o = v @ a_norm  # (Dv, L)
    np.testing.assert_allclose(A.self_attention(x, w_q, w_k, w_v)[0], o.T, rtol=1e-13)


def test_additive_score_matches_a_loop():
    q, k = RNG.uniform(-2, 2, (2, 3, 4)), RNG.uniform(-2, 2, (2, 5, 3))
    w_q, w_k, v_a = RNG.uniform(-1, 1, (6, 4)), RNG.uniform(-1, 1, (6, 3)), RNG.uniform(-1, 1, 6)
    got = A.additive_score(q, k, w_q, w_k, v_a)
    for n in range(2):
        for i in range(3):
            for j in range(5):
                want = math.fsum(
                    v_a[u] * math.tanh(math.fsum(w_q[u, c] * q[n, i, c] for c in range(4))
                                       + math.fsum(w_k[u, c] * k[n, j, c] for c in range(3)))
                    for u in range(6))
                assert got[n, i, j] == pytest.approx(want, rel=1e-13, abs=1e-15)


def test_additive_attention_weights_and_key_mask():
    q, k, value = (RNG.uniform(-2, 2, (1, 2, 3)), RNG.uniform(-2, 2, (1, 4, 3)),
                   RNG.uniform(-1, 1, (1, 4, 2)))
    w_q, w_k, v_a = RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, 5)
    mask = np.array([[True, False, True, True]])
    out, w = A.additive_attention(q, k, value, w_q, w_k, v_a, mask)
    assert np.all(w[0, :, 1] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=4e-16)
    s = A.additive_score(q, k, w_q, w_k, v_a)[0]
    for i in range(2):
        e = np.array([math.exp(s[i, j]) if mask[0, j] else 0.0 for j in range(4)])
        np.testing.assert_allclose(out[0, i], (e / e.sum()) @ value[0], rtol=1e-13)


def test_multi_head_is_heads_of_scaled_dot_product():
    """Per head h: rows h*d:(h+1)*d of the projections, SDPA at 1/sqrt(d), concatenation,
    the output projection; written out head by head with the loop."""
    n, length, source, heads, d, ek, ev = 2, 3, 4, 2, 2, 3, 5
    e = heads * d
    query, key, value = (RNG.uniform(-1, 1, (n, length, e)), RNG.uniform(-1, 1, (n, source, ek)),
                         RNG.uniform(-1, 1, (n, source, ev)))
    w_q, w_k, w_v, w_o = (RNG.uniform(-1, 1, s) for s in ((e, e), (e, ek), (e, ev), (e, e)))
    b_q, b_k, b_v, b_o = (RNG.uniform(-1, 1, e) for _ in range(4))
    mask = RNG.random((n, length, source)) < 0.7
    mask[..., 0] = True
    out, w = A.multi_head(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, mask,
                          num_heads=heads)
    for a in range(n):
        concat = []
        for h in range(heads):
            rows = slice(h * d, (h + 1) * d)
            q = query[a] @ w_q[rows].T + b_q[rows]
            k = key[a] @ w_k[rows].T + b_k[rows]
            v = value[a] @ w_v[rows].T + b_v[rows]
            concat.append(loop_attention(q, k, v, mask[a], 1 / math.sqrt(d)))
        want = np.concatenate(concat, axis=1) @ w_o.T + b_o
        np.testing.assert_allclose(out[a], want, rtol=1e-12, atol=1e-14)
    assert w.shape == (n, heads, length, source)
    _, avg = A.multi_head(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, mask,
                          num_heads=heads, average_weights=True)
    np.testing.assert_allclose(avg, w.mean(axis=1), rtol=1e-15)
    assert np.all(w[np.broadcast_to(~mask[:, None], w.shape)] == 0.0)


@pytest.mark.parametrize("d_model,layout", [(6, "interleaved"), (5, "interleaved"),
                                            (8, "concatenated")])
def test_positional_encoding_closed_form(d_model, layout):
    pos = np.array([0.0, 1.0, 2.5, 17.0, 63.75])
    got = A.positional_encoding(pos, d_model=d_model, layout=layout)
    half = (d_model + 1) // 2
    for r, p in enumerate(pos):
        for i in range(half):
            angle = p / 10000 ** (2 * i / d_model)
            if layout == "interleaved":
                assert got[r, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
                if 2 * i + 1 < d_model:
                    assert got[r, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)
            else:
                assert got[r, i] == pytest.approx(math.sin(angle), abs=1e-15)
                assert got[r, half + i] == pytest.approx(math.cos(angle), abs=1e-15)
    # Position 0 is (0, 1, 0, 1, ...); the first pair is (sin p, cos p) at every position.
    if layout == "interleaved":
        np.testing.assert_array_equal(got[0, 0::2], 0.0)
        np.testing.assert_array_equal(got[0, 1::2], 1.0)
        np.testing.assert_allclose(got[:, 0], np.sin(pos), rtol=1e-15)


def test_positional_encoding_is_a_rotation_in_each_pair():
    """PE(p + o) = R(o) PE(p) in each (sin, cos) pair: the property that makes relative
    positions linear functions of the encoding."""
    pe = A.positional_encoding(np.array([3.0, 10.0]), d_model=4)
    f = 10000 ** (-2 / 4)
    c, s = math.cos(7 * f), math.sin(7 * f)
    sin_p, cos_p = pe[0, 2], pe[0, 3]
    assert pe[1, 2] == pytest.approx(sin_p * c + cos_p * s, abs=1e-14)
    assert pe[1, 3] == pytest.approx(cos_p * c - sin_p * s, abs=1e-14)


def test_bad_arguments_are_rejected():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="boolean"):
        A.scaled_dot_product(q, k, v, np.ones((1, 1, 4, 5)))
    with pytest.raises(ValueError, match="masked_rows"):
        A.masked_softmax(np.zeros((2, 2)), masked_rows="ignore")
    with pytest.raises(ValueError, match="layout"):
        A.positional_encoding(np.zeros(2), d_model=4, layout="halves")
    with pytest.raises(ValueError, match="window"):
        A.truncated(q, q, q, left=-1, right=0)
