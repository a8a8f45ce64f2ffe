"""JAX mappings of the ``rnn`` family with flax.linen (docs/conventions/rnn.md).

Native: ``SimpleCell`` (Elman), ``MGUCell(reset_gate=False)`` (the one-gate GRU),
``GRUCell`` (reset after), ``LSTMCell``, ``OptimizedLSTMCell``, ``RNN`` (time-major, with
the given initial carry), ``Bidirectional``, and ``Dense`` for output layers; every module is
applied to a params dict built from the canonical weights (``module.apply({"params": ...})``,
never ``init``), so jax.vjp / jax.jvp differentiate with respect to them. Modules take
``param_dtype`` and ``dtype`` = the tested dtype (flax's float32 default would promote, and
``nn.RNN``'s scan rejects a float32/float64 carry mix). Flax Dense kernels are (in, out): the
transpose of the canonical (out, in).
* Elman: ``i`` = (W_ax^T, b_a), ``h`` = W_aa^T (no bias).
* One-gate GRU: f = 1 - u, so ``if`` = (-W_ux^T, -b_u), ``hf`` = -W_uh^T; ``in`` =
  (W_cx^T, b_c), ``hn`` = W_ch^T (no bias without the reset gate).
* GRU (reset after): z = 1 - u: ``iz`` = (-W_ux^T, -(b_u + b_hu)), ``hz`` = -W_uh^T;
  ``ir`` = (W_rx^T, b_r + b_hr), ``hr`` = W_rh^T; ``in`` = (W_cx^T, b_c), ``hn`` =
  (W_ch^T, b_hc), which stays inside r * (...).
* LSTM: gates [u, f, o, c'] -> Flax's i, f, o, g: ``ii``/``if``/``io``/``ig`` = W_x blocks^T
  (no bias), ``hi``/``hf``/``ho``/``hg`` = (W_h blocks^T, b blocks); the carry is (c, h).
Composed (no Flax cell): the Jordan cell, the reset-before GRU and the peephole LSTM, from
jnp.dot / jax.nn.sigmoid / jnp.tanh, unrolled by ``lax.scan``. Stacked layers: one
``nn.RNN`` per layer, each fed the one below (Flax has no multi-layer RNN module).

Each mapping is one ``jax.jit`` per op and static keywords (cell, activations), so a shape
compiles once, not once per primitive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.base import LazyModule, implements
from adapters.jax._lazy import jax, jnp, lax
from adapters.jax._params import FLAX_MODULE, MATMUL, SCAN

nn = LazyModule("flax.linen", extra="jax")

_JITTED: dict[tuple[Any, ...], Callable[..., Any]] = {}

_MODULE = {**FLAX_MODULE, "param_dtype": "fixed: the tested dtype",
           "dtype": "fixed: the tested dtype",
           "kernel_init": "fixed: unused (the given weights are applied)",
           "recurrent_kernel_init": "fixed: unused (the given weights are applied)",
           "bias_init": "fixed: unused (the given weights are applied)",
           "carry_init": "fixed: unused (the initial state is given)"}
_GATES = {"gate_fn": "fixed: sigmoid (the notes' gates)",
          "activation_fn": "fixed: tanh (the notes' candidate)"}
_RNN = {"cell": "fixed: the flax cell of the spec's one cell kind",
        "time_major": "fixed: True (the canonical (T, N, F))",
        "return_carry": "fixed: True (the last state is an output)",
        "reverse": "fixed: False (Bidirectional sets it for the backward pass)",
        "keep_order": "fixed: False (Bidirectional sets it for the backward pass)",
        "unroll": "fixed: 1 (default scan)", "variable_axes": "fixed: default",
        "variable_broadcast": "fixed: default ('params')", "variable_carry": "fixed: default",
        "split_rngs": "fixed: default (no randomness)"}
_HIDDEN = "drawn: from w_h.shape (the hidden size)"
_WRAPPED = "fixed: RNN(cell) of the spec's one cell kind"
_DENSE = {"features": "drawn: from w_ya.shape or w_y.shape (the output size)",
          "use_bias": "fixed: True (b_y)", "precision": "fixed: None "
          "(jax_default_matmul_precision is 'highest' in strict mode)", **_MODULE,
          "promote_dtype": "fixed: default; inputs and params share the tested dtype",
          "dot_general": "fixed: None, lax.dot_general", "dot_general_cls": "fixed: None"}


def _jit(name: str, fn: Callable[..., Any], **static: Any) -> Callable[..., Any]:
    key = (name, tuple(sorted(static.items())))
    if key not in _JITTED:
        _JITTED[key] = jax.jit(lambda *a: fn(*a, **static))
    return _JITTED[key]


def _dt(x: Any) -> dict[str, Any]:
    return {"param_dtype": x.dtype, "dtype": x.dtype}


def _out(z: Any, activation: str) -> Any:
    if activation == "softmax":
        return jax.nn.softmax(z, axis=-1)
    return {"identity": lambda v: v, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}[activation](z)


def _dense(v: Any, w: Any, b: Any, activation: str) -> Any:
    dense = nn.Dense(w.shape[0], **_dt(v))
    return _out(dense.apply({"params": {"kernel": w.T, "bias": b}}, v), activation)


def _rows(w: Any, k: int, hidden: int) -> Any:
    return w[k * hidden:(k + 1) * hidden]


# --- canonical weights -> Flax params trees ----------------------------------------------------
def simple_params(w_x: Any, w_h: Any, b: Any) -> dict[str, Any]:
    return {"i": {"kernel": w_x.T, "bias": b}, "h": {"kernel": w_h.T}}


def mgu_params(w_x: Any, w_h: Any, b: Any) -> dict[str, Any]:
    hid = w_h.shape[1]
    return {"if": {"kernel": -_rows(w_x, 0, hid).T, "bias": -_rows(b, 0, hid)},
            "hf": {"kernel": -_rows(w_h, 0, hid).T},
            "in": {"kernel": _rows(w_x, 1, hid).T, "bias": _rows(b, 1, hid)},
            "hn": {"kernel": _rows(w_h, 1, hid).T}}


def gru_params(w_x: Any, w_h: Any, b: Any, b_h: Any) -> dict[str, Any]:
    hid = w_h.shape[1]
    u, r, c = (0, 1, 2)
    return {"iz": {"kernel": -_rows(w_x, u, hid).T, "bias": -(_rows(b, u, hid)
                                                              + _rows(b_h, u, hid))},
            "hz": {"kernel": -_rows(w_h, u, hid).T},
            "ir": {"kernel": _rows(w_x, r, hid).T, "bias": _rows(b, r, hid)
                   + _rows(b_h, r, hid)},
            "hr": {"kernel": _rows(w_h, r, hid).T},
            "in": {"kernel": _rows(w_x, c, hid).T, "bias": _rows(b, c, hid)},
            "hn": {"kernel": _rows(w_h, c, hid).T, "bias": _rows(b_h, c, hid)}}


def lstm_params(w_x: Any, w_h: Any, b: Any) -> dict[str, Any]:
    hid = w_h.shape[1]
    out: dict[str, Any] = {}
    for k, gate in enumerate("ifog"):  # canonical [u, f, o, c'] = Flax i, f, o, g
        out[f"i{gate}"] = {"kernel": _rows(w_x, k, hid).T}
        out[f"h{gate}"] = {"kernel": _rows(w_h, k, hid).T, "bias": _rows(b, k, hid)}
    return out


CELLS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "simple": ("SimpleCell", simple_params), "gru_simple": ("MGUCell", mgu_params),
    "gru": ("GRUCell", gru_params), "lstm": ("LSTMCell", lstm_params),
    "optimized_lstm": ("OptimizedLSTMCell", lstm_params),
}


def _cell(kind: str, hidden: int, like: Any) -> Any:
    options = {"reset_gate": False} if kind == "gru_simple" else {}
    return getattr(nn, CELLS[kind][0])(hidden, **_dt(like), **options)


def _carry(states: tuple[Any, ...]) -> Any:
    """Canonical states -> Flax carry: (h, c) -> (c, h); one state as itself."""
    return (states[1], states[0]) if len(states) == 2 else states[0]


def _states(carry: Any) -> tuple[Any, ...]:
    return (carry[1], carry[0]) if isinstance(carry, tuple) else (carry,)


def _rnn(kind: str, x: Any, states: tuple[Any, ...], weights: tuple[Any, ...]) -> Any:
    """nn.RNN(cell) over time-major x from the given states: (outputs, last states...)."""
    rnn = nn.RNN(_cell(kind, states[0].shape[-1], x), time_major=True, return_carry=True)
    carry, out = rnn.apply({"params": {"cell": CELLS[kind][1](*weights)}}, x,
                           initial_carry=_carry(states))
    return (out, *_states(carry))


# --- composed cells ---------------------------------------------------------------------------
def _lin(v: Any, w: Any, b: Any = None) -> Any:
    z = jnp.dot(v, w.T)
    return z if b is None else z + b


def jordan_step(x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any,
                output_activation: str) -> tuple[Any, Any]:
    a = jnp.tanh(_lin(x, w_ax, b_a) + _lin(y, w_ay))
    return _out(_lin(a, w_ya, b_y), output_activation), a


def gru_before_step(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    hid = h.shape[-1]
    zx = _lin(x, w_x, b)
    ur = jax.nn.sigmoid(zx[:, :2 * hid] + _lin(h, w_h[:2 * hid]))
    u, r = ur[:, :hid], ur[:, hid:]
    c = jnp.tanh(zx[:, 2 * hid:] + _lin(r * h, w_h[2 * hid:]))
    return u * c + (1 - u) * h


def peephole_step(x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any,
                  p: Any) -> tuple[Any, Any]:
    hid = h.shape[-1]
    z = _lin(x, w_x, b) + _lin(h, w_h)
    u = jax.nn.sigmoid(z[:, :hid] + p[0] * c)
    f = jax.nn.sigmoid(z[:, hid:2 * hid] + p[1] * c)
    c_new = u * jnp.tanh(z[:, 3 * hid:]) + f * c
    return jax.nn.sigmoid(z[:, 2 * hid:3 * hid] + p[2] * c_new) * jnp.tanh(c_new), c_new


def _scan(step: Callable[..., tuple[Any, Any]], x: Any, carry: Any) -> tuple[Any, Any]:
    """lax.scan of step(carry, x_t) -> (carry, output): (outputs (T, ...), last carry)."""
    last, outs = lax.scan(step, carry, x)
    return outs, last


def _elman_cell(x: Any, a: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any,
                output_activation: Any) -> Any:
    cell = _cell("simple", a.shape[-1], x)
    a_new, _ = cell.apply({"params": simple_params(w_ax, w_aa, b_a)}, a, x)
    return _dense(a_new, w_ya, b_y, output_activation), a_new


def _native_cell(kind: str):
    def run(x: Any, *args: Any) -> Any:
        n = 2 if kind in ("lstm", "optimized_lstm") else 1
        cell = _cell(kind, args[0].shape[-1], x)
        carry, _ = cell.apply({"params": CELLS[kind][1](*args[n:])}, _carry(args[:n]), x)
        states = _states(carry)
        return states if n == 2 else states[0]

    return run


def _sequence_elman(x: Any, a0: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any,
                    output_activation: Any) -> Any:
    out, a = _rnn("simple", x, (a0,), (w_ax, w_aa, b_a))
    return _dense(out, w_ya, b_y, output_activation), a


def _sequence_jordan(x: Any, y0: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any,
                     output_activation: Any) -> Any:
    def step(y: Any, xt: Any) -> Any:
        y_new, _ = jordan_step(xt, y, w_ax, w_ay, b_a, w_ya, b_y, output_activation)
        return y_new, y_new

    return _scan(step, x, y0)


def _sequence_gru_before(x: Any, h0: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    def step(h: Any, xt: Any) -> Any:
        h = gru_before_step(xt, h, w_x, w_h, b)
        return h, h

    return _scan(step, x, h0)


def _sequence_peephole(x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, p: Any) -> Any:
    def step(hc: Any, xt: Any) -> Any:
        h, c = peephole_step(xt, *hc, w_x, w_h, b, p)
        return (h, c), h

    outs, (h, c) = _scan(step, x, (h0, c0))
    return outs, h, c


def _bidirectional(kind: Any, x: Any, *args: Any) -> Any:
    """nn.Bidirectional(nn.RNN(cell), nn.RNN(cell)) then Dense over [a_fwd, a_bwd]."""
    n = 2 if kind == "lstm" else 1
    states, weights, (w_y, b_y) = args[:n], args[n:-2], args[-2:]
    hidden = states[0].shape[-1]
    bi = nn.Bidirectional(nn.RNN(_cell(kind, hidden, x)), nn.RNN(_cell(kind, hidden, x)),
                          time_major=True, return_carry=True)
    params = {f"{d}_rnn": {"cell": CELLS[kind][1](*(w[i] for w in weights))}
              for i, d in enumerate(("forward", "backward"))}
    carry = (_carry(tuple(s[0] for s in states)), _carry(tuple(s[1] for s in states)))
    (fwd, bwd), hidden_seq = bi.apply({"params": params}, x, initial_carry=carry)
    last = [jnp.stack([f, b]) for f, b in zip(_states(fwd), _states(bwd))]
    return (_dense(hidden_seq, w_y, b_y, "identity"), hidden_seq, *last)


def _stacked(kind: Any, x: Any, *args: Any) -> Any:
    n = 2 if kind == "optimized_lstm" else 1
    states, w_x0, w_x_rest, rest = args[:n], args[n], args[n + 1], args[n + 2:]
    inp, finals = x, []
    for layer in range(states[0].shape[0]):
        w_x = w_x0 if layer == 0 else w_x_rest[layer - 1]
        out = _rnn(kind, inp, tuple(s[layer] for s in states), (w_x, *(w[layer] for w in rest)))
        inp, finals = out[0], finals + [out[1:]]
    return (inp, *(jnp.stack([f[k] for f in finals]) for k in range(n)))


def _natives(*classes: str) -> tuple[str, ...]:
    return tuple(f"flax.linen.{c}" for c in classes)


_COMPOSED = ("jax.numpy.dot", "jax.nn.sigmoid", "jax.numpy.tanh", "jax.lax.scan")
_COMPOSED_PARAMS = {**MATMUL, **SCAN}
_CELL_PARAMS = MATMUL


class RnnOps:
    # --- cells ---------------------------------------------------------------------------------
    @implements("rnn.elman_cell", native=_natives("SimpleCell", "Dense"),
                params={**_MODULE, "residual": "fixed: False",
                        "activation_fn": "fixed: tanh (relu's kink is not drawn)", **_DENSE,
                        "features": "drawn: from w_aa.shape, w_ya.shape (the cell's hidden "
                        "size, the output layer's)"})
    def elman_cell(self, x, a, w_ax, w_aa, b_a, w_ya, b_y, *, activation="tanh",
                   output_activation="identity"):
        if activation != "tanh":
            raise ValueError("the specs draw tanh hidden units only")
        return _jit("elman", _elman_cell, output_activation=output_activation)(
            x, a, w_ax, w_aa, b_a, w_ya, b_y)

    @implements("rnn.jordan_cell", composed=True, native=_COMPOSED[:3],
                params=_CELL_PARAMS)
    def jordan_cell(self, x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any, *,
                    activation: Any = "tanh", output_activation: Any = "identity") -> Any:
        if activation != "tanh":
            raise ValueError("the specs draw tanh hidden units only")
        return _jit("jordan", jordan_step, output_activation=output_activation)(
            x, y, w_ax, w_ay, b_a, w_ya, b_y)

    @implements("rnn.gru_simple", native=_natives("MGUCell"),
                params={**_MODULE, **_GATES, "features": _HIDDEN,
                        "reset_gate": "fixed: False (the one-gate GRU)",
                        "forget_bias_init": "fixed: unused (the given bias is applied)",
                        "activation_bias_init": "fixed: unused (the given bias is applied)"})
    def gru_simple(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        return _jit("mgu", _native_cell("gru_simple"))(x, h, w_x, w_h, b)

    @implements("rnn.gru", composed=True, native=_COMPOSED[:3],
                params=_CELL_PARAMS)
    def gru_reset_before(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
                         reset: Any = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("this mapping is the one-bias reset-before GRU")
        return _jit("gru_before", gru_before_step)(x, h, w_x, w_h, b)

    @implements("rnn.gru/reset_after", native=_natives("GRUCell"),
                params={**_MODULE, **_GATES, "features": _HIDDEN})
    def gru_reset_after(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
                        reset: Any = "after") -> Any:
        if reset != "after" or b_h is None:
            raise ValueError("Flax's GRUCell is the two-bias reset-after GRU")
        return _jit("gru", _native_cell("gru"))(x, h, w_x, w_h, b, b_h)

    @implements("rnn.lstm", native=_natives("LSTMCell"),
                params={**_MODULE, **_GATES, "features": _HIDDEN})
    def lstm(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        return _jit("lstm", _native_cell("lstm"))(x, h, c, w_x, w_h, b)

    @implements("rnn.lstm_peephole", composed=True, native=_COMPOSED[:3],
                params=_CELL_PARAMS)
    def lstm_peephole(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any, p: Any) -> Any:
        return _jit("peephole", peephole_step)(x, h, c, w_x, w_h, b, p)

    # --- sequences -------------------------------------------------------------------------
    @implements("rnn.sequence/elman", native=_natives("RNN", "SimpleCell", "Dense"),
                params={**_RNN, **_MODULE, "residual": "fixed: False",
                        "activation_fn": "fixed: tanh", **_DENSE,
                        "features": "drawn: from w_aa.shape, w_ya.shape (the cell's hidden "
                        "size, the output layer's)"})
    def sequence_elman(self, x: Any, a0: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any,
                       *, cell: Any, activation: Any = "tanh",
                       output_activation: Any = "identity") -> Any:
        if activation != "tanh":
            raise ValueError("the specs draw tanh hidden units only")
        return _jit("seq_elman", _sequence_elman, output_activation=output_activation)(
            x, a0, w_ax, w_aa, b_a, w_ya, b_y)

    @implements("rnn.sequence/jordan", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_jordan(self, x: Any, y0: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any,
                        *, cell: Any, activation: Any = "tanh",
                        output_activation: Any = "identity") -> Any:
        if activation != "tanh":
            raise ValueError("the specs draw tanh hidden units only")
        return _jit("seq_jordan", _sequence_jordan, output_activation=output_activation)(
            x, y0, w_ax, w_ay, b_a, w_ya, b_y)

    @implements("rnn.sequence/gru_simple", native=_natives("RNN", "MGUCell"),
                params={**_RNN, **_MODULE, **_GATES, "features": _HIDDEN,
                        "reset_gate": "fixed: False (the one-gate GRU)",
                        "forget_bias_init": "fixed: unused",
                        "activation_bias_init": "fixed: unused"})
    def sequence_gru_simple(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, *, cell: Any) -> Any:
        return _jit("seq_mgu", lambda *a: _rnn("gru_simple", a[0], (a[1],), a[2:]))(
            x, h0, w_x, w_h, b)

    @implements("rnn.sequence/gru", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
                     cell: Any, reset: Any = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("this mapping is the one-bias reset-before GRU")
        return _jit("seq_gru_before", _sequence_gru_before)(x, h0, w_x, w_h, b)

    @implements("rnn.sequence/gru_reset_after", native=_natives("RNN", "GRUCell"),
                params={**_RNN, **_MODULE, **_GATES, "features": _HIDDEN})
    def sequence_gru_reset_after(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                                 *, cell: Any, reset: Any = "after") -> Any:
        if reset != "after" or b_h is None:
            raise ValueError("Flax's GRUCell is the two-bias reset-after GRU")
        return _jit("seq_gru", lambda *a: _rnn("gru", a[0], (a[1],), a[2:]))(
            x, h0, w_x, w_h, b, b_h)

    @implements("rnn.sequence/lstm", native=_natives("RNN", "OptimizedLSTMCell"),
                params={**_RNN, **_MODULE, **_GATES, "features": _HIDDEN})
    def sequence_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, *,
                      cell: Any) -> Any:
        return _jit("seq_lstm", lambda *a: _rnn("optimized_lstm", a[0], a[1:3], a[3:]))(
            x, h0, c0, w_x, w_h, b)

    @implements("rnn.sequence/lstm_peephole", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_lstm_peephole(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, p: Any,
                               *, cell: Any) -> Any:
        return _jit("seq_peephole", _sequence_peephole)(x, h0, c0, w_x, w_h, b, p)

    # --- wrappers ----------------------------------------------------------------------------
    @implements("rnn.bidirectional/lstm", native=_natives("Bidirectional", "RNN", "LSTMCell",
                                                     "Dense"),
                params={**_RNN, **_MODULE, **_GATES, **_DENSE,
                        "features": "drawn: from w_y.shape (the Dense; the cells' features "
                        "are 2, the wrapper specs' one hidden size)",
                        "forward_rnn": _WRAPPED, "backward_rnn": _WRAPPED,
                        "merge_fn": "fixed: concatenate [forward, backward] (the notes')"})
    def bidirectional_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, w_y: Any,
                           b_y: Any, *, cell: Any, output_activation: Any = "identity") -> Any:
        if output_activation != "identity":
            raise ValueError("the specs draw the identity output layer")
        return _jit("bi_lstm", lambda *a: _bidirectional("lstm", *a))(
            x, h0, c0, w_x, w_h, b, w_y, b_y)

    @implements("rnn.bidirectional/gru", native=_natives("Bidirectional", "RNN", "GRUCell",
                                                         "Dense"),
                params={**_RNN, **_MODULE, **_GATES, **_DENSE,
                        "features": "drawn: from w_y.shape (the Dense; the cells' features "
                        "are 2, the wrapper specs' one hidden size)",
                        "forward_rnn": _WRAPPED, "backward_rnn": _WRAPPED,
                        "merge_fn": "fixed: concatenate [forward, backward] (the notes')"})
    def bidirectional_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any, w_y: Any,
                          b_y: Any, *, cell: Any, reset: Any = "after",
                          output_activation: Any = "identity") -> Any:
        if reset != "after" or output_activation != "identity":
            raise ValueError("the reset-after GRU with the identity output layer")
        return _jit("bi_gru", lambda *a: _bidirectional("gru", *a))(
            x, h0, w_x, w_h, b, b_h, w_y, b_y)

    @implements("rnn.stacked/lstm", native=_natives("RNN", "OptimizedLSTMCell"),
                params={**_RNN, **_MODULE, **_GATES,
                        "features": "fixed: 2, the one hidden size the stacked specs "
                        "draw"})
    def stacked_lstm(self, x: Any, h0: Any, c0: Any, w_x0: Any, w_x_rest: Any, w_h: Any, b: Any, *,
                     cell: Any) -> Any:
        return _jit("stack_lstm", lambda *a: _stacked("optimized_lstm", *a))(
            x, h0, c0, w_x0, w_x_rest, w_h, b)

    @implements("rnn.stacked/gru", native=_natives("RNN", "GRUCell"),
                params={**_RNN, **_MODULE, **_GATES,
                        "features": "fixed: 2, the one hidden size the stacked specs "
                        "draw"})
    def stacked_gru(self, x: Any, h0: Any, w_x0: Any, w_x_rest: Any, w_h: Any, b: Any, b_h: Any, *,
                    cell: Any, reset: Any = "after") -> Any:
        if reset != "after":
            raise ValueError("Flax's GRUCell is the reset-after GRU")
        return _jit("stack_gru", lambda *a: _stacked("gru", *a))(
            x, h0, w_x0, w_x_rest, w_h, b, b_h)
