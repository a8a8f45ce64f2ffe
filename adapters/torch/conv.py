"""torch mappings of the ``conv`` family: torch.nn.functional convolution kernels.

torch's layouts are the oracle's (NC*, OI*; transposed weights (I, O/groups, *k)), so
tensors pass through unchanged. Padding: ints and tuples (symmetric) and 'valid' pass
through; 'same' passes through at stride 1 (torch pads an even kernel's extra element
after, the oracle's split), but F.conv* rejects 'same' with stride > 1, so there the
oracle's split (floor(total/2) before, the rest after; docs/conventions/conv.md §7) is
applied with F.pad and the convolution runs unpadded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters._shared import EDGE_KERNEL, as_tuple
from adapters.base import implements
from adapters.torch._lazy import F, torch


def same_pads(sizes: Sequence[int], k: Sequence[int], s: Sequence[int],
              d: Sequence[int]) -> list[tuple[int, int]]:
    """(before, after) per axis of TF/torch 'same': total max((ceil(n/s)-1)s + d(k-1) + 1 - n,
    0), floor(total/2) before."""
    totals = [max((-(-n // si) - 1) * si + di * (ki - 1) + 1 - n, 0)
              for n, ki, si, di in zip(sizes, k, s, d, strict=True)]
    return [(t // 2, t - t // 2) for t in totals]


def _conv(x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any,
          groups: int) -> Any:
    r = x.ndim - 2
    s, d = as_tuple(stride, r), as_tuple(dilation, r)
    kernel = getattr(F, f"conv{r}d")
    if padding == "same" and max(s) > 1:
        pads = same_pads(x.shape[2:], w.shape[2:], s, d)
        x = F.pad(x, [q for lo_hi in reversed(pads) for q in lo_hi])
        padding = 0
    pad = padding if isinstance(padding, str) else as_tuple(padding, r)
    return kernel(x, w, b, stride=s, padding=pad, dilation=d, groups=groups)


# F.conv*d's and F.pad's keywords, as the functional mappings pass them.
_FUNCTIONAL_PARAMS = {
    "bias": "drawn: from b", "stride": "drawn", "padding": "drawn", "dilation": "drawn",
    "groups": "drawn", "mode": "fixed: constant (zeros; same at stride > 1 padded by hand)",
    "value": "fixed: None, zeros",
}

_MODULE_PARAMS = {
    "stride": "drawn", "padding": "drawn", "padding_mode": "drawn",
    "dilation": "fixed: 1; the padding_mode menus leave dilation to conv.*/extended (TF has "
                "no CPU gradient kernel for a dilated convolution)",
    "groups": "fixed: 1 in this variant's menu (conv.*/extended draws groups)",
    "bias": "fixed: True, the bias is always drawn",
    "device": "fixed: meta; the parameters are replaced by the drawn w and b",
    "dtype": "fixed: None; the drawn w and b carry the dtype",
}


class ConvOps:
    @implements("conv.conv1d", native=("torch.nn.functional.conv1d", "torch.nn.functional.pad"),
                params=_FUNCTIONAL_PARAMS)
    def conv1d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return _conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv2d", native=("torch.nn.functional.conv2d", "torch.nn.functional.pad"),
                params=_FUNCTIONAL_PARAMS)
    def conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return _conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv1d/padding_mode", native="torch.nn.Conv1d", params=_MODULE_PARAMS)
    @implements("conv.conv2d/padding_mode", native="torch.nn.Conv2d", params=_MODULE_PARAMS)
    def conv_padding_mode(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                          padding: Any = 0, dilation: Any = 1, groups: int = 1,
                          padding_mode: str = "zeros") -> Any:
        # F.conv* have no padding_mode: the Conv layer (it pads with F.pad(mode=...) before
        # an unpadded convolution), its parameters replaced by w and b for this call.
        r = x.ndim - 2
        layer = getattr(torch.nn, f"Conv{r}d")(
            x.shape[1], w.shape[0], tuple(w.shape[2:]), stride=as_tuple(stride, r),
            padding=padding if isinstance(padding, str) else as_tuple(padding, r),
            dilation=as_tuple(dilation, r), groups=groups, bias=b is not None,
            padding_mode=padding_mode, device="meta")
        params = {"weight": w} if b is None else {"weight": w, "bias": b}
        return torch.func.functional_call(layer, params, (x,))

    @implements("conv.conv3d", native=("torch.nn.functional.conv3d", "torch.nn.functional.pad"),
                params=_FUNCTIONAL_PARAMS)
    def conv3d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return _conv(x, w, b, stride, padding, dilation, groups)

    @implements("conv.conv_transpose2d", native="torch.nn.functional.conv_transpose2d",
                params={
                        "bias": "drawn: from b",
                        "stride": "drawn",
                        "padding": "drawn",
                        "output_padding": "drawn",
                        "groups": "drawn",
                        "dilation": "drawn"})
    def conv_transpose2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, output_padding: Any = 0, dilation: Any = 1,
                         groups: int = 1) -> Any:
        # Same semantics and weight layout as the oracle (the adjoint of conv2d).
        return F.conv_transpose2d(x, w, b, stride=as_tuple(stride, 2),
                                  padding=as_tuple(padding, 2),
                                  output_padding=as_tuple(output_padding, 2), groups=groups,
                                  dilation=as_tuple(dilation, 2))

    @implements("conv.depthwise2d", native=(
                    "torch.nn.functional.conv2d",
                    "torch.nn.functional.pad",
                ),
                params={**_FUNCTIONAL_PARAMS, "groups": "fixed: C_in (depthwise)"})
    def depthwise_conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1,
                         padding: Any = 0, dilation: Any = 1) -> Any:
        # Depthwise = groups = C_in; w (C*mult, 1, kH, kW) is torch's layout for it.
        return _conv(x, w, b, stride, padding, dilation, x.shape[1])

    @implements("conv.edge_detect", composed=True)
    def edge_detect(self, image: Any) -> Any:
        # No edge-detection op: F.conv2d with the constant kernel, no padding, stride 1.
        k = torch.tensor(EDGE_KERNEL, dtype=image.dtype, device=image.device)[None, None]
        if image.ndim == 2:
            return F.conv2d(image[None, None], k)[0, 0]
        return F.conv2d(image, k)
