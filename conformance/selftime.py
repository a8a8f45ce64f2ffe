"""``python -m conformance selftime --backend B [--seed S] [pytest options]``: a benchmark of
the suite itself. One conformance run (a subprocess, as a user runs it), then its wall and
CPU time and, from the checks' own time splits, checks per CPU-second per family and mode,
the harness share and the slowest specs (``reports.timing``), so the next change to the
harness can be compared against this one.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from pathlib import Path

from conformance import pipeline


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def selftime(backend: str, seed: int, root: Path, extra: Sequence[str] = ()) -> int:
    from reports import timing

    cpu0, wall0 = _children_cpu(), time.perf_counter()
    run = pipeline.run_backend(backend, "conformance", root.resolve(), seed, extra, [])
    wall, cpu = time.perf_counter() - wall0, _children_cpu() - cpu0
    if not run.wrote_results:
        print(f"selftime: {run.summary()}")
        return 2
    print(f"\nselftime {backend}: {wall:.1f} s wall, {cpu:.1f} s CPU for the whole run "
          f"(start-up and collection included; {run.results})")
    print(timing.summary(timing.load_records([run.results])))
    return 2 if run.crashed else 0
