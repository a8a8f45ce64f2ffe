"""Building the report: runs merged into one matrix, gaps shown, variants rolled up, hostile
strings escaped, self-contained output, atomic writes and the command line's errors."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import details, html, model
from reports.__main__ import main
from reports.load import load
from reports.schema import ReportError
from tests.fixtures.results import synthetic

ROOT = Path(__file__).resolve().parents[1]


syn = synthetic  # the shared generator of synthetic runs
CATALOG_IDS = ["act.sigmoid", "act.softmax", "pool.max", "pool.avg"]


class MatrixCells(HTMLParser):
    """{op: [(td class, text)]} for the rows of the matrix table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[tuple[str, str]]] = {}
        self._op: str | None = None
        self._td: list[str] | None = None
        self._cls = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-op" in a:
            self._op = a["data-op"]
            self.rows[self._op] = []
        elif tag == "td" and self._op is not None:
            self._td, self._cls = [], a.get("class", "")

    def handle_endtag(self, tag):
        if tag == "td" and self._td is not None:
            self.rows[self._op].append((self._cls, " ".join(" ".join(self._td).split())))
            self._td = None
        elif tag == "tr":
            self._op = None

    def handle_data(self, data):
        if self._td is not None:
            self._td.append(data)


def _runs(tmp_path: Path) -> tuple[list[Path], Path]:
    """torch and jax, each float64 + float32; pool.max checked through a variant spec."""
    dirs = []
    for backend, version in (("torch", "2.13.0"), ("jax", "0.10.2")):
        run_id = f"run-{backend}"
        checks = []
        for dtype in ("float64", "float32"):
            kw = {"backend": backend, "version": version, "dtype": dtype}
            checks += [syn.check_record(run_id, "act.sigmoid", ratio=0.25, **kw),
                       syn.check_record(run_id, "act.sigmoid", ratio=0.5, example=1, **kw),
                       syn.check_record(run_id, "act.sigmoid", mode="vjp", ratio=0.125, **kw),
                       syn.check_record(run_id, "pool.max", spec="pool.max/2d", ratio=0.01,
                                        **kw),
                       syn.check_record(run_id, "pool.max", spec="pool.max/1d", ratio=0.03,
                                        **kw)]
        if backend == "torch":
            kw = {"backend": backend, "version": version, "dtype": "float32"}
            checks += [syn.check_record(run_id, "act.softmax", ratio=0.3, **kw),
                       syn.as_failure(syn.check_record(run_id, "act.softmax", example=1, **kw)),
                       syn.check_record(run_id, "act.softmax", verdict="xfail", ratio=4.0,
                                        example=2, divergence=syn.DIV, **kw)]
        env = syn.env_record(run_id, backend=backend, version=version,
                             dtypes=("float64", "float32"), totals=syn.verdict_counts(checks))
        dirs.append(syn.write_run(tmp_path, env, checks))
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("\n".join(CATALOG_IDS) + "\n")
    return dirs, catalog


def test_merge_two_backends_two_dtypes_into_one_matrix(tmp_path):
    dirs, catalog = _runs(tmp_path)
    matrix = model.build_matrix(load(dirs, catalog))
    assert [c.label for c in matrix.columns] == [
        "jax 0.10.2 cpu float64", "jax 0.10.2 cpu float32",
        "torch 2.13.0 cpu float64", "torch 2.13.0 cpu float32"]
    rows = {r.op: r for r in matrix.rows}
    assert [r.op for r in matrix.rows] == CATALOG_IDS  # variants rolled up, catalog order
    sig = rows["act.sigmoid"].cells[3]
    assert [(m.mode, m.verdict, m.count, m.ratio) for m in sig.modes] == [
        ("forward", "pass", 2, 0.5), ("vjp", "pass", 1, 0.125)]
    pool = rows["pool.max"].cells[0]
    assert pool.modes[0].count == 2 and pool.modes[0].ratio == 0.03  # both variants
    soft = rows["act.softmax"]
    assert [c.state for c in soft.cells] == ["not-run", "not-run", "not-run", "checked"]
    # pass 0.3, fail 37.5, xfail 4.0: the worst verdict wins and the worst ratio is shown
    (fwd,) = soft.cells[3].modes
    assert (fwd.verdict, fwd.ratio, fwd.verdicts) == ("fail", 37.5,
                                                      {"pass": 1, "fail": 1, "xfail": 1})
    assert [c.state for c in rows["pool.avg"].cells] == ["no-check"] * 4


