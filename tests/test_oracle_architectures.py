"""Tests of oracle.architectures: totals against the notes' rounded figures (004), against
closed-form layer counts written out here, the notes' per-layer shapes, a run of the oracle's
own conv/pool functions on the small nets, and the bottleneck multiply counts. All integer
arithmetic: exact equality.
"""

from __future__ import annotations

import numpy as np
import pytest

from oracle.architectures import (
    ARCHITECTURES,
    KINDS,
    ORACLE,
    Layer,
    architecture_summary,
    bottleneck_arrays,
    bottleneck_multiplies,
    shapes_and_params,
)
from oracle.conv import conv2d
from oracle.pooling import avg_pool, max_pool


def _conv(k, c_in, c_out):  # k*k*c_in weights per filter, plus one bias per filter
    return k * k * c_in * c_out + c_out


def _dense(n_in, n_out):
    return n_in * n_out + n_out


LENET5 = _conv(5, 1, 6) + _conv(5, 6, 16) + _dense(400, 120) + _dense(120, 84) + _dense(84, 10)
ALEXNET = (_conv(11, 3, 96) + _conv(5, 96, 256) + _conv(3, 256, 384) + _conv(3, 384, 384)
           + _conv(3, 384, 256) + _dense(6 * 6 * 256, 4096) + _dense(4096, 4096)
           + _dense(4096, 1000))
VGG16 = (_conv(3, 3, 64) + _conv(3, 64, 64) + _conv(3, 64, 128) + _conv(3, 128, 128)
         + _conv(3, 128, 256) + 2 * _conv(3, 256, 256) + _conv(3, 256, 512)
         + 5 * _conv(3, 512, 512) + _dense(7 * 7 * 512, 4096) + _dense(4096, 4096)
         + _dense(4096, 1000))


def test_totals_closed_form():
    # 156 + 2416 + 48120 + 10164 + 850 = 61706.
    assert LENET5 == 61706
    assert architecture_summary("lenet5").total_params == LENET5
    assert architecture_summary("alexnet").total_params == ALEXNET == 62378344
    assert architecture_summary("vgg16").total_params == VGG16 == 138357544


def test_totals_match_the_notes_rounded_figures():
    # Notes 004: "0.06 Mil", "60 Mil", "138 Mil", each at the precision it is printed with.
    assert round(architecture_summary("lenet5").total_params / 1e6, 2) == 0.06
    assert round(architecture_summary("alexnet").total_params / 1e7) * 10 == 60
    assert round(architecture_summary("vgg16").total_params / 1e6) == 138


# The notes' per-layer shapes (H x W x C there), as (C, H, W), for the feature maps.
NOTES_SHAPES = {
    "lenet5": [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)],
    "alexnet": [(96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13),
                (384, 13, 13), (256, 13, 13), (256, 6, 6)],
    "vgg16": [(64, 224, 224)] * 2 + [(64, 112, 112)] + [(128, 112, 112)] * 2
    + [(128, 56, 56)] + [(256, 56, 56)] * 3 + [(256, 28, 28)] + [(512, 28, 28)] * 3
    + [(512, 14, 14)] * 4 + [(512, 7, 7)],
}
NOTES_HEADS = {"lenet5": [120, 84, 10], "alexnet": [4096, 4096, 1000],
               "vgg16": [4096, 4096, 1000]}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_shapes_match_the_notes(name):
    summary = architecture_summary(name)
    maps = [r.output_shape for r in summary.layers if len(r.output_shape) == 3]
    assert maps == NOTES_SHAPES[name]
    dense = [r.output_shape[0] for r in summary.layers if r.kind == "dense"]
    assert dense == NOTES_HEADS[name]
    flat = next(r for r in summary.layers if r.kind == "flatten")
    assert flat.output_shape == (int(np.prod(maps[-1])),) and flat.params == 0
    assert sum(r.params for r in summary.layers) == summary.total_params


@pytest.mark.parametrize("name", ["lenet5", "alexnet"])
def test_shapes_match_running_the_oracle(name):
    # Run the conv/pool trunk with the oracle's own layers (zero weights: only shapes).
    arch = ARCHITECTURES[name]
    x = np.zeros((1,) + arch.input_shape)
    expected = [r.output_shape for r in architecture_summary(name).layers]
    for layer, shape in zip(arch.layers, expected, strict=False):
        if layer.kind == "flatten":
            break
        if layer.kind == "conv":
            w = np.zeros((layer.units, x.shape[1], layer.kernel, layer.kernel))
            x = conv2d(x, w, stride=layer.stride, padding=layer.padding)
        else:
            pool = max_pool if layer.kind == "maxpool" else avg_pool
            x = pool(x, kernel=layer.kernel, stride=layer.stride, padding=layer.padding)
        assert x.shape[1:] == shape


def test_bottleneck_multiplies():
    # Notes 004: 5x5x192 x 28x28x32 = 120,422,400 ("120 Mil");
    # 192 x 28x28x16 + 5x5x16 x 28x28x32 = 2,408,448 + 10,035,200 = 12,443,648 ("12.4 Mil").
    m = bottleneck_multiplies()
    assert m.direct == 5 * 5 * 192 * 28 * 28 * 32 == 120_422_400
    assert (m.reduce, m.expand) == (2_408_448, 10_035_200)
    assert m.bottleneck == m.reduce + m.expand == 12_443_648
    assert round(m.direct / 1e6) == 120 and round(m.bottleneck / 1e5) / 10 == 12.4
    # Without reduction (c_mid = c_in) the 1x1 layer only adds work.
    assert bottleneck_multiplies(c_mid=192).bottleneck > m.direct


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_shapes_and_params_arrays_are_the_summary(name):
    summary, arrays = architecture_summary(name), shapes_and_params(name=name)
    assert [KINDS[int(k)] for k in arrays.kinds] == [r.kind for r in summary.layers]
    for row, shape in zip(summary.layers, arrays.shapes):
        padded = list(row.output_shape) + [0] * (3 - len(row.output_shape))
        assert shape.tolist() == padded
    assert arrays.params.tolist() == [r.params for r in summary.layers]
    assert float(arrays.total) == summary.total_params
    assert all(a.dtype == np.float64 for a in arrays)


def test_bottleneck_arrays_are_the_counts():
    kw = {"size": 14, "c_in": 64, "c_mid": 8, "c_out": 24, "kernel": 3}
    got = bottleneck_arrays(**kw)
    assert [float(v) for v in got] == [float(v) for v in bottleneck_multiplies(**kw)]


def test_unknown_name_and_bad_layers():
    with pytest.raises(ValueError):
        architecture_summary("resnet50")
    assert Layer("conv", 6, 5).stride == 1


def test_registry_ids():
    assert set(ORACLE) == {"arch.shapes_and_params"}
