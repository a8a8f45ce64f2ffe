"""torch mappings of the ``pool`` family (torch.nn.functional pooling kernels, NC* layout).

Spatial rank r = x.ndim - 2 picks the 1-d/2-d/3-d kernel. torch's window rule (padding,
ceil_mode, count_include_pad) is the oracle's, so geometry passes through unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from adapters._shared import pool_same_divisor, pool_same_pads
from adapters.base import implements
from adapters.torch._lazy import F, torch


def _kernel(name: str, x: Any) -> Any:
    """F.<name>{r}d for the spatial rank of x (N, C, *spatial)."""
    return getattr(F, f"{name}{x.ndim - 2}d")


def _spatial(x: Any) -> tuple[int, ...]:
    return tuple(range(2, x.ndim))


def _windows(x: Any, kernel: Sequence[int], stride: Sequence[int]) -> Any:
    """Every (unpadded) window of x as (N, C, *out, K), slots in row-major order."""
    for a, (k, s) in enumerate(zip(kernel, stride, strict=True)):
        x = x.unfold(2 + a, k, s)
    r = len(kernel)
    return x.reshape(*x.shape[: 2 + r], -1)


def _window_counts(x: Any, kernel: Sequence[int], stride: Sequence[int],
                   padding: Sequence[int], include_pad: bool) -> Any:
    """Elements per window (counting the explicit padding or not), as a float64 tensor:
    the mean of a 0/1 plane times the window size, rounded (exact in float64)."""
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=torch.float64, device=x.device)
    pads = [q for p in reversed(padding) for q in (p, p)]
    plane = F.pad(ones, pads, value=1.0 if include_pad else 0.0)
    mean = _kernel("avg_pool", x)(plane, tuple(kernel), tuple(stride), 0)
    return torch.round(mean * math.prod(kernel))[0, 0]



_WIDE_CEIL = "fixed: False; the wide-padding menus keep ceil_mode off"

class PoolingOps:
    @implements("pool.max", native=(
                    "torch.nn.functional.max_pool1d",
                    "torch.nn.functional.max_pool2d",
                    "torch.nn.functional.max_pool3d",
                ),
                params={
                        "stride": "drawn",
                        "padding": "drawn",
                        "dilation": "drawn",
                        "ceil_mode": "drawn",
                        "return_indices": "fixed: False (pool.max/indices: True)"})
    def max_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        return _kernel("max_pool", x)(x, kernel, stride, padding, dilation, ceil_mode)

    @implements("pool.max/indices", native="torch.nn.functional.max_pool2d",
                params={
                        "stride": "drawn",
                        "padding": "drawn",
                        "dilation": "fixed: 1; pool.max/dilated draws dilation",
                        "ceil_mode": "drawn",
                        "return_indices": "fixed: True"})
    def max_pool_with_indices(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                              padding: Sequence[int], dilation: Sequence[int],
                              ceil_mode: bool) -> Any:
        # torch's indices are the oracle's layout: flat index into the unpadded (n, c) plane.
        return tuple(_kernel("max_pool", x)(x, kernel, stride, padding, dilation, ceil_mode,
                                            return_indices=True))

    @implements("pool.min", composed=True)
    def min_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool) -> Any:
        # No min pool in torch: -maxpool(-x) (padding still never chosen; ties: first min).
        return -_kernel("max_pool", x)(-x, kernel, stride, padding, dilation, ceil_mode)

    @implements("pool.avg", native=(
                    "torch.nn.functional.avg_pool1d",
                    "torch.nn.functional.avg_pool2d",
                    "torch.nn.functional.avg_pool3d",
                ),
                params={
                        "stride": "drawn",
                        "padding": "drawn",
                        "ceil_mode": "drawn",
                        "count_include_pad": "drawn",
                        "divisor_override": "drawn"})
    def avg_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                 padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                 divisor_override: int | None = None) -> Any:
        if divisor_override is None:  # avg_pool1d has no divisor_override keyword
            return _kernel("avg_pool", x)(x, kernel, stride, padding, ceil_mode,
                                          count_include_pad)
        return _kernel("avg_pool", x)(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                      divisor_override)

    @implements("pool.max/same", composed=True)
    def max_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, dilation: Sequence[int], ceil_mode: bool) -> Any:
        # torch's pools have no 'same': TF's (before, after) split padded with -inf (never
        # chosen), then an unpadded max pool.
        pads = pool_same_pads(x.shape[2:], kernel, stride)
        xp = F.pad(x, [q for lo_hi in reversed(pads) for q in lo_hi], value=-math.inf)
        return _kernel("max_pool", x)(xp, kernel, stride, 0, dilation, False)

    @implements("pool.avg/same", composed=True)
    def avg_pool_same(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: str, ceil_mode: bool, count_include_pad: bool) -> Any:
        # Zero padding with TF's split, an unpadded average (divides by the kernel size:
        # count_include_pad=True), rescaled to the real elements' count for False.
        pads = pool_same_pads(x.shape[2:], kernel, stride)
        xp = F.pad(x, [q for lo_hi in reversed(pads) for q in lo_hi])
        mean = _kernel("avg_pool", x)(xp, kernel, stride, 0)
        if count_include_pad:
            return mean
        scale = math.prod(kernel) / pool_same_divisor(x.shape[2:], kernel, stride)
        return mean * torch.tensor(scale, dtype=x.dtype, device=x.device)

    @implements("pool.max/wide_padding",
                native=("torch.nn.functional.max_pool1d", "torch.nn.functional.max_pool2d"),
                params={"stride": "drawn", "padding": "drawn", "dilation": "drawn",
                        "ceil_mode": _WIDE_CEIL, "return_indices": "fixed: False"})
    def max_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], dilation: Sequence[int], ceil_mode: bool,
                      wide_padding: bool) -> Any:
        # Passed through: torch's kernels reject padding above kernel // 2 (a raises
        # divergence records it).
        return self.max_pool(x, kernel=kernel, stride=stride, padding=padding,
                             dilation=dilation, ceil_mode=ceil_mode)

    @implements("pool.avg/wide_padding",
                native=("torch.nn.functional.avg_pool1d", "torch.nn.functional.avg_pool2d"),
                params={"stride": "drawn", "padding": "drawn", "ceil_mode": _WIDE_CEIL,
                        "count_include_pad": "drawn",
                        "divisor_override": "fixed: None (pool.avg/divisor draws it)"})
    def avg_pool_wide(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                      padding: Sequence[int], ceil_mode: bool, count_include_pad: bool,
                      wide_padding: bool) -> Any:
        return self.avg_pool(x, kernel=kernel, stride=stride, padding=padding,
                             ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    @implements("pool.l2", native="torch.nn.functional.lp_pool2d",
                params={"norm_type": "drawn", "stride": "drawn",
                        "ceil_mode": "not covered: False; the oracle has no ceil_mode for L2 "
                                     "(torch's partial windows, docs/conventions/pooling.md "
                                     "§3.3)"})
    def l2_pool(self, x: Any, *, kernel: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], mean: bool, count_include_pad: bool,
                norm_type: float = 2.0) -> Any:
        # F.lp_pool computes (sum x^p)^(1/p) (docs/conventions/pooling.md §3.3) and has no
        # padding: pad with zeros (they add 0 to the sum); mean=True divides by the p-th root
        # of the oracle's divisor. Every window is full after the explicit padding (no
        # ceil_mode here). It raises x itself to p: for p != 2 the oracle's Lp norm is that of
        # |x| (torch's odd p would sum signed powers, a fractional p gives NaN for x < 0).
        pads = [q for p in reversed(padding) for q in (p, p)]
        # lp_pool1d multiplies by its kernel_size: it needs an int there.
        ker = kernel[0] if len(kernel) == 1 else kernel
        base = x if norm_type == 2.0 else x.abs()
        total = _kernel("lp_pool", x)(F.pad(base, pads), norm_type, ker, stride)
        if not mean:
            return total
        count = _window_counts(x, kernel, stride, padding, count_include_pad)
        return total / (torch.sqrt(count) if norm_type == 2.0
                        else count ** (1.0 / norm_type)).to(x.dtype)

    @implements("pool.stochastic/eval", composed=True)
    def stochastic_pool_eval(self, x: Any, *, kernel: Sequence[int],
                             stride: Sequence[int]) -> Any:
        # sum a^2 / sum a = mean(a^2) / mean(a) over the same windows (no stochastic pool in
        # torch; FractionalMaxPool is another algorithm).
        pool = _kernel("avg_pool", x)
        return pool(x * x, kernel, stride) / pool(x, kernel, stride)

    @implements("pool.stochastic/train", composed=True)
    def stochastic_pool_train(self, x: Any, *, kernel: Sequence[int],
                              stride: Sequence[int]) -> Any:
        win = _windows(x, kernel, stride)
        flat = win.reshape(-1, win.shape[-1])
        probs = flat / flat.sum(dim=1, keepdim=True)
        pick = torch.multinomial(probs, 1)
        return torch.gather(flat, 1, pick).reshape(win.shape[:-1])

    @implements("pool.global_avg", native=(
                    "torch.nn.functional.adaptive_avg_pool1d",
                    "torch.nn.functional.adaptive_avg_pool2d",
                    "torch.nn.functional.adaptive_avg_pool3d",
                ))
    def global_avg_pool(self, x: Any, *, keepdims: bool) -> Any:
        y = _kernel("adaptive_avg_pool", x)(x, 1)
        return y if keepdims else y.reshape(x.shape[:2])

    @implements("pool.global_max", native=(
                    "torch.nn.functional.adaptive_max_pool1d",
                    "torch.nn.functional.adaptive_max_pool2d",
                    "torch.nn.functional.adaptive_max_pool3d",
                ),
                params={
                        "return_indices": "fixed: False"})
    def global_max_pool(self, x: Any, *, keepdims: bool) -> Any:
        # adaptive_max_pool routes the gradient to the first maximum (torch.amax splits it).
        y = _kernel("adaptive_max_pool", x)(x, 1)
        return y if keepdims else y.reshape(x.shape[:2])

    @implements("pool.max_unpool", native=(
                    "torch.nn.functional.max_unpool1d",
                    "torch.nn.functional.max_unpool2d",
                    "torch.nn.functional.max_unpool3d",
                ),
                params={
                        "stride": "fixed: 1, with kernel and padding chosen so the default size is "
                                  "output_size",
                        "padding": "fixed: see stride",
                        "output_size": "drawn"})
    def max_unpool(self, values: Any, indices: Any, *, output_size: Sequence[int]) -> Any:
        # F.max_unpool only uses kernel/stride/padding to check output_size against its
        # default size (o - 1) * s + k - 2p; with s = 1 this (k, p) makes that default equal
        # output_size, so the check passes for any pooling geometry the indices came from.
        size = tuple(int(n) for n in output_size)[-(values.ndim - 2):]
        out = values.shape[2:]
        pad = tuple(max(0, o - n) for n, o in zip(size, out, strict=True))
        ker = tuple(n - o + 1 + 2 * p for n, o, p in zip(size, out, pad, strict=True))
        return _kernel("max_unpool", values)(values, indices, ker, 1, pad, output_size=size)

    @implements("pool.kmax", composed=True, native="torch.topk",
                params={"dim": "drawn: from axis", "largest": "drawn",
                        "sorted": "fixed: True; the kept indices are sorted afterwards",
                        "out": "fixed: None"})
    def kmax_pool(self, x: Any, *, k: int, axis: int, largest: bool = True) -> Any:
        # torch.topk's choice among equal values is not the lowest index
        # (docs/conventions/pooling.md §3.5).
        keep = torch.topk(x, k, dim=axis, largest=largest).indices
        return torch.gather(x, axis, torch.sort(keep, dim=axis).values)
