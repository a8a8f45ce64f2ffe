"""The rnn oracle against independent evidence: one-step cells computed by hand (closed
forms at chosen points, and scalar transcriptions with the math module), the reset-before /
reset-after difference where it matters, the unroll and the wrappers against explicit loops,
gradients through time against closed forms, and the mpmath transcriptions
(oracle/precise/rnn.py) on drawn cases of every spec."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import autodiff
from oracle import rnn as R
from oracle.precise import rnn as P

LN3 = math.log(3.0)  # sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def a1(*v: float) -> np.ndarray:
    return np.array(v, dtype=np.float64)


def m11(v: float) -> np.ndarray:
    return np.array([[v]], dtype=np.float64)


# --- one step, by hand ---------------------------------------------------------------------
def test_elman_cell_scalar_by_hand():
    x, a, w_ax, w_aa, b_a, w_ya, b_y = 0.5, -0.25, 1.5, 0.75, 0.125, -2.0, 0.5
    a_new = math.tanh(w_aa * a + w_ax * x + b_a)
    y, got_a = R.elman_cell(m11(x), m11(a), m11(w_ax), m11(w_aa), a1(b_a), m11(w_ya), a1(b_y),
                            output_activation="sigmoid")
    assert got_a[0, 0] == pytest.approx(a_new, rel=1e-15)
    assert y[0, 0] == pytest.approx(sig(w_ya * a_new + b_y), rel=1e-15)


def test_elman_softmax_output_sums_to_one_and_relu_hidden():
    # relu hidden: a = max(W x + b, 0) = [2, 0]; y = softmax(W_ya a) with W_ya a = [2, 0, -2].
    y, a = R.elman_cell(np.array([[1.0, 1.0]]), np.zeros((1, 2)), np.eye(2), np.eye(2),
                        a1(1.0, -3.0), np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]),
                        np.zeros(3), activation="relu", output_activation="softmax")
    np.testing.assert_array_equal(a, [[2.0, 0.0]])
    e = np.exp([2.0, 0.0, -2.0])
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-15)


def test_jordan_feeds_back_the_output_not_the_hidden_state():
    x, y_prev, w_ax, w_ay, b_a, w_ya, b_y = 0.5, 0.75, 1.0, -2.0, 0.25, 1.5, -0.5
    a = math.tanh(w_ax * x + w_ay * y_prev + b_a)
    y, got_a = R.jordan_cell(m11(x), m11(y_prev), m11(w_ax), m11(w_ay), a1(b_a), m11(w_ya),
                             a1(b_y), output_activation="tanh")
    assert got_a[0, 0] == pytest.approx(a, rel=1e-15)
    assert y[0, 0] == pytest.approx(math.tanh(w_ya * a + b_y), rel=1e-15)
    # Over a sequence the state is y: with w_ay = 0 nothing is carried.
    xs = np.array([[[0.5]], [[-1.0]]])
    seq = R.sequence(xs, m11(9.0), m11(1.0), m11(0.0), a1(0.0), m11(1.0), a1(0.0),
                     cell="jordan", output_activation="identity")
    np.testing.assert_allclose(seq.outputs[:, 0, 0], np.tanh([0.5, -1.0]), rtol=1e-15)


def test_gru_simple_is_u_times_candidate_plus_rest_of_old_state():
    # u = sigmoid(ln 3) = 3/4 from the bias alone; c' = tanh(w_c x).
    x, h = 0.5, -0.8
    got = R.gru_simple(m11(x), m11(h), np.array([[0.0], [2.0]]), np.array([[0.0], [0.0]]),
                       a1(LN3, 0.0))
    assert got[0, 0] == pytest.approx(0.75 * math.tanh(1.0) + 0.25 * h, rel=1e-15)


def test_gru_with_zero_weights_halves_the_state():
    h = np.array([[0.5, -3.0]])
    for reset in ("before", "after"):
        got = R.gru(np.ones((1, 3)), h, np.zeros((6, 3)), np.zeros((6, 2)), np.zeros(6),
                    reset=reset)
        np.testing.assert_array_equal(got, h / 2)


def test_gru_scalar_by_hand_both_forms():
    x, h = 0.7, -0.4
    wx, wh, b, bh = a1(0.5, -1.0, 2.0), a1(1.5, 0.25, -0.75), a1(0.1, -0.2, 0.3), \
        a1(-0.05, 0.4, 0.6)
    u = sig(wx[0] * x + wh[0] * h + b[0] + bh[0])
    r = sig(wx[1] * x + wh[1] * h + b[1] + bh[1])
    before = math.tanh(wx[2] * x + wh[2] * (r * h) + b[2] + bh[2])
    after = math.tanh(wx[2] * x + b[2] + r * (wh[2] * h + bh[2]))
    args = (m11(x), m11(h), wx[:, None], wh[:, None], b, bh)
    got_b = R.gru(*args, reset="before")[0, 0]
    got_a = R.gru(*args, reset="after")[0, 0]
    assert got_b == pytest.approx(u * before + (1 - u) * h, rel=1e-14)
    assert got_a == pytest.approx(u * after + (1 - u) * h, rel=1e-14)


def test_reset_before_and_after_differ_where_w_mixes_units():
    """r = [3/4, 1/4], h = [1, 2], W_ch swaps the units, everything else zero (u = 1/2):
    before: W (r * h) = W [3/4, 1/2] = [1/2, 3/4]; after: r * (W h) = r * [2, 1] = [3/2, 1/4]."""
    h = np.array([[1.0, 2.0]])
    w_h = np.zeros((6, 2))
    w_h[4:] = [[0.0, 1.0], [1.0, 0.0]]
    b = np.zeros(6)
    b[2:4] = [LN3, -LN3]
    args = (np.zeros((1, 1)), h, np.zeros((6, 1)), w_h, b)
    before = R.gru(*args, reset="before")
    after = R.gru(*args, reset="after")
    np.testing.assert_allclose(before, 0.5 * np.tanh([[0.5, 0.75]]) + 0.5 * h, rtol=1e-15)
    np.testing.assert_allclose(after, 0.5 * np.tanh([[1.5, 0.25]]) + 0.5 * h, rtol=1e-15)
    assert np.max(np.abs(before - after)) > 0.1
    # A diagonal W_ch commutes with r *: the two forms agree (no recurrent bias).
    w_h[4:] = [[2.0, 0.0], [0.0, -1.0]]
    np.testing.assert_allclose(R.gru(*args, reset="before"), R.gru(*args, reset="after"),
                               rtol=1e-15)


def test_lstm_with_zero_weights():
    """u = f = o = 1/2, c' = 0: c_t = c/2, h_t = tanh(c/2)/2."""
    c = np.array([[2.0, -1.0]])
    h, c_new = R.lstm(np.ones((1, 1)), np.ones((1, 2)), c, np.zeros((8, 1)), np.zeros((8, 2)),
                      np.zeros(8))
    np.testing.assert_array_equal(c_new, c / 2)
    np.testing.assert_allclose(h, np.tanh(c / 2) / 2, rtol=1e-15)


