"""torch mappings of the ``rnn`` family (docs/conventions/rnn.md).

Native: ``nn.RNNCell``/``GRUCell``/``LSTMCell`` for the cells torch has, ``nn.RNN``/``GRU``/
``LSTM`` (time-major, as the oracle; ``num_layers`` for rnn.stacked, ``bidirectional`` for
rnn.bidirectional) for the sequences, ``nn.Linear`` for output layers. The canonical
weights enter through ``torch.func.functional_call``, so the module computes with the given
tensors and autograd / forward AD differentiate with respect to them (the module's own
parameters are never read). Weight layout (docs/conventions/rnn.md §Layouts):
* GRU: canonical row blocks [u, r, c'] -> torch [r, z, n] with z = 1 - u, i.e. the u block
  negated (sigmoid(-s) = 1 - sigmoid(s); negation is exact): W_torch = [W_r; -W_u; W_c],
  b_ih likewise, b_hh = the canonical b_h (its c' block stays inside r * (...)).
* LSTM: canonical [u, f, o, c'] -> torch [i, f, g, o] = [u, f, c', o]; one canonical bias
  -> b_ih, with b_hh = 0 (torch only ever adds the two).
* Elman: b_a -> b_ih, b_hh = 0.
Composed (torch has no such kernel): the Jordan cell, the one-gate GRU, the reset-before
GRU and the peephole LSTM, from F.linear, torch.sigmoid and torch.tanh, unrolled by a Python
loop for sequences.

Kernels that run (the record's device and dtype say which): on CPU, nn.LSTM in float32 and
bfloat16 runs oneDNN's RNN (``mkldnn_rnn_layer``, which has no forward-mode derivative: a
divergence), float64/float16 and nn.GRU/nn.RNN run ATen's cell-by-cell CPU path. On CUDA,
nn.RNN/GRU/LSTM run cuDNN (``torch._cudnn_rnn``) whenever cuDNN accepts the dtype
(float16/32/64, ``torch.backends.cudnn.enabled`` left at its default True), the *Cell
classes run ATen's fused CUDA cell kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, nn, torch
from adapters.torch._params import OUT

_MODULES: dict[tuple[Any, ...], Any] = {}

_INPUT_SIZE = "drawn: from x.shape (its feature size)"
_HIDDEN_SIZE = "drawn: from w_h.shape or w_aa.shape (the hidden size)"
# The wrappers' specs draw one hidden size (conformance/specs/rnn.py BI_MENU, STACK_MENU).
_WRAPPER = {"hidden_size": "fixed: 2, the one hidden size the wrapper specs draw",
            "in_features": "fixed: 2 H = 4, [forward, backward] at the one hidden size",
            "out_features": "drawn: from w_y.shape (the output size)"}
_DEVICE_DTYPE = "fixed: the tested device and dtype (the given weights replace the module's)"
_LAYER_PARAMS = {
    "input_size": _INPUT_SIZE, "hidden_size": _HIDDEN_SIZE,
    "bias": "fixed: True (the oracle's biases)",
    "batch_first": "fixed: False (time-major, the canonical layout)",
    "dropout": "fixed: 0 (dropout is reg.dropout's)", "device": _DEVICE_DTYPE,
    "dtype": _DEVICE_DTYPE,
}
_CELL_PARAMS = {"input_size": _INPUT_SIZE, "hidden_size": _HIDDEN_SIZE,
                "bias": "fixed: True (the oracle's biases)", "device": _DEVICE_DTYPE,
                "dtype": _DEVICE_DTYPE}
_NONLINEARITY = {"nonlinearity": "fixed: tanh (relu's kink at 0 is not drawn)"}
_LINEAR_PARAMS = {"in_features": "drawn: from w_ya.shape (the hidden size)",
                  "out_features": "drawn: from w_ya.shape (the output size)",
                  "bias": "fixed: True (b_y)", "device": _DEVICE_DTYPE, "dtype": _DEVICE_DTYPE}
_CALL_PARAMS = {"module": "fixed: the native module built for the drawn sizes",
                "parameter_and_buffer_dicts": "fixed: the drawn weights in the module's "
                "layout", "args": "fixed: the drawn input and states",
                "kwargs": "fixed: none", "tie_weights": "fixed: True (default; no ties)",
                "strict": "fixed: False (default; every parameter is given)"}
LSTM_PARAMS = {**_LAYER_PARAMS, "num_layers": "fixed: 1",
               "bidirectional": "fixed: False", "proj_size": "not covered: LSTM projections "
               "are not in the catalog", **_CALL_PARAMS}
GRU_PARAMS = {k: v for k, v in LSTM_PARAMS.items() if k != "proj_size"}
OUTPUT_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda z: z,
    "tanh": lambda z: torch.tanh(z),
    "sigmoid": lambda z: torch.sigmoid(z),
    "softmax": lambda z: torch.softmax(z, dim=-1),
}


def _module(kind: str, *dims: Any) -> Any:
    """An nn module per (kind, sizes, options), built once: only its structure is used,
    functional_call supplies every parameter."""
    key = (kind, *dims)
    if key not in _MODULES:
        _MODULES[key] = getattr(nn, kind)(*dims[:2], **dict(dims[2:]))
    return _MODULES[key]


def _call(module: Any, params: dict[str, Any], *args: Any) -> Any:
    return torch.func.functional_call(module, params, args)


def _blocks(w: Any, hidden: int, order: tuple[int, ...], negate: int | None = None) -> Any:
    """Row blocks of H of ``w`` (G*H, ...) or (G*H,) in ``order``, block ``negate`` negated."""
    parts = [w[k * hidden:(k + 1) * hidden] for k in order]
    if negate is not None:
        parts[order.index(negate)] = -parts[order.index(negate)]
    return torch.cat(parts, dim=0)


def torch_gates(w: Any, cell: str, hidden: int) -> Any:
    """Canonical gate blocks to torch's: GRU [u, r, c'] -> [r, -u, c'], LSTM [u, f, o, c']
    -> [u, f, c', o]; the Elman cell has one block."""
    if cell == "gru":
        return _blocks(w, hidden, (1, 0, 2), negate=0)
    if cell == "lstm":
        return _blocks(w, hidden, (0, 1, 3, 2))
    return w


def layer_params(cell: str, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                 suffix: str = "") -> dict[str, Any]:
    """nn.RNN/GRU/LSTM parameters ``*_l{k}{_reverse}`` of one layer and direction."""
    hidden = w_h.shape[1]
    return {f"weight_ih{suffix}": torch_gates(w_x, cell, hidden),
            f"weight_hh{suffix}": torch_gates(w_h, cell, hidden),
            f"bias_ih{suffix}": torch_gates(b, cell, hidden),
            f"bias_hh{suffix}": torch.zeros_like(b) if b_h is None else
            torch_gates(b_h, cell, hidden)}


KIND = {"simple": "RNN", "gru": "GRU", "lstm": "LSTM"}


def _layer(cell: str, f: int, h: int, layers: int = 1, bidirectional: bool = False) -> Any:
    return _module(KIND[cell], f, h, ("num_layers", layers), ("bidirectional", bidirectional))


def _single(step: Callable[..., Any], *w: Any) -> Callable[..., tuple[Any, tuple[Any, ...]]]:
    """A one-state cell's step (output = new state) in ``_unroll``'s form."""

    def run(xt: Any, s: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        h = step(xt, s[0], *w)
        return h, (h,)

    return run


def _unroll(step: Callable[..., tuple[Any, tuple[Any, ...]]], x: Any,
            states: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    outs = []
    for t in range(x.shape[0]):
        out, states = step(x[t], states)
        outs.append(out)
    return torch.stack(outs, dim=0), states


# --- composed cells ---------------------------------------------------------------------
def jordan_step(x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any,
                activation: str, output_activation: str) -> tuple[Any, Any]:
    z = F.linear(x, w_ax, b_a) + F.linear(y, w_ay)
    a = torch.tanh(z) if activation == "tanh" else torch.relu(z)
    return OUTPUT_ACTIVATIONS[output_activation](F.linear(a, w_ya, b_y)), a


def gru_simple_step(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    z = F.linear(x, w_x, b) + F.linear(h, w_h)
    hidden = h.shape[-1]
    u, c = torch.sigmoid(z[:, :hidden]), torch.tanh(z[:, hidden:])
    return u * c + (1 - u) * h


def gru_before_step(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    """The notes' GRU, reset applied to h before the product (torch has no such kernel)."""
    hidden = h.shape[-1]
    zx = F.linear(x, w_x, b)
    zg = zx[:, :2 * hidden] + F.linear(h, w_h[:2 * hidden])
    u, r = torch.sigmoid(zg[:, :hidden]), torch.sigmoid(zg[:, hidden:])
    c = torch.tanh(zx[:, 2 * hidden:] + F.linear(r * h, w_h[2 * hidden:]))
    return u * c + (1 - u) * h


def peephole_step(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any,
                  p: Any) -> tuple[Any, Any]:
    hidden = h.shape[-1]
    z = F.linear(x, w_x, b) + F.linear(h, w_h)
    zu, zf, zo, zc = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
    c_new = torch.sigmoid(zu + p[0] * c) * torch.tanh(zc) + torch.sigmoid(zf + p[1] * c) * c
    return torch.sigmoid(zo + p[2] * c_new) * torch.tanh(c_new), c_new


_COMPOSED = ("torch.nn.functional.linear", "torch.sigmoid", "torch.tanh")
_COMPOSED_PARAMS = {"bias": "fixed: the gate's bias tensor b for the input product, None "
                    "for the recurrent one (the oracle has one bias per gate)", **OUT}


_LAYERS_DRAWN = {"num_layers": "drawn: from w_x_rest.shape (1 + its leading size)",
                 "hidden_size": _WRAPPER["hidden_size"]}


class RnnOps:
    # --- cells ---------------------------------------------------------------------------
    @implements("rnn.elman_cell", native=("torch.nn.RNNCell", "torch.nn.Linear",
                                          "torch.func.functional_call"),
                params={**_CELL_PARAMS, **_NONLINEARITY, **_LINEAR_PARAMS, **_CALL_PARAMS})
    def elman_cell(self, x: Any, a: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any,
                   *, activation: str = "tanh", output_activation: str = "identity") -> Any:
        cell = _module("RNNCell", w_ax.shape[1], w_ax.shape[0], ("nonlinearity", activation))
        a_new = _call(cell, {"weight_ih": w_ax, "weight_hh": w_aa, "bias_ih": b_a,
                             "bias_hh": torch.zeros_like(b_a)}, x, a)
        out = _call(_module("Linear", *w_ya.shape[::-1]), {"weight": w_ya, "bias": b_y}, a_new)
        return OUTPUT_ACTIVATIONS[output_activation](out), a_new

    @implements("rnn.jordan_cell", composed=True, native=_COMPOSED, params=_COMPOSED_PARAMS)
    def jordan_cell(self, x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any,
                    b_y: Any, *, activation: str = "tanh",
                    output_activation: str = "identity") -> Any:
        return jordan_step(x, y, w_ax, w_ay, b_a, w_ya, b_y, activation, output_activation)

    @implements("rnn.gru_simple", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def gru_simple(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        return gru_simple_step(x, h, w_x, w_h, b)

    @implements("rnn.gru", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def gru_reset_before(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                         *, reset: str = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("this mapping is the one-bias reset-before GRU")
        return gru_before_step(x, h, w_x, w_h, b)

    @implements("rnn.gru/reset_after", native=("torch.nn.GRUCell", "torch.func.functional_call"),
                params={**_CELL_PARAMS, **_CALL_PARAMS})
    def gru_reset_after(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                        *, reset: str = "after") -> Any:
        if reset != "after":
            raise ValueError("torch's GRUCell applies the reset gate after the product")
        params = layer_params("gru", w_x, w_h, b, b_h)
        return _call(_module("GRUCell", x.shape[1], h.shape[1]), params, x, h)

    @implements("rnn.lstm", native=("torch.nn.LSTMCell", "torch.func.functional_call"),
                params={**_CELL_PARAMS, **_CALL_PARAMS})
    def lstm(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        params = layer_params("lstm", w_x, w_h, b)
        return _call(_module("LSTMCell", x.shape[1], h.shape[1]), params, x, (h, c))

    @implements("rnn.lstm_peephole", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def lstm_peephole(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any,
                      p: Any) -> Any:
        return peephole_step(x, h, c, w_x, w_h, b, p)

    # --- sequences -----------------------------------------------------------------------
    @implements("rnn.sequence/elman", native=("torch.nn.RNN", "torch.nn.Linear",
                                              "torch.func.functional_call"),
                params={**GRU_PARAMS, **_NONLINEARITY, **_LINEAR_PARAMS})
    def sequence_elman(self, x: Any, a0: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any,
                       b_y: Any, *, cell: str, activation: str = "tanh",
                       output_activation: str = "identity") -> Any:
        rnn = _module("RNN", x.shape[2], a0.shape[1], ("nonlinearity", activation))
        out, a_n = _call(rnn, layer_params("simple", w_ax, w_aa, b_a, suffix="_l0"), x, a0[None])
        y = _call(_module("Linear", *w_ya.shape[::-1]), {"weight": w_ya, "bias": b_y}, out)
        return OUTPUT_ACTIVATIONS[output_activation](y), a_n[0]

    @implements("rnn.sequence/jordan", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_jordan(self, x: Any, y0: Any, *w: Any, cell: str, activation: str = "tanh",
                        output_activation: str = "identity") -> Any:
        def step(xt: Any, s: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
            y, _ = jordan_step(xt, s[0], *w, activation, output_activation)
            return y, (y,)

        ys, (y,) = _unroll(step, x, (y0,))
        return ys, y

    @implements("rnn.sequence/gru_simple", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_gru_simple(self, x: Any, h0: Any, *w: Any, cell: str) -> Any:
        hs, (h,) = _unroll(_single(gru_simple_step, *w), x, (h0,))
        return hs, h

    @implements("rnn.sequence/gru", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
                     cell: str, reset: str = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("this mapping is the one-bias reset-before GRU")
        hs, (h,) = _unroll(_single(gru_before_step, w_x, w_h, b), x, (h0,))
        return hs, h

    @implements("rnn.sequence/gru_reset_after", native=("torch.nn.GRU",
                                                        "torch.func.functional_call"),
                params=GRU_PARAMS)
    def sequence_gru_reset_after(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any,
                                 b_h: Any = None, *, cell: str, reset: str = "after") -> Any:
        if reset != "after":
            raise ValueError("torch's GRU applies the reset gate after the product")
        gru = _layer("gru", x.shape[2], h0.shape[1])
        out, h_n = _call(gru, layer_params("gru", w_x, w_h, b, b_h, "_l0"), x, h0[None])
        return out, h_n[0]

    @implements("rnn.sequence/lstm", native=("torch.nn.LSTM", "torch.func.functional_call"),
                params=LSTM_PARAMS)
    def sequence_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, *,
                      cell: str) -> Any:
        lstm = _layer("lstm", x.shape[2], h0.shape[1])
        out, (h_n, c_n) = _call(lstm, layer_params("lstm", w_x, w_h, b, suffix="_l0"), x,
                                (h0[None], c0[None]))
        return out, h_n[0], c_n[0]

    @implements("rnn.sequence/lstm_peephole", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_lstm_peephole(self, x: Any, h0: Any, c0: Any, *w: Any, cell: str) -> Any:
        def step(xt: Any, s: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
            h, c = peephole_step(xt, *s, *w)
            return h, (h, c)

        hs, (h, c) = _unroll(step, x, (h0, c0))
        return hs, h, c

    # --- wrappers --------------------------------------------------------------------------
    def _bidirectional(self, x: Any, states: tuple[Any, ...], weights: tuple[Any, ...],
                       w_y: Any, b_y: Any, cell: str) -> Any:
        net = _layer(cell, x.shape[2], states[0].shape[2], bidirectional=True)
        params = {**layer_params(cell, *(w[0] for w in weights), suffix="_l0"),
                  **layer_params(cell, *(w[1] for w in weights), suffix="_l0_reverse")}
        out, last = _call(net, params, x, states if len(states) == 2 else states[0])
        y = _call(_module("Linear", *w_y.shape[::-1]), {"weight": w_y, "bias": b_y}, out)
        return (y, out, *last) if len(states) == 2 else (y, out, last)

    @implements("rnn.bidirectional/lstm", native=("torch.nn.LSTM", "torch.nn.Linear",
                                             "torch.func.functional_call"),
                params={**LSTM_PARAMS, "bidirectional": "fixed: True", **_LINEAR_PARAMS,
                        **_WRAPPER})
    def bidirectional_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any,
                           w_y: Any, b_y: Any, *, cell: str,
                           output_activation: str = "identity") -> Any:
        y, out, h, c = self._bidirectional(x, (h0, c0), (w_x, w_h, b), w_y, b_y, "lstm")
        return OUTPUT_ACTIVATIONS[output_activation](y), out, h, c

    @implements("rnn.bidirectional/gru", native=("torch.nn.GRU", "torch.nn.Linear",
                                                 "torch.func.functional_call"),
                params={**GRU_PARAMS, "bidirectional": "fixed: True", **_LINEAR_PARAMS,
                        **_WRAPPER})
    def bidirectional_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any,
                          w_y: Any, b_y: Any, *, cell: str, reset: str = "after",
                          output_activation: str = "identity") -> Any:
        if reset != "after":
            raise ValueError("torch's GRU applies the reset gate after the product")
        y, out, h = self._bidirectional(x, (h0,), (w_x, w_h, b, b_h), w_y, b_y, "gru")
        return OUTPUT_ACTIVATIONS[output_activation](y), out, h

    def _stacked(self, x: Any, states: tuple[Any, ...], w_x0: Any, w_x_rest: Any,
                 others: tuple[Any, ...], cell: str) -> Any:
        layers, hidden = states[0].shape[0], states[0].shape[2]
        net = _layer(cell, x.shape[2], hidden, layers)
        params: dict[str, Any] = {}
        for k in range(layers):
            w_x = w_x0 if k == 0 else w_x_rest[k - 1]
            params.update(layer_params(cell, w_x, *(w[k] for w in others), suffix=f"_l{k}"))
        return _call(net, params, x, states if len(states) == 2 else states[0])

    @implements("rnn.stacked/lstm", native=("torch.nn.LSTM", "torch.func.functional_call"),
                params={**LSTM_PARAMS, **_LAYERS_DRAWN})
    def stacked_lstm(self, x: Any, h0: Any, c0: Any, w_x0: Any, w_x_rest: Any, w_h: Any,
                     b: Any, *, cell: str) -> Any:
        out, (h, c) = self._stacked(x, (h0, c0), w_x0, w_x_rest, (w_h, b), "lstm")
        return out, h, c

    @implements("rnn.stacked/gru", native=("torch.nn.GRU", "torch.func.functional_call"),
                params={**GRU_PARAMS, **_LAYERS_DRAWN})
    def stacked_gru(self, x: Any, h0: Any, w_x0: Any, w_x_rest: Any, w_h: Any, b: Any,
                    b_h: Any, *, cell: str, reset: str = "after") -> Any:
        if reset != "after":
            raise ValueError("torch's GRU applies the reset gate after the product")
        return self._stacked(x, (h0,), w_x0, w_x_rest, (w_h, b, b_h), "gru")
