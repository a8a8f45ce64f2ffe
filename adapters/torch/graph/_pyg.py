"""torch_geometric, imported lazily with its one import-time warning silenced.

Importing torch_geometric 2.8.1 on torch 2.13 warns that ``torch.jit.script`` is deprecated
(PyG scripts a few helpers at import); that warning, and only it, is silenced here. Layers
are built once per configuration on the meta device (no memory, no initialisation) and run
with ``torch.func.functional_call`` on the canonical weights, so autograd and forward AD
differentiate through the given tensors (the pattern of adapters/torch/blocks.py).
"""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable
from typing import Any

from adapters.base import LazyModule
from adapters.torch._lazy import torch

JIT_WARNING = r"`torch\.jit\.script` is deprecated"


class _QuietPyG(LazyModule):
    def _load(self) -> types.ModuleType:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=JIT_WARNING, category=DeprecationWarning)
            return super()._load()


pyg = _QuietPyG("torch_geometric", extra="torch")


def module(path: str) -> types.ModuleType:
    pyg.__version__  # noqa: B018  (imports torch_geometric, quietly, before its submodules)
    import importlib

    return importlib.import_module(path)


def conv(name: str) -> Any:
    """A class of torch_geometric.nn.conv."""
    return getattr(module("torch_geometric.nn.conv"), name)


def utils() -> types.ModuleType:
    return module("torch_geometric.utils")


def pool() -> types.ModuleType:
    return module("torch_geometric.nn.pool")


@functools.cache
def layer(factory: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``factory(*args, **kwargs)`` built on the meta device, once per configuration."""
    with torch.device("meta"):
        return factory(*args, **kwargs)


def run(module: Any, params: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """The module's forward with ``params`` (and buffers) substituted."""
    return torch.func.functional_call(module, {k: v for k, v in params.items() if v is not None},
                                      args, kwargs)
