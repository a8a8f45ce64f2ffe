"""How large the known divergences really are: per divergence entry, over the given runs,
how many checks it covered, how many failed as expected, the largest error / bound ratio
seen and the exceptions met, so that each entry's stated size (``max_ratio``, ``raises``)
is a measurement, not a guess.

    python -m reports sizes RUN_DIR...
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Size:
    checks: int = 0
    expected: int = 0
    worst_ratio: float = 0.0
    runs: set[str] = field(default_factory=set)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stated: str = ""

    def add(self, record: dict[str, Any]) -> None:
        self.checks += 1
        self.runs.add(record["run_id"])
        if record["verdict"] not in ("xfail", "fail"):
            return
        self.expected += record["verdict"] == "xfail"
        if record.get("ratio") is not None:
            self.worst_ratio = max(self.worst_ratio, float(record["ratio"]))
        elif record.get("message"):
            first = record["message"].splitlines()[0]
            self.errors[first[:120]] += 1


def sizes(records: list[dict[str, Any]]) -> dict[str, Size]:
    out: dict[str, Size] = defaultdict(Size)
    for r in records:
        d = r.get("divergence")
        if d and r.get("example", -1) >= 0:
            s = out[d["id"]]
            s.add(r)
            parts = ([f"max_ratio {d['max_ratio']:g}"] if d.get("max_ratio") is not None
                     else []) + ([f"raises /{d['raises']}/"] if d.get("raises") else [])
            s.stated = " or ".join(parts) or "no stated size"
    return dict(out)


def summary(records: list[dict[str, Any]]) -> str:
    found = sizes(records)
    if not found:
        return "no check in these runs met a known divergence"
    lines = [f"{'divergence':48} {'runs':>4} {'checks':>6} {'xfail':>6} {'worst ratio':>12}  "
             f"stated"]
    for name, s in sorted(found.items()):
        lines.append(f"{name[:48]:48} {len(s.runs):4d} {s.checks:6d} {s.expected:6d} "
                     f"{s.worst_ratio:12.4g}  {s.stated}")
        lines += [f"    raised {n}x: {e}" for e, n in sorted(s.errors.items())]
    return "\n".join(lines)


def load_records(dirs: list[Path]) -> list[dict[str, Any]]:
    from reports.load import load

    return load(dirs).checks
