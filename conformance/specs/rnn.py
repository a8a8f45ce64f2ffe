"""Specs of the ``rnn`` family: the six cells (one step), the unroll over time per cell
(``rnn.sequence/<cell>``), and the bidirectional and stacked wrappers.

Geometry comes from small fixed menus (eager JAX and every jit compile per shape): batch,
feature and hidden sizes 1 to 4, sequence lengths 1, 5 and 8, or 1, 5 and 16 for the fused
layers (1 to 5 in the wrappers). Each menu entry carries its hyper-parameters (output
activation), so that a static keyword adds no compile of its own. Two rules shape the menus:
* every state output has at least 4 elements (N * H >= 4), so that its rms, the rule's
  floor, rarely rests on one saturated element.
* only the smallest geometry of each spec (one step) has <= 64 differentiated elements,
  where the reverse-mode check builds the full Jacobian (a dual pass per element, five
  times over: exact, in dtype, three textbook variants); longer ones are checked through
  <g, u> = <v, J u> and forward mode per element.

Values are drawn from a seeded NumPy generator (uniform arrays; the harness rounds them to
the tested dtype) in one of two regimes, both drawn in every spec:
* "moderate": x in [-1, 1], input weights U(+-1/sqrt(fan_in)), biases U(+-1/2): the gates
  live in their linear range;
* "saturating": x in [-4, 4], input weights U(+-4/sqrt(fan_in)), biases U(+-2): gate
  pre-activations of ~5 standard deviation, where sigmoid and tanh saturate (their
  derivatives ~e^-5 and below).
Recurrent weights stay U(+-g/sqrt(H)) with g = 1/2 or 1 (spectral radius about g/sqrt(3)):
a contracting recurrence. An expanding one is chaotic over 16 steps: two correct kernels
with different rounding orders part by O(1), so the per-element bound would judge noise.
Initial states are zero or drawn in [-1, 1], half the time each.

The GRU-type update (gru_simple, gru and their sequences and wrappers) is evaluated naively,
in the tested dtype, as the frameworks compute it: h = (1 - z) c' + z h with z = sigmoid(-s)
= 1 - u (``oracle.rnn.saved.naive_update_from_z``; docs/conventions/rnn.md §Update gate). Where u
is small that form rounds it absolutely (ulp(1)/2): from a zero state with every unit's
gate closed, torch's bfloat16 GRUCell gives 0.0 where u c' = 7.3e-7. The exact oracle keeps
u = sigmoid(s), and kernels in the notes' form (the composed ones) are more exact than this
naive bound, as they should be.

Every array is differentiated (inputs, initial states, weights: ``grad_wrt`` is all of
them); hidden activations are tanh (ReLU's kink is not drawn: ``notes``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance.registry import Case, OpSpec, register
from conformance.textbook import rnn as TB
from oracle import rnn as R
from oracle.rnn.saved import naive_update_from_z

# (x bound, input-weight gain, recurrent-weight gain, bias bound)
REGIMES = {"moderate": (1.0, 1.0, 0.5, 0.5), "saturating": (4.0, 4.0, 1.0, 2.0)}

# Per cell: (name, shape, kind). Shapes use N, F, H, O (output size) and G (gates * H).
# Kinds set the scale: x, state, w_x (fan-in F), w_h (fan-in H), w_o (fan-in O), w_out
# (fan-in H), b, p (peepholes, elementwise).
LAYOUT: dict[str, list[tuple[str, str, str]]] = {
    "elman": [("a", "NH", "state"), ("w_ax", "HF", "w_x"), ("w_aa", "HH", "w_h"),
              ("b_a", "H", "b"), ("w_ya", "OH", "w_out"), ("b_y", "O", "b")],
    "jordan": [("y", "NO", "state"), ("w_ax", "HF", "w_x"), ("w_ay", "HO", "w_o"),
               ("b_a", "H", "b"), ("w_ya", "OH", "w_out"), ("b_y", "O", "b")],
    "simple": [("a", "NH", "state"), ("w_x", "HF", "w_x"), ("w_h", "HH", "w_h"),
               ("b", "H", "b")],
    "gru_simple": [("h", "NH", "state"), ("w_x", "GF", "w_x"), ("w_h", "GH", "w_h"),
                   ("b", "G", "b")],
    "gru": [("h", "NH", "state"), ("w_x", "GF", "w_x"), ("w_h", "GH", "w_h"), ("b", "G", "b")],
    "gru_reset_after": [("h", "NH", "state"), ("w_x", "GF", "w_x"), ("w_h", "GH", "w_h"),
                        ("b", "G", "b"), ("b_h", "G", "b")],
    "lstm": [("h", "NH", "state"), ("c", "NH", "state"), ("w_x", "GF", "w_x"),
             ("w_h", "GH", "w_h"), ("b", "G", "b")],
    "lstm_peephole": [("h", "NH", "state"), ("c", "NH", "state"), ("w_x", "GF", "w_x"),
                      ("w_h", "GH", "w_h"), ("b", "G", "b"), ("p", "3H", "p")],
}
GATES = {"elman": 1, "jordan": 1, "simple": 1, "gru_simple": 2, "gru": 3,
         "gru_reset_after": 3, "lstm": 4, "lstm_peephole": 4}
# The oracle's cell name and keywords of each layout.
ORACLE_CELL = {"gru_reset_after": ("gru", {"reset": "after"})}


class Draw:
    """Arrays of one example: a seeded generator, the regime and the zero-state choice."""

    def __init__(self, d: st.DrawFn) -> None:
        self.rng = np.random.default_rng(d(st.integers(0, 2**32 - 1)))
        self.regime = d(st.sampled_from(sorted(REGIMES)))
        self.zero_state = d(st.booleans())

    def uniform(self, shape: tuple[int, ...], bound: float) -> np.ndarray:
        return self.rng.uniform(-bound, bound, shape)

    def x(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.uniform(shape, REGIMES[self.regime][0])

    def array(self, kind: str, shape: tuple[int, ...], dims: dict[str, int]) -> np.ndarray:
        _, gx, gh, bb = REGIMES[self.regime]
        if kind == "state":
            return np.zeros(shape) if self.zero_state else self.uniform(shape, 1.0)
        fan_in = {"w_x": "F", "w_h": "H", "w_o": "O", "w_out": "H"}
        gain = {"w_x": gx, "w_h": gh, "w_o": gh, "w_out": gx, "b": bb, "p": gh}[kind]
        bound = gain / math.sqrt(dims[fan_in[kind]]) if kind in fan_in else gain
        return self.uniform(shape, bound)


def _dims(layout: str, n: int, f: int, h: int, o: int) -> dict[str, int]:
    return {"N": n, "F": f, "H": h, "O": o, "G": GATES[layout] * h, "3": 3}


def _shape(code: str, dims: dict[str, int]) -> tuple[int, ...]:
    return tuple(dims[c] for c in code)


def cell_arrays(draw: Draw, layout: str, dims: dict[str, int],
                lead: tuple[int, ...] = ()) -> tuple[list[np.ndarray], list[str]]:
    """The cell's states and weights (everything after x), each with ``lead`` axes first."""
    arrays, names = [], []
    for name, code, kind in LAYOUT[layout]:
        arrays.append(draw.array(kind, lead + _shape(code, dims), dims))
        names.append(name)
    return arrays, names


