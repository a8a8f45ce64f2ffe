"""Read run directories (``env.json``, ``checks-*.jsonl``, optional ``benchmarks.json``) and
merge them into one ``Results``.

Everything is read and validated before the report is rendered. One broken run never costs
the report: a run whose ``env.json`` cannot be read is listed as broken (``path:line: what``)
and left out, a checks line that is not a valid record and a ``benchmarks.json`` that is
empty, truncated or malformed are listed as broken and skipped, and every other run and
record is still shown. A truncated last line of a checks file is an interrupted write (the
writer appends whole lines), skipped with a warning. A ``status.json`` left by the pipeline
says a run's process crashed, with the first line of its error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.schema import ReportError, validate_check, validate_env

CATALOG = Path(__file__).resolve().parent.parent / "conformance" / "catalog.txt"
# Added to every check record on loading: the directory it came from. run_id is the run
# directory's name, so two machines' "torch" runs share one; the path tells them apart.
RUN_KEY = "_run"


@dataclass
class Run:
    path: Path
    env: dict[str, Any]
    checks: list[dict[str, Any]]
    benchmarks: dict[str, Any] | None = None
    crashed: str | None = None  # "speed run crashed: <first line of the error>"

    @property
    def run_id(self) -> str:
        return self.env["run_id"]

    @property
    def interrupted(self) -> bool:
        return self.env["finished"] is None

    def counted_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for c in self.checks:
            totals[c["verdict"]] = totals.get(c["verdict"], 0) + 1
        return totals


@dataclass
class Results:
    runs: list[Run]
    catalog: list[str]
    warnings: list[str] = field(default_factory=list)
    # What could not be read or did not finish: "path:line: what is wrong" (and crashes).
    broken: list[str] = field(default_factory=list)
    # The last oracle accuracy run (``python -m oracle accuracy --json``), if one was given.
    accuracy: dict[str, Any] | None = None

    @property
    def checks(self) -> list[dict[str, Any]]:
        return [c for r in self.runs for c in r.checks]


def _parse_json(text: str, path: Path, line_offset: int = 0) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno + line_offset}: invalid JSON: {exc.msg} "
                          f"(column {exc.colno})") from None


def read_env(path: Path) -> dict[str, Any]:
    # One object over many lines: a JSON syntax error has a line, a field error only a file.
    return validate_env(_parse_json(_read_text(path), path), str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror}") from None


def read_checks(path: Path, warnings: list[str], broken: list[str]) -> list[dict[str, Any]]:
    """Every valid record of one checks file. A last line that is not valid JSON is a write
    cut short by an interruption (skipped, in ``warnings``); any other bad line is skipped and
    listed in ``broken`` with its line number."""
    lines = _read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    last = len(lines)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == last:
                warnings.append(f"{path}:{number}: truncated last line ignored "
                                f"(an interrupted run)")
            else:
                broken.append(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            records.append(validate_check(obj, f"{path}:{number}"))
        except ReportError as exc:
            broken.append(str(exc))
    return records


BENCH_EXTRA = ("op", "backend", "device", "dtype", "size_label", "direction")


def read_benchmarks(path: Path) -> dict[str, Any]:
    """pytest-benchmark's JSON, checked for the fields the benchmark table uses."""
    data = _parse_json(_read_text(path), path)
    where = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{where}: not a pytest-benchmark file (no 'benchmarks' list)")
    for i, bench in enumerate(data["benchmarks"]):
        stats = bench.get("stats") if isinstance(bench, dict) else None
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(stats, dict) or not _positive(stats.get("median")):
            raise ReportError(f"{where}: benchmarks[{i}].stats.median must be a positive number")
        if not isinstance(extra, dict):
            raise ReportError(f"{where}: benchmarks[{i}] has no 'extra_info' object")
        for key in BENCH_EXTRA:
            if not isinstance(extra.get(key), str):
                raise ReportError(f"{where}: benchmarks[{i}].extra_info.{key} must be a string")
    limits = (data.get("machine_info") or {}).get("limits")
    if limits is not None and not isinstance(limits, dict):
        raise ReportError(f"{where}: machine_info.limits must be an object")
    return data


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def load_run(run_dir: Path, warnings: list[str], broken: list[str]) -> Run:
    """One run directory; raises ReportError only when its env.json is missing or unreadable
    (then the run cannot be identified). Its other defects go to ``broken``."""
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory")
    env_path = run_dir / "env.json"
    if not env_path.exists():
        raise ReportError(f"{run_dir}: no env.json (not a conformance results directory)")
    env = read_env(env_path)
    checks = []
    for path in sorted(run_dir.glob("checks-*.jsonl")):
        try:
            checks += read_checks(path, warnings, broken)
        except ReportError as exc:
            broken.append(str(exc))
    for c in checks:
        c[RUN_KEY] = str(run_dir)
    bench = None
    for bench_path in sorted(run_dir.glob("benchmarks*.json")):
        try:
            bench = merge_benchmarks(bench, read_benchmarks(bench_path))
        except ReportError as exc:
            broken.append(str(exc))
    crashed = read_status(run_dir / STATUS)
    if crashed:
        broken.append(f"{run_dir}: {crashed}")
    if env["finished"] is None and not crashed:
        warnings.append(f"{env_path}: run {env['run_id']} was interrupted (finished is null)")
    return Run(run_dir, env, checks, bench, crashed)


