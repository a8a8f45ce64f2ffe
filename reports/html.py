"""Render merged results into one self-contained HTML file and write it atomically.

The page is rendered completely to a string before anything touches the output path; the
string goes to a temporary file in the output's directory, which then replaces the output in
one ``os.replace``. A failed build therefore leaves either the previous report or none.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from conformance.statistics import ALPHA
from conformance.timing import PHASES
from reports import bench, details, model
from reports.load import CATALOG, Results, load
from reports.schema import SEVERITY, ReportError

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Summary:
    catalog: int
    checked: int
    gaps: int
    failing: list[str]
    agreeing: int
    checks: int


def _summary(matrix: model.Matrix, results: Results) -> Summary:
    catalog_rows = [r for r in matrix.rows if r.op in results.catalog]
    checked = [r for r in catalog_rows if r.checked]
    failing = [r.op for r in matrix.rows if r.verdict in ("fail", "error")]
    agreeing = [r for r in checked if r.verdict in ("pass", "xfail")]
    return Summary(len(catalog_rows), len(checked), len(catalog_rows) - len(checked), failing,
                   len(agreeing), len(results.checks))


def context(results: Results, inputs: list[str]) -> dict[str, Any]:
    matrix = model.build_matrix(results)
    divs = model.divergences(results)
    order = {r.op: i for i, r in enumerate(matrix.rows)}
    ops = sorted(details.op_details(results.checks, divs), key=lambda d: order.get(d.op, 0))
    files = [r.benchmarks for r in results.runs if r.benchmarks is not None]
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": inputs,
        "runs": model.run_views(results),
        "totals": model.verdict_totals(results),
        "summary": _summary(matrix, results),
        "matrix": matrix,
        "divergences": divs,
        "xpasses": model.xpasses(results),
        "ops": ops,
        "bench": bench.build_table(files) if files else None,
        "warnings": results.warnings,
        "broken": results.broken,
        "accuracy": results.accuracy,
        "severity": SEVERITY,
        "phases": PHASES,
        "alpha": ALPHA,
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["ratio"] = model.fmt_ratio
    env.filters["time"] = bench.fmt_time
    env.filters["pct"] = lambda f: "–" if f is None else f"{100 * f:.1f}%"
    env.filters["num"] = lambda v: "–" if v is None else f"{v:.4g}"
    env.filters["svg"] = lambda text: Markup(text)  # produced by reports.svg, which escapes
    env.globals["spans"] = header_spans
    env.globals["op_anchor"] = model.anchor
    return env


def header_spans(columns: list[model.Column], depth: int) -> list[tuple[str, int]]:
    """Column header groups: depth 2 groups by backend and version, depth 3 by device too."""
    spans: list[tuple[tuple[str, ...], int]] = []
    for c in columns:
        key = (c.backend, c.version, c.device)[:depth]
        if spans and spans[-1][0] == key:
            spans[-1] = (key, spans[-1][1] + 1)
        else:
            spans.append((key, 1))
    return [(" ".join(k[:2]) if depth == 2 else k[-1], n) for k, n in spans]


def render(results: Results, inputs: list[str]) -> str:
    try:
        return _environment().get_template("report.html.j2").render(**context(results, inputs))
    except jinja2.TemplateError as exc:
        raise ReportError(f"template error: {exc}") from exc


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ReportError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReportError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ReportError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise


def build(run_dirs: list[Path], out: Path, catalog: Path = CATALOG) -> Results:
    """Load, validate, render and write; returns the results (with any warnings)."""
    results = load(run_dirs, catalog)
    write_atomic(out, render(results, [str(d) for d in run_dirs]))
    return results
