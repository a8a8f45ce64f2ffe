"""The benchmark table: median time per op x direction x dtype x size (rows) and backend on
a device (columns), with each time's ratio to the row's fastest and the fraction of its
machine's measured limit that it reached.

The fraction is the roofline one: the time the machine's limits allow for the work
(``max(bytes / bandwidth, flops / peak)``) over the measured median, i.e. the larger of the
achieved bandwidth and compute rates as fractions of their limits. It is left out when the
benchmark carries neither bytes nor flops or its file has no ``machine_info.limits``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reports.schema import DTYPES

DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class Timing:
    median_s: float
    ratio: float
    limit_fraction: float | None
    compile_s: float | None
    fastest: bool


@dataclass
class BenchRow:
    op: str
    direction: str
    dtype: str
    size_label: str
    shape: str
    timings: dict[tuple[str, str], Timing] = field(default_factory=dict)


@dataclass
class BenchTable:
    columns: list[tuple[str, str]]
    rows: list[BenchRow]
    duplicates: list[str]


def limit_fraction(median_s: float, extra: dict[str, Any],
                   limits: dict[str, Any] | None) -> float | None:
    """Roofline fraction: max over the known resources of (work / time) / limit."""
    if not limits:
        return None
    rates = []
    for work_key, limit_key, unit in (("bytes", "bandwidth_gbs", 1e9), ("flops", "gflops", 1e9)):
        work, limit = extra.get(work_key), limits.get(limit_key)
        if _num(work) and _num(limit) and limit > 0:
            rates.append(work / median_s / unit / limit)
    return max(rates) if rates else None


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def bench_id(extra: dict[str, Any]) -> str:
    """The spec a benchmark timed: variants of one catalog op (pool.max/2d, pool.max/3d) are
    different kernels at the same size label, not two measurements of one."""
    return str(extra.get("spec") or extra["op"])


def _row_key(extra: dict[str, Any]) -> tuple[str, str, str, str]:
    return (bench_id(extra), extra["direction"], extra["dtype"], extra["size_label"])


def _order(key: tuple[str, str, str, str]) -> tuple[Any, ...]:
    op, direction, dtype, size = key
    d = DIRECTIONS.index(direction) if direction in DIRECTIONS else len(DIRECTIONS)
    t = DTYPES.index(dtype) if dtype in DTYPES else len(DTYPES)
    return (op, d, t, size)


def build_table(files: list[dict[str, Any]]) -> BenchTable | None:
    """One table from several pytest-benchmark JSON files (one per run); None when empty.
    A (row, column) measured twice keeps the faster median and is listed in ``duplicates``."""
    raw: dict[tuple[str, str, str, str], dict[tuple[str, str], tuple[float, Any, Any]]] = {}
    shapes: dict[tuple[str, str, str, str], str] = {}
    duplicates = []
    for data in files:
        limits = (data.get("machine_info") or {}).get("limits")
        for bench in data["benchmarks"]:
            extra, median = bench["extra_info"], float(bench["stats"]["median"])
            key, col = _row_key(extra), (extra["backend"], extra["device"])
            shapes.setdefault(key, _shape_text(extra.get("shape")))
            cell = raw.setdefault(key, {})
            if col in cell:
                duplicates.append(" ".join(key + col))
                if cell[col][0] <= median:
                    continue
            cell[col] = (median, extra, limits)
    if not raw:
        return None
    columns = sorted({c for cells in raw.values() for c in cells})
    rows = []
    for key in sorted(raw, key=_order):
        cells = raw[key]
        best = min(m for m, _, _ in cells.values())
        row = BenchRow(*key, shape=shapes[key])
        for col, (median, extra, limits) in cells.items():
            compile_s = extra.get("compile_s")
            row.timings[col] = Timing(median, median / best, limit_fraction(median, extra, limits),
                                      compile_s if _num(compile_s) else None, median == best)
        rows.append(row)
    return BenchTable(columns, rows, duplicates)


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list) and all(isinstance(s, int) for s in shape):
        return "×".join(str(s) for s in shape)
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "" if shape is None else str(shape)


def fmt_time(seconds: float) -> str:
    """Three significant digits in the largest unit that keeps the number >= 1."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
