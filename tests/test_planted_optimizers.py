"""The state mode catches an optimizer bug planted in a user's adapter: a hand-written torch
Adam that forgets the bias correction parts from the oracle at the first step, and the
failure names the state tensor; the same kernel with the correction passes."""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

ADAPTERS = textwrap.dedent('''
    import torch
    from adapters.base import implements
    from adapters.torch import TorchAdapter


    def adam(params, grads, lr, b1, b2, eps, weight_decay, corrected):
        p = params.clone()
        m, v = torch.zeros_like(p), torch.zeros_like(p)
        rows = []
        for t in range(1, grads.shape[0] + 1):
            g = grads[t - 1] + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if corrected:
                step = lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
            else:
                step = lr * m / (v.sqrt() + eps)
            p = p - step
            rows.append((p, m, v, torch.tensor(float(t))))
        return tuple(torch.stack(col) for col in zip(*rows))


    class AdamWithoutBiasCorrection(TorchAdapter):
        @implements("optim.adam")
        def my_adam(self, params, grads, *, lr, b1, b2, eps, eps_mode="outside",
                    weight_decay=0.0, weight_decay_mode="l2"):
            return adam(params, grads, lr, b1, b2, eps, weight_decay, corrected=False)


    class HandWrittenAdam(TorchAdapter):
        @implements("optim.adam")
        def my_adam(self, params, grads, *, lr, b1, b2, eps, eps_mode="outside",
                    weight_decay=0.0, weight_decay_mode="l2"):
            return adam(params, grads, lr, b1, b2, eps, weight_decay, corrected=True)
''')

ARGS = ("--ops", "optim.adam", "--dtype", "float32", "--seed", "1", "-k", "test_state")


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_adam.py").write_text(ADAPTERS)
    return tmp_path


def test_adam_without_bias_correction_parts_at_the_first_step(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_adam:AdamWithoutBiasCorrection", *ARGS,
                           "--results", str(out), extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # step 0 (0-based) is the first step; the moments are right, the parameters are not
    assert "optim.adam state on torch" in proc.stdout
    assert "the trajectories part at step 0 (0-based) in state tensor 'params'" in proc.stdout
    (fail,) = [r for r in records(out) if r["verdict"] == "fail"]
    assert fail["minimal"] and fail["worst"]["output"] == "params"
    assert fail["worst"]["index"][0] == 0


def test_the_corrected_kernel_passes(user_pkg, tmp_path):
    proc = run_conformance("--backend", "planted_adam:HandWrittenAdam", *ARGS,
                           "--results", str(tmp_path / "run"), extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