# --- cells: one step ---------------------------------------------------------------------
# (N, F, H, O, output activation)
CELL_MENU = [(4, 1, 1, 1, "identity"), (3, 3, 3, 2, "softmax")]
JORDAN_MENU = [(4, 1, 1, 1, "tanh"), (3, 3, 3, 2, "sigmoid")]


def _cell_inputs(layout: str, menu: list[tuple[Any, ...]] = CELL_MENU):
    cell, options = ORACLE_CELL.get(layout, (layout, {}))

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            n, f, h, o, act = d(st.sampled_from(menu))
            dr = Draw(d)
            dims = _dims(layout, n, f, h, o)
            rest, names = cell_arrays(dr, layout, dims)
            kwargs = dict(options)
            if layout in ("elman", "jordan"):
                kwargs["output_activation"] = act
            return Case((dr.x((n, f)), *rest), kwargs, ("x", *names))

        return draw()

    return inputs


def _all(layout: str, extra: int = 1) -> tuple[int, ...]:
    return tuple(range(len(LAYOUT[layout]) + extra))


# --- sequences ---------------------------------------------------------------------------
# (T, N, F, H, O, output activation)
# T = 16 for the fused native layers (nn.LSTM / nn.GRU, Keras LSTM / GRU, Flax RNN over
# OptimizedLSTMCell / GRUCell), where long sequences are the point; T <= 8 for the others
# (composed loops, and the cells' own sequences), whose per-step kernels the cells check.
SEQ_MENU = [(1, 4, 1, 1, 1, "identity"), (5, 2, 4, 3, 2, "softmax"), (8, 2, 3, 2, 2, "tanh")]
LONG_SEQ_MENU = SEQ_MENU[:2] + [(16, 1, 3, 2, 2, "tanh")]
JORDAN_SEQ_MENU = [(1, 4, 1, 1, 1, "tanh"), (5, 2, 4, 3, 2, "sigmoid"), (8, 2, 3, 2, 2, "tanh")]


