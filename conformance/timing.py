"""Where a check's time goes, phase by phase: the suite's own cost is data.

A check runs inside ``Stopwatch.check()``; the code it calls marks its phases with
``phase("oracle")`` and the like. Phases (``PHASES``):

- ``draw``: hypothesis drawing the example (and its engine between examples),
- ``oracle``: the exact float64 oracle (values, dual JVPs and VJPs),
- ``naive``: the oracle run in the tested dtype (the bound's naive evaluation),
- ``textbook``: the spec's textbook derivative formula in the tested dtype,
- ``backend``: the framework: data in and out, kernels, derivatives, less compilation,
- ``compile``: compilation the framework reports (XLA, tf.function tracing),
- ``compare``: the agreement rule over every output,
- ``record``: building and writing the check's record,
- ``other``: the rest of the check (rounding inputs, drawing seeds, bookkeeping).

The harness's share of a check is (draw + compare + record + other) / total.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

PHASES = ("draw", "oracle", "naive", "textbook", "backend", "compile", "compare", "record",
          "other")
HARNESS = ("draw", "compare", "record", "other")

_CURRENT: contextvars.ContextVar[Stopwatch | None] = contextvars.ContextVar(
    "conformance_stopwatch", default=None)


@dataclass
class Stopwatch:
    """Seconds per phase of one check, and its process CPU seconds."""

    spent: dict[str, float] = field(default_factory=dict)
    cpu_s: float = 0.0

    def add(self, name: str, seconds: float) -> None:
        self.spent[name] = self.spent.get(name, 0.0) + seconds

    @contextlib.contextmanager
    def check(self, compile_seconds: Callable[[], float]) -> Iterator[Stopwatch]:
        """Time one check: what its phases do not claim is ``other``; the compilation the
        adapter reports during it moves from ``backend`` to ``compile``."""
        token = _CURRENT.set(self)
        wall0, cpu0, comp0 = time.perf_counter(), time.process_time(), compile_seconds()
        try:
            yield self
        finally:
            _CURRENT.reset(token)
            wall = time.perf_counter() - wall0
            self.cpu_s += time.process_time() - cpu0
            compiled = compile_seconds() - comp0
            if compiled > 0:
                self.add("compile", compiled)
                self.spent["backend"] = max(self.spent.get("backend", 0.0) - compiled, 0.0)
            claimed = sum(v for k, v in self.spent.items() if k not in ("draw", "record"))
            self.add("other", max(wall - claimed, 0.0))

    def record(self) -> dict[str, float]:
        return {k: round(self.spent.get(k, 0.0), 7) for k in PHASES if k in self.spent}


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Charge the time inside to ``name`` in the running check's stopwatch, if any."""
    watch = _CURRENT.get()
    if watch is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        watch.add(name, time.perf_counter() - t0)


def harness_share(spent: dict[str, float]) -> float:
    total = sum(spent.values())
    return sum(spent.get(k, 0.0) for k in HARNESS) / total if total > 0 else 0.0
