"""Per-op detail sections: the error / bound and ULP distributions over every example, the
divergences that apply, failures with their minimal case and reproducer, and the reasons an
op is unsupported somewhere.

Hypothesis records a failing test's shrunk example with ``minimal: true``; when a test has
failures but none marked minimal (an interrupted shrink), the one with the fewest input
elements stands in for it.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from reports import svg, timing
from reports.load import RUN_KEY
from reports.model import (
    Column,
    DivergenceView,
    anchor,
    catalog_id,
    column_of,
    fmt_ratio,
)
from reports.schema import severity

MAX_ELEMENTS = 24
SIG_DIGITS = {"float16": 5, "bfloat16": 4, "float32": 9}


def _flat(data: Any) -> list[Any]:
    if isinstance(data, list):
        return [x for item in data for x in _flat(item)]
    return [data]


def fmt_value(v: Any, dtype: str) -> str:
    """A value as the tested dtype can hold it: float64 round-trips, narrower dtypes get
    just enough digits to identify their value; "nan"/"inf" strings pass through."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        digits = SIG_DIGITS.get(dtype)
        return f"{v:.{digits}g}" if digits else repr(v)
    return str(v)


def _nested(data: Any, dtype: str) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(x, dtype) for x in data) + "]"
    return fmt_value(data, dtype)


@dataclass(frozen=True)
class ArrayText:
    name: str
    kind: str  # "float32[2, 3]"
    text: str
    truncated: bool


def array_text(rec: dict[str, Any], limit: int = MAX_ELEMENTS) -> ArrayText:
    """Small arrays in full (nested); larger ones as their first ``limit`` values, flattened
    in C order, with the element count."""
    dtype, shape, data = rec["dtype"], rec["shape"], rec["data"]
    kind = f"{dtype}[{', '.join(str(s) for s in shape)}]" if shape else dtype
    flat = _flat(data) if data is not None else []
    if data is None:
        return ArrayText(rec["name"], kind, "None", False)
    if len(flat) <= limit:
        return ArrayText(rec["name"], kind, _nested(data, dtype), False)
    head = ", ".join(fmt_value(v, dtype) for v in flat[:limit])
    return ArrayText(rec["name"], kind, f"[{head}, …] ({len(flat)} values, flattened)", True)


def kwargs_text(kwargs: dict[str, Any], limit: int = 300) -> str:
    parts = []
    for k, v in kwargs.items():
        text = json.dumps(v, ensure_ascii=False)
        parts.append(f"{k}={text if len(text) <= limit else text[:limit] + '…'}")
    return ", ".join(parts) if parts else "(none)"


@dataclass
class Failure:
    record: dict[str, Any]
    column: str
    count: int
    args: list[ArrayText]
    kwargs: str
    expected: list[ArrayText]
    also: list[str] = field(default_factory=list)

    @property
    def ratio_text(self) -> str:
        r = self.record["ratio"]
        return fmt_ratio(r) if r is not None else "non-finite"


def _size(c: dict[str, Any]) -> int:
    if c["case"] is None:
        return 1 << 60
    return sum(len(_flat(a["data"])) if a["data"] is not None else 0 for a in c["case"]["args"])


def _pick(cs: list[dict[str, Any]]) -> dict[str, Any]:
    minimal = [c for c in cs if c["minimal"]]
    return minimal[-1] if minimal else min(cs, key=_size)


def failures(checks: list[dict[str, Any]]) -> list[Failure]:
    """One entry per failing test (run, node id): its minimal example. An exception with the
    same message in several tests of one spec is one problem: shown once, with the other
    places it was raised in ``also``."""
    tests: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in checks:
        if c["verdict"] in ("fail", "error"):
            tests[(c[RUN_KEY], c["nodeid"])].append(c)
    out: list[Failure] = []
    errors: dict[tuple[str, str | None], Failure] = {}
    for _, cs in sorted(tests.items()):
        rec = _pick(cs)
        key = (rec["spec"], rec["message"])
        if rec["verdict"] == "error" and key in errors:
            errors[key].also.append(f"{rec['mode']} · {column_of(rec).label}")
            continue
        case = rec["case"] or {"args": [], "kwargs": {}}
        f = Failure(rec, column_of(rec).label, len(cs), [array_text(a) for a in case["args"]],
                    kwargs_text(case["kwargs"]), [array_text(e) for e in rec["expected"] or []])
        out.append(f)
        if rec["verdict"] == "error":
            errors[key] = f
    return sorted(out, key=lambda f: (severity(f.record["verdict"]), f.record["spec"]))


