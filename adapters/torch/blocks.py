"""torch mappings of the ``block`` family, built from torch.nn modules.

torch has no residual or Inception module, so each block is composed from nn.Conv2d /
nn.ReLU / nn.MaxPool2d / nn.Linear / nn.Flatten modules created on the "meta" device (no
memory, no initialisation cost) and run with torch.func.functional_call, which substitutes
the given weight tensors for the module's parameters: autograd and forward AD then
differentiate through the given tensors. 'Same' convolutions are nn.Conv2d(padding=k//2)
(symmetric, the oracle's rule, also with stride 2).
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, nn, torch
from adapters.torch._params import OUT

META = "meta"


_CALL = "torch.func.functional_call"
_CALL_PARAMS = {"args": "fixed: the input", "kwargs": "fixed: none",
                "tie_weights": "fixed: True (default; no ties)",
                "strict": "fixed: False (default; every parameter is given)"}
_CONV = {"stride": "fixed: 1", "padding": "fixed: k // 2 ('same' for the odd kernels drawn)",
         "dilation": "fixed: 1 (default)", "groups": "fixed: 1 (default)",
         "bias": "fixed: True where b is given (the specs always draw it; the projection "
         "shortcut has none)", "padding_mode": "fixed: 'zeros' (default)",
         "device": "fixed: meta (no memory; the given weights replace its parameters)",
         "dtype": "fixed: None; the given weights' dtype is used"}
_RELU = {"inplace": "fixed: False (autograd needs the input)"}


def _conv(c_in: int, w: Any, stride: int = 1, bias: bool = True) -> Any:
    k = w.shape[2]
    return nn.Conv2d(c_in, w.shape[0], k, stride=stride, padding=k // 2, bias=bias,
                     device=META)


def _run(module: Any, x: Any, weight: Any, bias: Any = None) -> Any:
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    return torch.func.functional_call(module, params, (x,))


def _conv_relu(x: Any, w: Any, b: Any) -> Any:
    return nn.ReLU()(_run(_conv(x.shape[1], w, bias=b is not None), x, w, b))


class BlockOps:
    @implements("block.residual", composed=True, native=(
        "torch.nn.Conv2d", "torch.nn.ReLU", "torch.nn.functional.pad", _CALL), params={
        **_CONV, **_RELU, **_CALL_PARAMS, "stride": "drawn",
        "mode": "fixed: 'constant', zero channels (shortcut 'zero_pad')",
        "value": "fixed: None, zeros"})
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

    @implements("block.inception", composed=True, native=(
        "torch.nn.Conv2d", "torch.nn.ReLU", "torch.nn.MaxPool2d", "torch.cat", _CALL), params={
        **_CONV, **_RELU, **_CALL_PARAMS, "stride": "fixed: 1 (convolutions and the 3x3 pool)",
        "padding": "fixed: k // 2 ('same'); 1 for the 3x3 pool",
        "dilation": "fixed: 1", "return_indices": "fixed: False",
        "ceil_mode": "fixed: False (stride 1: no partial windows)",
        "dim": "fixed: 1, the branches' channels concatenated", **OUT})
    def inception(self, x: Any, w1: Any, b1: Any, w3r: Any, b3r: Any, w3: Any, b3: Any,
                  w5r: Any, b5r: Any, w5: Any, b5: Any, wp: Any, bp: Any) -> Any:
        branch1 = _conv_relu(x, w1, b1)
        branch3 = _conv_relu(_conv_relu(x, w3r, b3r), w3, b3)
        branch5 = _conv_relu(_conv_relu(x, w5r, b5r), w5, b5)
        branchp = _conv_relu(nn.MaxPool2d(3, stride=1, padding=1)(x), wp, bp)
        return torch.cat([branch1, branch3, branch5, branchp], dim=1)

    @implements("block.flatten_fc", composed=True, native=(
        "torch.nn.Linear", "torch.nn.Flatten", _CALL), params={
        **_CALL_PARAMS, "bias": "fixed: True; the spec always draws b",
        "device": _CONV["device"], "dtype": _CONV["dtype"],
        "start_dim": "fixed: 1 (default), everything after the batch axis",
        "end_dim": "fixed: -1 (default)"})
    def flatten_fc(self, x: Any, w: Any, b: Any = None) -> Any:
        # nn.Flatten on NCHW is the oracle's channel-major order: no permutation.
        fc = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, device=META)
        return _run(fc, nn.Flatten()(x), w, b)
