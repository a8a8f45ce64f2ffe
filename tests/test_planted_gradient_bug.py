"""The vjp check catches a gradient bug planted in a user's adapter whose forward is right:
BatchNorm's backward without the variance term, the classic hand-written-kernel mistake.

Training-mode BatchNorm, per channel over the other axes (m values), xhat = (x - mean) r,
r = 1 / sqrt(var + eps), y = gamma xhat + beta. With g = dL/dy:
  dx = gamma r (g - mean(g) - xhat mean(g xhat)),  dgamma = sum(g xhat),  dbeta = sum(g).
The bug drops "- xhat mean(g xhat)" (the path through the variance). The planted kernels are
torch.autograd.Functions with no jvp, so only reverse mode runs (``-k test_vjp``).
"""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

OP = "norm.batch_norm_train"

ADAPTERS = textwrap.dedent('''
    import torch
    import torch.nn.functional as F
    from adapters.base import implements
    from adapters.torch import TorchAdapter


    def _stats(x, eps):
        """xhat and r = 1 / sqrt(var + eps), shaped to broadcast over x (N, C, *)."""
        axes = [0, *range(2, x.ndim)]
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, correction=0, keepdim=True)
        r = torch.rsqrt(var + eps)
        return (x - mean) * r, r, axes


    def _channel(t, x):
        return t.reshape(1, -1, *([1] * (x.ndim - 2)))


    class _BatchNorm(torch.autograd.Function):
        """Forward: torch's own kernel (correct). Backward: ``full`` or not."""

        @staticmethod
        def forward(ctx, x, gamma, beta, eps, full):
            ctx.save_for_backward(x, gamma)
            ctx.eps, ctx.full = eps, full
            return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)

        @staticmethod
        def backward(ctx, g):
            x, gamma = ctx.saved_tensors
            xhat, r, axes = _stats(x, ctx.eps)
            centred = g - g.mean(dim=axes, keepdim=True)
            if ctx.full:
                centred = centred - xhat * (g * xhat).mean(dim=axes, keepdim=True)
            dx = _channel(gamma, x) * r * centred
            return dx, (g * xhat).sum(dim=axes), g.sum(dim=axes), None, None


    class _Planted(TorchAdapter):
        full_backward = True

        @implements("norm.batch_norm_train")
        def batch_norm_train(self, x, gamma, beta, running_mean, running_var, *, eps,
                             momentum, momentum_on="batch", running_var_unbiased=True):
            # The running statistics are buffers (no gradient): the stock mapping's.
            _, rm, rv, _ = self._bn_train(x.detach(), gamma.detach(), beta.detach(),
                                          running_mean, running_var, eps, momentum,
                                          momentum_on)
            y = _BatchNorm.apply(x, gamma, beta, eps, self.full_backward)
            return y, rm, rv


    class NoVarianceTerm(_Planted):
        """dx = gamma r (g - mean(g)): the variance path forgotten."""

        full_backward = False


    class FullBackward(_Planted):
        """The whole formula: the override mechanism must accept it."""
''')


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_bn.py").write_text(ADAPTERS)
    return tmp_path


def _run(backend: str, mode: str, dtypes: str, pkg, out):
    return run_conformance("--backend", f"planted_bn:{backend}", "--ops", OP, "--dtype", dtypes,
                           "--seed", "3", "--examples", "10", "--results", str(out),
                           "-k", mode, extra_path=pkg)


def test_the_forward_of_the_planted_kernel_passes(user_pkg, tmp_path):
    proc = _run("NoVarianceTerm", "test_forward", "float64", user_pkg, tmp_path / "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert records(tmp_path / "run") and all(
        r["verdict"] == "pass" for r in records(tmp_path / "run"))


def test_backward_without_the_variance_term_is_caught(user_pkg, tmp_path):
    # float64 only: each failure is shrunk by hypothesis (~20 s); float32 catches it too.
    out = tmp_path / "run"
    proc = _run("NoVarianceTerm", "test_vjp", "float64", user_pkg, out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{OP} vjp on torch" in proc.stdout and "float64 disagrees" in proc.stdout
    assert "output 'd/dx'" in proc.stdout  # the bug is in dx; dgamma and dbeta are right
    fails = [r for r in records(out) if r["verdict"] == "fail"]
    # The op's specs: the ordinary one and its large-offset variant both catch it.
    assert sorted((r["spec"], r["mode"], r["dtype"]) for r in fails) == [
        (OP, "vjp", "float64"), (f"{OP}/offset", "vjp", "float64")]


def test_the_full_backward_passes(user_pkg, tmp_path):
    proc = _run("FullBackward", "test_vjp", "float64,float32", user_pkg, tmp_path / "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert records(tmp_path / "run")
