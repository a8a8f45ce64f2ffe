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
    @implements("nn.dense")
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        return _ACTIVATIONS[activation](F.linear(x, w, b))