def test_lstm_gate_order_u_f_o_candidate():
    """Gate blocks [u, f, o, c'] set one at a time through the biases."""
    b = a1(LN3, -LN3, 0.0, 0.5)  # u = 3/4, f = 1/4, o = 1/2, c' = tanh(1/2)
    h, c = R.lstm(np.zeros((1, 1)), np.zeros((1, 1)), m11(2.0), np.zeros((4, 1)),
                  np.zeros((4, 1)), b)
    c_ref = 0.75 * math.tanh(0.5) + 0.25 * 2.0
    assert c[0, 0] == pytest.approx(c_ref, rel=1e-15)
    assert h[0, 0] == pytest.approx(0.5 * math.tanh(c_ref), rel=1e-15)


def test_peephole_uses_old_cell_for_u_f_and_new_cell_for_o():
    c_old, pu, pf, po = 1.5, 0.5, -1.0, 2.0
    b = a1(0.25, -0.5, 0.125, 0.75)
    p = np.array([[pu], [pf], [po]])
    h, c = R.lstm_peephole(np.zeros((1, 1)), np.zeros((1, 1)), m11(c_old), np.zeros((4, 1)),
                           np.zeros((4, 1)), b, p)
    c_ref = sig(b[0] + pu * c_old) * math.tanh(b[3]) + sig(b[1] + pf * c_old) * c_old
    assert c[0, 0] == pytest.approx(c_ref, rel=1e-15)
    assert h[0, 0] == pytest.approx(sig(b[2] + po * c_ref) * math.tanh(c_ref), rel=1e-15)
    # Zero peepholes: the plain LSTM.
    np.testing.assert_array_equal(
        R.lstm_peephole(np.zeros((1, 1)), np.zeros((1, 1)), m11(c_old), np.zeros((4, 1)),
                        np.zeros((4, 1)), b, np.zeros((3, 1))),
        R.lstm(np.zeros((1, 1)), np.zeros((1, 1)), m11(c_old), np.zeros((4, 1)),
               np.zeros((4, 1)), b))


