"""The attention oracle against its mpmath transcriptions (oracle/precise/attention.py, 50
digits), op by op, including saturated softmax rows, masks, windows and the fully masked
row conventions; and the derivatives: the oracle's dual numbers against closed forms and
against the textbook backward formulas the conformance bounds use
(conformance/textbook/attention.py), which are an independent derivation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.specs import all_specs
from conformance.textbook import Summed
from oracle import _canon, autodiff
from oracle import attention as A
from oracle.precise import PRECISE
from oracle.precise import attention as P

RNG = np.random.default_rng(7)


def as_float(a) -> np.ndarray:
    arr = np.asarray(a, dtype=object)
    return np.vectorize(float, otypes=[np.float64])(arr) if arr.size else arr.astype(float)


def assert_close(got, precise, ulps: float = 64.0) -> None:
    """|got - precise| <= ulps * eps * max(|precise|, rms(precise)) elementwise (NaN = NaN)."""
    want = as_float(precise)
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape
    same_nan = np.isnan(got) == np.isnan(want)
    assert np.all(same_nan)
    finite = ~np.isnan(want)
    scale = np.sqrt(np.mean(want[finite] ** 2)) if finite.any() else 0.0
    tol = ulps * np.finfo(np.float64).eps * np.maximum(np.abs(want[finite]), scale)
    assert np.all(np.abs(got[finite] - want[finite]) <= tol + 1e-300), (
        np.max(np.abs(got[finite] - want[finite]) / (tol + 1e-300)))


def test_every_catalog_id_has_a_transcription():
    assert set(A.ORACLE) <= set(PRECISE)


@pytest.mark.parametrize("kw", [{}, {"scale": 1.0}, {"is_causal": True}, {"scale": 4.0}])
def test_scaled_dot_product(kw):
    q, k, v = (RNG.uniform(-3, 3, (1, 2, 4, 3)), RNG.uniform(-3, 3, (1, 2, 6, 3)),
               RNG.uniform(-1, 1, (1, 2, 6, 2)))
    mask = RNG.random((1, 1, 4, 6)) < 0.6
    mask[..., 0] = True
    with mpmath.workdps(50):
        assert_close(A.scaled_dot_product(q, k, v, mask, **kw),
                     P.scaled_dot_product(q, k, v, mask, **kw))


def test_additive_mask_with_minus_inf():
    q, k, v = (RNG.uniform(-2, 2, (1, 1, 3, 2)), RNG.uniform(-2, 2, (1, 1, 4, 2)),
               RNG.uniform(-1, 1, (1, 1, 4, 2)))
    bias = RNG.uniform(-4, 4, (1, 1, 3, 4))
    bias[0, 0, 1, 2] = -np.inf
    with mpmath.workdps(50):
        assert_close(A.scaled_dot_product(q, k, v, None, bias),
                     P.scaled_dot_product(q, k, v, None, bias))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("convention", A.MASKED_ROWS)
def test_fully_masked_rows(convention):
    q, k, v = (RNG.uniform(-2, 2, (1, 1, 3, 2)), RNG.uniform(-2, 2, (1, 1, 4, 2)),
               RNG.uniform(-1, 1, (1, 1, 4, 2)))
    mask = np.ones((1, 1, 3, 4), dtype=bool)
    mask[0, 0, 1] = False
    with mpmath.workdps(50):
        assert_close(A.scaled_dot_product(q, k, v, mask, masked_rows=convention),
                     P.scaled_dot_product(q, k, v, mask, masked_rows=convention))


def test_saturated_rows_keep_their_small_weights():
    """Scores 60 apart: weights of e^-60 relative to the winner are still relatively exact
    (the 1 + s denominator never rounds them away), where a naive exp(s) / sum overflows."""
    q = np.array([[[[6.0, 0.0]]]])
    k = np.array([[[[10.0, 0.0], [0.0, 1.0], [5.0, 3.0]]]])
    w = A.attention_weights(q, k, scale=1.0)
    with mpmath.workdps(50):
        s = [mpmath.mpf(60), mpmath.mpf(0), mpmath.mpf(30)]
        total = mpmath.fsum(mpmath.exp(x) for x in s)
        want = [float(mpmath.exp(x) / total) for x in s]
    np.testing.assert_allclose(w[0, 0, 0], want, rtol=4e-16)


def test_self_attention_truncated_additive_positional():
    x = RNG.uniform(-2, 2, (2, 5, 3))
    wq, wk, wv = RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (4, 3))
    q = RNG.uniform(-3, 3, (1, 2, 6, 3))
    qa, ka = RNG.uniform(-2, 2, (2, 3, 4)), RNG.uniform(-2, 2, (2, 5, 3))
    wqa, wka, va = RNG.uniform(-1, 1, (6, 4)), RNG.uniform(-1, 1, (6, 3)), RNG.uniform(-1, 1, 6)
    pos = np.array([0.0, 1.0, 7.5, 40.0])
    with mpmath.workdps(50):
        for scale in (1.0, None):
            assert_close(A.self_attention(x, wq, wk, wv, scale=scale),
                         P.self_attention(x, wq, wk, wv, scale=scale))
        assert_close(A.truncated(q, q, q, left=2, right=1), P.truncated(q, q, q, left=2, right=1))
        assert_close(A.additive_score(qa, ka, wqa, wka, va), P.additive_score(qa, ka, wqa, wka, va))
        for layout in A.LAYOUTS:
            assert_close(A.positional_encoding(pos, d_model=6, layout=layout),
                         P.positional_encoding(pos, d_model=6, layout=layout), ulps=8)


def test_multi_head_and_additive_attention():
    n, length, source, heads, d = 1, 3, 4, 2, 2
    e = heads * d
    args = [RNG.uniform(-1, 1, s) for s in ((n, length, e), (n, source, 3), (n, source, 5),
                                           (e, e), (e, 3), (e, 5), (e, e))]
    args += [RNG.uniform(-1, 1, e) for _ in range(4)]
    mask = RNG.random((n, length, source)) < 0.7
    mask[..., 1] = True
    qa, ka, val = RNG.uniform(-2, 2, (1, 2, 3)), RNG.uniform(-2, 2, (1, 4, 3)), RNG.uniform(
        -1, 1, (1, 4, 2))
    wq, wk, va = RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, 5)
    key_mask = np.array([[True, False, True, True]])
    with mpmath.workdps(50):
        for avg in (False, True):
            got = A.multi_head(*args, mask, num_heads=heads, average_weights=avg)
            want = P.multi_head(*args, mask, num_heads=heads, average_weights=avg)
            assert_close(got.output, want.output)
            assert_close(got.weights, want.weights)
        got = A.additive_attention(qa, ka, val, wq, wk, va, key_mask)
        want = P.additive_attention(qa, ka, val, wq, wk, va, key_mask)
        assert_close(got.output, want.output)
        assert_close(got.weights, want.weights)


def test_dual_derivative_of_the_encoding_is_the_closed_form():
    """d PE(p, 2i) / dp = f_i cos(p f_i), d PE(p, 2i+1) / dp = -f_i sin(p f_i)."""
    pos = np.array([0.0, 2.0, 9.5])
    _, (tan,) = autodiff.jvp(A.positional_encoding, [pos], {"d_model": 4}, {0: np.ones(3)})
    for r, p in enumerate(pos):
        for i in range(2):
            f = 10000 ** (-2 * i / 4)
            assert tan[r, 2 * i] == pytest.approx(f * math.cos(p * f), abs=1e-15)
            assert tan[r, 2 * i + 1] == pytest.approx(-f * math.sin(p * f), abs=1e-15)


def test_dual_derivative_of_the_softmax_weights_is_p_times_centred_tangent():
    """d softmax(s) = p (ds - <p, ds>) over the allowed keys; 0 on the masked ones."""
    s = RNG.uniform(-5, 5, (3, 6))
    ds = RNG.standard_normal((3, 6))
    allowed = RNG.random((3, 6)) < 0.6
    allowed[:, 0] = True
    (p,), (dp,) = autodiff.jvp(A.masked_softmax, [s, allowed], {}, {0: ds})
    dsa = np.where(allowed, ds, 0.0)
    want = p * (dsa - np.sum(p * dsa, axis=-1, keepdims=True))
    np.testing.assert_allclose(dp, want, rtol=1e-13, atol=1e-16)


def _values(outs: list) -> list:
    """A hook's outputs without the magnitudes ``Summed`` ones carry."""
    return [o.value if isinstance(o, Summed) else o for o in outs]


