"""Convolution (catalog family ``conv``, notes 000/003/004).

Layouts (torch's): x (N, C_in, *spatial) with 1, 2 or 3 spatial axes (NCL, NCHW, NCDHW);
weights (C_out, C_in / groups, *kernel) (OIL / OIHW / OIDHW); bias (C_out,) or None.
Transposed convolution weights are (C_in, C_out / groups, *kernel), as torch's.

Every convolution here is a cross-correlation (no kernel flip), like every framework:

    y[n, o, i] = b[o] + sum_{c in group(o)} sum_j w[o, c, j] * x_pad[n, c, i*s + j*d]

with x_pad the input zero-padded by ``padding`` (int or one int per axis: symmetric), or
'valid' (no padding) or 'same' (total padding max((ceil(n/s) - 1)*s + d(k-1) + 1 - n, 0),
floor(total/2) before and the rest after: the split of TF, torch, JAX and Keras).
Channel group g of ``groups`` maps input channels [g*C_in/G, (g+1)*C_in/G) to output
channels [g*C_out/G, (g+1)*C_out/G).

``padding_mode`` (torch's Conv layers; conv1d/2d/3d): what the padded positions hold.
"zeros" (the default, above); "reflect": mirrored about the edge element, which is not
repeated (x[-i] = x[i], needs padding < n); "replicate": the edge element repeated;
"circular": the input wrapped around (x[-i] = x[n - i], needs padding <= n). Any padding
spec (ints, 'same') gives the (before, after) amounts; the mode fills them.

Windows are gathered by ``oracle.pooling.sliding_windows`` and contracted with one matmul
per group, so the code runs on dual numbers (only the Dual NumPy subset is used).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from oracle import _canon
from oracle.pooling import IntOrTuple, sliding_windows, spatial_rank

Padding = int | Sequence[int] | str

# The notes' "vertical edge" kernel (004), rows top to bottom exactly as written there.
EDGE_KERNEL = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])


def _pads(padding: Padding, sizes: Sequence[int], k: Sequence[int], s: Sequence[int],
          d: Sequence[int]) -> list[tuple[int, int]]:
    r = len(sizes)
    if padding == "valid":
        return [(0, 0)] * r
    if padding == "same":
        totals = [max((-(-n // si) - 1) * si + di * (ki - 1) + 1 - n, 0)
                  for n, ki, si, di in zip(sizes, k, s, d, strict=True)]
        return [(t // 2, t - t // 2) for t in totals]
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same': {padding!r}")
    p = _canon.pair(padding, r)
    if min(p) < 0:
        raise ValueError(f"padding must be >= 0, got {p}")
    return [(pi, pi) for pi in p]


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """The input index each position -lo .. n + hi - 1 of the padded axis copies."""
    pos = np.arange(-lo, n + hi)
    if mode == "reflect":
        if max(lo, hi) >= n:
            raise ValueError(f"reflect padding ({lo}, {hi}) must be below the size {n}")
        pos = np.abs(pos)
        return np.where(pos > n - 1, 2 * (n - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if mode == "circular":
        if max(lo, hi) > n:
            raise ValueError(f"circular padding ({lo}, {hi}) must not exceed the size {n}")
        return pos % n
    raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {mode!r}")


def _pad_by_mode(x: Any, pads: Sequence[tuple[int, int]], mode: str) -> Any:
    """x padded along each spatial axis by integer indexing (runs on duals)."""
    for a, (lo, hi) in enumerate(pads):
        idx = _source_index(x.shape[2 + a], lo, hi, mode)
        x = x[(slice(None),) * (2 + a) + (idx,)]
    return x


def _check_weights(x: Any, w: Any, groups: int, transposed: bool) -> None:
    if w.ndim != x.ndim:
        raise ValueError(f"weights {w.shape} do not match input {x.shape}")
    c_in = x.shape[1]
    if groups < 1 or c_in % groups:
        raise ValueError(f"groups={groups} must divide the {c_in} input channels")
    if transposed and w.shape[0] != c_in:
        raise ValueError(f"transposed weights must be (C_in={c_in}, C_out/groups, ...)")
    if not transposed and (w.shape[1] * groups != c_in or w.shape[0] % groups):
        raise ValueError(f"weights {w.shape} must be (C_out, C_in/groups={c_in // groups}, "
                         "...) with C_out divisible by groups")


def _add_bias(y: Any, b: Any) -> Any:
    if b is None:
        return y
    b = _canon.asarray(b)
    if b.shape != (y.shape[1],):
        raise ValueError(f"bias must be ({y.shape[1]},), got {b.shape}")
    return y + b.reshape((1, -1) + (1,) * (y.ndim - 2))


def _conv(x: Any, w: Any, b: Any, stride: IntOrTuple, padding: Padding,
          dilation: IntOrTuple, groups: int, padding_mode: str = "zeros") -> Any:
    x, w = _canon.asarray(x), _canon.asarray(w)
    r = spatial_rank(x)
    _check_weights(x, w, groups, transposed=False)
    k, s, d = w.shape[2:], _canon.pair(stride, r), _canon.pair(dilation, r)
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"stride and dilation must be >= 1: {s}, {d}")
    pads = _pads(padding, x.shape[2:], k, s, d)
    if padding_mode != "zeros":
        x = _pad_by_mode(x, pads, padding_mode)
        pads = [(0, 0)] * r
    win = sliding_windows(x, kernel=k, stride=s, pads=pads, dilation=d)
    values = np.where(win.valid, win.values, np.zeros_like(win.values))
    n, c_in, c_out = x.shape[0], x.shape[1], w.shape[0]
    n_out, n_k = int(np.prod(win.out_shape)), values.shape[-1]
    # (N, G, C_in/G, P, K) -> (N, G, P, C_in/G * K); weights (G, C_in/G * K, C_out/G).
    cols = values.reshape(n, groups, c_in // groups, n_out, n_k).transpose(0, 1, 3, 2, 4)
    cols = cols.reshape(n, groups, n_out, c_in // groups * n_k)
    wmat = w.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)
    y = _canon.asarray(np.matmul(cols, wmat))  # asarray: bfloat16 matmul returns float32
    y = y.transpose(0, 1, 3, 2).reshape((n, c_out) + win.out_shape)
    return _add_bias(y, b)


def conv1d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1, padding: Padding = 0,
           dilation: IntOrTuple = 1, groups: int = 1, padding_mode: str = "zeros") -> Any:
    """1-D cross-correlation, x (N, C_in, L), w (C_out, C_in/groups, k) -> (N, C_out, L_out),
    L_out = floor((L + p_lo + p_hi - d(k-1) - 1) / s) + 1. Conventions: module docstring."""
    _require_rank(x, 1)
    return _conv(x, w, b, stride, padding, dilation, groups, padding_mode)


def conv2d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1, padding: Padding = 0,
           dilation: IntOrTuple = 1, groups: int = 1, padding_mode: str = "zeros") -> Any:
    """2-D cross-correlation, x NCHW, w OIHW (C_out, C_in/groups, kH, kW) -> NCHW, each
    output size floor((n + p_lo + p_hi - d(k-1) - 1) / s) + 1. A 1x1 kernel is a per-pixel
    channel mix (the notes' bottleneck layer). Conventions: module docstring."""
    _require_rank(x, 2)
    return _conv(x, w, b, stride, padding, dilation, groups, padding_mode)


def conv3d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1, padding: Padding = 0,
           dilation: IntOrTuple = 1, groups: int = 1, padding_mode: str = "zeros") -> Any:
    """3-D cross-correlation (C3D), x NCDHW, w (C_out, C_in/groups, kD, kH, kW) -> NCDHW.
    Conventions: module docstring."""
    _require_rank(x, 3)
    return _conv(x, w, b, stride, padding, dilation, groups, padding_mode)


