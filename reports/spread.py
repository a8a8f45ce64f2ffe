"""How far apart repeated speed runs put each benchmark's median.

``python -m reports spread RUN_DIR RUN_DIR...``: for every benchmark (op, backend, device,
dtype, size, direction) present in all the runs, the spread is max(median) / min(median) - 1.
Printed: the distribution of spreads (median, 90th percentile, max) and the worst benchmarks,
so a claim such as "medians repeat within 10 %" is a measurement, not a hope.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reports.bench import bench_id
from reports.load import read_benchmarks
from reports.schema import ReportError

# After the spec id (reports.bench.bench_id): what else tells one benchmark from another.
FIELDS = ("backend", "device", "dtype", "size_label", "direction")


@dataclass(frozen=True)
class Spread:
    key: tuple[str, ...]
    medians: tuple[float, ...]

    @property
    def spread(self) -> float:
        return max(self.medians) / min(self.medians) - 1.0


def medians(run_dir: Path) -> dict[tuple[str, ...], float]:
    files = sorted(run_dir.glob("benchmarks*.json"))
    if not files:
        raise ReportError(f"{run_dir}: no benchmarks*.json (was it a speed run?)")
    out: dict[tuple[str, ...], float] = {}
    for path in files:
        for bench in read_benchmarks(path)["benchmarks"]:
            extra = bench["extra_info"]
            key = (bench_id(extra), *(str(extra[k]) for k in FIELDS))
            out[key] = float(bench["stats"]["median"])
    return out


def spreads(run_dirs: list[Path]) -> list[Spread]:
    """One Spread per benchmark common to every run, widest first."""
    if len(run_dirs) < 2:
        raise ReportError("spread needs at least two speed runs")
    per_run = [medians(d) for d in run_dirs]
    common = set(per_run[0]).intersection(*per_run[1:])
    found = [Spread(k, tuple(m[k] for m in per_run)) for k in common]
    return sorted(found, key=lambda s: -s.spread)


def summary(found: list[Spread], worst: int = 10) -> str:
    if not found:
        return "no benchmark is common to every run"
    s = np.array([f.spread for f in found])
    lines = [f"{len(found)} benchmarks in every run: spread of medians (max/min - 1) "
             f"median {np.median(s):.1%}, 90th percentile {np.percentile(s, 90):.1%}, "
             f"max {s.max():.1%}",
             f"within 10%: {np.mean(s <= 0.10):.0%}, within 25%: {np.mean(s <= 0.25):.0%}",
             "widest:"]
    for f in found[:worst]:
        times = ", ".join(f"{m * 1e6:.1f}" for m in f.medians)
        lines.append(f"  {f.spread:7.1%}  {' '.join(f.key)}  medians us: {times}")
    return "\n".join(lines)
