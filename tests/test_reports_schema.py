"""Validation of the results files: every error names the file (and, for check lines, the
line); a truncated last line is skipped with a warning, any other bad line or file is listed
as broken and skipped, and the rest still loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reports.load import load, read_benchmarks, read_checks, read_env
from reports.schema import SCHEMA_VERSION, ReportError, severity, validate_check
from tests.fixtures.results import synthetic

syn = synthetic  # the shared generator of synthetic runs


def _write_lines(path: Path, records: list[object], tail: str = "") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n" + tail)
    return path


def _good(k: int = 0) -> dict:
    return syn.check_record("run-a", "act.softmax", example=k)


def test_schema_version_is_one():
    assert SCHEMA_VERSION == 1


def test_valid_records_load(tmp_path):
    path = _write_lines(tmp_path / "checks-gw0.jsonl", [_good(0), _good(1)])
    warnings: list[str] = []
    broken: list[str] = []
    assert [r["example"] for r in read_checks(path, warnings, broken)] == [0, 1]
    assert warnings == [] and broken == []


def test_failure_record_with_case_is_valid():
    rec = syn.as_failure(_good())
    assert validate_check(rec, "x:1") is rec


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("verdict"), "missing field 'verdict'"),
    (lambda r: r.update(ratio="0.5"), "field 'ratio' must be a number or null"),
    (lambda r: r.update(example=True), "field 'example' must be an integer"),
    (lambda r: r.update(verdict="passed"), "field 'verdict' must be one of"),
    (lambda r: r.update(mode="backward"), "field 'mode' must be one of"),
    (lambda r: r["bound"].pop("C"), "missing field 'bound.C'"),
    (lambda r: r.update(worst={"output": "y", "index": [0.5], "got": 1.0, "expected": 1.0}),
     "field 'worst.index' must be a list of integers"),
    (lambda r: r.update(schema=2), "results schema 2 is not supported (this report reads "
                                   "schema 1)"),
])
def test_bad_record_names_file_and_line(tmp_path, mutate, message):
    bad = _good(1)
    mutate(bad)
    path = _write_lines(tmp_path / "checks-gw0.jsonl", [_good(0), bad, _good(2)])
    broken: list[str] = []
    assert [r["example"] for r in read_checks(path, [], broken)] == [0, 2]
    assert len(broken) == 1 and broken[0].startswith(f"{path}:2: ")
    assert message in broken[0]


def test_bad_array_in_case_is_rejected(tmp_path):
    bad = syn.as_failure(_good())
    del bad["case"]["args"][1]["shape"]
    path = _write_lines(tmp_path / "checks-gw1.jsonl", [bad])
    broken: list[str] = []
    assert read_checks(path, [], broken) == []
    assert re.search(r"checks-gw1\.jsonl:1: missing field 'case\.args\[1\]\.shape'", broken[0])


def test_invalid_json_mid_file_is_listed_as_broken(tmp_path):
    path = _write_lines(tmp_path / "checks-gw0.jsonl", [_good(0), '{"schema": 1,', _good(2)])
    broken: list[str] = []
    assert [r["example"] for r in read_checks(path, [], broken)] == [0, 2]
    assert re.search(r"checks-gw0\.jsonl:2: invalid JSON", broken[0])


def test_truncated_last_line_is_skipped_with_a_warning(tmp_path):
    # What an interrupted writer leaves: whole lines, then part of one with no newline.
    whole = json.dumps(_good(2))
    path = _write_lines(tmp_path / "checks-gw0.jsonl", [_good(0), _good(1)],
                        tail=whole[: len(whole) // 2])
    warnings: list[str] = []
    records = read_checks(path, warnings, [])
    assert [r["example"] for r in records] == [0, 1]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:3: truncated last line")


def test_complete_but_invalid_last_line_is_broken_not_truncated(tmp_path):
    # A last line that parses but lacks a field was written whole: it is malformed.
    bad = _good(1)
    del bad["dtype"]
    path = _write_lines(tmp_path / "checks-gw0.jsonl", [_good(0), bad])
    warnings: list[str] = []
    broken: list[str] = []
    read_checks(path, warnings, broken)
    assert warnings == [] and re.search(r":2: missing field 'dtype'", broken[0])


def test_env_errors_name_the_file(tmp_path):
    env = syn.env_record("run-a")
    del env["device"]["actual"]
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env, indent=2))
    with pytest.raises(ReportError, match=r"env\.json: missing field 'device\.actual'"):
        read_env(path)
    path.write_text('{\n  "schema": 1,\n  "run_id" 5\n}')  # no colon: line 3
    with pytest.raises(ReportError, match=r"env\.json:3: invalid JSON"):
        read_env(path)
    path.write_text(json.dumps({**syn.env_record("run-a"), "schema": 7}))
    with pytest.raises(ReportError, match="results schema 7 is not supported"):
        read_env(path)


def test_missing_env_json_and_runs_sharing_an_id(tmp_path):
    (tmp_path / "empty").mkdir()
    good = syn.write_run(tmp_path / "good", syn.env_record("jax"), [_good()])
    results = load([tmp_path / "empty", good])
    assert len(results.runs) == 1 and "no env.json" in results.broken[0]
    # run_id is the run directory's name: two machines' "torch" runs may share it.
    a = syn.write_run(tmp_path / "a", syn.env_record("torch"), [_good()])
    b = syn.write_run(tmp_path / "b", syn.env_record("torch"), [_good()])
    assert len(load([a, b]).runs) == 2
    assert len(load([a, a]).runs) == 1  # the same directory named twice is read once


def test_benchmark_file_errors(tmp_path):
    path = tmp_path / "benchmarks.json"
    entry = syn.bench_entry("act.softmax", "torch", 1e-3)
    del entry["extra_info"]["size_label"]
    path.write_text(json.dumps(syn.bench_file([entry])))
    with pytest.raises(ReportError, match=r"benchmarks\.json: benchmarks\[0\]\.extra_info"
                                          r"\.size_label must be a string"):
        read_benchmarks(path)
    path.write_text(json.dumps({"machine_info": {}}))
    with pytest.raises(ReportError, match="not a pytest-benchmark file"):
        read_benchmarks(path)


@pytest.mark.parametrize("content, problem", [
    ("", "invalid JSON"), ('{"benchmarks": [', "invalid JSON"),
    ("\x00\xff", "not UTF-8"), ('{"machine_info": {}}', "not a pytest-benchmark file")])
def test_a_broken_benchmarks_file_is_named_and_the_rest_still_loads(tmp_path, content,
                                                                    problem):
    speed = syn.write_run(tmp_path / "speed", syn.env_record("torch"), [])
    (speed / "benchmarks.json").write_bytes(content.encode("latin-1"))
    other = syn.write_run(tmp_path / "conf", syn.env_record("jax"), [_good()])
    results = load([speed, other])
    assert len(results.runs) == 2 and len(results.checks) == 1
    assert results.runs[0].benchmarks is None
    assert len(results.broken) == 1
    assert str(speed / "benchmarks.json") in results.broken[0] and problem in results.broken[0]


def test_a_crashed_run_says_so(tmp_path):
    d = syn.write_run(tmp_path, syn.env_record("run-c", finished=False), [])
    (d / "status.json").write_text(json.dumps({"crashed": "speed run crashed: TypeError: x"}))
    results = load([d])
    assert results.runs[0].crashed == "speed run crashed: TypeError: x"
    assert results.broken == [f"{d}: speed run crashed: TypeError: x"]


def test_interrupted_run_is_loaded_and_flagged(tmp_path):
    d = syn.write_run(tmp_path, syn.env_record("run-i", finished=False), [_good()])
    results = load([d])
    assert results.runs[0].interrupted
    assert any("interrupted" in w for w in results.warnings)


def test_severity_order():
    worst_first = sorted(["pass", "skip", "xfail", "error", "fail", "xpass"], key=severity)
    assert worst_first == ["fail", "error", "xpass", "xfail", "pass", "skip"]