@dataclass
class OpDetail:
    op: str
    checks: int
    verdicts: dict[str, int]
    specs: list[str]
    ratio_svg: str | None
    ulp_svg: str | None
    divergences: list[DivergenceView]
    failures: list[Failure]
    unsupported: list[tuple[str, str, str]] = field(default_factory=list)
    # Where the checks' time went, per backend: (backend, Split) (reports.timing).
    timing: list[tuple[str, Any]] = field(default_factory=list)
    # The statistical checks' p-values: one row per column and test (pvalue_rows).
    pvalues: list[PValueRow] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return anchor(self.op)


@dataclass
class PValueRow:
    """One statistical test of one column: how many times it ran and its p-values."""

    column: str
    test: str
    count: int
    smallest: float
    median: float


def pvalue_rows(by_col: dict[Column, list[dict[str, Any]]]) -> list[PValueRow]:
    rows = []
    for col in sorted(by_col):
        tests: dict[str, list[float]] = defaultdict(list)
        for c in by_col[col]:
            for name, p in (c.get("pvalues") or {}).items():
                if p is not None:
                    tests[name].append(float(p))
        for name, ps in sorted(tests.items()):
            ps.sort()
            rows.append(PValueRow(col.label, name, len(ps), ps[0], ps[len(ps) // 2]))
    return rows


def _series(by_col: dict[Column, list[dict[str, Any]]], key: str) -> list[svg.Series]:
    out = []
    for col in sorted(by_col):
        values = []
        for c in by_col[col]:
            v = c[key]
            if v is None and key == "ratio" and c["verdict"] == "fail":
                v = math.inf  # a NaN or infinite error: drawn beyond the pass line
            if v is not None:
                values.append(float(v))
        if values:
            out.append(svg.Series(col.label, values))
    return out


def ratio_chart(by_col: dict[Column, list[dict[str, Any]]], op: str) -> str | None:
    series = _series(by_col, "ratio")
    if not series:
        return None
    lo, hi = svg.decade_range([v for s in series for v in s.values], include=(1.0, 10.0),
                              floor=1e-8, ceil=1e4)
    return svg.histogram_rows(series, lo=lo, hi=hi, per_decade=2, pass_line=1.0,
                              title=f"{op}: error / allowed bound, every example",
                              x_label="error / bound (log scale; passes at or left of 1)")


def ulp_chart(by_col: dict[Column, list[dict[str, Any]]], op: str) -> str | None:
    series = _series(by_col, "max_ulp")
    if not series:
        return None
    lo, hi = svg.decade_range([v for s in series for v in s.values], include=(1.0, 10.0),
                              floor=1.0, ceil=1e12)
    return svg.histogram_rows(series, lo=lo, hi=hi, per_decade=1,
                              title=f"{op}: worst error in ULPs of the tested dtype",
                              x_label="max ULP error (log scale; <1 includes exact)")


def op_details(checks: list[dict[str, Any]],
               all_divergences: list[DivergenceView]) -> list[OpDetail]:
    by_op: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in checks:
        by_op[catalog_id(c["op"])].append(c)
    div_by_id = {d.id: d for d in all_divergences}
    out = []
    for op in sorted(by_op):
        cs = by_op[op]
        by_col: dict[Column, list[dict[str, Any]]] = defaultdict(list)
        verdicts: dict[str, int] = defaultdict(int)
        div_ids: dict[str, None] = {}
        unsupported: dict[tuple[str, str, str], None] = {}
        for c in cs:
            by_col[column_of(c)].append(c)
            verdicts[c["verdict"]] += 1
            if c["divergence"] is not None:
                div_ids[c["divergence"]["id"]] = None
            if c["verdict"] in ("unsupported", "skip"):
                unsupported[(column_of(c).label, c["mode"], c["message"] or "")] = None
        out.append(OpDetail(
            op, len(cs), dict(sorted(verdicts.items(), key=lambda kv: severity(kv[0]))),
            sorted({c["spec"] for c in cs}), ratio_chart(by_col, op), ulp_chart(by_col, op),
            [div_by_id[i] for i in div_ids], failures(cs), sorted(unsupported),
            sorted(timing.splits(cs, "backend").items()), pvalue_rows(by_col)))
    return out
