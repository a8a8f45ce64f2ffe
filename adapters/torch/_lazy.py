"""Lazily imported torch modules shared by the family mapping modules."""

from adapters.base import LazyModule

torch = LazyModule("torch", extra="torch")
F = LazyModule("torch.nn.functional", extra="torch")
nn = LazyModule("torch.nn", extra="torch")
