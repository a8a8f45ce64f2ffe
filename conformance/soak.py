"""``python -m conformance soak --backend B --seeds N [--first-seed S] [pytest options]``:
the conformance suite over N consecutive seeds, to find what one seed does not draw.

Each seed is an ordinary conformance run (a subprocess, its own results directory). After
each, the failures that are not recorded divergences (verdicts fail, error and xpass) are
printed with the command that reruns them; at the end, the number of checks and failures
per seed and in all. A failure found this way is a bug in the rule, a strategy or an
adapter (or a real framework behaviour to record, with its size), never noise.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from conformance import pipeline

FAILING = ("fail", "error", "xpass")


def _records(run_dir: Path) -> list[dict]:
    out = []
    for path in sorted(run_dir.glob("checks-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # an interrupted last line
    return out


def _failure_line(rec: dict) -> str:
    first = (rec.get("message") or "").splitlines()[:2]
    detail = first[1].strip() if len(first) > 1 else (first[0] if first else "")
    return (f"  {rec['verdict'].upper()} {rec['spec']} {rec['mode']} {rec['dtype']}: {detail}\n"
            f"    rerun: {rec['rerun']}")


def soak(backend: str, seeds: int, first_seed: int, root: Path,
         extra: Sequence[str] = ()) -> int:
    """Exit status 0 when no seed found a failure, 1 when one did, 2 when a run broke."""
    totals: Counter[str] = Counter()
    failures = 0
    broke = False
    root = root.resolve()
    for k, seed in enumerate(range(first_seed, first_seed + seeds), start=1):
        runs: list[pipeline.Run] = []
        run = pipeline.run_backend(backend, "conformance", root, seed, extra, runs)
        records = _records(run.results) if run.wrote_results else []
        verdicts = Counter(r["verdict"] for r in records if r.get("example", -1) >= 0
                           or r["verdict"] in FAILING)
        bad = [r for r in records if r["verdict"] in FAILING]
        totals.update(verdicts)
        failures += len(bad)
        broke = broke or run.crashed
        state = run.crash_line() if run.crashed else f"{sum(verdicts.values())} checks, " \
            f"{len(bad)} failure{'s' if len(bad) != 1 else ''} not recorded as divergences"
        print(f"soak {backend} seed {seed} ({k}/{seeds}): {state} ({run.results})", flush=True)
        for r in bad:
            print(_failure_line(r), flush=True)
    checks = sum(totals.values())
    print(f"soak {backend}: {seeds} seeds from {first_seed}, {checks} checks "
          f"({', '.join(f'{v} {n}' for v, n in sorted(totals.items()))}), "
          f"{failures} failure{'s' if failures != 1 else ''}")
    return 2 if broke else (1 if failures else 0)
