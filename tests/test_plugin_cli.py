"""Bad input gets one clear line and a non-zero exit; results are complete and resumable."""

import fnmatch
import json
import signal
import subprocess
import sys
import time

import pytest

from conformance.specs import all_specs
from tests._runs import ROOT, records, run_conformance

pytest.importorskip("torch")


@pytest.mark.parametrize("args, needle", [
    ([], "need --backend"),
    (["--backend", "nope"], "unknown backend 'nope'"),
    (["--backend", "torch", "--dtype", "float8"], "unknown dtype 'float8'"),
    (["--backend", "torch", "--ops", "zzz.*"], "matches no registered op"),
    (["--backend", "torch", "--device", "cuda:7"], "torch sees no CUDA device"),
    (["--backend", "nosuchpkg.mod:Cls"], "cannot import adapter module"),
    (["--backend", "torch", "--examples", "0"], "--examples must be at least 1"),
])
def test_usage_errors_are_one_line_without_traceback(args, needle, tmp_path):
    proc = run_conformance(*args, "--results", str(tmp_path / "r"))
    assert proc.returncode != 0
    err = proc.stderr + proc.stdout
    assert needle in err
    assert "Traceback" not in err


def test_malformed_divergence_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[divergence]]\nid = "x"\nops = "act.*"\ncategory = "nope"\nreason = "r"\n')
    proc = run_conformance("--backend", "torch", "--ops", "act.relu", "--divergences", str(bad))
    assert proc.returncode != 0
    assert "malformed divergence file" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_run_writes_fingerprint_and_one_record_per_check(tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "torch", "--ops", "act.relu", "--dtype", "float32",
                           "--examples", "5", "--seed", "7", "--results", str(out),
                           "-k", "test_forward")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "seed 7" in proc.stdout
    env = json.loads((out / "env.json").read_text())
    assert env["seed"] == 7 and env["finished"] and env["totals"] == {"pass": 5}
    assert env["framework"]["name"] == "torch" and env["device"]["actual"] == "cpu"
    recs = records(out)
    assert len(recs) == 5 and {r["verdict"] for r in recs} == {"pass"}
    assert all(r["ratio"] is not None and r["max_ulp"] is not None for r in recs)


def test_same_seed_same_examples(tmp_path):
    def worst(name):
        run_conformance("--backend", "torch", "--ops", "act.tanh", "--dtype", "float32",
                        "--examples", "8", "--seed", "11", "--results", str(tmp_path / name),
                        "-k", "test_forward")
        return [(r["max_abs_err"], r["worst"]["expected"]) for r in records(tmp_path / name)]

    assert worst("a") == worst("b")


def test_xdist_keeps_every_workers_results(tmp_path):
    pytest.importorskip("xdist")
    out = tmp_path / "run"
    proc = run_conformance("--backend", "torch", "--ops", "act.*", "--dtype", "float32",
                           "--examples", "3", "--seed", "3", "--results", str(out), "-n", "2",
                           "-k", "test_forward")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A conformance run has no benchmark: pytest-benchmark must not warn that xdist
    # disabled the deselected speed tests.
    assert "PytestBenchmarkWarning" not in proc.stdout + proc.stderr
    files = sorted(p.name for p in out.glob("checks-*.jsonl"))
    assert files == ["checks-gw0.jsonl", "checks-gw1.jsonl"]
    specs = [s for s in all_specs().values() if fnmatch.fnmatch(s.id, "act.*")
             and "forward" in s.modes and "float32" in s.dtypes]
    assert len(records(out)) == len(specs) * 3
    env = json.loads((out / "env.json").read_text())
    assert env["totals"] == {"pass": len(specs) * 3} and env["seed"] == 3


def test_an_interrupted_run_leaves_valid_files(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider",
           "--backend", "torch", "--examples", "200", "--results", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(records_safe(out)) < 20:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    env = json.loads((out / "env.json").read_text())
    assert env["finished"] is None  # killed: the fingerprint says the run never finished
    for path in out.glob("checks-*.jsonl"):
        for line in path.read_text().splitlines():
            json.loads(line)  # every written line is whole


def records_safe(out):
    try:
        return records(out)
    except (OSError, ValueError):
        return []


def test_a_speed_run_skips_the_backward_a_divergence_declares_unsupported(tmp_path):
    # TensorFlow registers no gradient for AdjustContrastv2: its backward benchmarks raised
    # LookupError (6 failures in a whole-registry TensorFlow speed run) although the
    # conformance run already knows the mode is unsupported.
    pytest.importorskip("tensorflow")
    out = tmp_path / "run"
    proc = run_conformance("--backend", "tensorflow", "--speed", "--seed", "1", "-rs",
                           "--ops", "aug.color_jitter/contrast_channel", "--results", str(out))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    assert "3 passed, 3 skipped" in text
    assert "SKIPPED [3]" in text and "tf-adjust-contrast-saturation-no-gradient" in text, text
    benchmarks = json.loads((out / "benchmarks.json").read_text())["benchmarks"]
    assert {b["extra_info"]["direction"] for b in benchmarks} == {"forward"}
