"""One step of each recurrent cell of notes 004 (catalog ids ``rnn.*_cell``, ``rnn.gru*``,
``rnn.lstm*``).

Layout, shared by every cell: the input x_t is (N, F), states are (N, H), and every weight
matrix is (rows, columns) = (outputs, inputs), so that a pre-activation is x W^T (torch's
Linear layout; Keras and Flax kernels are the transpose, mapped in the adapters). The notes
write W [a_{t-1}, x_t] with one matrix over the concatenation; here that matrix is split
into its input part ``w_x`` (columns acting on x_t) and its recurrent part ``w_h`` (columns
acting on the state), W [h, x] = W_h h + W_x x, because every framework stores the two
parts separately.

Gated cells stack their gates in row blocks of H: for G gates, w_x is (G*H, F), w_h is
(G*H, H) and the bias b is (G*H,); block k is rows k*H .. (k+1)*H - 1. The order is the order
in which the notes introduce the gates, with the candidate c' last:

    gru_simple       [u, c']          (update gate, candidate)
    gru              [u, r, c']       (update, reset, candidate)
    lstm             [u, f, o, c']    (update/input, forget, output, candidate)
    lstm_peephole    [u, f, o, c']    and peepholes p (3, H): rows [p_u, p_f, p_o]

The notes' update gate u multiplies the *candidate*: h_t = u * c'_t + (1 - u) * h_{t-1}.
torch, Keras and Flax call the gate on the old state z (GRU) or f (Flax MGU), z = 1 - u:
the adapters map u to z by negating that gate's weights and bias (sigmoid(-s) = 1 -
sigmoid(s)), an exact operation.

Every function runs unchanged on ``oracle.autodiff.Dual`` (so gradients through time are
exact) and in a lower compute dtype (``_canon.compute_dtype``) for the naive bound. The
gate nonlinearities come from ``oracle/rnn/saved.py``: the oracle's own, or in its textbook
mode the derivatives kernels take from saved activations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle import activations as A
from oracle.rnn.saved import sigmoid, softmax, tanh, update_and_reset

HIDDEN_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {"tanh": tanh, "relu": A.relu}
OUTPUT_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda z: z,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "softmax": softmax,
}
RESETS = ("before", "after")


class ElmanStep(NamedTuple):
    y: Any  # the output y_t (N, O)
    a: Any  # the new hidden state a_t (N, H)


class JordanStep(NamedTuple):
    y: Any  # the output y_t (N, O), which is also the state fed back
    a: Any  # the hidden layer a_t (N, H)


class LSTMState(NamedTuple):
    h: Any  # a_t in the notes (N, H)
    c: Any  # the memory cell c_t (N, H)


def _pick(table: dict[str, Callable[[Any], Any]], name: str, what: str) -> Callable[[Any], Any]:
    if name not in table:
        raise ValueError(f"{what} must be one of {sorted(table)}, got {name!r}")
    return table[name]


def linear(v: Any, w: Any, b: Any = None) -> Any:
    """v W^T (+ b): v (N, in), w (out, in), b (out,) or None."""
    v, w = _canon.asarray(v), _canon.asarray(w)
    if w.ndim != 2 or v.shape[-1] != w.shape[1]:
        raise ValueError(f"input {v.shape} and weight {w.shape} do not match (w is (out, in))")
    # asarray: ml_dtypes' bfloat16 matmul returns float32; keep the compute dtype.
    z = _canon.asarray(np.matmul(v, w.T))
    if b is None:
        return z
    b = _canon.asarray(b)
    if b.shape != (w.shape[0],):
        raise ValueError(f"bias must be ({w.shape[0]},), got {b.shape}")
    return z + b


def _preactivations(x: Any, h: Any, w_x: Any, w_h: Any, b: Any, gates: int) -> Any:
    """x W_x^T + h W_h^T + b, (N, gates * H): row block k of the weights is gate k."""
    h = _canon.asarray(h)
    hidden = h.shape[-1]
    if np.shape(w_x)[0] != gates * hidden or np.shape(w_h) != (gates * hidden, hidden):
        raise ValueError(f"w_x must be ({gates * hidden}, F) and w_h ({gates * hidden}, "
                         f"{hidden}) for {gates} gates of H = {hidden}, got "
                         f"{np.shape(w_x)} and {np.shape(w_h)}")
    return linear(x, w_x, b) + linear(h, w_h)


def _mix(u: Any, candidate: Any, old: Any) -> Any:
    """The notes' update: u * c' + (1 - u) * old."""
    return u * candidate + (1 - u) * old


def simple_cell(x: Any, a: Any, w_x: Any, w_h: Any, b: Any, *,
                activation: str = "tanh") -> Any:
    """The Elman hidden recurrence alone, a_t = g1(W_x x_t + W_h a_{t-1} + b): torch's
    RNNCell, Keras' SimpleRNNCell, Flax's SimpleCell. w_x (H, F), w_h (H, H), b (H,).
    Used inside the bidirectional and stacked wrappers (their output layers are theirs)."""
    g1 = _pick(HIDDEN_ACTIVATIONS, activation, "activation")
    return g1(linear(x, w_x, b) + linear(a, w_h))


def elman_cell(x: Any, a: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any, *,
               activation: str = "tanh", output_activation: str = "identity") -> ElmanStep:
    """The Elman cell of notes 004 with its output layer:
        a_t = g1(W_aa a_{t-1} + W_ax x_t + b_a),   y_t = g2(W_ya a_t + b_y).
    x (N, F), a = a_{t-1} (N, H), w_ax (H, F), w_aa (H, H), b_a (H,), w_ya (O, H), b_y (O,).
    g1 is ``activation`` (tanh, or relu with relu'(0) = 0), g2 ``output_activation``
    (identity, tanh, sigmoid, or softmax over the O outputs). One hidden bias b_a; torch's
    two (b_ih, b_hh) only ever enter as their sum. Returns (y_t, a_t).
    """
    g2 = _pick(OUTPUT_ACTIVATIONS, output_activation, "output_activation")
    a_new = simple_cell(x, a, w_ax, w_aa, b_a, activation=activation)
    return ElmanStep(g2(linear(a_new, w_ya, b_y)), a_new)


def jordan_cell(x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any, *,
                activation: str = "tanh", output_activation: str = "identity") -> JordanStep:
    """The Jordan cell of notes 004: the previous *output* y_{t-1}, not the hidden layer, is
    what the recurrence feeds back:
        a_t = g1(W_ay y_{t-1} + W_ax x_t + b_a),   y_t = g2(W_ya a_t + b_y).
    x (N, F), y = y_{t-1} (N, O), w_ax (H, F), w_ay (H, O), b_a (H,), w_ya (O, H), b_y (O,);
    g1, g2 as in ``elman_cell``. Returns (y_t, a_t); y_t is the next step's state.
    """
    g1 = _pick(HIDDEN_ACTIVATIONS, activation, "activation")
    g2 = _pick(OUTPUT_ACTIVATIONS, output_activation, "output_activation")
    a_new = g1(linear(x, w_ax, b_a) + linear(y, w_ay))
    return JordanStep(g2(linear(a_new, w_ya, b_y)), a_new)


def gru_simple(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    """The notes' simplified GRU (one update gate, no reset gate; c_t = a_t):
        u = sigmoid(W_u [h_{t-1}, x_t] + b_u),   c'_t = tanh(W_c [h_{t-1}, x_t] + b_c),
        h_t = u * c'_t + (1 - u) * h_{t-1}.
    Gate blocks [u, c']: w_x (2H, F), w_h (2H, H), b (2H,). This is Flax's
    ``MGUCell(reset_gate=False)`` with its gate f = 1 - u. Returns h_t (N, H).
    """
    z = _preactivations(x, h, w_x, w_h, b, 2)
    hidden = z.shape[-1] // 2
    (u,) = update_and_reset(z[:, :hidden], hidden)
    return _mix(u, tanh(z[:, hidden:]), _canon.asarray(h))


def gru(x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
        reset: str = "before") -> Any:
    """The notes' standard GRU: the update gate u and the reset gate r, with r applied to
    the state *before* the matrix product (the canonical form):
        u = sigmoid(W_ux x + W_uh h + b_u),   r = sigmoid(W_rx x + W_rh h + b_r),
        reset="before":  c' = tanh(W_cx x + W_ch (r * h) + b_c)
        reset="after":   c' = tanh(W_cx x + b_c + r * (W_ch h + b_hc))
        h_t = u * c' + (1 - u) * h.
    Gate blocks [u, r, c']: w_x (3H, F), w_h (3H, H), b (3H,) the input-side bias.
    ``b_h`` (3H,) is an optional second, recurrent-side bias (torch's b_hh, Keras'
    reset-after recurrent bias row): it adds to the u and r pre-activations, and to the
    candidate outside r (before) or inside r * (...) (after); None means zero. reset="after"
    with two biases is what torch's GRU/GRUCell, Flax's GRUCell and Keras'
    ``GRU(reset_after=True)`` compute (with z = 1 - u); reset="before" with one bias is
    Keras' ``GRU(reset_after=False)``. Returns h_t (N, H).
    """
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
    h = _canon.asarray(h)
    hidden = h.shape[-1]
    w_h = _canon.asarray(w_h)
    if np.shape(w_h) != (3 * hidden, hidden):
        raise ValueError(f"w_h must be ({3 * hidden}, {hidden}), got {np.shape(w_h)}")
    gates, cand = slice(0, 2 * hidden), slice(2 * hidden, 3 * hidden)
    b_h = None if b_h is None else _canon.asarray(b_h)
    zx = linear(x, w_x, b)
    # One sigmoid over the u and r blocks together: [u, r] = sigmoid(zx + h W_h^T + b_h).
    u, r = update_and_reset(zx[:, gates] + linear(h, w_h[gates],
                                                  None if b_h is None else b_h[gates]), hidden)
    b_hc = None if b_h is None else b_h[cand]
    if reset == "before":
        zc = zx[:, cand] + linear(r * h, w_h[cand], b_hc)
    else:
        zc = zx[:, cand] + r * linear(h, w_h[cand], b_hc)
    return _mix(u, tanh(zc), h)


def lstm(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any) -> LSTMState:
    """The LSTM of notes 004 (no peepholes):
        u = sigmoid(W_u [h, x] + b_u), f = sigmoid(W_f [h, x] + b_f),
        o = sigmoid(W_o [h, x] + b_o), c' = tanh(W_c [h, x] + b_c),
        c_t = u * c' + f * c_{t-1},   h_t = o * tanh(c_t).
    Gate blocks [u, f, o, c']: w_x (4H, F), w_h (4H, H), b (4H,) (one bias; torch's two
    enter only as their sum). The state is (h, c) in that order (torch's order; Flax's carry
    is (c, h)). Returns (h_t, c_t).
    """
    z = _preactivations(x, h, w_x, w_h, b, 4)
    hidden = z.shape[-1] // 4
    ufo = sigmoid(z[:, :3 * hidden])  # one sigmoid over the u, f, o blocks
    c_new = ufo[:, :hidden] * tanh(z[:, 3 * hidden:]) + ufo[:, hidden:2 * hidden] * \
        _canon.asarray(c)
    return LSTMState(ufo[:, 2 * hidden:] * tanh(c_new), c_new)


def lstm_peephole(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any, p: Any) -> LSTMState:
    """The LSTM with peephole connections (notes 004, "the gates also see c_{t-1}"), in the
    diagonal form of Gers & Schmidhuber (2000) that TensorFlow's LSTMBlockCell computes:
    the input and forget gates see c_{t-1}, the output gate sees the new c_t:
        u = sigmoid(W_u [h, x] + b_u + p_u * c_{t-1}),
        f = sigmoid(W_f [h, x] + b_f + p_f * c_{t-1}),
        c_t = u * tanh(W_c [h, x] + b_c) + f * c_{t-1},
        o = sigmoid(W_o [h, x] + b_o + p_o * c_t),   h_t = o * tanh(c_t).
    Layout as ``lstm``, and p (3, H) with rows [p_u, p_f, p_o] (elementwise weights).
    Returns (h_t, c_t).
    """
    c = _canon.asarray(c)
    p = _canon.asarray(p)
    if p.shape != (3, c.shape[-1]):
        raise ValueError(f"p must be (3, {c.shape[-1]}), got {p.shape}")
    z = _preactivations(x, h, w_x, w_h, b, 4)
    hidden = c.shape[-1]
    # u and f see c_{t-1} through the peepholes [p_u, p_f], in one sigmoid.
    uf = sigmoid(z[:, :2 * hidden] + np.concatenate([p[0] * c, p[1] * c], axis=-1))
    zo, zc = z[:, 2 * hidden:3 * hidden], z[:, 3 * hidden:]
    c_new = uf[:, :hidden] * tanh(zc) + uf[:, hidden:] * c
    return LSTMState(sigmoid(zo + p[2] * c_new) * tanh(c_new), c_new)
