"""Planted bugs for the kernel options of issue 17 (loss, pool, conv and nn families): each is
a user adapter overriding one op of the torch adapter with a tempting mistake in how it
handles one option, run through the real suite in a subprocess; each must fail on its own
spec for the right reason (a value far outside the bound, not a rounding matter), and the
stock torch adapter must pass the same specs.

One adapter class carries every override: each bug lives in a different spec, and the specs
are checked independently, so one run judges them all (a subprocess per bug would import
torch ten times on two shared cores)."""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

ADAPTERS = textwrap.dedent('''
    import math

    import torch
    import torch.nn.functional as F
    from adapters.base import implements
    from adapters.torch import TorchAdapter
    from adapters.torch.pooling import _window_counts


    class PlantedOptions(TorchAdapter):
        @implements("loss.cross_entropy/index_ignore")
        def ce_ignore(self, logits, target, *, reduction, ignore_index=None):
            # The ignored samples counted in the mean's denominator (sum / N).
            ii = -100 if ignore_index is None else ignore_index
            if reduction != "mean":
                return F.cross_entropy(logits, target, reduction=reduction, ignore_index=ii)
            total = F.cross_entropy(logits, target, reduction="sum", ignore_index=ii)
            return total / logits.shape[0]

        @implements("loss.cross_entropy/index_options")
        def ce_weighted(self, logits, target, weight=None, *, reduction, ignore_index=None,
                        label_smoothing=0.0):
            # The weighted mean divided by the kept count, not by the kept targets' weights.
            ii = -100 if ignore_index is None else ignore_index
            per = F.cross_entropy(logits, target, weight=weight, reduction="none",
                                  ignore_index=ii, label_smoothing=label_smoothing)
            if reduction == "none":
                return per
            if reduction == "sum":
                return per.sum()
            return per.sum() / (target != ii).sum()

        @implements("loss.cross_entropy/probs_smoothing")
        def ce_smoothing(self, logits, target, *, reduction, label_smoothing=0.0):
            # The other smoothing convention: s spread over the C - 1 other classes.
            c = logits.shape[1]
            q = target * (1 - label_smoothing) + (1 - target) * label_smoothing / (c - 1)
            return F.cross_entropy(logits, q, reduction=reduction)

        @implements("pool.l2/lp")
        def lp_fixed_at_2(self, x, *, kernel, stride, padding, mean, count_include_pad,
                          norm_type=2.0):
            # norm_type ignored: always the L2 pool.
            return super().l2_pool(x, kernel=kernel, stride=stride, padding=padding,
                                   mean=mean, count_include_pad=count_include_pad)

        @implements("pool.avg/divisor")
        def avg_divisor_ignored(self, x, *, kernel, stride, padding, ceil_mode,
                                count_include_pad, divisor_override=None):
            # divisor_override dropped: the window's own count.
            return super().avg_pool(x, kernel=kernel, stride=stride, padding=padding,
                                    ceil_mode=ceil_mode, count_include_pad=count_include_pad)

        @implements("pool.avg/same")
        def same_extra_first(self, x, *, kernel, stride, padding, ceil_mode,
                             count_include_pad):
            # SAME's odd extra element put before the input (SAME_LOWER), not after.
            pads = []
            for n, k, s in zip(x.shape[2:], kernel, stride):
                t = max((-(-n // s) - 1) * s + k - n, 0)
                pads.append((t - t // 2, t // 2))
            xp = F.pad(x, [q for lo_hi in reversed(pads) for q in lo_hi])
            return getattr(F, f"avg_pool{x.ndim - 2}d")(xp, kernel, stride, 0)

        @implements("pool.avg/wide_padding")
        def wide_padding_clamped(self, x, *, kernel, stride, padding, ceil_mode,
                                 count_include_pad, wide_padding):
            # Dodging torch's error by clamping the padding to kernel // 2.
            pad = tuple(min(p, k // 2) for p, k in zip(padding, kernel))
            return getattr(F, f"avg_pool{x.ndim - 2}d")(x, kernel, stride, pad, ceil_mode,
                                                        count_include_pad)

        @implements("pool.kmax")
        def kmax_always_largest(self, x, *, k, axis, largest=True):
            return super().kmax_pool(x, k=k, axis=axis)

        @implements("conv.conv2d/padding_mode")
        def reflect_as_replicate(self, x, w, b=None, *, stride=1, padding=0, dilation=1,
                                 groups=1, padding_mode="zeros"):
            mode = "replicate" if padding_mode == "reflect" else padding_mode
            return super().conv_padding_mode(x, w, b, stride=stride, padding=padding,
                                             dilation=dilation, groups=groups,
                                             padding_mode=mode)

        @implements("nn.dense/gemm")
        def gemm_alpha_on_bias(self, x, w, b, *, activation, alpha, beta):
            # alpha applied to the bias as well: alpha (x W^T + beta b).
            return alpha * (x @ w.T + beta * b)
''')

PLANTED = {
    "loss.cross_entropy/index_ignore": "ignored samples in the mean's denominator",
    "loss.cross_entropy/index_options": "weighted mean over the count",
    "loss.cross_entropy/probs_smoothing": "smoothing over C - 1 classes",
    "pool.l2/lp": "norm_type fixed at 2",
    "pool.avg/divisor": "divisor_override ignored",
    "pool.avg/same": "SAME's extra element first",
    "pool.avg/wide_padding": "padding clamped to kernel // 2",
    "pool.kmax": "largest=False ignored",
    "conv.conv2d/padding_mode": "reflect done as replicate",
    "nn.dense/gemm": "alpha applied to the bias",
}
OPS = ",".join(PLANTED)


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_options.py").write_text(ADAPTERS)
    return tmp_path


def test_every_planted_option_bug_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_options:PlantedOptions", "--ops", OPS,
                           "--dtype", "float64", "--seed", "1", "--examples", "20",
                           "--results", str(out), "-k", "test_forward", extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    recs = records(out)
    failed = {r["spec"]: r for r in recs if r["verdict"] == "fail"}
    assert set(failed) == set(PLANTED), {s: why for s, why in PLANTED.items()
                                         if s not in failed}
    for spec, fail in failed.items():
        assert f"{spec} forward on torch" in proc.stdout, spec
        # Another function, not rounding: the error is far outside the bound.
        # (A wrong output shape is caught before any ratio: the clamped padding.)
        assert fail["ratio"] is None or (fail["ratio"] > 1e3 and fail["max_abs_err"] > 1e-6), (
            spec, fail["ratio"])
        # A matching divergence (the CE log-sum-exp one) still fails: beyond its size.
        assert fail["divergence"] is None or "max_abs_eps" in fail["divergence"], spec


def test_the_stock_torch_adapter_passes_the_same_specs(tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "torch", "--ops", OPS, "--dtype", "float64",
                           "--seed", "1", "--examples", "20", "--results", str(out),
                           "-k", "test_forward")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = records(out)
    # --ops names catalog ids too: pool.kmax brings pool.kmax/ties along.
    assert set(PLANTED) <= {r["spec"] for r in recs}
    assert all(r["verdict"] in ("pass", "xfail") for r in recs)
