"""The fully connected layer (catalog family ``nn``): the neuron of notes 004 for a batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oracle import _canon
from oracle.activations import relu, sigmoid, tanh

_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda z: z,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
}


def dense(x: Any, w: Any, b: Any = None, *, activation: str = "identity", alpha: float = 1.0,
          beta: float = 1.0) -> Any:
    """a = g(x W^T + b) for a batch.

    Gemm scales (ONNX Gemm, torch.addmm(b, x, W^T, beta=beta, alpha=alpha)):
    a = g(alpha (x W^T) + beta b); alpha multiplies the finished product, beta the bias (unused
    without one). The defaults 1, 1 are the layer, computed without the multiplications.

    Layout: x (N, in) (any leading batch axes (..., in) work the same), w (out, in) as torch's
    Linear (Keras/Flax kernels are (in, out): the adapter transposes), b (out,) or None.
    g is one of identity, relu (ReLU'(0) = 0), sigmoid, tanh: the oracle's own activations.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    x = _canon.asarray(x)
    w = _canon.asarray(w)
    if w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"x {x.shape} and w {w.shape} do not match (w must be (out, in))")
    # asarray: ml_dtypes' bfloat16 matmul returns float32; keep the compute dtype.
    z = _canon.asarray(np.matmul(x, w.T))
    if alpha != 1.0:
        z = _canon.scalar(alpha) * z
    if b is not None:
        b = _canon.asarray(b)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must be ({w.shape[0]},), got {b.shape}")
        z = z + (b if beta == 1.0 else _canon.scalar(beta) * b)
    return _ACTIVATIONS[activation](z)


ORACLE: dict[str, Callable[..., Any]] = {"nn.dense": dense}
