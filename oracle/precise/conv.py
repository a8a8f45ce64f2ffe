"""mpmath transcriptions of the ``conv`` family (notes 000/003/004), from the definition

    y[n, o, i] = b[o] + sum_{c in group(o)} sum_j w[o, c, j] * x_pad[n, c, i*s + j*d]

as one exact ``mpmath.fsum`` per output element, and the transposed convolution as its
scatter definition (each input pixel adds x[n, c, i] w[c, o, j] at i*s + j*d of the full map,
then the crop by ``padding``). The padding amounts ('same', 'valid', ints) come from
``oracle.conv._pads``: integer geometry, not arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from itertools import product
from typing import Any

import numpy as np

from oracle import _canon
from oracle.conv import EDGE_KERNEL, _pads
from oracle.precise._common import fsum, mp


def _source(p: int, n: int, mode: str) -> int | None:
    """The input index that padded position p holds (None: a zero)."""
    if 0 <= p < n:
        return p
    if mode == "reflect":  # mirror about the edge element, not repeating it
        return -p if p < 0 else 2 * n - 2 - p
    if mode == "replicate":
        return 0 if p < 0 else n - 1
    if mode == "circular":
        return p + n if p < 0 else p - n
    return None


def _conv(x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any,
          groups: int, padding_mode: str = "zeros") -> np.ndarray:
    x, w = mp(x), mp(w)
    r = x.ndim - 2
    k, s, d = w.shape[2:], _canon.pair(stride, r), _canon.pair(dilation, r)
    pads = _pads(padding, x.shape[2:], k, s, d)
    sizes = x.shape[2:]
    out_shape = tuple((sizes[a] + sum(pads[a]) - d[a] * (k[a] - 1) - 1) // s[a] + 1
                      for a in range(r))
    n, c_in, c_out = x.shape[0], x.shape[1], w.shape[0]
    per_in, per_out = c_in // groups, c_out // groups
    bias = None if b is None else mp(b)
    y = np.empty((n, c_out) + out_shape, dtype=object)
    for a, o in product(range(n), range(c_out)):
        g = o // per_out
        for i in np.ndindex(out_shape):
            terms = [] if bias is None else [bias[o]]
            for c in range(per_in):
                for j in np.ndindex(tuple(k)):
                    pos = tuple(_source(i[t] * s[t] + j[t] * d[t] - pads[t][0], sizes[t],
                                        padding_mode) for t in range(r))
                    if all(q is not None for q in pos):
                        terms.append(w[(o, c) + j] * x[(a, g * per_in + c) + pos])
            y[(a, o) + i] = fsum(terms)
    return y


def conv1d(x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1, padding_mode: str = "zeros") -> np.ndarray:
    """Exact sums; ``padding_mode`` maps each padded position to the input element it holds."""
    return _conv(x, w, b, stride, padding, dilation, groups, padding_mode)


conv2d = conv1d
conv3d = conv1d


def depthwise_conv2d(x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
                     dilation: Any = 1) -> np.ndarray:
    return _conv(x, w, b, stride, padding, dilation, np.shape(x)[1])


def conv_transpose2d(x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    x, w = mp(x), mp(w)
    r = x.ndim - 2
    s, p = _canon.pair(stride, r), _canon.pair(padding, r)
    op, d = _canon.pair(output_padding, r), _canon.pair(dilation, r)
    k, sizes = w.shape[2:], x.shape[2:]
    full = tuple((sizes[t] - 1) * s[t] + d[t] * (k[t] - 1) + 1 + op[t] for t in range(r))
    out_size = tuple(full[t] - 2 * p[t] for t in range(r))
    n, c_in = x.shape[:2]
    per_in, per_out = c_in // groups, w.shape[1]
    terms: dict[tuple[int, ...], list[Any]] = defaultdict(list)
    for a, c in product(range(n), range(c_in)):
        g = c // per_in
        for i in np.ndindex(tuple(sizes)):
            for oo in range(per_out):
                for j in np.ndindex(tuple(k)):
                    pos = tuple(i[t] * s[t] + j[t] * d[t] - p[t] for t in range(r))
                    if all(0 <= pos[t] < out_size[t] for t in range(r)):
                        terms[(a, g * per_out + oo) + pos].append(x[(a, c) + i] * w[(c, oo) + j])
    bias = None if b is None else mp(b)
    y = np.empty((n, groups * per_out) + out_size, dtype=object)
    for idx in np.ndindex(y.shape):
        extra = [] if bias is None else [bias[idx[1]]]
        y[idx] = fsum(terms.get(idx, []) + extra)
    return y


def edge_detect(image: Any) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return _conv(image[None, None], EDGE_KERNEL[None, None], None, 1, 0, 1, 1)[0, 0]
    return _conv(image, EDGE_KERNEL[None, None], None, 1, 0, 1, 1)


PRECISE: dict[str, Callable[..., Any]] = {
    "conv.conv1d": conv1d,
    "conv.conv2d": conv2d,
    "conv.conv3d": conv3d,
    "conv.conv_transpose2d": conv_transpose2d,
    "conv.depthwise2d": depthwise_conv2d,
    "conv.edge_detect": edge_detect,
}