# Written by the pipeline into a run directory whose process did not end normally.
STATUS = "status.json"


def read_status(path: Path) -> str | None:
    """The crash line of a run's status.json, if the pipeline left one."""
    if not path.exists():
        return None
    try:
        data = _parse_json(_read_text(path), path)
    except ReportError as exc:
        return str(exc)
    crashed = data.get("crashed") if isinstance(data, dict) else None
    return crashed if isinstance(crashed, str) else f"{path}: not a status file"


def merge_benchmarks(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """Two pytest-benchmark files of one run (xdist workers) as one."""
    if a is None:
        return b
    return {**a, "benchmarks": a["benchmarks"] + b["benchmarks"]}


# Written by ``python -m oracle accuracy --json PATH``: a directory holding one (with or
# without a run's env.json), or the file itself, is merged like any run.
ACCURACY_GLOB = "accuracy*.json"
ACCURACY_FIELDS = {"op": str, "bound_text": str, "reason": str, "max": (int, float),
                   "p99": (int, float), "max_ulp": (int, float), "p99_ulp": (int, float),
                   "worst_class": str, "status": str, "examples": int}


def read_accuracy(path: Path) -> dict[str, Any]:
    """An oracle accuracy file, checked for the fields the report's table uses."""
    data = _parse_json(_read_text(path), path)
    if not isinstance(data, dict) or data.get("kind") != "oracle-accuracy" \
            or not isinstance(data.get("ops"), list):
        raise ReportError(f"{path}: not an oracle accuracy file (kind 'oracle-accuracy', ops)")
    for i, row in enumerate(data["ops"]):
        for key, kind in ACCURACY_FIELDS.items():
            if not isinstance(row, dict) or not isinstance(row.get(key), kind):
                raise ReportError(f"{path}: ops[{i}].{key} is missing or of the wrong type")
    if not isinstance(data.get("created"), str):
        raise ReportError(f"{path}: 'created' must be a timestamp string")
    return {**data, "path": str(path)}


def _accuracy_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix == ".json" else []
    return sorted(path.glob(ACCURACY_GLOB)) if path.is_dir() else []


def _last_accuracy(paths: list[Path], broken: list[str]) -> dict[str, Any] | None:
    """Of every accuracy file given, the one written last (its 'created' time)."""
    found = []
    for path in paths:
        try:
            found.append(read_accuracy(path))
        except ReportError as exc:
            broken.append(str(exc))
    return max(found, key=lambda d: d["created"]) if found else None


def read_catalog(path: Path = CATALOG) -> list[str]:
    """Catalog ids in file order; blank lines and ``#`` comments skipped."""
    text = _read_text(path)
    ids = [line.strip() for line in text.splitlines()]
    return [i for i in ids if i and not i.startswith("#")]


def load(run_dirs: list[Path], catalog: Path = CATALOG) -> Results:
    """All runs, in the order given; the same directory named twice is read once."""
    if not run_dirs:
        raise ReportError("no results directory given")
    warnings: list[str] = []
    broken: list[str] = []
    runs: list[Run] = []
    seen: dict[Path, None] = {}
    accuracy: list[Path] = []
    for d in run_dirs:
        key = d.resolve()
        if key in seen:
            continue
        seen[key] = None
        accuracy += _accuracy_files(d)
        if _accuracy_files(d) and not (d / "env.json").exists():
            continue  # an accuracy run only: no conformance checks in it
        try:
            runs.append(load_run(d, warnings, broken))
        except ReportError as exc:
            broken.append(str(exc))
    return Results(runs, read_catalog(catalog), warnings, broken,
                   _last_accuracy(accuracy, broken))
