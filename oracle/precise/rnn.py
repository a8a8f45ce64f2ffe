"""mpmath transcriptions of the ``rnn`` family, written from the notes' formulas (004) and
the layouts stated in ``oracle/rnn/cells.py``, independently of the NumPy code.

Arrays are NumPy object arrays of ``mpmath.mpf``; every pre-activation is one ``mpmath.fsum``
over its terms (bias included), evaluated at the caller's precision (``mpmath.workdps``).
Weights are indexed by hand: row j of a (rows, columns) matrix produces output j, gate k's
rows are k*H .. (k+1)*H - 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.rnn.cells import ElmanStep, JordanStep, LSTMState
from oracle.rnn.wrappers import (
    BidirectionalLSTMOut,
    BidirectionalOut,
    LSTMSequenceOut,
    SequenceOut,
    StackedLSTMOut,
    StackedOut,
)


def mp(a: Any) -> np.ndarray:
    """float64 (or already mpf) values as an object array of mpf."""
    arr = np.asarray(a, dtype=object)
    return np.vectorize(lambda v: mpmath.mpf(v), otypes=[object])(arr) if arr.size else arr


def _sig(z: Any) -> Any:
    return 1 / (1 + mpmath.exp(-z))


def _act(name: str) -> Callable[[Any], Any]:
    return {"tanh": mpmath.tanh, "relu": lambda z: z if z > 0 else mpmath.mpf(0),
            "identity": lambda z: z, "sigmoid": _sig}[name]


def _affine(rows: list[tuple[np.ndarray, np.ndarray]], bias: np.ndarray | None, n: int,
            j: int) -> Any:
    """sum over (v, w) pairs of sum_k v[n, k] w[j, k], plus bias[j]: one exact-ish fsum."""
    terms = [v[n, k] * w[j, k] for v, w in rows for k in range(w.shape[1])]
    if bias is not None:
        terms.append(bias[j])
    return mpmath.fsum(terms)


def _layer(rows: list[tuple[np.ndarray, np.ndarray]], bias: np.ndarray | None,
           out: int, act: str = "identity", first: int = 0) -> np.ndarray:
    """(N, out): act(sum of v W^T + b) for W rows first .. first + out - 1."""
    n = rows[0][0].shape[0]
    g = _act(act)
    res = np.empty((n, out), dtype=object)
    for i in range(n):
        for j in range(out):
            res[i, j] = g(_affine(rows, bias, i, first + j))
    return res


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        e = [mpmath.exp(v) for v in z[i]]
        total = mpmath.fsum(e)
        out[i] = [v / total for v in e]
    return out


def _output(a: np.ndarray, w: np.ndarray, b: np.ndarray, act: str) -> np.ndarray:
    if act == "softmax":
        return _softmax_rows(_layer([(a, w)], b, w.shape[0]))
    return _layer([(a, w)], b, w.shape[0], act)


def simple_cell(x: Any, a: Any, w_x: Any, w_h: Any, b: Any, *, activation: str = "tanh"):
    x, a, w_x, w_h, b = map(mp, (x, a, w_x, w_h, b))
    return _layer([(x, w_x), (a, w_h)], b, w_h.shape[0], activation)


def elman_cell(x: Any, a: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any, *,
               activation: str = "tanh", output_activation: str = "identity") -> ElmanStep:
    a_new = simple_cell(x, a, w_ax, w_aa, b_a, activation=activation)
    return ElmanStep(_output(a_new, mp(w_ya), mp(b_y), output_activation), a_new)


def jordan_cell(x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any, *,
                activation: str = "tanh", output_activation: str = "identity") -> JordanStep:
    x, y, w_ax, w_ay, b_a = map(mp, (x, y, w_ax, w_ay, b_a))
    a_new = _layer([(x, w_ax), (y, w_ay)], b_a, w_ax.shape[0], activation)
    return JordanStep(_output(a_new, mp(w_ya), mp(b_y), output_activation), a_new)


def _gate(x: np.ndarray, h: np.ndarray, w_x: np.ndarray, w_h: np.ndarray, b: np.ndarray,
          k: int, act: str) -> np.ndarray:
    hidden = h.shape[1]
    return _layer([(x, w_x), (h, w_h)], b, hidden, act, first=k * hidden)


def gru_simple(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> np.ndarray:
    x, h, w_x, w_h, b = map(mp, (x, h, w_x, w_h, b))
    u = _gate(x, h, w_x, w_h, b, 0, "sigmoid")
    c = _gate(x, h, w_x, w_h, b, 1, "tanh")
    return u * c + (1 - u) * h


def gru(x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
        reset: str = "before") -> np.ndarray:
    x, h, w_x, w_h, b = map(mp, (x, h, w_x, w_h, b))
    n, hidden = h.shape
    b_h = mp(np.zeros(3 * hidden)) if b_h is None else mp(b_h)
    both = b + b_h
    u = _gate(x, h, w_x, w_h, both, 0, "sigmoid")
    r = _gate(x, h, w_x, w_h, both, 1, "sigmoid")
    c = np.empty((n, hidden), dtype=object)
    for i in range(n):
        for j in range(hidden):
            row = 2 * hidden + j
            xs = [x[i, k] * w_x[row, k] for k in range(x.shape[1])] + [b[row]]
            if reset == "before":
                hs = [r[i, k] * h[i, k] * w_h[row, k] for k in range(hidden)] + [b_h[row]]
                c[i, j] = mpmath.tanh(mpmath.fsum(xs + hs))
            else:
                inner = mpmath.fsum([h[i, k] * w_h[row, k] for k in range(hidden)] + [b_h[row]])
                c[i, j] = mpmath.tanh(mpmath.fsum(xs) + r[i, j] * inner)
    return u * c + (1 - u) * h


def lstm(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any) -> LSTMState:
    x, h, c, w_x, w_h, b = map(mp, (x, h, c, w_x, w_h, b))
    u, f, o = (_gate(x, h, w_x, w_h, b, k, "sigmoid") for k in range(3))
    c_new = u * _gate(x, h, w_x, w_h, b, 3, "tanh") + f * c
    return LSTMState(o * np.vectorize(mpmath.tanh, otypes=[object])(c_new), c_new)


def lstm_peephole(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any, p: Any) -> LSTMState:
    x, h, c, w_x, w_h, b, p = map(mp, (x, h, c, w_x, w_h, b, p))
    sig = np.vectorize(_sig, otypes=[object])
    tanh = np.vectorize(mpmath.tanh, otypes=[object])
    zu, zf, zo = (_gate(x, h, w_x, w_h, b, k, "identity") for k in range(3))
    c_new = sig(zu + p[0] * c) * _gate(x, h, w_x, w_h, b, 3, "tanh") + sig(zf + p[1] * c) * c
    return LSTMState(sig(zo + p[2] * c_new) * tanh(c_new), c_new)


def _step(cell: str, x: Any, s: tuple[Any, ...], w: tuple[Any, ...],
          o: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    """(output, new states) of one step of ``cell``."""
    if cell == "elman":
        r = elman_cell(x, *s, *w, **o)
        return r.y, (r.a,)
    if cell == "jordan":
        y = jordan_cell(x, *s, *w, **o).y
        return y, (y,)
    if cell in ("lstm", "lstm_peephole"):
        h, c = (lstm if cell == "lstm" else lstm_peephole)(x, *s, *w, **o)
        return h, (h, c)
    h = {"simple": simple_cell, "gru_simple": gru_simple, "gru": gru}[cell](x, *s, *w, **o)
    return h, (h,)


_STATES = {"elman": 1, "jordan": 1, "simple": 1, "gru_simple": 1, "gru": 1, "lstm": 2,
           "lstm_peephole": 2}


def sequence(x: Any, *args: Any, cell: str, reverse: bool = False, **options: Any):
    n_states = _STATES[cell]
    x = mp(x)
    states = tuple(mp(s) for s in args[:n_states])
    weights = args[n_states:]
    outs: dict[int, np.ndarray] = {}
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in order:
        outs[t], states = _step(cell, x[t], states, weights, options)
    seq = np.stack([outs[t] for t in range(x.shape[0])])
    return LSTMSequenceOut(seq, *states) if n_states == 2 else SequenceOut(seq, states[0])


def bidirectional(x: Any, *args: Any, cell: str, output_activation: str = "identity",
                  **options: Any):
    packed, w_y, b_y = args[:-2], mp(args[-2]), mp(args[-1])
    fwd = sequence(x, *(np.asarray(a)[0] for a in packed), cell=cell, **options)
    bwd = sequence(x, *(np.asarray(a)[1] for a in packed), cell=cell, reverse=True, **options)
    hidden = np.concatenate([fwd[0], bwd[0]], axis=-1)
    y = np.stack([_output(hidden[t], w_y, b_y, output_activation)
                  for t in range(hidden.shape[0])])
    states = [np.stack([f, b]) for f, b in zip(fwd[1:], bwd[1:])]
    out = BidirectionalLSTMOut if len(states) == 2 else BidirectionalOut
    return out(y, hidden, *states)


def stacked(x: Any, *args: Any, cell: str, **options: Any):
    n = _STATES[cell]
    states, w_x0, w_x_rest, rest = args[:n], args[n], args[n + 1], args[n + 2:]
    inp: Any = x
    finals = []
    for layer in range(np.shape(states[0])[0]):
        w_x = w_x0 if layer == 0 else np.asarray(w_x_rest)[layer - 1]
        seq = sequence(inp, *(np.asarray(s)[layer] for s in states), w_x,
                       *(np.asarray(w)[layer] for w in rest), cell=cell, **options)
        inp = seq[0]
        finals.append(seq[1:])
    last = [np.stack([f[k] for f in finals]) for k in range(n)]
    return StackedLSTMOut(inp, *last) if n == 2 else StackedOut(inp, last[0])


PRECISE: dict[str, Callable[..., Any]] = {
    "rnn.elman_cell": elman_cell,
    "rnn.jordan_cell": jordan_cell,
    "rnn.gru_simple": gru_simple,
    "rnn.gru": gru,
    "rnn.lstm": lstm,
    "rnn.lstm_peephole": lstm_peephole,
    "rnn.bidirectional": bidirectional,
    "rnn.stacked": stacked,
    "rnn.sequence": sequence,
}
