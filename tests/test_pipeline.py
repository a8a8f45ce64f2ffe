"""``python -m conformance run``: every backend's conformance and speed runs, one report."""

import json
import os
import subprocess
import sys

import pytest

from tests._runs import ROOT

pytest.importorskip("torch")


def test_one_command_runs_each_backend_and_merges_one_report(tmp_path):
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--backends", "torch,nonesuch",
         "-o", str(out), "--results-root", str(tmp_path / "results"), "--seed", "3",
         "--ops", "act.relu", "--examples", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    text = proc.stdout + proc.stderr
    # A backend that cannot start is named in one line; the others still run and report.
    assert proc.returncode == 2, text
    assert "unknown backend 'nonesuch'" in text and "Traceback" not in text
    assert "torch conformance: all checks agree" in text and "torch speed:" in text
    runs = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert [r.split("-", 1)[1] for r in runs] == ["torch-3", "torch-3-speed"]
    env = json.loads((tmp_path / "results" / runs[0] / "env.json").read_text())
    assert env["seed"] == 3 and env["finished"]
    assert (tmp_path / "results" / runs[1] / "benchmarks.json").is_file()
    assert out.is_file(), text
    html = out.read_text()
    assert "act.relu" in html and "torch" in html and "Benchmarks" in html


def test_speed_runs_drop_xdist_options_and_keep_the_rest():
    from conformance.pipeline import without_xdist

    args = ["-n", "2", "--ops", "norm.*", "-n2", "--dist=load", "--numprocesses", "4",
            "--examples", "5", "--dist", "loadgroup", "--dtype", "float32"]
    assert without_xdist(args) == ["--ops", "norm.*", "--examples", "5", "--dtype", "float32"]
