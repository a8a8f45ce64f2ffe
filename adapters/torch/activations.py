"""torch mappings of the ``act`` family."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch


class ActivationOps:
    @implements("act.sigmoid")
    def sigmoid(self, x: Any) -> Any:
        return torch.sigmoid(x)

    @implements("act.tanh")
    def tanh(self, x: Any) -> Any:
        return torch.tanh(x)

    @implements("act.relu")
    def relu(self, x: Any) -> Any:
        return F.relu(x)

    @implements("act.leaky_relu")
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return F.leaky_relu(x, negative_slope=slope)

    @implements("act.softmax")
    def softmax(self, x: Any, *, axis: int) -> Any:
        return F.softmax(x, dim=axis)

    @implements("act.log_softmax")
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return F.log_softmax(x, dim=axis)