def _require_rank(x: Any, r: int) -> None:
    if np.ndim(_canon.primal(x)) != r + 2:
        raise ValueError(f"expected {r} spatial axes, got input shape {np.shape(x)}")


def _conv_transpose(x: Any, w: Any, b: Any, stride: IntOrTuple, padding: IntOrTuple,
                    output_padding: IntOrTuple, dilation: IntOrTuple, groups: int) -> Any:
    x, w = _canon.asarray(x), _canon.asarray(w)
    r = spatial_rank(x)
    _check_weights(x, w, groups, transposed=True)
    s, p = _canon.pair(stride, r), _canon.pair(padding, r)
    op, d = _canon.pair(output_padding, r), _canon.pair(dilation, r)
    k, sizes = w.shape[2:], x.shape[2:]
    if min(s) < 1 or min(d) < 1 or min(p) < 0 or min(op) < 0:
        raise ValueError(f"bad geometry: stride {s}, dilation {d}, padding {p}, out pad {op}")
    if any(o >= max(si, di) for o, si, di in zip(op, s, d, strict=True)):
        raise ValueError(f"output_padding {op} must be smaller than max(stride, dilation)")
    full = [(n - 1) * si + di * (ki - 1) + 1 + o
            for n, si, di, ki, o in zip(sizes, s, d, k, op, strict=True)]
    out_size = [f - 2 * pi for f, pi in zip(full, p, strict=True)]
    if min(out_size) < 1:
        raise ValueError(f"padding {p} leaves no output (full size {full})")
    n, c_in, g = x.shape[0], x.shape[1], groups
    c_out = w.shape[1] * g
    n_in = int(np.prod(sizes))
    # rows (N, G, P_in, C_in/G): each input pixel scatters row @ w[:, :, j] to i*s + j*d.
    rows = x.reshape(n, g, c_in // g, n_in).transpose(0, 1, 3, 2)
    wg = w.reshape((g, c_in // g, c_out // g) + tuple(k))
    buf = None
    for j in product(*(range(ki) for ki in k)):
        part = _canon.asarray(np.matmul(rows, wg[(slice(None),) * 3 + j]))
        part = part.transpose(0, 1, 3, 2).reshape((n, c_out) + tuple(sizes))
        if buf is None:  # like a product of x and w: a dual if either one is
            buf = _canon.zeros((n, c_out) + tuple(full), like=part)
        at = (slice(None), slice(None)) + tuple(
            slice(ji * di, ji * di + (ni - 1) * si + 1, si)
            for ji, di, ni, si in zip(j, d, sizes, s, strict=True))
        buf[at] = buf[at] + part
    crop = (slice(None), slice(None)) + tuple(
        slice(pi, pi + o) for pi, o in zip(p, out_size, strict=True))
    return _add_bias(buf[crop], b)


def conv_transpose2d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     dilation: IntOrTuple = 1, groups: int = 1) -> Any:
    """Transposed 2-D convolution ("deconvolution"), torch's semantics: the exact adjoint of
    ``conv2d`` with the same stride/padding/dilation/groups, i.e. the input gradient of conv2d.

    x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW) (torch's transposed layout: it is the
    weight of the forward conv2d mapping C_out -> C_in). Each input pixel i scatters
    x[n, c, i] * w[c, o, j] to position i*s + j*d of a full map of size
    (n-1)*s + d(k-1) + 1 + output_padding, which is then cropped by ``padding`` on both
    sides: out = (n-1)*s - 2p + d(k-1) + output_padding + 1. ``output_padding`` (extra rows
    at the end, < max(stride, dilation)) picks one of the input sizes that a strided conv2d
    maps to the same size. Keras 'same' is the crop full[0 : n*s]
    (docs/conventions/conv.md §7.1).
    """
    _require_rank(x, 2)
    return _conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups)


def conv_transpose1d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     dilation: IntOrTuple = 1, groups: int = 1) -> Any:
    """1-D version of ``conv_transpose2d``: x (N, C_in, L), w (C_in, C_out/groups, k)."""
    _require_rank(x, 1)
    return _conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups)


