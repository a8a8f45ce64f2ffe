"""mpmath transcriptions of the ``block`` family (notes 004): the residual block, the
Inception block and the flatten + dense head, composed from the precise conv, pooling, ReLU
and dense transcriptions (each output element of each layer exact to the working precision)
in the layer order the notes give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise import activations as A
from oracle.precise import conv as C
from oracle.precise import dense as D
from oracle.precise import pooling as P
from oracle.precise._common import mp


def _same(x: Any, w: Any, b: Any, stride: int = 1) -> np.ndarray:
    k = np.shape(w)[2:]
    return C.conv2d(x, w, b, stride=stride, padding=tuple(ki // 2 for ki in k))


def _shortcut(x: np.ndarray, c_out: int, kind: str, ws: Any, stride: int) -> np.ndarray:
    if kind == "projection":
        return C.conv2d(x, ws, stride=stride)
    if kind == "identity":
        return x
    sub = x[:, :, ::stride, ::stride]
    extra = c_out - x.shape[1]
    zeros = np.empty((sub.shape[0], extra) + sub.shape[2:], dtype=object)
    zeros[...] = mpmath.mpf(0)
    return np.concatenate([sub, zeros], axis=1)


def residual_block(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, *, shortcut: str = "identity",
                   ws: Any = None, stride: int = 1) -> np.ndarray:
    x = mp(x)
    z2 = _same(A.relu(_same(x, w1, b1, stride)), w2, b2)
    return A.relu(z2 + _shortcut(x, z2.shape[1], shortcut, ws, stride))


def inception_block(x: Any, w1: Any, b1: Any, w3r: Any, b3r: Any, w3: Any, b3: Any,
                    w5r: Any, b5r: Any, w5: Any, b5: Any, wp: Any, bp: Any) -> np.ndarray:
    x = mp(x)
    one = A.relu(_same(x, w1, b1))
    three = A.relu(_same(A.relu(_same(x, w3r, b3r)), w3, b3))
    five = A.relu(_same(A.relu(_same(x, w5r, b5r)), w5, b5))
    pooled = P.max_pool(x, kernel=3, stride=1, padding=1)
    return np.concatenate([one, three, five, A.relu(_same(pooled, wp, bp))], axis=1)


def flatten_fc(x: Any, w: Any, b: Any = None) -> np.ndarray:
    x = mp(x)
    return D.dense(x.reshape(x.shape[0], -1), w, b)


PRECISE: dict[str, Callable[..., Any]] = {
    "block.residual": residual_block,
    "block.inception": inception_block,
    "block.flatten_fc": flatten_fc,
}
