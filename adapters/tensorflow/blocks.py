"""TensorFlow mappings of the ``block`` family, built from Keras 3 layers.

Keras has no residual or Inception layer, so each block is composed from
keras.layers Conv2D / ReLU / MaxPooling2D / ZeroPadding2D / Flatten / Dense /
Concatenate / Add, channels-last inside (NCHW in and out, transposed at the block's
boundary). The given weights enter through ``Layer.stateless_call(trainable_variables,
non_trainable_variables, x)``, Keras' own way to run a layer on given variable values:
the layer reads them instead of its variables, so GradientTape and ForwardAccumulator
differentiate with respect to the given tensors (assigning them to the layer's variables
would cut the tape). Kernels map OIHW -> HWIO, dense (out, in) -> (in, out). Layers are
built once per configuration and dtype (Keras dtype policy = the tested dtype) and cached.

'Same' convolutions: Conv2D(padding='same') at stride 1 (symmetric k // 2 for odd k);
at stride 2 Keras' 'same' pads (0, 1) on even sizes where the oracle (torch) pads (1, 1),
so strided convolutions use ZeroPadding2D(k // 2) + Conv2D('valid'), as Keras' ResNet does.
Inception's pool is MaxPooling2D(3, 1, 'same'): TF's max pool never picks the padding.
Flatten on NHWC yields (h, w, c) order: the dense kernel's rows are permuted from the
oracle's (c, h, w) columns, w_nhwc[:, (h*W + w')*C + c] = w[:, (c*H + h)*W + w'].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import KERAS_DENSE, KERAS_WEIGHTS, NAME
from adapters.tensorflow.conv import channels_first, channels_last

_LAYERS: dict[tuple[Any, ...], Any] = {}


# Conv2D with the given OIHW weights transposed to HWIO, on channels-last inputs.
_CONV_PARAMS = {**KERAS_WEIGHTS, **NAME, "data_format": "fixed: channels_last, Keras' "
                "default (the NCHW input is transposed)",
                "dilation_rate": "fixed: 1 (default)", "groups": "fixed: 1 (default)",
                "activation": "fixed: None (ReLU is its own layer)",
                "use_bias": "fixed: True where b is given (the specs always draw it; the "
                "projection shortcut has none)"}
_RELU = {"max_value": "fixed: None (default)", "negative_slope": "fixed: 0 (default)",
         "threshold": "fixed: 0 (default)"}


def _layer(key: tuple[Any, ...], make: Callable[[], Any], shape: tuple[int, ...]) -> Any:
    """A built Keras layer per (configuration, input shape, dtype), cached."""
    key = key + (tuple(shape),)
    if key not in _LAYERS:
        layer = make()
        layer.build((None, *shape[1:]))
        _LAYERS[key] = layer
    return _LAYERS[key]


def _conv(x: Any, w: Any, b: Any, stride: int = 1) -> Any:
    """Conv2D on channels-last x with OIHW w, symmetric padding k // 2."""
    k, c_out, dt = w.shape[2], w.shape[0], x.dtype.name
    if stride > 1 and k > 1:
        pad = _layer(("pad", k // 2, dt), lambda: keras.layers.ZeroPadding2D(k // 2, dtype=dt),
                     x.shape)
        x = pad(x)
    padding = "same" if stride == 1 else "valid"
    conv = _layer(("conv", c_out, k, stride, padding, b is not None, dt),
                  lambda: keras.layers.Conv2D(c_out, k, strides=stride, padding=padding,
                                              use_bias=b is not None, dtype=dt), x.shape)
    kernel = tf.transpose(w, [2, 3, 1, 0])
    y, _ = conv.stateless_call([kernel] if b is None else [kernel, b], [], x)
    return y


def _relu(x: Any) -> Any:
    return _layer(("relu", x.dtype.name), lambda: keras.layers.ReLU(dtype=x.dtype.name),
                  x.shape)(x)


def _conv_relu(x: Any, w: Any, b: Any) -> Any:
    return _relu(_conv(x, w, b))


class BlockOps:
    @implements("block.residual", composed=True, native=(
        "keras.layers.Conv2D", "keras.layers.ZeroPadding2D", "keras.layers.ReLU",
        "keras.layers.Add", "tf.pad"), params={
        **_CONV_PARAMS, **_RELU, "strides": "drawn: from stride",
        "padding": "fixed: 'same' at stride 1; 'valid' after ZeroPadding2D(k // 2) at stride 2 "
        "(TF's 'same' puts an odd total padding's extra row at the end; the oracle pads "
        "k // 2 on each side)",
        "mode": "fixed: 'CONSTANT', zero channels (shortcut 'zero_pad')",
        "constant_values": "fixed: 0 (default)"})
    def residual(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any = None, *,
                 shortcut: str = "identity", stride: int = 1) -> Any:
        xl = channels_last(x)
        z2 = _conv(_relu(_conv(xl, w1, b1, stride)), w2, b2)
        if shortcut == "projection":
            short = _conv(xl, ws, None, stride)  # 1x1: no padding at any stride
        elif shortcut == "zero_pad":
            sub = xl[:, ::stride, ::stride, :]
            short = tf.pad(sub, [[0, 0], [0, 0], [0, 0], [0, z2.shape[-1] - xl.shape[-1]]])
        else:
            short = xl
        add = keras.layers.Add(dtype=x.dtype.name)
        return channels_first(_relu(add([z2, short])))

    @implements("block.inception", composed=True, native=(
        "keras.layers.Conv2D", "keras.layers.ReLU", "keras.layers.MaxPooling2D",
        "keras.layers.Concatenate"), params={
        **_CONV_PARAMS, **_RELU, "strides": "fixed: 1 (convolutions and the 3x3 pool)",
        "padding": "fixed: 'same' (k // 2 for the odd kernels; the pool's pads are never "
        "chosen)", "pool_size": "fixed: 3", "axis": "fixed: -1, the channels (NHWC)"})
    def inception(self, x: Any, w1: Any, b1: Any, w3r: Any, b3r: Any, w3: Any, b3: Any,
                  w5r: Any, b5r: Any, w5: Any, b5: Any, wp: Any, bp: Any) -> Any:
        xl, dt = channels_last(x), x.dtype.name
        pool = _layer(("maxpool3", dt),
                      lambda: keras.layers.MaxPooling2D(3, 1, padding="same", dtype=dt),
                      xl.shape)
        branches = [
            _conv_relu(xl, w1, b1),
            _conv_relu(_conv_relu(xl, w3r, b3r), w3, b3),
            _conv_relu(_conv_relu(xl, w5r, b5r), w5, b5),
            _conv_relu(pool(xl), wp, bp),
        ]
        concat = keras.layers.Concatenate(axis=-1, dtype=dt)
        return channels_first(concat(branches))

    @implements("block.flatten_fc", composed=True, native=(
        "keras.layers.Flatten", "keras.layers.Dense"), params={
        **KERAS_DENSE, "data_format": "fixed: channels_last; the kernel is permuted so that "
        "the result is the oracle's channel-major flatten",
        "use_bias": "fixed: True; the spec always draws b"})
    def flatten_fc(self, x: Any, w: Any, b: Any = None) -> Any:
        xl, dt, out = channels_last(x), x.dtype.name, w.shape[0]
        flat = _layer(("flatten", dt), lambda: keras.layers.Flatten(dtype=dt), xl.shape)(xl)
        # Rows of the (in, out) kernel in Keras' (h, w, c) flatten order.
        spatial = list(range(2, len(x.shape)))
        kernel = tf.transpose(tf.reshape(w, [out, *x.shape[1:]]), [0, *spatial, 1])
        kernel = tf.transpose(tf.reshape(kernel, [out, -1]))
        dense = _layer(("dense", out, b is not None, dt),
                       lambda: keras.layers.Dense(out, use_bias=b is not None, dtype=dt),
                       flat.shape)
        y, _ = dense.stateless_call([kernel] if b is None else [kernel, b], [], flat)
        return y
