"""Classic CNN architectures as notes 004 describes them (catalog id arch.shapes_and_params):
per-layer output shapes and parameter counts of LeNet-5, AlexNet and VGG-16, and the
multiply count of the Inception 1x1 bottleneck example.

Each net is a small explicit layer list (``ARCHITECTURES``) that adapters rebuild from their
framework's layers to compare shapes and counts. Shapes are per sample in the canonical
layout: (C, H, W) for feature maps, (units,) after flattening (the notes write H x W x C).
Activations, softmax and AlexNet's LRN have no parameters and do not change shapes, so the
lists leave them out. Every conv and dense layer has a bias.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class Layer(NamedTuple):
    """One layer. kind: 'conv' (``units`` output channels, square ``kernel``, ``stride``,
    symmetric ``padding``), 'maxpool' / 'avgpool' (kernel, stride, padding), 'flatten'
    (C-order over (C, H, W)), 'dense' (``units`` outputs)."""

    kind: str
    units: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int = 0


class Architecture(NamedTuple):
    input_shape: tuple[int, int, int]  # (C, H, W)
    layers: tuple[Layer, ...]


def _conv(c: int, k: int, s: int = 1, p: int = 0) -> Layer:
    return Layer("conv", c, k, s, p)


def _vgg_stage(c: int, repeat: int) -> tuple[Layer, ...]:
    # VGG: conv = 3x3, s=1, same; maxPool = 2x2, s=2 (notes 004).
    return (_conv(c, 3, 1, 1),) * repeat + (Layer("maxpool", 0, 2, 2),)


_FC_HEAD = (Layer("flatten"), Layer("dense", 4096), Layer("dense", 4096), Layer("dense", 1000))

ARCHITECTURES: dict[str, Architecture] = {
    # 32x32x1 -> 6 of 5x5 (s1, p0) -> avgPool(2, 2) -> 16 of 5x5 -> avgPool -> FC 120, 84, 10.
    "lenet5": Architecture((1, 32, 32), (
        _conv(6, 5), Layer("avgpool", 0, 2, 2), _conv(16, 5), Layer("avgpool", 0, 2, 2),
        Layer("flatten"), Layer("dense", 120), Layer("dense", 84), Layer("dense", 10),
    )),
    # 227x227x3 -> 96 of 11x11 s4 -> maxPool 3 s2 -> 256 of 5x5 same -> maxPool -> 384, 384,
    # 256 of 3x3 same -> maxPool -> FC 4096, 4096, 1000 (one tower: no two-GPU groups).
    "alexnet": Architecture((3, 227, 227), (
        _conv(96, 11, 4), Layer("maxpool", 0, 3, 2), _conv(256, 5, 1, 2),
        Layer("maxpool", 0, 3, 2), _conv(384, 3, 1, 1), _conv(384, 3, 1, 1),
        _conv(256, 3, 1, 1), Layer("maxpool", 0, 3, 2),
    ) + _FC_HEAD),
    "vgg16": Architecture((3, 224, 224), (
        _vgg_stage(64, 2) + _vgg_stage(128, 2) + _vgg_stage(256, 3) + _vgg_stage(512, 3)
        + _vgg_stage(512, 3) + _FC_HEAD
    )),
}


class LayerSummary(NamedTuple):
    kind: str
    output_shape: tuple[int, ...]
    params: int


class ArchitectureSummary(NamedTuple):
    name: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerSummary, ...]
    total_params: int


def _window_out(n: int, layer: Layer) -> int:
    span = n + 2 * layer.padding - layer.kernel
    if span < 0:
        raise ValueError(f"{layer} does not fit an input of size {n}")
    return span // layer.stride + 1


def _apply(shape: tuple[int, ...], layer: Layer) -> tuple[tuple[int, ...], int]:
    """(output shape, parameter count) of one layer on a per-sample input shape."""
    if layer.kind == "flatten":
        total = 1
        for s in shape:
            total *= s
        return (total,), 0
    if layer.kind == "dense":
        if len(shape) != 1:
            raise ValueError(f"dense layer after {shape}: flatten first")
        return (layer.units,), shape[0] * layer.units + layer.units
    if layer.kind not in ("conv", "maxpool", "avgpool") or len(shape) != 3:
        raise ValueError(f"cannot apply {layer} to {shape}")
    c, h, w = shape
    hw = (_window_out(h, layer), _window_out(w, layer))
    if layer.kind != "conv":
        return (c,) + hw, 0
    return (layer.units,) + hw, layer.kernel * layer.kernel * c * layer.units + layer.units


def architecture_summary(name: str) -> ArchitectureSummary:
    """Per-layer output shape and parameter count of 'lenet5', 'alexnet' or 'vgg16' as notes
    004 describes them, with the total (the notes: about 0.06M, 60M, 138M parameters).

    conv: k*k*C_in*C_out weights + C_out biases; dense: in*out + out; pooling and flatten: 0.
    Output sizes floor((n + 2p - k) / s) + 1. (AlexNet here is the notes' single-tower net,
    62.4M; the original two-GPU grouped AlexNet has 61.0M, also "60M".)
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"name must be one of {sorted(ARCHITECTURES)}, got {name!r}")
    arch = ARCHITECTURES[name]
    shape: tuple[int, ...] = arch.input_shape
    rows = []
    for layer in arch.layers:
        shape, params = _apply(shape, layer)
        rows.append(LayerSummary(layer.kind, shape, params))
    return ArchitectureSummary(name, arch.input_shape, tuple(rows),
                               sum(r.params for r in rows))


