"""torch mappings of the ``act`` family."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch

_OUT = "fixed: None (a new tensor; out= writes in place)"
_SOFTMAX = {"dim": "drawn: from axis",
            "_stacklevel": "fixed: the default (a warning's stack level)",
            "dtype": "not covered: None, the input's dtype (a cast before the op is another "
                     "op)"}


class ActivationOps:
    @implements("act.sigmoid", native="torch.sigmoid", params={"out": _OUT})
    def sigmoid(self, x: Any) -> Any:
        return torch.sigmoid(x)

    @implements("act.tanh", native="torch.tanh", params={"out": _OUT})
    def tanh(self, x: Any) -> Any:
        return torch.tanh(x)

    @implements("act.relu", native="torch.nn.functional.relu",
                params={"inplace": "fixed: False, the functional form (autograd needs x)"})
    def relu(self, x: Any) -> Any:
        return F.relu(x)

    @implements("act.leaky_relu", native="torch.nn.functional.leaky_relu",
                params={"negative_slope": "drawn: from slope",
                        "inplace": "fixed: False, the functional form (autograd needs x)"})
    def leaky_relu(self, x: Any, *, slope: float) -> Any:
        return F.leaky_relu(x, negative_slope=slope)

    @implements("act.softmax", native="torch.nn.functional.softmax", params=_SOFTMAX)
    def softmax(self, x: Any, *, axis: int) -> Any:
        return F.softmax(x, dim=axis)

    @implements("act.log_softmax", native="torch.nn.functional.log_softmax",
                params=_SOFTMAX)
    def log_softmax(self, x: Any, *, axis: int) -> Any:
        return F.log_softmax(x, dim=axis)
