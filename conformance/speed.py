"""Speed benchmarks over the registry (pytest-benchmark), and the machine's limits.

Each op's native kernel is timed at the spec's benchmark sizes, forward and forward+backward
(the framework's reverse mode), after warm-up, in the form users run it (torch eager,
jax.jit, tf.function), with the framework's own device synchronization. Compilation (jit /
tf.function tracing) is timed separately and reported. The machine's memory bandwidth and
arithmetic rate are measured once per run with the same framework on the same device, so
each timing can be shown as a fraction of what the machine can do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from adapters.base import Adapter, outputs_list
from conformance import checks
from conformance.registry import Case, OpSpec

# Each benchmark runs about this long (rounds x iterations), after one warm-up round.
# Measured on the 2-core CPU machine (python -m reports spread, two full torch runs): at
# 0.25 s medians were 7.5 % apart (median over benchmarks), 86 % within 25 %; at 1 s, 9.8 %
# and 81 %. Longer sampling did not narrow it: the spread is drift between runs, not noise
# within one, so the shorter run (about 100 s for torch) is kept.
TARGET_S = 0.25
MAX_ROUNDS = 50
MIN_ROUNDS = 5


def _best_of(fn: Callable[[], Any], n: int = 5) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_limits(adapter: Adapter) -> dict[str, float]:
    """Bandwidth from x -> 2x on 64 MiB of float32 (read + write), arithmetic rate from a
    2048^3 float32 matmul (2 n^3 flops); best of 5 after a warm-up call."""
    scale, matmul = adapter.bench_primitives()
    with adapter.context():
        x = adapter.to_native(np.ones(1 << 24, dtype=np.float32), "float32")
        a = adapter.to_native(np.ones((2048, 2048), dtype=np.float32), "float32")
        adapter.sync(scale(x))
        adapter.sync(matmul(a, a))
        t_bw = _best_of(lambda: adapter.sync(scale(x)))
        t_mm = _best_of(lambda: adapter.sync(matmul(a, a)), 3)
    return {"bandwidth_gbs": 2 * 4 * (1 << 24) / t_bw / 1e9,
            "gflops": 2 * 2048**3 / t_mm / 1e9}


def prepared(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
             direction: str) -> tuple[Callable[[], Any], Callable[..., Any], list[Any]]:
    """(call, compiled fn, native args): call() runs the timed work once and synchronizes."""
    kwargs = dict(case.kwargs)
    op = adapter.op(spec.id)
    with adapter.context():
        native = [None if a is None else adapter.to_native(a, dtype)
                  for a in checks.rounded(case, dtype)]
    if direction == "forward":
        fn = adapter.compiled(lambda *a: op(*a, **kwargs))
    else:
        wrt = list(spec.grad_wrt)
        outs = outputs_list(op(*native, **kwargs))
        keep = set(spec.grad_outputs if spec.grad_outputs is not None else range(len(outs)))
        with adapter.context():
            cots = [adapter.to_native(np.ones(np.shape(o)), dtype) if i in keep else None
                    for i, o in enumerate(outs)]

        def fwd_bwd(*a: Any) -> Any:
            return adapter.vjp(lambda *b: op(*b, **kwargs), a, wrt, cots)[1]

        fn = adapter.compiled(fwd_bwd) if adapter.name != "torch" else fwd_bwd

    def call() -> Any:
        with adapter.context():
            out = fn(*native)
            adapter.sync(out)
        return out

    return call, fn, native


def nbytes(case: Case, dtype: str, outs: list[Any]) -> int:
    """Bytes a kernel must at least move: its inputs read once and its outputs written once."""
    item = 2 if dtype in ("float16", "bfloat16") else np.dtype(dtype).itemsize
    ins = sum(int(np.prod(np.shape(a))) for a in case.args if a is not None)
    return int(item * (ins + sum(int(np.prod(tuple(o.shape))) for o in outs)))


def plan_rounds(call: Callable[[], Any]) -> tuple[float, int, int, Any]:
    """(compile seconds, rounds, iterations, the first call's output), sized so the
    benchmark takes ~TARGET_S. Its three calls are the warm-up, so the timed rounds follow at
    once: a kernel slow enough for the minimum of five rounds had five untimed calls before
    them while the output and a warm-up round were calls of their own."""
    t0 = time.perf_counter()
    out = call()
    first = time.perf_counter() - t0
    steady = _best_of(call, 2)
    iterations = max(1, int(0.02 / max(steady, 1e-9)))
    rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, TARGET_S / max(steady * iterations, 1e-9))))
    return first - steady, rounds, iterations, out
