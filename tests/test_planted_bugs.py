"""The suite catches bugs planted in a user's adapter (a subclass overriding one op), and
passes the same adapter when the override is correct."""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

ADAPTERS = textwrap.dedent('''
    import torch
    from adapters.base import implements
    from adapters.torch import TorchAdapter


    class NaiveSoftmax(TorchAdapter):
        """softmax without the max shift: exp overflows for large inputs."""

        @implements("act.softmax")
        def my_softmax(self, x, *, axis):
            e = torch.exp(x)
            return e / e.sum(dim=axis, keepdim=True)


    class ShiftedSoftmax(TorchAdapter):
        """A correct hand-written kernel: the override mechanism must accept it."""

        @implements("act.softmax")
        def my_softmax(self, x, *, axis):
            e = torch.exp(x - x.amax(dim=axis, keepdim=True))
            return e / e.sum(dim=axis, keepdim=True)
''')


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted.py").write_text(ADAPTERS)
    return tmp_path


def test_softmax_without_max_shift_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted:NaiveSoftmax", "--ops", "act.softmax",
                           "--dtype", "float32", "--seed", "1", "--results", str(out),
                           "-k", "test_forward", extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = proc.stdout
    assert "act.softmax forward on torch" in text and "float32" in text
    assert "rerun: pytest" in text and "--backend planted:NaiveSoftmax" in text
    (fail,) = [r for r in records(out) if r["verdict"] == "fail" and r["spec"] == "act.softmax"]
    assert fail["minimal"] and fail["case"]["args"][0]["name"] == "x"
    assert fail["expected"] is not None


def test_a_correct_override_passes(user_pkg, tmp_path):
    proc = run_conformance("--backend", "planted:ShiftedSoftmax", "--ops", "act.softmax",
                           "--seed", "1", "--results", str(tmp_path / "run"),
                           "-k", "test_forward", extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_failure_reproducer_runs_standalone(user_pkg, tmp_path):
    """The script recorded for the failure needs only numpy and torch (no project on the
    path, run from an empty directory) and shows the disagreement."""
    import os
    import subprocess
    import sys

    out = tmp_path / "run"
    run_conformance("--backend", "planted:NaiveSoftmax", "--ops", "act.softmax", "--dtype",
                    "float32", "--seed", "1", "--results", str(out), "-k", "test_forward",
                    extra_path=user_pkg)
    (fail,) = [r for r in records(out) if r["verdict"] == "fail" and r["spec"] == "act.softmax"]
    script = tmp_path / "empty" / "repro.py"
    script.parent.mkdir()
    script.write_text(fail["reproducer"])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", str(script)], cwd=script.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "worst element: got" in proc.stdout
    # The planted bug overflows to NaN where the oracle is finite; hypothesis shrinks the
    # failing input to a single element, so exactly one NaN.
    assert "NaN count 1" in proc.stdout