def conv_transpose3d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1,
                     padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                     dilation: IntOrTuple = 1, groups: int = 1) -> Any:
    """3-D version of ``conv_transpose2d``: x NCDHW, w (C_in, C_out/groups, kD, kH, kW)."""
    _require_rank(x, 3)
    return _conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups)


def depthwise_conv2d(x: Any, w: Any, b: Any = None, *, stride: IntOrTuple = 1,
                     padding: Padding = 0, dilation: IntOrTuple = 1) -> Any:
    """Depthwise (channel-wise) 2-D convolution: conv2d with groups = C_in.

    x (N, C, H, W); w (C * mult, 1, kH, kW): output channel c*mult + m sees only input
    channel c (torch's groups=C layout; Keras' DepthwiseConv2D kernel (kH, kW, C, mult) is
    the same order after reshaping to (kH, kW, 1, C*mult)). b (C*mult,) or None.
    """
    _require_rank(x, 2)
    c = np.shape(_canon.primal(x))[1]
    ws = np.shape(_canon.primal(w))
    if len(ws) != 4 or ws[1] != 1 or ws[0] % c:
        raise ValueError(f"depthwise weights must be (C*mult, 1, kH, kW) with C={c}, got {ws}")
    return _conv(x, w, b, stride, padding, dilation, c)


def edge_detect(image: Any) -> Any:
    """The notes' edge detector (004): cross-correlation of the image with
    [[1, 1, 1], [0, 0, 0], [-1, -1, -1]] (rows top to bottom as written), no padding,
    stride 1: y[i, j] = sum of row i of the 3x3 patch minus sum of its row i+2.

    The notes call this kernel "vertical edge"; taken as written it responds to intensity
    changes along H (a boundary running across the image, e.g. bright rows above dark rows)
    and gives 0 on a left/right step. image (H, W) -> (H-2, W-2), or (N, 1, H, W) ->
    (N, 1, H-2, W-2).
    """
    image = _canon.asarray(image)
    shape = np.shape(_canon.primal(image))
    if len(shape) == 2:
        return conv2d(image.reshape((1, 1) + shape), EDGE_KERNEL[None, None])[0, 0]
    if len(shape) != 4 or shape[1] != 1:
        raise ValueError(f"image must be (H, W) or (N, 1, H, W), got {shape}")
    return conv2d(image, EDGE_KERNEL[None, None])


ORACLE: dict[str, Callable[..., Any]] = {
    "conv.conv1d": conv1d,
    "conv.conv2d": conv2d,
    "conv.conv3d": conv3d,
    "conv.conv_transpose2d": conv_transpose2d,
    "conv.depthwise2d": depthwise_conv2d,
    "conv.edge_detect": edge_detect,
}