def test_saturated_gates():
    """Biases of +-40: sigmoid is 1 or ~4e-18, so the GRU keeps or replaces its state."""
    h = np.array([[0.3, -0.6]])
    keep = np.zeros(6)
    keep[:2] = -40.0
    got = R.gru(np.zeros((1, 1)), h, np.zeros((6, 1)), np.eye(6, 2), keep)
    np.testing.assert_allclose(got, h, rtol=1e-16, atol=1e-17)
    take = np.zeros(6)
    take[:2] = 40.0
    take[4:] = 20.0
    np.testing.assert_array_equal(R.gru(np.zeros((1, 1)), h, np.zeros((6, 1)),
                                        np.zeros((6, 2)), take), np.ones((1, 2)))


# --- the unroll and the wrappers against explicit loops ------------------------------------
def _lstm_args(rng: np.random.Generator, t: int, n: int, f: int, h: int, lead: tuple = ()):
    return [rng.uniform(-1, 1, s) for s in
            [(t, n, f), lead + (n, h), lead + (n, h), lead + (4 * h, f), lead + (4 * h, h),
             lead + (4 * h,)]]


def test_sequence_is_the_cell_in_a_loop():
    rng = np.random.default_rng(1)
    x, h, c, w_x, w_h, b = _lstm_args(rng, 6, 2, 3, 2)
    seq = R.sequence(x, h, c, w_x, w_h, b, cell="lstm")
    outs = []
    for t in range(6):
        h, c = R.lstm(x[t], h, c, w_x, w_h, b)
        outs.append(h)
    np.testing.assert_array_equal(seq.outputs, np.stack(outs))
    np.testing.assert_array_equal(seq.h, h)
    np.testing.assert_array_equal(seq.c, c)


def test_reverse_sequence_is_the_flipped_sequence_flipped_back():
    rng = np.random.default_rng(2)
    x, h, _, w_x, w_h, b = _lstm_args(rng, 5, 2, 3, 2)
    w_x, w_h, b = w_x[:6], w_h[:6], b[:6]
    rev = R.sequence(x, h, w_x, w_h, b, cell="gru", reverse=True)
    fwd = R.sequence(x[::-1], h, w_x, w_h, b, cell="gru")
    np.testing.assert_array_equal(rev.outputs, fwd.outputs[::-1])
    np.testing.assert_array_equal(rev.state, fwd.state)