def _sequence_inputs(layout: str, menu: list[tuple[Any, ...]] = SEQ_MENU):
    cell, options = ORACLE_CELL.get(layout, (layout, {}))

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            t, n, f, h, o, act = d(st.sampled_from(menu))
            dr = Draw(d)
            rest, names = cell_arrays(dr, layout, _dims(layout, n, f, h, o))
            kwargs = {"cell": cell, **options}
            if layout in ("elman", "jordan"):
                kwargs["output_activation"] = act
            names = [m + "0" if k == "state" else m for m, (_, _, k) in zip(names, LAYOUT[layout])]
            return Case((dr.x((t, n, f)), *rest), kwargs, ("x", *names))

        return draw()

    return inputs


# --- bidirectional and stacked -----------------------------------------------------------
# (T, N, F, H, O)
BI_MENU = [(1, 2, 2, 2, 2), (5, 2, 3, 2, 3)]
# (T, N, F, H, L)
STACK_MENU = [(3, 2, 2, 2, 2), (4, 1, 3, 2, 3)]


def _bidirectional_inputs(layout: str):
    cell, options = ORACLE_CELL.get(layout, (layout, {}))

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            t, n, f, h, o = d(st.sampled_from(BI_MENU))
            dr = Draw(d)
            rest, names = cell_arrays(dr, layout, _dims(layout, n, f, h, o), lead=(2,))
            w_y = dr.array("w_out", (o, 2 * h), {"H": 2 * h})
            b_y = dr.array("b", (o,), {})
            return Case((dr.x((t, n, f)), *rest, w_y, b_y), {"cell": cell, **options},
                        ("x", *names, "w_y", "b_y"))

        return draw()

    return inputs


def _stacked_inputs(layout: str):
    cell, options = ORACLE_CELL.get(layout, (layout, {}))
    states = [e for e in LAYOUT[layout] if e[2] == "state"]
    weights = [e for e in LAYOUT[layout] if e[2] != "state"]

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            t, n, f, h, layers = d(st.sampled_from(STACK_MENU))
            dr = Draw(d)
            dims = _dims(layout, n, f, h, h)
            upper = {**dims, "F": h}
            args = [dr.array("state", (layers, *_shape(c, dims)), dims) for _, c, _ in states]
            g = GATES[layout] * h
            args += [dr.array("w_x", (g, f), dims), dr.array("w_x", (layers - 1, g, h), upper)]
            args += [dr.array(k, (layers, *_shape(c, dims)), dims) for _, c, k in weights[1:]]
            names = [s[0] for s in states] + ["w_x0", "w_x_rest"] + [w[0] for w in weights[1:]]
            return Case((dr.x((t, n, f)), *args), {"cell": cell, **options}, ("x", *names))

        return draw()

    return inputs


# --- benchmarks: a layer over (T, N, F) with H = F --------------------------------------
BENCH_SEQ = {"small": (16, 8, 64), "medium": (64, 32, 256), "large": (128, 32, 256)}


def _bench_sequence(layout: str) -> dict[str, Callable[[], Case]]:
    cell, options = ORACLE_CELL.get(layout, (layout, {}))

    def make(shape: tuple[int, ...]) -> Case:
        t, n, f = shape
        dims = _dims(layout, n, f, f, f)
        args = [B.normal(_shape(c, dims), 0.5 if k == "state" else
                         (dims["H"] ** -0.5 if k.startswith("w") else 0.1))
                for _, c, k in LAYOUT[layout]]
        return Case((B.normal((t, n, f)), *args), {"cell": cell, **options},
                    ("x", *(e[0] for e in LAYOUT[layout])))

    return B.by_size(make, BENCH_SEQ)


