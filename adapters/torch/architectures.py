"""torch mappings of the ``arch`` family, from torch's own shape inference and flop counter.

LeNet-5, AlexNet and VGG-16 are written as nn.Sequential of lazy modules (nn.LazyConv2d /
nn.LazyLinear infer their input sizes, as Keras layers do) on the "meta" device (no memory,
no initialisation); a meta input runs through them, so the output shapes and parameter
counts are torch's shape inference and ``numel``. Multiplies of the bottleneck example are
counted by torch.utils.flop_counter (2 flops per multiply-add; biases excluded, as in the
oracle).
"""

from __future__ import annotations

from typing import Any

from adapters._shared import bottleneck_chains, summary_columns
from adapters.base import implements
from adapters.torch._lazy import nn, torch

META = "meta"


def _lenet5() -> list[Any]:
    return [nn.LazyConv2d(6, 5, device=META), nn.AvgPool2d(2, 2),
            nn.LazyConv2d(16, 5, device=META), nn.AvgPool2d(2, 2), nn.Flatten(),
            nn.LazyLinear(120, device=META), nn.LazyLinear(84, device=META),
            nn.LazyLinear(10, device=META)]


def _head() -> list[Any]:
    return [nn.Flatten(), nn.LazyLinear(4096, device=META), nn.LazyLinear(4096, device=META),
            nn.LazyLinear(1000, device=META)]


def _alexnet() -> list[Any]:
    return [nn.LazyConv2d(96, 11, stride=4, device=META), nn.MaxPool2d(3, 2),
            nn.LazyConv2d(256, 5, padding=2, device=META), nn.MaxPool2d(3, 2),
            nn.LazyConv2d(384, 3, padding=1, device=META),
            nn.LazyConv2d(384, 3, padding=1, device=META),
            nn.LazyConv2d(256, 3, padding=1, device=META), nn.MaxPool2d(3, 2), *_head()]


def _vgg16() -> list[Any]:
    layers: list[Any] = []
    for c, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [nn.LazyConv2d(c, 3, padding=1, device=META) for _ in range(repeat)]
        layers.append(nn.MaxPool2d(2, 2))
    return layers + _head()


NETS = {"lenet5": (_lenet5, (1, 32, 32)), "alexnet": (_alexnet, (3, 227, 227)),
        "vgg16": (_vgg16, (3, 224, 224))}
KINDS = ("Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Linear")  # the spec's kind order
_SUMMARIES: dict[str, tuple[list[int], list[list[int]], list[int], int]] = {}


def _summary(name: str) -> tuple[list[int], list[list[int]], list[int], int]:
    if name not in _SUMMARIES:
        build, shape = NETS[name]
        x = torch.empty((1, *shape), device=META)
        rows = []
        for layer in nn.Sequential(*build()):
            x = layer(x)
            rows.append((KINDS.index(type(layer).__name__), tuple(x.shape[1:]),
                         sum(p.numel() for p in layer.parameters())))
        _SUMMARIES[name] = summary_columns(rows)
    return _SUMMARIES[name]


def _multiplies(size: int, convs: list[tuple[int, int, int]]) -> int:
    """Half of torch's flop count of the 'same' convolutions, run on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.empty((1, convs[0][0], size, size), device=META)
    with FlopCounterMode(display=False) as counter:
        for c_i, c_o, k in convs:
            x = nn.Conv2d(c_i, c_o, k, padding=k // 2, device=META)(x)
    return counter.get_total_flops() // 2


class ArchitectureOps:
    @implements("arch.shapes_and_params", composed=True)
    def shapes_and_params(self, *, name: str) -> tuple[Any, ...]:
        return tuple(torch.tensor(column, dtype=torch.float64) for column in _summary(name))

    @implements("arch.shapes_and_params/bottleneck", composed=True)
    def bottleneck_multiplies(self, *, size: int, c_in: int, c_mid: int, c_out: int,
                              kernel: int) -> tuple[Any, ...]:
        chains = bottleneck_chains(c_in=c_in, c_mid=c_mid, c_out=c_out, kernel=kernel)
        return tuple(torch.tensor(_multiplies(size, convs), dtype=torch.float64)
                     for convs in chains)
