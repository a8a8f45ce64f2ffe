"""Where a run's time went: every check record carries its time split (``timing``: seconds per
phase, see ``conformance.timing``) and its process CPU seconds (``cpu_s``); this module sums
them per family and per spec.

    python -m reports timing RUN_DIR... [--slowest N]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.timing import HARNESS, PHASES

FAMILY_WIDTH = 8


@dataclass
class Split:
    """Seconds per phase over some checks, with their count and CPU seconds."""

    checks: int = 0
    cpu_s: float = 0.0
    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, record: dict[str, Any]) -> None:
        self.checks += 1
        self.cpu_s += float(record.get("cpu_s") or 0.0)
        for k, v in (record.get("timing") or {}).items():
            self.spent[k] += float(v)

    @property
    def total(self) -> float:
        return sum(self.spent.values())

    @property
    def harness(self) -> float:
        return sum(self.spent.get(k, 0.0) for k in HARNESS) / self.total if self.total else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.checks / self.cpu_s if self.cpu_s else 0.0

    def fractions(self) -> dict[str, float]:
        t = self.total
        return {k: self.spent.get(k, 0.0) / t if t else 0.0 for k in PHASES}


def timed_checks(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of checks that ran an example and carry a time split."""
    return [r for r in records if r.get("example", -1) >= 0 and r.get("timing")]


def splits(records: list[dict[str, Any]], key: str) -> dict[str, Split]:
    """Splits grouped by ``key`` ("family", "spec", "mode", "op" or "all")."""
    out: dict[str, Split] = defaultdict(Split)
    for r in timed_checks(records):
        group = {"family": r["op"].split(".")[0], "all": "all"}.get(key) or r[key]
        out[group].add(r)
    return dict(out)


def table(groups: dict[str, Split], label: str) -> list[str]:
    head = (f"{label:28} {'checks':>7} {'s':>8} {'chk/cpu-s':>9} {'harness':>7}  "
            + " ".join(f"{p:>8}" for p in PHASES))
    lines = [head, "-" * len(head)]
    for name, s in sorted(groups.items(), key=lambda kv: -kv[1].total):
        f = s.fractions()
        lines.append(f"{name[:28]:28} {s.checks:7d} {s.total:8.1f} {s.per_cpu_second:9.1f} "
                     f"{100 * s.harness:6.1f}%  "
                     + " ".join(f"{100 * f[p]:7.1f}%" for p in PHASES))
    return lines


def summary(records: list[dict[str, Any]], slowest: int = 15) -> str:
    timed = timed_checks(records)
    if not timed:
        return "no timed checks in these runs (results written before timing was recorded?)"
    everything = splits(records, "all")["all"]
    lines = [f"{everything.checks} checks, {everything.total:.1f} s of check time, "
             f"{everything.cpu_s:.1f} CPU s ({everything.per_cpu_second:.1f} checks per "
             f"CPU-second); harness share (draw + compare + record + other) "
             f"{100 * everything.harness:.1f}%", ""]
    lines += table(splits(records, "family"), "family") + [""]
    lines += table(splits(records, "mode"), "mode") + [""]
    specs = splits(records, "spec")
    top = dict(sorted(specs.items(), key=lambda kv: -kv[1].total)[:slowest])
    lines += [f"the {len(top)} slowest specs:"] + table(top, "spec")
    return "\n".join(lines)


def load_records(dirs: list[Path]) -> list[dict[str, Any]]:
    from reports.load import load

    return load(dirs).checks
