"""The aug family's statistical checks catch the plausible bugs their power is stated
against (conformance/specs/augmentation/power.py), planted one per check in a user adapter
that subclasses the torch adapter, run through the real suite in a subprocess; hand-written
correct samplers for the same checks pass."""

from __future__ import annotations

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")
pytest.importorskip("kornia")

SAMPLERS = textwrap.dedent('''
    import math

    import torch

    from adapters.base import implements
    from adapters.torch import TorchAdapter


    def flip(x, direction, flips):
        dims = [-1] if direction == "horizontal" else [-2]
        return torch.where(flips[:, None, None, None], torch.flip(x, dims=dims), x)


    def crop(x, h, w, last):
        """Uniform offsets 0..H-h (last=True) or 0..H-h-1 (the off-by-one, last=False)."""
        rows = []
        for img in x:
            t = int(torch.randint(0, x.shape[2] - h + int(last or x.shape[2] == h), ()))
            l = int(torch.randint(0, x.shape[3] - w + int(last or x.shape[3] == w), ()))
            rows.append(img[:, t:t + h, l:l + w])
        return torch.stack(rows)


    def torchvision_box(hh, ww, scale, ratio, side):
        """torchvision's RandomResizedCrop.get_params, with side() rounding the sides."""
        for _ in range(10):
            area = hh * ww * float(torch.empty(()).uniform_(*scale))
            r = math.exp(float(torch.empty(()).uniform_(math.log(ratio[0]),
                                                         math.log(ratio[1]))))
            w, h = side(math.sqrt(area * r)), side(math.sqrt(area / r))
            if 0 < w <= ww and 0 < h <= hh:
                return [int(torch.randint(0, hh - h + 1, ())),
                        int(torch.randint(0, ww - w + 1, ())), h, w]
        return [0, 0, hh, ww]


    def tf_box(hh, ww, scale, ratio, attempts, draw_ratio):
        """TF's GenerateRandomCrop with offsets uniform on 0..H-h (inclusive)."""
        lo_a, hi_a = scale[0] * hh * ww, scale[1] * hh * ww
        for _ in range(attempts):
            ar = draw_ratio(ratio)
            h, max_h = round(math.sqrt(lo_a / ar)), round(math.sqrt(hi_a / ar))
            if round(max_h * ar) > ww:
                max_h = int((ww + 0.5 - 1e-7) / ar)
                if round(max_h * ar) > ww:
                    max_h -= 1
            max_h = min(max_h, hh)
            h = min(h, max_h)
            h += int(torch.randint(0, max_h - h + 1, ()))
            w = round(h * ar)
            if w * h < lo_a:
                h += 1
                w = round(h * ar)
            if w * h > hi_a:
                h -= 1
                w = round(h * ar)
            if lo_a <= w * h <= hi_a and 0 < w <= ww and 0 < h <= hh:
                return [int(torch.randint(0, hh - h + 1, ())),
                        int(torch.randint(0, ww - w + 1, ())), h, w]
        return [0, 0, hh, ww]


    def uniform_ratio(r):
        return float(torch.empty(()).uniform_(*r))


    def log_uniform_ratio(r):
        return math.exp(float(torch.empty(()).uniform_(math.log(r[0]), math.log(r[1]))))


    class Correct(TorchAdapter):
        """Hand-written samplers of every checked law: the checks must pass them."""

        @implements("aug.flip/random")
        def my_flip(self, x, *, direction, p):
            return flip(x, direction, torch.rand(x.shape[0]) < p)

        @implements("aug.crop/random")
        def my_crop(self, x, *, height, width):
            return crop(x, height, width, last=True)

        @implements("aug.crop/random_resized")
        def my_boxes(self, x, *, height, width, scale, ratio, attempts):
            return torch.tensor([torchvision_box(height, width, scale, ratio, round)
                                 for _ in range(x.shape[0])])

        @implements("aug.crop/distorted_box")
        def my_tf_boxes(self, x, *, height, width, scale, ratio, attempts):
            return torch.tensor([tf_box(height, width, scale, ratio, attempts, uniform_ratio)
                                 for _ in range(x.shape[0])])

        @implements("aug.color_jitter/random")
        def my_jitter(self, x, *, which, lower, upper):
            f = lower + (upper - lower) * torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype)
            return x + f if which == "brightness" else self._saturate(x, f, which)

        def _saturate(self, x, f, which):
            if which == "contrast":
                return x * f
            v, m = x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True)
            return v - (v - x) * f  # S' = f S with hue and value kept

        @implements("aug.gaussian_noise/random")
        def my_noise(self, x, *, sigma):
            return x + sigma * torch.randn_like(x)


    class FlipPoint4(TorchAdapter):
        @implements("aug.flip/random")
        def my_flip(self, x, *, direction, p):
            return flip(x, direction, torch.rand(x.shape[0]) < p - 0.1)


    class CropOffByOne(TorchAdapter):
        @implements("aug.crop/random")
        def my_crop(self, x, *, height, width):
            return crop(x, height, width, last=False)


    class TruncatedSides(TorchAdapter):
        @implements("aug.crop/random_resized")
        def my_boxes(self, x, *, height, width, scale, ratio, attempts):
            return torch.tensor([torchvision_box(height, width, scale, ratio, int)
                                 for _ in range(x.shape[0])])


    class LogUniformTfRatio(TorchAdapter):
        @implements("aug.crop/distorted_box")
        def my_tf_boxes(self, x, *, height, width, scale, ratio, attempts):
            return torch.tensor([tf_box(height, width, scale, ratio, attempts,
                                        log_uniform_ratio) for _ in range(x.shape[0])])


    class NarrowJitter(TorchAdapter):
        @implements("aug.color_jitter/random")
        def my_jitter(self, x, *, which, lower, upper):
            pad = 0.05 * (upper - lower)
            return Correct.my_jitter(self, x, which=which, lower=lower + pad, upper=upper - pad)

        _saturate = Correct._saturate


    class SigmaSquared(TorchAdapter):
        @implements("aug.gaussian_noise/random")
        def my_noise(self, x, *, sigma):
            return x + sigma**2 * torch.randn_like(x)
''')


