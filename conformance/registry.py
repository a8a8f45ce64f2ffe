"""OpSpec records and the registry: the only place that knows an op exists.

A spec says how to draw an op's inputs and hyper-parameters (a hypothesis strategy per
dtype), which positional inputs are differentiated, which outputs carry gradients, and any
tolerance override with its reason. Registration is explicit (``register`` in
``conformance/specs/*``), and a second spec with the same id is an error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis.strategies import SearchStrategy

from conformance.vocabulary import FLOAT_DTYPES, MODES


@dataclass(frozen=True)
class Case:
    """One drawn example: positional arrays (float64 values before rounding to the dtype
    under test; integer arrays stay integer), keyword hyper-parameters, and names."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()

    def arg_names(self) -> tuple[str, ...]:
        if len(self.names) == len(self.args):
            return self.names
        return tuple(f"arg{i}" for i in range(len(self.args)))


@dataclass(frozen=True)
class Override:
    """A tolerance override: a larger constant C for some modes/dtypes, with its reason."""

    factor: float
    reason: str
    modes: tuple[str, ...] = MODES
    dtypes: tuple[str, ...] = FLOAT_DTYPES


@dataclass(frozen=True)
class OpSpec:
    id: str
    oracle: Callable[..., Any]
    inputs: Callable[[str], SearchStrategy[Case]]
    dtypes: tuple[str, ...] = FLOAT_DTYPES
    grad_wrt: tuple[int, ...] = ()
    grad_outputs: tuple[int, ...] | None = None
    overrides: tuple[Override, ...] = ()
    tags: frozenset[str] = frozenset()
    notes: str = ""
    check: Callable[..., Any] | None = None
    # The textbook derivative formula kernels use (e.g. sigmoid' = y(1-y) from the saved
    # output), as a second naive evaluation of the derivative: (mode, args, kwargs, outputs,
    # seeds) -> per-wrt gradients ("vjp", seeds = cotangents per output) or output tangents
    # ("jvp", seeds = tangents per wrt input), all NumPy in the tested dtype. The naive error
    # of a derivative is the larger of this one's and the oracle's own duals run in the dtype
    # (records say which one set the bound: "textbook" or "oracle-in-dtype").
    textbook: Callable[..., list[Any]] | None = None
    # Stateful ops (optimizers, schedules): every output is a trajectory stacked along axis 0,
    # one row per step, checked in mode "state", which names the first step where they part.
    trajectory: bool = False
    # Speed benchmarks: size label ("small", "medium", "large") -> a fixed Case, and an
    # optional flop count of a case (for matmul/conv-bound ops; others are memory-bound).
    bench: Mapping[str, Callable[[], Case]] = field(default_factory=dict)
    flops: Callable[[Case], int] | None = None

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes this spec is checked in (the plugin parametrizes over these)."""
        if self.check is not None:
            return ("stat",)
        first = "state" if self.trajectory else "forward"
        return (first, "vjp", "jvp") if self.grad_wrt else (first,)

    @property
    def catalog_id(self) -> str:
        return self.id.split("/")[0]

    @property
    def family(self) -> str:
        return self.id.split(".")[0]

    def factor(self, mode: str, dtype: str) -> tuple[float, str | None]:
        """The multiplier on the rule's constant for this mode and dtype, and why."""
        for o in self.overrides:
            if mode in o.modes and dtype in o.dtypes:
                return o.factor, o.reason
        return 1.0, None


class DuplicateSpecError(ValueError):
    pass


REGISTRY: dict[str, OpSpec] = {}
# spec id -> the module that registered it: the family's spec module (tests/test_layout.py).
REGISTERED_IN: dict[str, str] = {}


def register(*specs: OpSpec) -> None:
    caller = sys._getframe(1).f_globals.get("__name__", "?")
    for spec in specs:
        if spec.id in REGISTRY:
            raise DuplicateSpecError(f"spec id {spec.id!r} registered twice")
        for o in spec.overrides:
            if not o.reason.strip():
                raise ValueError(f"{spec.id}: a tolerance override needs its reason")
        REGISTRY[spec.id] = spec
        REGISTERED_IN[spec.id] = caller