def test_bidirectional_is_two_sequences_and_the_output_layer():
    rng = np.random.default_rng(3)
    x, h, c, w_x, w_h, b = _lstm_args(rng, 4, 2, 3, 2, lead=(2,))
    w_y, b_y = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, 3)
    out = R.bidirectional(x, h, c, w_x, w_h, b, w_y, b_y, cell="lstm",
                          output_activation="tanh")
    hf, cf, hb, cb = h[0], c[0], h[1], c[1]
    fw, bw = [None] * 4, [None] * 4
    for t in range(4):
        hf, cf = R.lstm(x[t], hf, cf, w_x[0], w_h[0], b[0])
        fw[t] = hf
    for t in (3, 2, 1, 0):
        hb, cb = R.lstm(x[t], hb, cb, w_x[1], w_h[1], b[1])
        bw[t] = hb
    hidden = np.concatenate([np.stack(fw), np.stack(bw)], axis=-1)
    np.testing.assert_array_equal(out.hidden, hidden)
    np.testing.assert_allclose(out.y, np.tanh(hidden @ w_y.T + b_y), rtol=1e-15)
    np.testing.assert_array_equal(out.h, np.stack([hf, hb]))
    np.testing.assert_array_equal(out.c, np.stack([cf, cb]))


def test_stacked_feeds_each_layer_the_one_below():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (5, 2, 3))
    h0 = rng.uniform(-1, 1, (3, 2, 2))
    w_x0, w_x_rest = rng.uniform(-1, 1, (6, 3)), rng.uniform(-1, 1, (2, 6, 2))
    w_h, b, b_h = rng.uniform(-1, 1, (3, 6, 2)), rng.uniform(-1, 1, (3, 6)), \
        rng.uniform(-1, 1, (3, 6))
    out = R.stacked(x, h0, w_x0, w_x_rest, w_h, b, b_h, cell="gru", reset="after")
    inp, last = x, []
    for k in range(3):
        hk = h0[k]
        hs = []
        for t in range(5):
            hk = R.gru(inp[t], hk, w_x0 if k == 0 else w_x_rest[k - 1], w_h[k], b[k], b_h[k],
                       reset="after")
            hs.append(hk)
        inp = np.stack(hs)
        last.append(hk)
    np.testing.assert_array_equal(out.outputs, inp)
    np.testing.assert_array_equal(out.state, np.stack(last))


def test_wrappers_reject_cells_with_their_own_output_layer():
    with pytest.raises(ValueError, match="bidirectional wraps"):
        R.bidirectional(np.zeros((1, 1, 1)), *[np.zeros((2, 1, 1))] * 6, np.zeros((1, 2)),
                        np.zeros(1), cell="elman")


# --- gradients through time: closed forms ----------------------------------------------------
def test_gradient_through_time_of_a_halving_gru():
    """Zero weights: h_T = h_0 / 2^T, so d h_T / d h_0 = 2^-T exactly."""
    t = 7
    args = [np.full((t, 1, 1), 0.3), m11(0.8), np.zeros((3, 1)), np.zeros((3, 1)), np.zeros(3)]
    _, tans = autodiff.jvp(R.sequence, args, {"cell": "gru"}, {1: m11(1.0)})
    assert tans[1][0, 0] == 2.0**-t
    np.testing.assert_array_equal(tans[0][:, 0, 0], 2.0 ** -np.arange(1, t + 1))


def test_gradient_through_time_of_a_halving_lstm_cell():
    """Zero weights: c_T = c_0 / 2^T, h_T = tanh(c_T)/2, d h_T/d c_0 = (1 - tanh^2 c_T)/2^(T+1)."""
    t, c0 = 5, 1.7
    args = [np.zeros((t, 1, 1)), m11(0.0), m11(c0), np.zeros((4, 1)), np.zeros((4, 1)),
            np.zeros(4)]
    _, tans = autodiff.jvp(R.sequence, args, {"cell": "lstm"}, {2: m11(1.0)})
    ct = c0 / 2**t
    assert tans[1][0, 0] == pytest.approx((1 - math.tanh(ct) ** 2) / 2 ** (t + 1), rel=1e-15)
    assert tans[2][0, 0] == 2.0**-t


