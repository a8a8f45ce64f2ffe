"""TensorFlow mappings of the ``rnn`` family with Keras 3 (docs/conventions/rnn.md).

Native: ``SimpleRNNCell``/``GRUCell``/``LSTMCell`` for one step, ``SimpleRNN``/``GRU``/
``LSTM`` (``return_sequences``, ``return_state``, the given ``initial_state``) for sequences,
``Bidirectional`` and ``RNN(StackedRNNCells)`` for the wrappers, ``Dense`` for output layers,
and ``tf.raw_ops.LSTMBlockCell`` / ``BlockLSTM`` (``use_peephole=True``) for the peephole LSTM,
the only peephole kernels TensorFlow 2.21 has (Keras 3 has no peephole cell). The given
weights enter through ``Layer.stateless_call`` (the layer computes with them instead of its
variables, so GradientTape and ForwardAccumulator differentiate with respect to them).
Keras is batch-major: x (T, N, F) is transposed to (N, T, F) and back. Layers are built once
per configuration and dtype (the dtype policy is the tested dtype).

Layouts (Keras kernels are (in, out), columns in gate blocks):
* SimpleRNN: kernel W_x^T, recurrent W_h^T, bias b.
* GRU: columns [z, r, h] with z = 1 - u: the u block negated, [-W_u; W_r; W_c]^T.
  reset_after=False (the notes' reset-before form, native only here): one bias (3H,);
  reset_after=True: bias (2, 3H) = [input bias; recurrent bias] (b, b_h).
* LSTM: columns [i, f, c, o] = canonical [u, f, c', o] reordered; one bias (4H,).
* LSTMBlockCell / BlockLSTM: w ((F + H), 4H) acting on [x, h], blocks [i, ci, f, o] =
  canonical [u, c', f, o]; peepholes wci, wcf, wco = p_u, p_f, p_o; forget_bias 0 and
  cell_clip -1 (no clipping): the plain peephole cell. Their kernels take float16 and
  float32 only; LSTMBlockCell has no registered gradient and BlockLSTM's gradient has none
  of its own (so no forward mode): divergences.
Composed (Keras has no such cell): the Jordan cell and the one-gate GRU, from tf.linalg.matmul,
tf.math.sigmoid and tf.math.tanh (a Python loop over time for sequences).

On a GPU, Keras' GRU and LSTM layers take cuDNN (``use_cudnn="auto"``, what users get) when
their configuration allows it (tanh/sigmoid, no recurrent dropout, reset_after=True for the
GRU); the record's device says where it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import KERAS_LORA, MATMUL, NAME

_LAYERS: dict[tuple[Any, ...], Any] = {}

_KERAS = {"activation": "fixed: tanh (the notes' candidate)",
          "recurrent_activation": "fixed: sigmoid (the notes' gates)",
          "use_bias": "fixed: True", "kernel_initializer": "fixed: zeros, unused (weights given)",
          "recurrent_initializer": "fixed: zeros, unused (weights given)",
          "bias_initializer": "fixed: zeros, unused (weights given)",
          "kernel_regularizer": "fixed: None", "recurrent_regularizer": "fixed: None",
          "bias_regularizer": "fixed: None", "kernel_constraint": "fixed: None",
          "recurrent_constraint": "fixed: None", "bias_constraint": "fixed: None",
          "dropout": "fixed: 0", "recurrent_dropout": "fixed: 0", "seed": "fixed: None",
          "units": "drawn: from w_h.shape or w_aa.shape (the hidden size)",
          "dtype": "fixed: the tested dtype"}
_LAYER = {**_KERAS, "return_sequences": "fixed: True", "return_state": "fixed: True",
          "go_backwards": "fixed: False (Bidirectional sets it)", "stateful": "fixed: False",
          "unroll": "fixed: False (the while loop users run)",
          "use_cudnn": "fixed: 'auto' (cuDNN on a GPU where allowed)",
          "activity_regularizer": "fixed: None"}
_DENSE = {"units": "drawn: from w_ya.shape or w_y.shape (the output size)",
          "use_bias": "fixed: True", "activation": "fixed: None "
          "(the output activation is applied after)", "dtype": "fixed: the tested dtype",
          **KERAS_LORA, "activity_regularizer": "fixed: None (a loss term, outside the "
          "forward value)"}
_BOTH_UNITS = "drawn: from w_aa.shape, w_ya.shape (the cell's hidden size, the Dense's)"
_WRAPPER = {"layer": "fixed: the Keras layer of the spec's one cell kind",
            "units": "drawn: from w_y.shape (the Dense; the recurrent layer's units are 2, "
            "the wrapper specs' one hidden size)"}
_STACKED = {"cell": "fixed: StackedRNNCells of the spec's one cell kind",
            "zero_output_for_mask": "fixed: False (default); no mask is passed",
            "cells": "drawn: from w_x_rest.shape (1 + its leading size cells)",
            "units": "fixed: 2, the one hidden size the stacked specs draw"}
_BLOCK = {**NAME, "forget_bias": "fixed: 0 (the oracle's forget bias is in b)",
          "cell_clip": "fixed: -1 (no clipping)", "use_peephole": "fixed: True"}
OUTPUT = {"identity": lambda z: z, "tanh": lambda z: tf.math.tanh(z),
          "sigmoid": lambda z: tf.math.sigmoid(z), "softmax": lambda z: tf.nn.softmax(z, -1)}


def _layer(kind: str, dtype: str, build_shape: tuple[Any, ...], make: Callable[[], Any],
           *key: Any) -> Any:
    k = (kind, dtype, build_shape, *key)
    if k not in _LAYERS:
        layer = make()
        layer.build(build_shape)
        _LAYERS[k] = layer
    return _LAYERS[k]


def _call(layer: Any, weights: list[Any], *args: Any, **kwargs: Any) -> Any:
    fixed = [v.value for v in layer.non_trainable_variables]  # dropout seed state, unused
    out, _ = layer.stateless_call(weights, fixed, *args, **kwargs)
    return out


def _blocks(w: Any, hidden: int, order: tuple[int, ...], negate: int | None = None) -> Any:
    parts = [w[k * hidden:(k + 1) * hidden] for k in order]
    if negate is not None:
        parts[order.index(negate)] = -parts[order.index(negate)]
    return tf.concat(parts, axis=0)


def keras_weights(cell: str, w_x: Any, w_h: Any, b: Any, b_h: Any = None) -> list[Any]:
    """[kernel, recurrent_kernel, bias] of a Keras SimpleRNN/GRU/LSTM cell."""
    hidden = w_h.shape[1]
    if cell == "simple":
        return [tf.transpose(w_x), tf.transpose(w_h), b]
    if cell == "gru":
        def gates(w: Any) -> Any:
            return _blocks(w, hidden, (0, 1, 2), negate=0)  # [z, r, h], z = -u

        bias = gates(b) if b_h is None else tf.stack([gates(b), gates(b_h)])
        return [tf.transpose(gates(w_x)), tf.transpose(gates(w_h)), bias]
    order = (0, 1, 3, 2)  # [u, f, o, c'] -> [i, f, c, o]
    return [tf.transpose(_blocks(w_x, hidden, order)), tf.transpose(_blocks(w_h, hidden, order)),
            _blocks(b, hidden, order)]


def _cls(cell: str, step: bool) -> Any:
    name = {"simple": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}[cell]
    return getattr(keras.layers, name + ("Cell" if step else ""))


# Zeros: the given weights replace the variables, and Keras' default orthogonal recurrent
# initializer has no bfloat16 QR kernel (measured: InvalidArgumentError from Qr at build).
_ZEROS = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros",
          "bias_initializer": "zeros"}


def _options(cell: str, reset_after: bool) -> dict[str, Any]:
    return {**_ZEROS, **({"reset_after": reset_after} if cell == "gru" else {})}


def _cell_layer(cell: str, x: Any, hidden: int, reset_after: bool = False) -> Any:
    dt = x.dtype.name
    return _layer(f"{cell}-cell", dt, (None, x.shape[-1]),
                  lambda: _cls(cell, True)(hidden, dtype=dt, **_options(cell, reset_after)),
                  hidden, reset_after)


def _seq_layer(cell: str, x: Any, hidden: int, reset_after: bool = False) -> Any:
    dt = x.dtype.name
    return _layer(cell, dt, (None, None, x.shape[-1]),
                  lambda: _cls(cell, False)(hidden, return_sequences=True, return_state=True,
                                            dtype=dt, **_options(cell, reset_after)),
                  hidden, reset_after)


def _dense(v: Any, w: Any, b: Any, activation: str) -> Any:
    dt = v.dtype.name
    layer = _layer("dense", dt, (None, w.shape[1]),
                   lambda: keras.layers.Dense(w.shape[0], dtype=dt, kernel_initializer="zeros"),
                   w.shape[0])
    return OUTPUT[activation](_call(layer, [tf.transpose(w), b], v))


def _batch_major(x: Any) -> Any:
    return tf.transpose(x, [1, 0, 2])


def _keras_sequence(cell: str, x: Any, states: list[Any], weights: list[Any],
                    reset_after: bool = False) -> list[Any]:
    """A Keras recurrent layer over time-major x: [outputs (T, N, H), last states...]."""
    layer = _seq_layer(cell, x, states[0].shape[-1], reset_after)
    out = _call(layer, weights, _batch_major(x), initial_state=states)
    return [_batch_major(out[0]), *out[1:]]


# --- the peephole kernels ---------------------------------------------------------------------
def _block_weights(w_x: Any, w_h: Any, b: Any, p: Any) -> dict[str, Any]:
    hidden = w_h.shape[1]
    order = (0, 3, 1, 2)  # [u, f, o, c'] -> [i, ci, f, o]
    w = tf.transpose(tf.concat([_blocks(w_x, hidden, order), _blocks(w_h, hidden, order)],
                               axis=1))
    return {"w": w, "wci": p[0], "wcf": p[1], "wco": p[2], "b": _blocks(b, hidden, order),
            "forget_bias": 0.0, "cell_clip": -1.0, "use_peephole": True}


# --- composed cells ---------------------------------------------------------------------------
def _lin(v: Any, w: Any, b: Any = None) -> Any:
    z = tf.linalg.matmul(v, w, transpose_b=True)
    return z if b is None else z + b


def jordan_step(x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any, b_y: Any,
                output_activation: str) -> Any:
    a = tf.math.tanh(_lin(x, w_ax, b_a) + _lin(y, w_ay))
    return OUTPUT[output_activation](_lin(a, w_ya, b_y)), a


def gru_simple_step(x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
    hidden = h.shape[-1]
    z = _lin(x, w_x, b) + _lin(h, w_h)
    u, c = tf.math.sigmoid(z[:, :hidden]), tf.math.tanh(z[:, hidden:])
    return u * c + (1 - u) * h


_COMPOSED = ("tf.linalg.matmul", "tf.math.sigmoid", "tf.math.tanh")
_COMPOSED_PARAMS = MATMUL  # its name covers sigmoid and tanh too (name is their one option)


def _check_tanh(activation: str) -> None:
    if activation != "tanh":
        raise ValueError("the specs draw tanh hidden units only")


class RnnOps:
    # --- cells ---------------------------------------------------------------------------------
    @implements("rnn.elman_cell", native=("keras.layers.SimpleRNNCell", "keras.layers.Dense"),
                params={**_KERAS, **_DENSE, "units": _BOTH_UNITS})
    def elman_cell(self, x: Any, a: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any, b_y: Any,
                   *, activation: str = "tanh", output_activation: str = "identity") -> Any:
        _check_tanh(activation)
        layer = _cell_layer("simple", x, a.shape[-1])
        a_new, _ = _call(layer, keras_weights("simple", w_ax, w_aa, b_a), x, [a])
        return _dense(a_new, w_ya, b_y, output_activation), a_new

    @implements("rnn.jordan_cell", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def jordan_cell(self, x: Any, y: Any, w_ax: Any, w_ay: Any, b_a: Any, w_ya: Any,
                    b_y: Any, *, activation: str = "tanh",
                    output_activation: str = "identity") -> Any:
        _check_tanh(activation)
        return jordan_step(x, y, w_ax, w_ay, b_a, w_ya, b_y, output_activation)

    @implements("rnn.gru_simple", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def gru_simple(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        return gru_simple_step(x, h, w_x, w_h, b)

    @implements("rnn.gru", native="keras.layers.GRUCell",
                params={**_KERAS, "reset_after": "fixed: False (the notes' reset-before form)"})
    def gru_reset_before(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                         *, reset: str = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("GRUCell(reset_after=False) is the one-bias reset-before GRU")
        layer = _cell_layer("gru", x, h.shape[-1], reset_after=False)
        h_new, _ = _call(layer, keras_weights("gru", w_x, w_h, b), x, [h])
        return h_new

    @implements("rnn.gru/reset_after", native="keras.layers.GRUCell",
                params={**_KERAS, "reset_after": "fixed: True (this variant)"})
    def gru_reset_after(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                        *, reset: str = "after") -> Any:
        if reset != "after" or b_h is None:
            raise ValueError("GRUCell(reset_after=True) is the two-bias reset-after GRU")
        layer = _cell_layer("gru", x, h.shape[-1], reset_after=True)
        h_new, _ = _call(layer, keras_weights("gru", w_x, w_h, b, b_h), x, [h])
        return h_new

    @implements("rnn.lstm", native="keras.layers.LSTMCell",
                params={**_KERAS, "unit_forget_bias": "fixed: unused (initialisation only)"})
    def lstm(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any) -> Any:
        layer = _cell_layer("lstm", x, h.shape[-1])
        _, (h_new, c_new) = _call(layer, keras_weights("lstm", w_x, w_h, b), x, [h, c])
        return h_new, c_new

    @implements("rnn.lstm_peephole", native="tf.raw_ops.LSTMBlockCell", params=_BLOCK)
    def lstm_peephole(self, x: Any, h: Any, c: Any, w_x: Any, w_h: Any, b: Any,
                      p: Any) -> Any:
        out = tf.raw_ops.LSTMBlockCell(x=x, cs_prev=c, h_prev=h, **_block_weights(w_x, w_h, b, p))
        return out.h, out.cs

    # --- sequences -------------------------------------------------------------------------
    @implements("rnn.sequence/elman", native=("keras.layers.SimpleRNN", "keras.layers.Dense"),
                params={**_LAYER, **_DENSE, "units": _BOTH_UNITS})
    def sequence_elman(self, x: Any, a0: Any, w_ax: Any, w_aa: Any, b_a: Any, w_ya: Any,
                       b_y: Any, *, cell: str, activation: str = "tanh",
                       output_activation: str = "identity") -> Any:
        _check_tanh(activation)
        out, a = _keras_sequence("simple", x, [a0], keras_weights("simple", w_ax, w_aa, b_a))
        return _dense(out, w_ya, b_y, output_activation), a

    @implements("rnn.sequence/jordan", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_jordan(self, x: Any, y0: Any, *w: Any, cell: str, activation: str = "tanh",
                        output_activation: str = "identity") -> Any:
        _check_tanh(activation)
        ys, y = [], y0
        for t in range(x.shape[0]):
            y, _ = jordan_step(x[t], y, *w, output_activation)
            ys.append(y)
        return tf.stack(ys), y

    @implements("rnn.sequence/gru_simple", composed=True, native=_COMPOSED,
                params=_COMPOSED_PARAMS)
    def sequence_gru_simple(self, x: Any, h0: Any, *w: Any, cell: str) -> Any:
        hs, h = [], h0
        for t in range(x.shape[0]):
            h = gru_simple_step(x[t], h, *w)
            hs.append(h)
        return tf.stack(hs), h

    @implements("rnn.sequence/gru", native="keras.layers.GRU",
                params={**_LAYER, "reset_after": "fixed: False (the notes' reset-before form)"})
    def sequence_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None, *,
                     cell: str, reset: str = "before") -> Any:
        if reset != "before" or b_h is not None:
            raise ValueError("GRU(reset_after=False) is the one-bias reset-before GRU")
        return _keras_sequence("gru", x, [h0], keras_weights("gru", w_x, w_h, b))

    @implements("rnn.sequence/gru_reset_after", native="keras.layers.GRU",
                params={**_LAYER, "reset_after": "fixed: True (this variant)"})
    def sequence_gru_reset_after(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any,
                                 b_h: Any = None, *, cell: str, reset: str = "after") -> Any:
        if reset != "after" or b_h is None:
            raise ValueError("GRU(reset_after=True) is the two-bias reset-after GRU")
        return _keras_sequence("gru", x, [h0], keras_weights("gru", w_x, w_h, b, b_h), True)

    @implements("rnn.sequence/lstm", native="keras.layers.LSTM",
                params={**_LAYER, "unit_forget_bias": "fixed: unused (initialisation only)"})
    def sequence_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any, *,
                      cell: str) -> Any:
        return _keras_sequence("lstm", x, [h0, c0], keras_weights("lstm", w_x, w_h, b))

    @implements("rnn.sequence/lstm_peephole", native="tf.raw_ops.BlockLSTM",
                params={**_BLOCK, "seq_len_max": "fixed: T (every sequence is full length)"})
    def sequence_lstm_peephole(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any,
                               p: Any, *, cell: str) -> Any:
        out = tf.raw_ops.BlockLSTM(seq_len_max=tf.constant(x.shape[0], tf.int64), x=x,
                                   cs_prev=c0, h_prev=h0, **_block_weights(w_x, w_h, b, p))
        return out.h, out.h[-1], out.cs[-1]

    # --- wrappers ----------------------------------------------------------------------------
    def _bidirectional(self, cell: str, x: Any, states: list[Any], weights: list[Any],
                       w_y: Any, b_y: Any, reset_after: bool) -> Any:
        dt, hidden = x.dtype.name, states[0].shape[-1]

        def make() -> Any:
            inner = _cls(cell, False)(hidden, return_sequences=True, return_state=True,
                                      dtype=dt, **_options(cell, reset_after))
            return keras.layers.Bidirectional(inner, merge_mode="concat", dtype=dt)

        layer = _layer(f"bi-{cell}", dt, (None, None, x.shape[-1]), make, hidden, reset_after)
        flat = [keras_weights(cell, *(w[d] for w in weights)) for d in (0, 1)]
        init = [s[d] for d in (0, 1) for s in states]  # [fwd states..., bwd states...]
        out = _call(layer, flat[0] + flat[1], _batch_major(x), initial_state=init)
        hidden_seq = _batch_major(out[0])
        n = len(states)
        last = [tf.stack([out[1 + k], out[1 + n + k]]) for k in range(n)]
        return _dense(hidden_seq, w_y, b_y, "identity"), hidden_seq, *last

    @implements("rnn.bidirectional/lstm", native=("keras.layers.Bidirectional", "keras.layers.LSTM",
                                             "keras.layers.Dense"),
                params={**_LAYER, **_DENSE, **_WRAPPER, "backward_layer": "fixed: "
                        "None (a copy of layer with go_backwards)",
                        "unit_forget_bias": "fixed: unused (initialisation only)",
                        "merge_mode": "fixed: 'concat' ([forward, backward], the notes')",
                        "weights": "fixed: None (given through stateless_call)"})
    def bidirectional_lstm(self, x: Any, h0: Any, c0: Any, w_x: Any, w_h: Any, b: Any,
                           w_y: Any, b_y: Any, *, cell: str,
                           output_activation: str = "identity") -> Any:
        if output_activation != "identity":
            raise ValueError("the specs draw the identity output layer")
        return self._bidirectional("lstm", x, [h0, c0], [w_x, w_h, b], w_y, b_y, False)

    @implements("rnn.bidirectional/gru", native=("keras.layers.Bidirectional",
                                                 "keras.layers.GRU", "keras.layers.Dense"),
                params={**_LAYER, **_DENSE, **_WRAPPER, "backward_layer": "fixed: None",
                        "merge_mode": "fixed: 'concat'", "weights": "fixed: None",
                        "reset_after": "fixed: True (this variant)"})
    def bidirectional_gru(self, x: Any, h0: Any, w_x: Any, w_h: Any, b: Any, b_h: Any,
                          w_y: Any, b_y: Any, *, cell: str, reset: str = "after",
                          output_activation: str = "identity") -> Any:
        if reset != "after" or output_activation != "identity":
            raise ValueError("the reset-after GRU with the identity output layer")
        return self._bidirectional("gru", x, [h0], [w_x, w_h, b, b_h], w_y, b_y, True)

    def _stacked(self, cell: str, x: Any, states: list[Any], w_x0: Any, w_x_rest: Any,
                 others: list[Any], reset_after: bool) -> Any:
        dt, layers, hidden = x.dtype.name, states[0].shape[0], states[0].shape[-1]

        def make() -> Any:
            cells = [_cls(cell, True)(hidden, dtype=dt, **_options(cell, reset_after))
                     for _ in range(layers)]
            return keras.layers.RNN(keras.layers.StackedRNNCells(cells, dtype=dt),
                                    return_sequences=True, return_state=True, dtype=dt)

        layer = _layer(f"stack-{cell}", dt, (None, None, x.shape[-1]), make, hidden, layers,
                       reset_after)
        flat: list[Any] = []
        for k in range(layers):
            flat += keras_weights(cell, w_x0 if k == 0 else w_x_rest[k - 1],
                                  *(w[k] for w in others))
        init = [[s[k] for s in states] for k in range(layers)]
        out = _call(layer, flat, _batch_major(x), initial_state=init)
        finals = [list(f) if isinstance(f, (list, tuple)) else [f] for f in out[1:]]
        last = [tf.stack([f[j] for f in finals]) for j in range(len(states))]
        return (_batch_major(out[0]), *last)

    @implements("rnn.stacked/lstm", native=("keras.layers.RNN", "keras.layers.StackedRNNCells",
                                       "keras.layers.LSTMCell"),
                params={**_LAYER, **_STACKED,
                        "unit_forget_bias": "fixed: unused (initialisation only)"})
    def stacked_lstm(self, x: Any, h0: Any, c0: Any, w_x0: Any, w_x_rest: Any, w_h: Any,
                     b: Any, *, cell: str) -> Any:
        return self._stacked("lstm", x, [h0, c0], w_x0, w_x_rest, [w_h, b], False)

    @implements("rnn.stacked/gru", native=("keras.layers.RNN", "keras.layers.StackedRNNCells",
                                           "keras.layers.GRUCell"),
                params={**_LAYER, **_STACKED,
                        "reset_after": "fixed: True (this variant)"})
    def stacked_gru(self, x: Any, h0: Any, w_x0: Any, w_x_rest: Any, w_h: Any, b: Any,
                    b_h: Any, *, cell: str, reset: str = "after") -> Any:
        if reset != "after":
            raise ValueError("the reset-after GRU")
        return self._stacked("gru", x, [h0], w_x0, w_x_rest, [w_h, b, b_h], True)
