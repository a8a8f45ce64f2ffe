"""The adapter protocol: canonical NumPy data in, one native call, canonical NumPy out.

An adapter class collects its op mappings from methods decorated with ``@implements``; a
subclass can override a single op (a kernel developer swapping in a new kernel) and inherits
every other mapping. Mapping methods take and return *native* tensors so that the same method
serves the forward check and the framework's own reverse and forward-mode differentiation.
Translation only: no tolerances and no skips live here.
"""

from __future__ import annotations

import contextlib
import importlib
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from conformance.vocabulary import FLOAT_DTYPES


class AdapterError(Exception):
    """A configuration problem a user can fix (missing framework, absent device...)."""


class LazyModule(types.ModuleType):
    """A module imported on first attribute access, so that listing an adapter's mappings
    (coverage) does not import its framework."""

    def __init__(self, name: str, extra: str | None = None) -> None:
        super().__init__(name)
        self._lazy_name = name
        self._lazy_extra = extra
        self._lazy_mod: types.ModuleType | None = None

    def _load(self) -> types.ModuleType:
        if self._lazy_mod is None:
            try:
                self._lazy_mod = importlib.import_module(self._lazy_name)
            except ImportError as exc:
                extra = self._lazy_extra
                hint = f" (pip install 'kernel-oracle[{extra}]')" if extra else ""
                raise AdapterError(f"cannot import {self._lazy_name}: {exc}{hint}") from exc
        return self._lazy_mod

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_lazy"):
            raise AttributeError(attr)
        return getattr(self._load(), attr)


@dataclass(frozen=True)
class Mapping:
    op: str
    method: str
    composed: bool
    # The native callables the mapping calls (dotted paths, e.g. "torch.nn.functional.
    # avg_pool2d") and what becomes of each of their keywords: "drawn" (a spec draws a kwarg
    # or input of that name), "drawn: from a, b (why)" (computed from the drawn kwargs or
    # inputs a, b: a renamed or converted hyper-parameter, a size read from a drawn
    # array's shape), "fixed: <reason>" or "not covered: <reason>" (``python -m conformance
    # coverage --params`` lists every keyword of every native callable against this;
    # tests/test_params.py checks that what is called drawn is drawn and varies).
    native: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return "composed" if self.composed else "native"


def implements(op: str, *, composed: bool = False, native: str | Sequence[str] = (),
               params: dict[str, str] | None = None) -> Callable[[Callable], Callable]:
    """Mark an adapter method as the mapping of catalog op (or spec variant) ``op``.

    ``composed=True`` says the framework has no kernel for it and the method builds it from
    the framework's primitives (reported as such in coverage). ``native`` names the native
    callables it calls and ``params`` accounts for their keywords (see ``Mapping``)."""
    natives = (native,) if isinstance(native, str) else tuple(native)
    accounted = tuple(sorted((params or {}).items()))
    for name, what in accounted:
        if not (what == "drawn" or what.startswith(("drawn: from ", "fixed: ",
                                                     "not covered: "))):
            raise ValueError(f"{op}: parameter {name!r} must be 'drawn', 'drawn: from <names>',"
                             f" 'fixed: <reason>' or 'not covered: <reason>', got {what!r}")

    def mark(fn: Callable) -> Callable:
        ops = getattr(fn, "_implements", ())
        fn._implements = (*ops, (op, composed, natives, accounted))  # type: ignore[attr-defined]
        return fn

    return mark