def test_gradient_wrt_a_weight_through_time_against_a_scalar_recursion():
    """simple cell, H = F = 1: a_t = tanh(w a_{t-1} + v x_t); da_t/dw = (1 - a_t^2)(a_{t-1} +
    w da_{t-1}/dw), the recursion written out by hand."""
    xs, w, v = [0.5, -1.0, 2.0, 0.25], 0.8, 1.2
    a, da = -0.3, 0.0
    for x in xs:
        a_new = math.tanh(w * a + v * x)
        da = (1 - a_new**2) * (a + w * da)
        a = a_new
    args = [np.array(xs).reshape(4, 1, 1), m11(-0.3), m11(v), m11(w), a1(0.0)]
    _, tans = autodiff.jvp(R.sequence, args, {"cell": "simple"}, {3: m11(1.0)})
    assert tans[1][0, 0] == pytest.approx(da, rel=1e-14)


# --- mpmath ----------------------------------------------------------------------------------
def _specs():
    from conformance.specs import all_specs

    return {k: s for k, s in all_specs().items() if k.startswith("rnn.")}


@pytest.mark.parametrize("spec_id", sorted(_specs()))
def test_oracle_matches_mpmath(spec_id: str) -> None:
    """Every output within a few float64 ulps of the 50-digit transcription (relative to
    the output's scale: cancellation in h = u c' + (1 - u) h may lose relative accuracy in
    an element near 0, not against the output's size)."""
    spec = _specs()[spec_id]

    @settings(max_examples=4, database=None, derandomize=True, deadline=None)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(spec.inputs("float64"))
        got = R.ORACLE[spec.catalog_id](*case.args, **case.kwargs)
        with mpmath.workdps(50):
            ref = P.PRECISE[spec.catalog_id](*case.args, **case.kwargs)
        got = got if isinstance(got, tuple) else (got,)
        ref = ref if isinstance(ref, tuple) else (ref,)
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            r = np.asarray(r, dtype=np.float64)
            assert g.shape == r.shape
            scale = max(float(np.max(np.abs(r))), 1e-300)
            err = float(np.max(np.abs(g - r))) / (scale * np.finfo(np.float64).eps)
            assert err <= 64, (spec_id, err)

    run()


# --- the textbook mode (oracle/rnn/saved.py) ---------------------------------------------------
def test_textbook_rules_take_derivatives_from_rounded_outputs():
    """tanh(20) rounds to 1 in float64: the saved-output rule 1 - y^2 gives 0, the exact
    derivative sech^2(20) = 1.7e-17; at z = 1/2 both agree."""
    from oracle.autodiff import Dual
    from oracle.rnn import saved

    z = Dual(np.array([20.0, 0.5]), np.array([1.0, 1.0]))
    exact = saved.tanh(z).tangent
    with saved.derivatives_from_outputs():
        book = saved.tanh(z).tangent
    assert exact[0] == pytest.approx(4 * math.exp(-40) / (1 + math.exp(-40)) ** 2, rel=1e-15)
    assert book[0] == 0.0
    assert book[1] == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)
    assert exact[1] == pytest.approx(book[1], rel=1e-15)


def test_z_form_update_gate_rounds_u_absolutely():
    """u = sigmoid(-40) = 4.2e-18 in the notes' form; 1 - sigmoid(40) = 0 in the frameworks'."""
    from oracle.rnn import saved

    s = np.array([[-40.0, 0.0]])
    (u,) = saved.update_and_reset(s[:, :1], 1)
    assert u[0, 0] == pytest.approx(math.exp(-40), rel=1e-15)
    with saved.update_from_z():
        (uz,) = saved.update_and_reset(s[:, :1], 1)
        uz2, r = saved.update_and_reset(s, 1)
    assert uz[0, 0] == 0.0 and uz2[0, 0] == 0.0 and r[0, 0] == 0.5
