"""From merged results to what the report shows: the runs' fingerprints, the matrix of
catalog ops x (backend, version, device, dtype) with per-mode verdicts and worst ratios, the
known divergences and the expected failures that passed.

Spec variants (``pool.max/2d``) count under their catalog id (the part before ``/``); an op
seen in the results but missing from the catalog is shown in its own group, never dropped.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reports.load import RUN_KEY, Results
from reports.schema import DTYPES, MODES, severity

FAMILY_NAMES = {
    "act": "Activations", "loss": "Losses", "nn": "Dense layers", "norm": "Normalization",
    "pool": "Pooling", "reg": "Regularization", "aug": "Augmentation", "optim": "Optimizers",
    "sched": "Schedules", "ad": "Automatic differentiation", "conv": "Convolution",
    "block": "Blocks", "arch": "Architectures", "rnn": "Recurrent", "attn": "Attention",
    "graph": "Graph networks",
}
MODE_ABBR = {"forward": "fwd", "vjp": "vjp", "jvp": "jvp", "state": "state", "stat": "stat"}
UNCATALOGUED = "Not in the catalog"
NO_RATIO_TEXT = {"unsupported": "n/a", "skip": "skip", "error": "error"}


@dataclass(frozen=True, order=True)
class Column:
    backend: str
    version: str
    device: str
    dtype_rank: int
    dtype: str

    @property
    def label(self) -> str:
        return f"{self.backend} {self.version} {self.device} {self.dtype}"


def column_of(check: dict[str, Any]) -> Column:
    dtype = check["dtype"]
    rank = DTYPES.index(dtype) if dtype in DTYPES else len(DTYPES)
    return Column(check["backend"], check["framework_version"], check["device"], rank, dtype)


def catalog_id(op: str) -> str:
    return op.split("/", 1)[0]


def family_of(op: str) -> str:
    return op.split(".", 1)[0] if "." in op else op


def anchor(op: str) -> str:
    return "op-" + re.sub(r"[^A-Za-z0-9_.-]", "_", op)


def fmt_ratio(r: float | None) -> str:
    """Two significant digits; powers of ten written as 3e-5 beyond [0.001, 1000)."""
    if r is None:
        return "–"
    if math.isinf(r):
        return "∞"
    if r == 0:
        return "0"
    if 1e-3 <= r < 100:
        return f"{r:.2g}"
    if 100 <= r < 1e3:
        return f"{r:.0f}"
    mantissa, exp = f"{r:.0e}".split("e")
    return f"{mantissa}e{int(exp)}"


def worst_verdict(verdicts: Iterable[str]) -> str | None:
    vs = list(verdicts)
    return min(vs, key=severity) if vs else None


@dataclass
class ModeSummary:
    mode: str
    verdict: str
    count: int
    ratio: float | None
    verdicts: dict[str, int]

    @property
    def abbr(self) -> str:
        return MODE_ABBR.get(self.mode, self.mode)

    @property
    def ratio_text(self) -> str:
        """The worst ratio, or what stands in for it when no check of this mode has one."""
        if self.ratio is None and self.verdict in NO_RATIO_TEXT:
            return NO_RATIO_TEXT[self.verdict]
        return fmt_ratio(self.ratio)


def summarize_mode(mode: str, checks: list[dict[str, Any]]) -> ModeSummary:
    """Worst verdict and worst ratio; a failure without a finite ratio (NaN or an infinite
    error) makes the worst ratio infinite."""
    verdicts: dict[str, int] = defaultdict(int)
    ratios = []
    for c in checks:
        verdicts[c["verdict"]] += 1
        if c["ratio"] is not None:
            ratios.append(float(c["ratio"]))
        elif c["verdict"] == "fail":
            ratios.append(math.inf)
    verdict = worst_verdict(verdicts)
    assert verdict is not None
    return ModeSummary(mode, verdict, len(checks), max(ratios) if ratios else None,
                       dict(verdicts))


@dataclass
class Cell:
    state: str  # "checked", "not-run" (checked elsewhere, not here) or "no-check"
    modes: list[ModeSummary] = field(default_factory=list)

    @property
    def verdict(self) -> str | None:
        return worst_verdict(m.verdict for m in self.modes)

    def title(self, op: str, column: Column) -> str:
        if self.state == "no-check":
            return f"{op}: no check yet"
        if self.state == "not-run":
            return f"{op}: not run on {column.label}"
        parts = [f"{m.mode}: {m.verdict}, {m.count} checks, worst ratio {m.ratio_text}"
                 for m in self.modes]
        return f"{op} on {column.label} — " + "; ".join(parts)


@dataclass
class MatrixRow:
    op: str
    cells: list[Cell]
    checked: bool

    @property
    def anchor(self) -> str:
        return anchor(self.op)

    @property
    def verdict(self) -> str | None:
        return worst_verdict(v for c in self.cells if (v := c.verdict) is not None)


@dataclass
class FamilyGroup:
    key: str
    name: str
    rows: list[MatrixRow]


@dataclass
class Matrix:
    columns: list[Column]
    families: list[FamilyGroup]

    @property
    def rows(self) -> list[MatrixRow]:
        return [r for f in self.families for r in f.rows]


def _mode_key(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def build_matrix(results: Results) -> Matrix:
    by_op: dict[str, dict[Column, dict[str, list[dict[str, Any]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for c in results.checks:
        by_op[catalog_id(c["op"])][column_of(c)][c["mode"]].append(c)
    columns = sorted({col for cols in by_op.values() for col in cols})
    groups: dict[str, list[MatrixRow]] = {}
    for op in results.catalog + sorted(set(by_op) - set(results.catalog)):
        cols = by_op.get(op, {})
        cells = []
        for col in columns:
            modes = cols.get(col)
            if modes:
                cells.append(Cell("checked", [summarize_mode(m, modes[m])
                                              for m in sorted(modes, key=_mode_key)]))
            else:
                cells.append(Cell("not-run" if cols else "no-check"))
        key = family_of(op) if op in results.catalog else UNCATALOGUED
        groups.setdefault(key, []).append(MatrixRow(op, cells, bool(cols)))
    families = [FamilyGroup(k, FAMILY_NAMES.get(k, k), rows) for k, rows in groups.items()]
    return Matrix(columns, families)


@dataclass
class DivergenceView:
    id: str
    category: str
    reason: str
    link: str | None
    ops: set[str] = field(default_factory=set)
    where: set[str] = field(default_factory=set)
    verdicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def href(self) -> str | None:
        return safe_href(self.link)


def safe_href(link: str | None) -> str | None:
    """Only web links become clickable; anything else (javascript:, data:) stays text."""
    if link and re.match(r"^https?://", link.strip(), re.IGNORECASE):
        return link.strip()
    return None


def divergences(results: Results) -> list[DivergenceView]:
    """Every divergence record seen, one entry per id (the first record's text)."""
    seen: dict[str, DivergenceView] = {}
    for c in results.checks:
        d = c["divergence"]
        if d is None:
            continue
        view = seen.setdefault(d["id"], DivergenceView(d["id"], d["category"], d["reason"],
                                                       d["link"]))
        view.ops.add(c["spec"])
        view.where.add(f"{c['backend']} {c['device']} {c['dtype']} {c['mode']}")
        view.verdicts[c["verdict"]] += 1
    return sorted(seen.values(), key=lambda v: (v.category, v.id))


@dataclass
class XPass:
    op: str
    spec: str
    mode: str
    column: str
    divergence: str | None
    count: int
    rerun: str


def xpasses(results: Results) -> list[XPass]:
    """Expected failures that passed, one entry per test (op, mode, column)."""
    grouped: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in results.checks:
        if c["verdict"] == "xpass":
            grouped[(c[RUN_KEY], c["nodeid"], c["spec"], c["mode"])].append(c)
    out = []
    for (_, _, spec, mode), cs in sorted(grouped.items()):
        d = cs[0]["divergence"]
        out.append(XPass(catalog_id(cs[0]["op"]), spec, mode, column_of(cs[0]).label,
                         d["id"] if d else None, len(cs), cs[0]["rerun"]))
    return out


@dataclass
class RunView:
    env: dict[str, Any]
    totals: dict[str, int]
    totals_counted: bool
    path: str
    crashed: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.env["finished"] is None

    @property
    def flags(self) -> list[str]:
        return [f"{k}={v}" for k, v in sorted(self.env["precision"]["flags"].items())]

    @property
    def packages(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.env["packages"].items()))


def run_views(results: Results) -> list[RunView]:
    """Totals from env.json; an interrupted run has none, so they are counted from its
    checks instead (and marked as such)."""
    out = []
    for r in results.runs:
        env_totals = r.env["totals"]
        counted = env_totals is None
        out.append(RunView(r.env, r.counted_totals() if counted else dict(env_totals), counted,
                           str(r.path), r.crashed))
    return out


def verdict_totals(results: Results) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for c in results.checks:
        totals[c["verdict"]] += 1
    return dict(sorted(totals.items(), key=lambda kv: severity(kv[0])))
