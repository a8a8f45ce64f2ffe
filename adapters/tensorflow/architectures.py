"""TensorFlow mappings of the ``arch`` family, from Keras 3 layers and TF's graph profiler.

The nets are keras.Sequential models built with zero initialisers (no random draws; VGG-16
allocates its 138M parameters once), summarised per layer (output shape, count_params)
and dropped. Bottleneck multiplies: TF's graph profiler (float_operation: the Conv2D
statistic counts output elements x kH x kW x C_in x 2, padding positions included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters._shared import bottleneck_chains, summary_columns
from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf


def _conv_layer(c: int, k: int, s: int = 1, p: int = 0) -> list[Any]:
    zeros = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}
    conv = keras.layers.Conv2D(c, k, strides=s, padding="valid" if p == 0 else "same", **zeros)
    if p in (0, k // 2) and (s == 1 or p == 0):
        return [conv]  # 'same' at stride 1 is symmetric k // 2 for odd k
    raise ValueError(f"no Keras padding for kernel {k}, stride {s}, padding {p}")


def _head() -> list[Any]:
    zeros = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}
    return [keras.layers.Flatten(), keras.layers.Dense(4096, **zeros),
            keras.layers.Dense(4096, **zeros), keras.layers.Dense(1000, **zeros)]


def _nets() -> dict[str, Callable[[], tuple[tuple[int, int, int], list[Any]]]]:
    def lenet5() -> tuple[tuple[int, int, int], list[Any]]:
        zeros = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}
        return (32, 32, 1), [*_conv_layer(6, 5), keras.layers.AveragePooling2D(2, 2),
                             *_conv_layer(16, 5), keras.layers.AveragePooling2D(2, 2),
                             keras.layers.Flatten(), keras.layers.Dense(120, **zeros),
                             keras.layers.Dense(84, **zeros), keras.layers.Dense(10, **zeros)]

    def alexnet() -> tuple[tuple[int, int, int], list[Any]]:
        pool = keras.layers.MaxPooling2D
        return (227, 227, 3), [
            *_conv_layer(96, 11, 4), pool(3, 2), *_conv_layer(256, 5, 1, 2), pool(3, 2),
            *_conv_layer(384, 3, 1, 1), *_conv_layer(384, 3, 1, 1), *_conv_layer(256, 3, 1, 1),
            pool(3, 2), *_head()]

    def vgg16() -> tuple[tuple[int, int, int], list[Any]]:
        layers: list[Any] = []
        for c, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
            for _ in range(repeat):
                layers += _conv_layer(c, 3, 1, 1)
            layers.append(keras.layers.MaxPooling2D(2, 2))
        return (224, 224, 3), layers + _head()

    return {"lenet5": lenet5, "alexnet": alexnet, "vgg16": vgg16}


KINDS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense")  # the spec's order
_SUMMARIES: dict[str, tuple[list[int], list[list[int]], list[int], int]] = {}
_MULTIPLIES: dict[tuple[Any, ...], int] = {}


def _summary(name: str) -> tuple[list[int], list[list[int]], list[int], int]:
    if name not in _SUMMARIES:
        in_shape, layers = _nets()[name]()
        model = keras.Sequential([keras.Input(in_shape), *layers])
        rows = []
        for layer in model.layers:
            out = tuple(layer.output.shape[1:])
            # Keras is channels-last: (H, W, C) -> the spec's (C, H, W).
            shape = (out[2], out[0], out[1]) if len(out) == 3 else out
            rows.append((KINDS.index(type(layer).__name__), shape, layer.count_params()))
        _SUMMARIES[name] = summary_columns(rows)
    return _SUMMARIES[name]


def _multiplies(size: int, convs: list[tuple[int, int, int]]) -> int:
    """Half of TF's profiled float operations of the 'same' Keras Conv2D layers (no bias)."""
    key = (size, tuple(convs))
    if key not in _MULTIPLIES:
        _MULTIPLIES[key] = _profiled(size, convs) // 2
    return _MULTIPLIES[key]


def _profiled(size: int, convs: list[tuple[int, int, int]]) -> int:
    layers = [keras.layers.Conv2D(c_o, k, padding="same", use_bias=False)
              for _, c_o, k in convs]

    @tf.function
    def net(x: Any) -> Any:
        for layer in layers:
            x = layer(x)
        return x

    graph = net.get_concrete_function(
        tf.TensorSpec((1, size, size, convs[0][0]), tf.float32)).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=opts).total_float_ops


class ArchitectureOps:
    @implements("arch.shapes_and_params", composed=True)
    def shapes_and_params(self, *, name: str) -> tuple[Any, ...]:
        return tuple(tf.constant(column, dtype=tf.float64) for column in _summary(name))

    @implements("arch.shapes_and_params/bottleneck", composed=True)
    def bottleneck_multiplies(self, *, size: int, c_in: int, c_mid: int, c_out: int,
                              kernel: int) -> tuple[Any, ...]:
        chains = bottleneck_chains(c_in=c_in, c_mid=c_mid, c_out=c_out, kernel=kernel)
        return tuple(tf.constant(_multiplies(size, convs), dtype=tf.float64)
                     for convs in chains)
