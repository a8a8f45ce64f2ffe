"""A known divergence allows what it states and no more: end to end through the runner, an
error within an entry's ``max_ratio`` is an expected failure (xfail), one twice beyond it
is a failure that names the entry; and every shipped entry states its size."""

from __future__ import annotations

import textwrap

import pytest

from conformance import divergences as div
from tests._runs import records, run_conformance

pytest.importorskip("torch")

# relu's naive error is zero, so its bound is the floor C * 4 eps * max(|y|, rms(y)): a
# relative error of 2^-40 in float64 (eps 2^-52) is 2^12 / 32 = 128 times the bound at the
# largest output, and no more anywhere.
ADAPTERS = textwrap.dedent('''
    import torch
    from adapters.base import implements
    from adapters.torch import TorchAdapter


    class ScaledRelu(TorchAdapter):
        """relu off by a relative 2^-40: 128x the bound at the largest output."""

        @implements("act.relu")
        def relu(self, x):
            return torch.relu(x) * (1 + 2.0**-40)


    class CrossEntropyMeanOverNPlusOne(TorchAdapter):
        """The mean of the per-row losses divided by N + 1 instead of N (issue 17)."""

        @implements("loss.cross_entropy")
        def cross_entropy(self, logits, target, *, reduction):
            if reduction != "mean":
                return torch.nn.functional.cross_entropy(logits, target, reduction=reduction)
            rows = torch.nn.functional.cross_entropy(logits, target, reduction="none")
            return rows.sum() / (rows.shape[0] + 1)
''')

ENTRY = '''
[[divergence]]
id = "test-relu-scaled"
ops = "act.relu"
modes = ["forward"]
dtypes = ["float64"]
category = "precision"
reason = "a planted relative error of 2^-40: 128x the bound"
max_ratio = {ratio}
strict = false
'''


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_sizes.py").write_text(ADAPTERS)
    return tmp_path


def _run(user_pkg, tmp_path, backend, ops, *extra):
    out = tmp_path / "run"
    proc = run_conformance("--backend", f"planted_sizes:{backend}", "--ops", ops, "--dtype",
                           "float64", "--seed", "1", "--results", str(out), "-k",
                           "test_forward", "--examples", "10", *extra, extra_path=user_pkg)
    return proc, records(out)


@pytest.mark.parametrize("allowed, verdict", [(256.0, "xfail"), (64.0, "fail")])
def test_an_error_twice_beyond_the_allowance_fails(user_pkg, tmp_path, allowed, verdict):
    path = tmp_path / "entry.toml"
    path.write_text(ENTRY.format(ratio=allowed))
    proc, recs = _run(user_pkg, tmp_path, "ScaledRelu", "act.relu", "--divergences", str(path))
    out = proc.stdout + proc.stderr
    worst = max(r["ratio"] for r in recs if r.get("ratio") is not None)
    assert 120 < worst < 136, out  # the planted size: 128x the bound
    assert {r["verdict"] for r in recs if r["verdict"] in ("xfail", "fail")} == {verdict}, out
    if verdict == "fail":
        assert proc.returncode == 1, out
        assert "beyond what divergence 'test-relu-scaled' allows (ratio <= 64)" in out
    else:
        assert proc.returncode == 0, out


def test_cross_entropy_over_n_plus_one_is_not_hidden_by_the_logsumexp_entry(user_pkg,
                                                                            tmp_path):
    """torch-ce-logsumexp-absolute-error is about an absolute error of eps / 2; a mean over
    N + 1 rows is a relative error of 1 / (N + 1), 10^13 times the bound in float64."""
    proc, recs = _run(user_pkg, tmp_path, "CrossEntropyMeanOverNPlusOne",
                      "loss.cross_entropy/index")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    (fail,) = [r for r in recs if r["verdict"] == "fail"]
    assert fail["case"]["kwargs"]["reduction"] == "mean"
    assert fail["ratio"] > 1e9
    assert "beyond what divergence 'torch-ce-logsumexp-absolute-error' allows" in out


# The families whose entries were sized under issue 17 (rnn, attention, graph and
# augmentation were being built at the time; their helpers size their own entries).
SIZED = ("activations", "losses", "dense", "normalization", "pooling", "regularization",
         "conv", "blocks", "architectures", "autodiff", "optimizers", "schedules")


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_every_shipped_entry_states_its_size(backend):
    """Every entry but ``unsupported`` ones allows a stated ratio or a stated exception, and
    its reason gives the size it was measured at."""
    paths = [p for p in div.builtin_paths(backend) if p.stem in SIZED]
    for d in div.load_all(paths):
        if d.category == "unsupported":
            continue
        assert d.sized(), f"{d.id}: no stated size (max_ratio, max_abs_eps, nonfinite, raises)"
        if d.max_ratio is not None or d.ratio_by_dtype or d.max_abs_eps is not None:
            text = d.reason.lower()
            assert "measured" in text or "worst" in text, f"{d.id}: no measured size given"
