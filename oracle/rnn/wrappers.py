"""Sequences of recurrent cells (catalog ids ``rnn.sequence``, ``rnn.bidirectional``,
``rnn.stacked``): a cell of ``oracle.rnn.cells`` unrolled over time, run in both directions,
or stacked in layers.

Sequences are time-major, x (T, N, F) (torch's default layout; Keras and Flax default to
batch-major (N, T, F): the adapters transpose). The unroll is an explicit loop over t, so on
dual numbers the derivative through time is exact (forward-mode through every step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.rnn import cells as C

Step = Callable[[Any, tuple[Any, ...], Sequence[Any], dict[str, Any]], tuple[Any, tuple[Any, ...]]]


@dataclass(frozen=True)
class Cell:
    """How the unroll drives a cell: ``states`` state tensors come first in the cell's
    positional arguments (after x), its weights after them; ``step`` returns the step's
    output and the new states."""

    states: int
    step: Step
    wrappable: bool  # its output is its hidden state (no output layer of its own)


def _elman(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    y, a = C.elman_cell(x, s[0], *w, **o)
    return y, (a,)


def _jordan(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    y, _ = C.jordan_cell(x, s[0], *w, **o)
    return y, (y,)


def _simple(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    a = C.simple_cell(x, s[0], *w, **o)
    return a, (a,)


def _gru_simple(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    h = C.gru_simple(x, s[0], *w, **o)
    return h, (h,)


def _gru(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    h = C.gru(x, s[0], *w, **o)
    return h, (h,)


def _lstm(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    h, c = C.lstm(x, s[0], s[1], *w, **o)
    return h, (h, c)


def _peephole(x: Any, s: tuple[Any, ...], w: Sequence[Any], o: dict[str, Any]):
    h, c = C.lstm_peephole(x, s[0], s[1], *w, **o)
    return h, (h, c)


CELLS: dict[str, Cell] = {
    "elman": Cell(1, _elman, False),
    "jordan": Cell(1, _jordan, False),
    "simple": Cell(1, _simple, True),
    "gru_simple": Cell(1, _gru_simple, True),
    "gru": Cell(1, _gru, True),
    "lstm": Cell(2, _lstm, True),
    "lstm_peephole": Cell(2, _peephole, True),
}


class SequenceOut(NamedTuple):
    outputs: Any  # (T, N, ·): the cell's output at every step, in time order
    state: Any    # the last state (N, ·)


class LSTMSequenceOut(NamedTuple):
    outputs: Any  # h_t for every t (T, N, H)
    h: Any        # the last h (N, H)
    c: Any        # the last c (N, H)


class BidirectionalOut(NamedTuple):
    y: Any       # (T, N, O)
    hidden: Any  # [a_fwd_t, a_bwd_t] (T, N, 2H)
    state: Any   # last states (2, N, H): [forward (after t = T-1), backward (after t = 0)]


class BidirectionalLSTMOut(NamedTuple):
    y: Any
    hidden: Any
    h: Any  # (2, N, H)
    c: Any  # (2, N, H)


class StackedOut(NamedTuple):
    outputs: Any  # the top layer's outputs (T, N, H)
    state: Any    # every layer's last state (L, N, H)


class StackedLSTMOut(NamedTuple):
    outputs: Any
    h: Any  # (L, N, H)
    c: Any  # (L, N, H)


def _cell(name: str, wrapper: str | None = None) -> Cell:
    if name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {name!r}")
    cell = CELLS[name]
    if wrapper is not None and not cell.wrappable:
        raise ValueError(f"{wrapper} wraps cells whose output is their hidden state "
                         f"({sorted(k for k, c in CELLS.items() if c.wrappable)}), "
                         f"not {name!r}")
    return cell


def sequence(x: Any, *args: Any, cell: str, reverse: bool = False,
             **options: Any) -> SequenceOut | LSTMSequenceOut:
    """``cell`` unrolled over the T steps of x (T, N, F) from the initial state.

    ``args`` are the cell's own positional arguments after x: its initial state(s), then its
    weights (``oracle.rnn.cells`` gives each cell's layout), e.g. for cell="lstm"
    ``sequence(x, h0, c0, w_x, w_h, b, cell="lstm")``; ``options`` are the cell's keywords
    (activation, reset, ...). Cells: elman (outputs y_t; state a), jordan (outputs y_t; the
    state is y itself), simple, gru_simple, gru, lstm, lstm_peephole (outputs h_t).
    ``reverse`` runs t = T-1 down to 0 and returns the outputs in time order (the backward
    half of a bidirectional RNN). Returns (outputs (T, N, ·), last state) or, for the LSTMs,
    (outputs, h_T, c_T).
    """
    spec = _cell(cell)
    x = _canon.asarray(x)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"x must be (T, N, F) with T >= 1, got shape {x.shape}")
    states = tuple(_canon.asarray(s) for s in args[:spec.states])
    weights = args[spec.states:]
    steps = x.shape[0]
    outputs: list[Any] = [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        outputs[t], states = spec.step(x[t], states, weights, options)
    stacked = np.stack(outputs, axis=0)
    return LSTMSequenceOut(stacked, *states) if spec.states == 2 else \
        SequenceOut(stacked, states[0])


def _output_layer(v: Any, w_y: Any, b_y: Any, output_activation: str) -> Any:
    g = C._pick(C.OUTPUT_ACTIVATIONS, output_activation, "output_activation")
    return g(C.linear(v, w_y, b_y))


def bidirectional(x: Any, *args: Any, cell: str, output_activation: str = "identity",
                  **options: Any) -> BidirectionalOut | BidirectionalLSTMOut:
    """A bidirectional RNN with the notes' output layer,
        y_t = g(W_y [a_fwd_t, a_bwd_t] + b_y),
    where the forward pass reads x_0 .. x_{T-1} and the backward pass x_{T-1} .. x_0 (each
    a_t at its own time position).

    ``args``: the cell's states and weights with a leading direction axis of 2 (index 0
    forward, 1 backward; torch's num_directions layout), then w_y (O, 2H) and b_y (O,), e.g.
    for cell="lstm" ``bidirectional(x, h0, c0, w_x, w_h, b, w_y, b_y, cell="lstm")`` with
    h0, c0 (2, N, H), w_x (2, 4H, F), w_h (2, 4H, H), b (2, 4H). g is
    ``output_activation``. Returns (y (T, N, O), hidden (T, N, 2H), last states (2, N, H)...).
    """
    spec = _cell(cell, "bidirectional")
    if len(args) < spec.states + 2:
        raise ValueError("bidirectional needs the cell's states and weights, then w_y, b_y")
    packed, w_y, b_y = args[:-2], args[-2], args[-1]
    for a in packed:
        if np.shape(a)[0] != 2:
            raise ValueError(f"every state and weight needs a direction axis of 2 first, "
                             f"got shape {np.shape(a)}")
    fwd = sequence(x, *(a[0] for a in packed), cell=cell, **options)
    bwd = sequence(x, *(a[1] for a in packed), cell=cell, reverse=True, **options)
    hidden = np.concatenate([fwd.outputs, bwd.outputs], axis=-1)
    y = _output_layer(hidden, w_y, b_y, output_activation)
    states = [np.stack([f, b], axis=0) for f, b in zip(fwd[1:], bwd[1:])]
    out = BidirectionalLSTMOut if spec.states == 2 else BidirectionalOut
    return out(y, hidden, *states)


def stacked(x: Any, *args: Any, cell: str, **options: Any) -> StackedOut | StackedLSTMOut:
    """L layers of ``cell``, each layer's output sequence the next one's input (the notes'
    deep RNN), all layers of hidden size H.

    ``args``: the cell's initial states with a leading layer axis (L, N, H); then the first
    input weight of layer 0, w_x0 (G*H, F); those of layers 1 .. L-1, w_x_rest (L-1, G*H, H)
    (their input is the layer below, of size H); then the cell's other weights with a
    leading layer axis, e.g. for cell="lstm"
    ``stacked(x, h0, c0, w_x0, w_x_rest, w_h, b, cell="lstm")`` with w_h (L, 4H, H) and
    b (L, 4H) (torch's weight_ih_l0 / weight_ih_lk layout). Returns (the top layer's
    outputs (T, N, H), every layer's last states (L, N, H)...).
    """
    spec = _cell(cell, "stacked")
    n = spec.states
    if len(args) < n + 2:
        raise ValueError("stacked needs the cell's states, w_x0, w_x_rest and its weights")
    states, w_x0, w_x_rest, rest = args[:n], args[n], args[n + 1], args[n + 2:]
    layers = np.shape(states[0])[0]
    if np.shape(w_x_rest)[0] != layers - 1 or any(np.shape(a)[0] != layers
                                                  for a in (*states, *rest)):
        raise ValueError(f"{layers} layers: states and weights need a leading axis of "
                         f"{layers}, w_x_rest one of {layers - 1}")
    inp = x
    finals: list[tuple[Any, ...]] = []
    for layer in range(layers):
        w_x = w_x0 if layer == 0 else w_x_rest[layer - 1]
        seq = sequence(inp, *(s[layer] for s in states), w_x, *(w[layer] for w in rest),
                       cell=cell, **options)
        inp = seq.outputs
        finals.append(tuple(seq[1:]))
    last = [np.stack([f[k] for f in finals], axis=0) for k in range(n)]
    return StackedLSTMOut(inp, *last) if n == 2 else StackedOut(inp, last[0])