TEXTBOOK = sorted(sid for sid, s in all_specs().items()
                  if sid.startswith("attn.") and s.textbook is not None)


@pytest.mark.parametrize("spec_id", TEXTBOOK)
def test_textbook_backward_agrees_with_the_duals(spec_id):
    """In float64 the textbook formulas (softmax backward from the weights, the products of
    the chain rule) and the oracle's dual numbers are two derivations of one derivative:
    every textbook variant (see the module's docstring) must give the duals' J u in forward
    mode and satisfy <g, u> = <v, J u> in reverse mode."""
    spec = all_specs()[spec_id]

    @settings(max_examples=4, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        case = data.draw(spec.inputs("float64"))
        rng = np.random.default_rng(0)
        args, wrt = list(case.args), list(spec.grad_wrt)
        outs = [np.asarray(o) for o in _canon.flatten_outputs(spec.oracle(*args, **case.kwargs))]
        cots = [rng.standard_normal(o.shape) for o in outs]
        us = [rng.standard_normal(np.shape(args[i])) for i in wrt]
        _, tans = autodiff.jvp(spec.oracle, args, case.kwargs, dict(zip(wrt, us)))
        vju = math.fsum(float(np.sum(c * t)) for c, t in zip(cots, tans))
        terms = math.fsum(float(np.sum(np.abs(c * t))) for c, t in zip(cots, tans))
        for step in (0.0, np.inf, -np.inf):
            moved = [o if step == 0 else np.nextafter(o, step) for o in outs]
            book = _values(spec.textbook("jvp", args, dict(case.kwargs), moved, us))
            assert len(book) == len(tans)
            for a, b in zip(tans, book):
                assert np.shape(b) == a.shape
                scale = max(1.0, float(np.max(np.abs(a), initial=0.0)))
                np.testing.assert_allclose(np.asarray(b, np.float64), a, rtol=0,
                                           atol=1e-9 * scale)
            grads = _values(spec.textbook("vjp", args, dict(case.kwargs), moved, cots))
            assert [np.shape(g) for g in grads] == [np.shape(args[i]) for i in wrt]
            gu = math.fsum(float(np.sum(np.asarray(g, np.float64) * u))
                           for g, u in zip(grads, us))
            assert gu == pytest.approx(vju, abs=1e-9 * max(1.0, terms))

    run()