def test_failure_without_a_finite_ratio_shows_infinity(tmp_path):
    rec = {**syn.as_failure(syn.check_record("r", "act.softmax")), "ratio": None}
    summary = model.summarize_mode("forward", [syn.check_record("r", "act.softmax"), rec])
    assert summary.verdict == "fail" and math.isinf(summary.ratio)
    assert summary.ratio_text == "∞"


def test_failures_per_run_and_repeated_exceptions_once(tmp_path):
    # Two machines' runs, both named "torch", fail the same test: two failures, not one.
    fail = syn.as_failure(syn.check_record("torch", "act.softmax"))
    a = syn.write_run(tmp_path / "a", syn.env_record("torch"), [fail])
    b = syn.write_run(tmp_path / "b", syn.env_record("torch"), [fail])
    # One exception raised by three tests (two dtypes, two modes) of one spec.
    boom = [{**syn.check_record("jax", "act.tanh", mode=m, dtype=t, backend="jax"),
             "verdict": "error", "ratio": None, "message": "AttributeError: no attribute 'jvp'"}
            for m, t in (("vjp", "float32"), ("vjp", "float64"), ("jvp", "float32"))]
    c = syn.write_run(tmp_path / "c", syn.env_record("jax", backend="jax"), boom)
    results = load([a, b, c])
    by_op = {d.op: d for d in details.op_details(results.checks, [])}
    assert len(by_op["act.softmax"].failures) == 2
    (err,) = by_op["act.tanh"].failures
    assert err.record["verdict"] == "error" and len(err.also) == 2
    html.write_atomic(tmp_path / "r.html", html.render(results, []))
    assert "The same exception in 2 more tests" in (tmp_path / "r.html").read_text()


def test_report_shows_matrix_gaps_failure_and_divergence(tmp_path):
    dirs, catalog = _runs(tmp_path)
    out = tmp_path / "report.html"
    html.build(dirs, out, catalog)
    text = out.read_text()
    parser = MatrixCells()
    parser.feed(text)
    assert set(parser.rows) == set(CATALOG_IDS)
    assert parser.rows["pool.avg"] == [("gap", "no check")] * 4
    assert parser.rows["act.sigmoid"][0] == ("cell w-pass", "fwd 0.5 vjp 0.12")
    assert parser.rows["act.softmax"][3] == ("cell w-fail", "fwd 38")
    assert 'id="op-act.softmax"' in text and 'href="#op-act.softmax"' in text
    assert "torch.softmax(torch.from_numpy(x), dim=1)" in text  # the reproducer
    assert "[[88.5, -3, 0.25]]" in text  # the minimal case, float32 digits
    assert "(60 values, flattened)" in text  # a larger input truncated, its size shown
    assert "torch-lrn-window" in text and syn.DIV["reason"].replace("'", "&#39;") in text
    assert text.count("<svg") == 2 * 3  # two charts for each of the three checked ops


def test_self_contained_no_network(tmp_path):
    dirs, catalog = _runs(tmp_path)
    out = tmp_path / "r.html"
    html.build(dirs, out, catalog)
    text = out.read_text()
    for needle in ("<link", " src=", "@import", "url(", "<iframe"):
        assert needle not in text, needle


def test_hostile_strings_are_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    run_id = "run-evil"
    rec = syn.as_failure(syn.check_record(run_id, f"act.x{evil}", backend=f"b{evil}"),
                         reproducer=f"print(1)\n</pre>{evil}")
    rec["divergence"] = {"id": f"d{evil}", "category": "bug", "reason": f"r{evil}",
                         "link": "javascript:alert(1)"}
    rec["message"] = f"m{evil}"
    rec["case"]["kwargs"] = {"mode": evil}
    env = syn.env_record(run_id, backend=f"b{evil}")
    env["command"] = f"pytest {evil}"
    env["precision"]["flags"] = {evil: evil}
    d = syn.write_run(tmp_path, env, [rec])
    out = tmp_path / "r.html"
    html.build([d], out)
    text = out.read_text()
    assert text.count("<script>") == 1  # the report's own copy-button script
    assert evil not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert 'href="javascript:' not in text
    assert "Not in the catalog" in text  # an unknown op is shown, not dropped


