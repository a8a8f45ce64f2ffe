"""The types of the accuracy harness's inputs: a ``Draw`` (a NumPy generator seeded by
hypothesis, the hard class, and the hypothesis data object) and a ``Form`` (one measured
callable of an op, its mpmath transcription, its input builder, the classes in its domain
and, where its bound is conditioned, the per-element condition scale)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracle.accuracy.classes import CLASSES

Args = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass
class Draw:
    rng: np.random.Generator
    cls: str
    data: Any = None  # the hypothesis data object (spec-drawn cases draw from it)

    def values(self, *shape: int) -> np.ndarray:
        return CLASSES[self.cls](self.rng, tuple(shape))

    def pick(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def uniform(self, lo: float, hi: float, *shape: int) -> np.ndarray:
        return self.rng.uniform(lo, hi, size=shape)


Terms = Callable[[tuple[Any, ...], dict[str, Any], list[np.ndarray]], list[np.ndarray]]


@dataclass
class Form:
    """One measured callable of an op (an op may have several, e.g. two Hessians)."""

    name: str
    subject: Callable[..., Any]
    precise: Callable[..., Any]
    build: Callable[[Draw], Args]
    classes: tuple[str, ...]
    terms: Terms | None = None



def abs_args(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """fn on |args|: for a multilinear fn, sum |terms| per output element."""
    return np.asarray(fn(*(None if a is None else np.abs(a) for a in args), **kwargs))