class BottleneckMultiplies(NamedTuple):
    direct: int       # k x k conv straight from c_in to c_out
    reduce: int       # the 1x1 conv c_in -> c_mid
    expand: int       # the k x k conv c_mid -> c_out
    bottleneck: int   # reduce + expand


def bottleneck_multiplies(
    *, size: int = 28, c_in: int = 192, c_mid: int = 16, c_out: int = 32, kernel: int = 5
) -> BottleneckMultiplies:
    """Multiplications of a 'same', stride-1 conv with and without a 1x1 bottleneck (notes
    004; the defaults are the notes' example 28x28x192 -> 32 of 5x5, bottleneck 16).

    A conv costs (output positions) x (output channels) x (k*k*C_in) multiplies, biases and
    padding zeros not excluded: direct = k*k*c_in * size^2*c_out (120.4M in the example);
    with the bottleneck c_in * size^2*c_mid + k*k*c_mid * size^2*c_out (12.4M).
    """
    positions = size * size
    direct = kernel * kernel * c_in * positions * c_out
    reduce = c_in * positions * c_mid
    expand = kernel * kernel * c_mid * positions * c_out
    return BottleneckMultiplies(direct, reduce, expand, reduce + expand)


# --- the summaries as arrays: what a conformance check compares ------------------------------
KINDS = ("conv", "maxpool", "avgpool", "flatten", "dense")


class ArchitectureArrays(NamedTuple):
    """``architecture_summary`` as float64 arrays (exact integers), one row per layer:
    kinds (index into KINDS), output shapes (C, H, W), or (units, 0, 0) after flattening,
    parameter counts, and the total."""

    kinds: np.ndarray
    shapes: np.ndarray
    params: np.ndarray
    total: np.ndarray


def shapes_and_params(*, name: str) -> ArchitectureArrays:
    """``architecture_summary(name)`` as ``ArchitectureArrays``: backends return tensors,
    so the comparison is array against array, every entry an exact integer."""
    s = architecture_summary(name)
    shapes = np.zeros((len(s.layers), 3))
    for i, layer in enumerate(s.layers):
        shapes[i, :len(layer.output_shape)] = layer.output_shape
    return ArchitectureArrays(
        np.array([KINDS.index(layer.kind) for layer in s.layers], dtype=np.float64), shapes,
        np.array([layer.params for layer in s.layers], dtype=np.float64),
        np.array(float(s.total_params)))


def bottleneck_arrays(*, size: int, c_in: int, c_mid: int, c_out: int,
                      kernel: int) -> BottleneckMultiplies:
    """``bottleneck_multiplies`` as float64 scalars (direct, reduce, expand, bottleneck):
    exact integers below 2**53, compared with each framework's own flop counter."""
    m = bottleneck_multiplies(size=size, c_in=c_in, c_mid=c_mid, c_out=c_out, kernel=kernel)
    return BottleneckMultiplies(*(np.array(float(v)) for v in m))


ORACLE: dict[str, Callable[..., Any]] = {"arch.shapes_and_params": architecture_summary}
