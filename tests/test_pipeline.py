"""``python -m conformance run``: every backend's conformance and speed runs, one report."""

import json
import os
import signal
import subprocess
import sys
import time

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


def test_an_interrupted_job_still_reports_the_run_it_cut_off(tmp_path):
    out, results = tmp_path / "report.html", tmp_path / "results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--backends", "torch,jax", "--no-speed",
         "--jobs", "1", "-o", str(out), "--results-root", str(results), "--seed", "4",
         # Minutes of work: on a loaded machine the poll below may wake seconds late, and a
         # run of the default size could end before the Ctrl-C reaches it.
         "--ops", "act.*", "--examples", "300"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
        # A shell's background job inherits SIGINT ignored, and Python keeps it so: restore
        # the default, as a terminal's foreground job has it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not any(p.stat().st_size for p in results.glob("*/checks-*.jsonl")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the job and its pytest run alike
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, text
    assert "torch conformance: interrupted" in text and "== jax" not in text
    (run,) = results.iterdir()
    assert json.loads((run / "env.json").read_text())["finished"] is None
    assert "act." in out.read_text()


TWIN = '''
from adapters.torch import TorchAdapter


class Twin(TorchAdapter):
    """torch under another name: a second backend that starts as fast as the first."""
'''


def test_conformance_runs_go_side_by_side_and_both_report(tmp_path):
    (tmp_path / "twin.py").write_text(TWIN)
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--backends", "torch,twin:Twin",
         "--no-speed", "--jobs", "2", "-o", str(out), "--results-root",
         str(tmp_path / "results"), "--seed", "3", "--ops", "act.relu", "--examples", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])})
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    assert "2 conformance runs at once" in text
    lines = text.splitlines()
    assert any(ln.startswith("[torch] ") for ln in lines), text
    assert any(ln.startswith("[twin:Twin] ") for ln in lines), text
    assert len(list((tmp_path / "results").iterdir())) == 2
    assert "twin:Twin" in out.read_text()


CRASHING = '''
from adapters.torch import TorchAdapter


class ProbeCrash(TorchAdapter):
    """Every check agrees, but the machine-limit probe of a speed run raises."""

    def bench_primitives(self):
        raise RuntimeError("bandwidth probe exploded")
'''


def test_a_crashed_speed_run_is_reported_and_costs_no_other_result(tmp_path):
    (tmp_path / "crashing.py").write_text(CRASHING)
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--backends", "crashing:ProbeCrash",
         "-o", str(out), "--results-root", str(tmp_path / "results"), "--seed", "3",
         "--ops", "act.relu", "--examples", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])})
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    line = "speed run crashed: RuntimeError: bandwidth probe exploded"
    assert line in text and "a benchmark failed" not in text
    html = out.read_text()
    assert line in html and "act.relu" in html  # the conformance run is still in the report