def test_a_broken_record_is_listed_and_the_rest_reported(tmp_path):
    dirs, catalog = _runs(tmp_path)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    bad = dirs[0] / "checks-gw0.jsonl"
    lines = bad.read_text().splitlines()
    lines[1] = lines[1].replace('"verdict": "pass"', '"verdict": 3')
    bad.write_text("\n".join(lines) + "\n")
    results = html.build(dirs, out, catalog)
    assert len(results.broken) == 1
    assert re.search(r"checks-gw0\.jsonl:2: field 'verdict'", results.broken[0])
    page = out.read_text()
    assert 'id="broken"' in page and "checks-gw0.jsonl:2" in page
    assert len(results.checks) == sum(len(p.read_text().splitlines())
                                      for d in dirs for p in d.glob("checks-*.jsonl")) - 1


def test_atomic_write_leaves_the_old_report_on_error(tmp_path, monkeypatch):
    dirs, catalog = _runs(tmp_path)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    out.write_text("OLD")

    def fail(results, inputs):
        raise ReportError("template error: planted")

    monkeypatch.setattr(html, "render", fail)
    with pytest.raises(ReportError, match="planted"):
        html.build(dirs, out, catalog)
    assert out.read_text() == "OLD"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]


def test_atomic_write_cleans_up_when_the_rename_fails(tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("OLD")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html.os, "replace", refuse)
    with pytest.raises(ReportError, match="cannot write: No space left on device"):
        html.write_atomic(out, "<html>new</html>")
    assert out.read_text() == "OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_cli_success_in_process(tmp_path, capsys):
    dirs, catalog = _runs(tmp_path)
    out = tmp_path / "report.html"
    assert main(["build", *map(str, dirs), "-o", str(out), "--catalog", str(catalog)]) == 0
    assert out.exists()
    assert capsys.readouterr().out.startswith(f"wrote {out} (")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_errors_are_one_line_and_exit_2(tmp_path):
    d = syn.write_run(tmp_path, syn.env_record("run-a"), [syn.check_record("run-a", "act.relu")])
    with open(d / "checks-gw0.jsonl", "a") as f:
        f.write(json.dumps({**syn.check_record("run-a", "act.relu"), "schema": 2}) + "\n")
        f.write(json.dumps(syn.check_record("run-a", "act.relu")) + "\n")
    out = tmp_path / "report.html"
    proc = _cli("build", str(d), "-o", str(out))
    # A broken line costs the report nothing else: it is written, and names the line.
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"reports: broken: {d / 'checks-gw0.jsonl'}:2: results "
                                  f"schema 2 is not supported")
    assert proc.stderr.count("\n") == 1
    assert out.exists() and "checks-gw0.jsonl:2" in out.read_text()
    usage = _cli("build", str(d))  # no -o
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1
    assert "-o/--output" in usage.stderr


def test_statistical_checks_show_their_pvalues(tmp_path):
    run_id = "run-stat"
    checks = []
    for i, p in enumerate((0.5, 0.02, 0.9)):
        rec = syn.check_record(run_id, "pool.max", mode="stat", example=i, dtype="float64")
        rec["pvalues"] = {"slot frequencies (chi-square test)": p}
        checks.append(rec)
    env = syn.env_record(run_id, dtypes=("float64",), totals=syn.verdict_counts(checks))
    d = syn.write_run(tmp_path, env, checks)
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("\n".join(CATALOG_IDS) + "\n")
    (op,) = [o for o in details.op_details(load([d], catalog).checks, []) if o.op == "pool.max"]
    (row,) = op.pvalues
    assert (row.test, row.count, row.smallest, row.median) == (
        "slot frequencies (chi-square test)", 3, 0.02, 0.5)
    out = tmp_path / "r.html"
    html.build([d], out, catalog=catalog)
    text = out.read_text()
    assert "Statistical checks" in text and "0.02" in text
