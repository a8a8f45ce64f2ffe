"""Transcription of the ``arch`` family: the per-layer output shapes and parameter counts of
the notes' nets (``oracle.architectures.ARCHITECTURES``, the layer lists as data), recounted
with Python integers from the formulas (conv: k^2 C_in C_out + C_out, dense: in * out + out,
sizes floor((n + 2p - k) / s) + 1), and returned as ``shapes_and_params`` arrays of mpf. The
values are exact integers: the oracle's stated error is 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.architectures import ARCHITECTURES, KINDS, ArchitectureArrays


def shapes_and_params(*, name: str) -> ArchitectureArrays:
    arch = ARCHITECTURES[name]
    c, h, w = arch.input_shape
    flat = None
    kinds, shapes, params = [], [], []
    for layer in arch.layers:
        count = 0
        if layer.kind == "flatten":
            flat = c * h * w
        elif layer.kind == "dense":
            count = (flat + 1) * layer.units
            flat = layer.units
        else:
            h = (h + 2 * layer.padding - layer.kernel) // layer.stride + 1
            w = (w + 2 * layer.padding - layer.kernel) // layer.stride + 1
            if layer.kind == "conv":
                count = (layer.kernel ** 2 * c + 1) * layer.units
                c = layer.units
        kinds.append(KINDS.index(layer.kind))
        shapes.append((c, h, w) if flat is None else (flat, 0, 0))
        params.append(count)

    def arr(values: Any) -> np.ndarray:
        a = np.asarray(values, dtype=object)
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            out[idx] = mpmath.mpf(int(a[idx]))
        return out

    return ArchitectureArrays(arr(kinds), arr(shapes), arr(params),
                              np.array(mpmath.mpf(sum(params)), dtype=object))


PRECISE: dict[str, Callable[..., Any]] = {"arch.shapes_and_params": shapes_and_params}