@pytest.fixture(scope="module")
def user_pkg(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted_aug")
    (root / "planted_aug.py").write_text(SAMPLERS)
    return root


def _run(user_pkg, tmp_path, adapter: str, ops: str, *extra: str):
    out = tmp_path / "run"
    proc = run_conformance("--backend", f"planted_aug:{adapter}", "--ops", ops, "--dtype",
                           "float32", "--seed", "1", "--examples", "2", "--results", str(out),
                           "-k", "test_stat", *extra, extra_path=user_pkg)
    return proc, records(out)


@pytest.mark.parametrize("adapter,op,test_name", [
    ("FlipPoint4", "aug.flip/random", "flip fraction (binomial test)"),
    ("CropOffByOne", "aug.crop/random", "offsets (chi-square, uniform)"),
    ("TruncatedSides", "aug.crop/random_resized", "box sizes (chi-square)"),
    ("LogUniformTfRatio", "aug.crop/distorted_box", "box sizes (chi-square)"),
    ("NarrowJitter", "aug.color_jitter/random", "factors (KS test, uniform)"),
    ("SigmaSquared", "aug.gaussian_noise/random", "noise (KS and variance, Bonferroni)"),
])
def test_planted_bug_is_caught_by_its_test(user_pkg, tmp_path, adapter, op, test_name):
    proc, recs = _run(user_pkg, tmp_path, adapter, op)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{op} stat on torch" in proc.stdout
    (fail,) = [r for r in recs if r["verdict"] == "fail"]
    assert f"output '{test_name}'" in fail["message"], fail["message"]


def test_hand_written_samplers_pass(user_pkg, tmp_path):
    ops = ("aug.flip/random,aug.crop/random,aug.crop/random_resized,aug.crop/distorted_box,"
           "aug.color_jitter/random,aug.gaussian_noise/random")
    proc, recs = _run(user_pkg, tmp_path, "Correct", ops)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    passed = {r["spec"] for r in recs if r["verdict"] == "pass"}
    assert passed == set(ops.split(","))


def test_stated_powers_are_computed_and_at_least_99_percent():
    from conformance.specs.augmentation import power

    computed = power.powers()
    assert set(computed) == set(power.CLAIMS)
    for spec_id, (_, claimed) in power.CLAIMS.items():
        assert computed[spec_id] >= 0.99, spec_id
        assert abs(computed[spec_id] - claimed) < 1e-4, (spec_id, computed[spec_id], claimed)
    assert power.offsets_power() >= 0.99
