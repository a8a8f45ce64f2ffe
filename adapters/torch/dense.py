"""torch mapping of ``nn.dense``: F.linear, torch's dense kernel (addmm), whose (out, in)
weight layout is the oracle's."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch

_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: torch.relu(z),
    "sigmoid": lambda z: torch.sigmoid(z),
    "tanh": lambda z: torch.tanh(z),
}


class DenseOps:
    @implements("nn.dense", native="torch.nn.functional.linear",
                params={"bias": "drawn: from b"})
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        return _ACTIVATIONS[activation](F.linear(x, w, b))

    @implements("nn.dense/gemm", native="torch.addmm",
                params={"beta": "drawn", "alpha": "drawn", "out": "fixed: None"})
    def dense_gemm(self, x: Any, w: Any, b: Any, *, activation: str, alpha: float,
                   beta: float) -> Any:
        # addmm is 2-d: leading batch axes flattened and restored (a view, no copy).
        flat = x.reshape(-1, x.shape[-1])
        z = torch.addmm(b, flat, w.T, beta=beta, alpha=alpha)
        return _ACTIVATIONS[activation](z.reshape(*x.shape[:-1], w.shape[0]))
