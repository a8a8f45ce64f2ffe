"""torch mappings of the ``block`` and ``arch`` families, built from torch.nn modules.

Blocks: torch has no residual or Inception module, so each block is composed from
nn.Conv2d / nn.ReLU / nn.MaxPool2d / nn.Linear / nn.Flatten modules created on the "meta"
device (no memory, no initialisation cost) and run with torch.func.functional_call, which
substitutes the given weight tensors for the module's parameters: autograd and forward AD
then differentiate through the given tensors. 'Same' convolutions are nn.Conv2d(padding=k//2)
(symmetric, the oracle's rule, also with stride 2).

Architectures: LeNet-5, AlexNet and VGG-16 written as nn.Sequential of lazy modules
(nn.LazyConv2d / nn.LazyLinear infer their input sizes, as Keras layers do) on the meta
device; a meta input runs through them, so the output shapes and parameter counts are
torch's own shape inference and ``numel``. Multiplies of the bottleneck example are counted
by torch.utils.flop_counter (2 flops per multiply-add; biases excluded, as in the oracle).
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, nn, torch

META = "meta"


def _conv(c_in: int, w: Any, stride: int = 1, bias: bool = True) -> Any:
    k = w.shape[2]
    return nn.Conv2d(c_in, w.shape[0], k, stride=stride, padding=k // 2, bias=bias,
                     device=META)


def _run(module: Any, x: Any, weight: Any, bias: Any = None) -> Any:
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    return torch.func.functional_call(module, params, (x,))


def _conv_relu(x: Any, w: Any, b: Any) -> Any:
    return nn.ReLU()(_run(_conv(x.shape[1], w, bias=b is not None), x, w, b))


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
_SUMMARIES: dict[str, tuple[list[int], list[list[int]], list[int]]] = {}


def _summary(name: str) -> tuple[list[int], list[list[int]], list[int]]:
    if name not in _SUMMARIES:
        build, shape = NETS[name]
        net = nn.Sequential(*build())
        x = torch.empty((1, *shape), device=META)
        kinds, shapes, params = [], [], []
        for layer in net:
            x = layer(x)
            kinds.append(KINDS.index(type(layer).__name__))
            shapes.append(list(x.shape[1:]) + [0] * (4 - x.ndim))
            params.append(sum(p.numel() for p in layer.parameters()))
        _SUMMARIES[name] = (kinds, shapes, params)
    return _SUMMARIES[name]


def _f64(v: Any) -> Any:
    return torch.tensor(v, dtype=torch.float64)


class BlockOps:
    @implements("block.residual", composed=True)
    def residual(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any = None, *,
                 shortcut: str = "identity", stride: int = 1) -> Any:
        c_out = w1.shape[0]
        a1 = nn.ReLU()(_run(_conv(x.shape[1], w1, stride, b1 is not None), x, w1, b1))
        z2 = _run(_conv(c_out, w2, 1, b2 is not None), a1, w2, b2)
        if shortcut == "projection":
            proj = nn.Conv2d(x.shape[1], c_out, 1, stride=stride, bias=False, device=META)
            short = _run(proj, x, ws)
        elif shortcut == "zero_pad":
            sub = x[:, :, ::stride, ::stride]
            short = F.pad(sub, (0, 0, 0, 0, 0, c_out - x.shape[1]))  # channels at the end
        else:
            short = x
        return nn.ReLU()(z2 + short)

    @implements("block.inception", composed=True)
    def inception(self, x: Any, w1: Any, b1: Any, w3r: Any, b3r: Any, w3: Any, b3: Any,
                  w5r: Any, b5r: Any, w5: Any, b5: Any, wp: Any, bp: Any) -> Any:
        branch1 = _conv_relu(x, w1, b1)
        branch3 = _conv_relu(_conv_relu(x, w3r, b3r), w3, b3)
        branch5 = _conv_relu(_conv_relu(x, w5r, b5r), w5, b5)
        branchp = _conv_relu(nn.MaxPool2d(3, stride=1, padding=1)(x), wp, bp)
        return torch.cat([branch1, branch3, branch5, branchp], dim=1)

    @implements("block.flatten_fc", composed=True)
    def flatten_fc(self, x: Any, w: Any, b: Any = None) -> Any:
        # nn.Flatten on NCHW is the oracle's channel-major order: no permutation.
        fc = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, device=META)
        return _run(fc, nn.Flatten()(x), w, b)

    @implements("arch.shapes_and_params", composed=True)
    def shapes_and_params(self, *, name: str) -> tuple[Any, ...]:
        kinds, shapes, params = _summary(name)
        return _f64(kinds), _f64(shapes), _f64(params), _f64(sum(params))

    @implements("arch.shapes_and_params/bottleneck", composed=True)
    def bottleneck_multiplies(self, *, size: int, c_in: int, c_mid: int, c_out: int,
                              kernel: int) -> tuple[Any, ...]:
        from torch.utils.flop_counter import FlopCounterMode

        def multiplies(*convs: tuple[int, int, int]) -> int:
            x = torch.empty((1, convs[0][0], size, size), device=META)
            with FlopCounterMode(display=False) as counter:
                for c_i, c_o, k in convs:
                    x = nn.Conv2d(c_i, c_o, k, padding=k // 2, device=META)(x)
            return counter.get_total_flops() // 2

        direct = multiplies((c_in, c_out, kernel))
        reduce = multiplies((c_in, c_mid, 1))
        expand = multiplies((c_mid, c_out, kernel))
        bottleneck = multiplies((c_in, c_mid, 1), (c_mid, c_out, kernel))
        return _f64(direct), _f64(reduce), _f64(expand), _f64(bottleneck)
