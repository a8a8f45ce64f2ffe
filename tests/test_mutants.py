"""A handful of the planted-bug corpus (tests/mutants/planted_corpus.py) through the real
suite, cheap enough for CI: one subprocess per bug, the checks that issue 17 says missed it
before (a one-pass variance at large offsets, NaN through max pooling, a half-precision
softmax summed in its own dtype). ``python -m conformance mutants`` runs the whole corpus
over five seeds; tests/test_divergence_sizes.py has the cross-entropy over N + 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

CORPUS = Path(__file__).parent / "mutants"

CASES = [
    ("LayerNormOnePassVariance", "norm.layer_norm/offset", "float32", "layer_norm"),
    ("MaxPoolDropsNaN", "pool.max/special", "float32", "NaN"),
    ("SoftmaxHalfAccumulation", "act.softmax/long_half", "float16", "act.softmax/long_half"),
    ("DualDivWrongSign", "ad.dual_arith", "float16", "ad.dual_arith"),
    ("LaplacianRandomWalk", "graph.normalized_laplacian", "float32",
     "graph.normalized_laplacian"),
]


@pytest.mark.parametrize("bug, ops, dtype, needle", CASES, ids=[c[0] for c in CASES])
def test_a_planted_bug_is_caught(bug, ops, dtype, needle, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", f"planted_corpus:{bug}", "--ops", ops, "--dtype", dtype,
                           "--seed", "1", "--results", str(out), "-k", "test_forward",
                           extra_path=CORPUS)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert needle in text
    fails = [r for r in records(out) if r["verdict"] == "fail"]
    assert fails and all(r["spec"] == ops for r in fails), text


def test_the_unmodified_adapter_passes_the_same_checks(tmp_path):
    """No false alarm: torch itself on the same specs and seed (within its divergences)."""
    ops = ",".join(sorted({c[1] for c in CASES}))
    proc = run_conformance("--backend", "torch", "--ops", ops, "--seed", "1", "--results",
                           str(tmp_path / "run"), "-k", "test_forward")
    assert proc.returncode == 0, proc.stdout + proc.stderr