class Adapter:
    """Base class of every backend adapter.

    Subclasses set ``name``, ``framework`` (the importable module), ``extra`` (the pip extra),
    declare ``UNSUPPORTED = {op: reason}`` for what the framework cannot express, and
    implement the data boundary (``to_native``/``to_numpy``) and the two derivative modes.
    """

    name: ClassVar[str] = "abstract"
    framework: ClassVar[str] = ""
    extra: ClassVar[str | None] = None
    UNSUPPORTED: ClassVar[dict[str, str]] = {}
    compiles: ClassVar[bool] = False  # speed runs time a compiled form (jit, tf.function)
    _mappings: ClassVar[dict[str, Mapping]] = {}
    _unsupported: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mappings: dict[str, Mapping] = {}
        unsupported: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            unsupported.update(vars(klass).get("UNSUPPORTED", {}))
            for attr, value in vars(klass).items():
                for op, composed, natives, accounted in getattr(value, "_implements", ()):
                    mappings[op] = Mapping(op, attr, composed, natives, accounted)
                    unsupported.pop(op, None)
        for op in unsupported:
            mappings.pop(op, None)
        cls._mappings = mappings
        cls._unsupported = unsupported

    def __init__(self, device: str = "cpu", precision: str = "strict",
                 threads: int | None = None) -> None:
        """``threads``: the framework's intra-op threads (conformance runs use 1: tiny
        inputs gain nothing from more, and spinning threads slow a loaded machine); None
        keeps the framework's default (speed runs)."""
        if precision not in ("strict", "defaults"):
            raise AdapterError(f"unknown precision mode {precision!r} (strict or defaults)")
        self.requested_device = device
        self.precision = precision
        self.threads = threads

    # --- what the adapter can do -------------------------------------------------------
    @classmethod
    def mapping(cls, op: str) -> Mapping | None:
        """The mapping of a spec id, falling back from a variant to its catalog id, unless
        ``UNSUPPORTED`` names the variant itself (a variant for another framework's code
        path or convention must not run the catalog id's mapping in its place)."""
        if op in cls._unsupported:
            return None
        return cls._mappings.get(op) or cls._mappings.get(op.split("/")[0])

    @classmethod
    def unsupported_reason(cls, op: str) -> str | None:
        return cls._unsupported.get(op) or cls._unsupported.get(op.split("/")[0])

    @classmethod
    def coverage_entry(cls, op: str) -> str:
        m = cls.mapping(op)
        if m is not None:
            return m.kind
        reason = cls.unsupported_reason(op)
        return f"unsupported: {reason}" if reason else "missing"

    def op(self, op: str) -> Callable[..., Any]:
        m = self.mapping(op)
        if m is None:
            raise AdapterError(f"{self.name} has no mapping for {op}")
        return getattr(self, m.method)

    # --- to be provided by each framework ----------------------------------------------
    def setup(self) -> None:
        """Import the framework, check the device, pin precision flags."""
        raise NotImplementedError

    def release(self) -> None:
        """Called after each test (one spec, mode and dtype): drop compiled state the later
        tests will not reuse. A process that keeps every executable of a whole run alive
        runs out of memory maps (XLA:CPU: ~65k, the kernel's vm.max_map_count, after ~4000
        executables) and dies with a segmentation fault."""

    def supported_dtypes(self) -> tuple[str, ...]:
        return FLOAT_DTYPES

    def to_native(self, value: np.ndarray, dtype: str | None) -> Any:
        """NumPy -> native on the adapter's device; floating data cast to ``dtype``."""
        raise NotImplementedError

    def to_numpy(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def vjp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        cotangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        """Reverse mode: (outputs, d<cotangents, outputs>/d args[wrt]) in native tensors."""
        raise NotImplementedError

    def jvp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        tangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        """Forward mode: (outputs, output tangents) in native tensors."""
        raise NotImplementedError

    def framework_version(self) -> str:
        raise NotImplementedError

    def context(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around every native call (TensorFlow pins its device this way)."""
        return contextlib.nullcontext()

    def device_info(self) -> dict[str, Any]:
        """{"requested", "actual", "name"}: the device that really ran the kernels."""
        raise NotImplementedError

    def precision_flags(self) -> dict[str, Any]:
        return {}

    def facts(self) -> dict[str, str]:
        """Settings that decide which kernels run (TensorFlow's oneDNN on or off), as
        strings: recorded in the fingerprint and matched by divergences' ``when``."""
        return {}

    def seed(self, seed: int) -> None:
        """Seed the framework's RNG (random ops are checked statistically)."""

    # --- what a check runs: NumPy in, NumPy out -------------------------------------------
    # The conformance checks call these three; the default runs the mapping as users call
    # it (eagerly, through ``vjp``/``jvp``). An adapter may run them in a compiled form
    # instead (the JAX adapter jits them once per op, mode and static hyper-parameters) and
    # says which in ``last_path``.
    last_path: str = "eager"

    def run_forward(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                    dtype: str) -> list[np.ndarray]:
        fn = self.op(op)
        with self.context():
            out = fn(*self._natives(args, dtype), **kwargs)
        return [self.to_numpy(o) for o in outputs_list(out)]

    def run_vjp(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                wrt: Sequence[int], cotangents: Sequence[Any], dtype: str) -> list[np.ndarray]:
        fn = self.op(op)
        with self.context():
            _, grads = self.vjp(lambda *a: fn(*a, **kwargs), self._natives(args, dtype), wrt,
                                self._natives(cotangents, dtype))
        return [self.to_numpy(g) for g in grads]

    def run_jvp(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                wrt: Sequence[int], tangents: Sequence[Any], dtype: str) -> list[np.ndarray]:
        fn = self.op(op)
        with self.context():
            _, tans = self.jvp(lambda *a: fn(*a, **kwargs), self._natives(args, dtype), wrt,
                               self._natives(tangents, dtype))
        return [self.to_numpy(t) for t in tans]

    def _natives(self, values: Sequence[Any], dtype: str) -> list[Any]:
        return [None if v is None else self.to_native(v, dtype) for v in values]

    def compile_seconds(self) -> float:
        """Seconds spent compiling so far (XLA, tf.function tracing); 0 where nothing is."""
        return 0.0

    # --- speed ---------------------------------------------------------------------------
    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The form users time: eager for torch, jax.jit, tf.function."""
        return fn

    def sync(self, out: Any) -> None:
        """Block until the device has finished computing ``out``."""

    def bench_primitives(self) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        """(x -> 2 * x, (a, b) -> a @ b) in native ops: the machine-limit probes."""
        raise NotImplementedError


def outputs_list(out: Any) -> list[Any]:
    """A mapping's result as a list (a single tensor or a tuple of them)."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def load_adapter_class(spec: str) -> type[Adapter]:
    """``torch`` / ``jax`` / ``tensorflow`` or ``package.module:Class`` to an adapter class."""
    from adapters import BUILTIN

    target = BUILTIN.get(spec, spec)
    if ":" not in target:
        names = ", ".join(BUILTIN)
        raise AdapterError(f"unknown backend {spec!r}: use one of {names} or package.module:Class")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterError(f"cannot import adapter module {module_name!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterError(f"{target!r} is not an adapters.base.Adapter subclass")
    return cls