def _sequence_flops(case: Case) -> int:
    """2 flops per multiply-add of the gate matmuls, x W_x^T and h W_h^T, at every step."""
    named = dict(zip(case.names, case.args))
    t, n, f = named["x"].shape
    g, h = named["w_h"].shape
    return 2 * t * n * g * (f + h)


def _spec(op: str, oracle: Callable[..., Any], inputs: Callable[[str], Any],
          grad_wrt: tuple[int, ...], **kw: Any) -> OpSpec:
    """Every rnn spec differentiates all its arrays, with the saved-activation derivative
    rules as its textbook (conformance/textbook/rnn.py)."""
    naive = naive_update_from_z(oracle)
    return OpSpec(op, naive, inputs, grad_wrt=grad_wrt,
                  textbook=TB.from_outputs(oracle, grad_wrt, reference=naive), **kw)


SATURATION = ("drawn in a moderate and a saturating regime (gates at ~5 sigma), initial "
              "states zero or drawn; hidden activation tanh only (relu's kink: not covered)")

register(
    # cells
    _spec("rnn.elman_cell", R.elman_cell, _cell_inputs("elman"), _all("elman"),
          notes="with its output layer; output activation identity, softmax, tanh; "
          + SATURATION),
    _spec("rnn.jordan_cell", R.jordan_cell, _cell_inputs("jordan", JORDAN_MENU),
          _all("jordan"), notes="y_{t-1} fed back; output tanh or sigmoid"),
    _spec("rnn.gru_simple", R.gru_simple, _cell_inputs("gru_simple"),
          _all("gru_simple"), notes="one update gate (Flax MGUCell(reset_gate=False))"),
    _spec("rnn.gru", R.gru, _cell_inputs("gru"), _all("gru"),
          notes="reset before the product, one bias (the notes' form; Keras reset_after=False)"),
    _spec("rnn.gru/reset_after", R.gru, _cell_inputs("gru_reset_after"),
          _all("gru_reset_after"),
          notes="reset after the product, input and recurrent biases (torch, Flax, Keras "
          "reset_after=True)"),
    _spec("rnn.lstm", R.lstm, _cell_inputs("lstm"), _all("lstm")),
    _spec("rnn.lstm_peephole", R.lstm_peephole, _cell_inputs("lstm_peephole"),
          _all("lstm_peephole"), notes="diagonal peepholes: c_{t-1} for u and f, "
          "c_t for o"),
    # sequences
    *(_spec(f"rnn.sequence/{layout}", R.sequence,
            _sequence_inputs(layout, JORDAN_SEQ_MENU if layout == "jordan" else SEQ_MENU),
            _all(layout),
            bench=_bench_sequence(layout) if layout in ("lstm", "gru_reset_after") else {},
            flops=_sequence_flops if layout in ("lstm", "gru_reset_after") else None,
            notes=f"the {layout} cell unrolled over T = 1, 5, "
            f"{16 if layout in ('lstm', 'gru_reset_after') else 8} from the initial state; "
            + SATURATION)
      for layout in ("elman", "jordan", "gru_simple", "gru", "gru_reset_after", "lstm",
                   "lstm_peephole")),
    # wrappers
    _spec("rnn.bidirectional/lstm", R.bidirectional, _bidirectional_inputs("lstm"),
          _all("lstm", 3), notes="LSTM both ways, then y = W_y [a_fwd, a_bwd] + b_y"),
    _spec("rnn.bidirectional/gru", R.bidirectional, _bidirectional_inputs("gru_reset_after"),
          _all("gru_reset_after", 3), notes="reset-after GRU with two biases"),
    _spec("rnn.stacked/lstm", R.stacked, _stacked_inputs("lstm"), _all("lstm", 2),
          notes="2 or 3 LSTM layers"),
    _spec("rnn.stacked/gru", R.stacked, _stacked_inputs("gru_reset_after"),
          _all("gru_reset_after", 2), notes="2 or 3 reset-after GRU layers"),
)
