"""The power of each aug statistical check against a stated plausible bug, computed.

``powers()`` gives, per statistical spec, the bug and the probability that one check (one
drawn example) rejects it at ALPHA, minimised over the spec's draws (the worst case).
``CLAIMS`` holds the numbers the spec docstrings quote; tests/test_planted_augmentation.py
recomputes them, checks each is at least 0.99 and plants each bug in a user adapter.
"""

from __future__ import annotations

import itertools

import numpy as np

from conformance.specs.augmentation import _stats as T
from conformance.specs.augmentation import draws as D
from conformance.statistics import ALPHA
from oracle import augmentation as A

# Quoted in the docstrings of conformance/specs/augmentation/draws.py (floored to 4 places).
CLAIMS = {
    "aug.flip/random": ("flip probability 0.4 for 0.5", 0.9999),
    "aug.flip/random_p": ("flip probability p - 0.1 for p", 0.9999),
    "aug.crop/random": ("offsets 0..H-h-1 (the last never drawn)", 1.0),
    "aug.crop/random_resized": ("sides truncated (int()) instead of rounded", 1.0),
    "aug.crop/distorted_box": ("aspect ratio drawn log-uniformly instead of uniformly", 0.9953),
    "aug.color_jitter/random": ("factor range 10% narrower", 1.0),
    "aug.gaussian_noise/random": ("standard deviation sigma^2 for sigma", 1.0),
}


def _joint_uniform(h_img: int, w_img: int, h: int, w: int, offsets: str) -> np.ndarray:
    return np.outer(A.offset_pmf(h_img, h, offsets=offsets),
                    A.offset_pmf(w_img, w, offsets=offsets))


def _offsets_given_size(law: np.ndarray, bad: np.ndarray, n: int) -> float:
    """Power of the summed per-size Pearson tests of the offsets (noncentral chi-square)."""
    from scipy import stats

    sizes = law.sum(axis=(2, 3))
    lam, df = 0.0, 0
    for h, w in zip(*np.nonzero(sizes)):
        p0 = law[h, w] / sizes[h, w]
        p1 = bad[h, w] / max(bad[h, w].sum(), 1e-300)
        cells = p0 > 0
        lam += n * sizes[h, w] * float(np.sum((p1[cells] - p0[cells]) ** 2 / p0[cells]))
        df += int(cells.sum()) - 1
    return float(stats.ncx2.sf(stats.chi2.isf(ALPHA, df), df, lam))


def _box_draws(sampler: str, attempts: tuple[int, ...]) -> list[dict]:
    draws = []
    for (h, w), scale, ratio, att in itertools.product(D.BOX_IMAGES, D.BOX_SCALES, D.BOX_RATIOS,
                                                        attempts):
        kw = {"height": h, "width": w, "scale": scale, "ratio": ratio, "attempts": att}
        if sampler == "tf" or D._fallback_probability(kw, sampler) < D.MAX_FALLBACK:
            draws.append(kw)
    return draws


def powers() -> dict[str, float]:
    out = {
        "aug.flip/random": T.binomial_power(D.FLIPS, 0.5, 0.4),
        "aug.flip/random_p": min(T.binomial_power(D.FLIPS, p, p - 0.1) for p in D.FLIP_PS),
        "aug.crop/random": min(
            T.chisquare_power(D.CROPS, _joint_uniform(*s[2:], *c, "inclusive"),
                              _joint_uniform(*s[2:], *c, "exclusive"))
            for s, c in D.CROP_MENU),
        "aug.color_jitter/random": T.ks_power_lower_bound(D.FACTORS, 0.05, 0.0),
        "aug.gaussian_noise/random": min(T.variance_power(D.NOISE // 12 * 12, s, ALPHA / 2)
                                         for s in D.NOISE_SIGMAS),
    }
    resized = []
    for kw in _box_draws("torchvision", (10,)):
        args = dict(scale=kw["scale"], ratio=kw["ratio"], attempts=10,
                    fallback_offset="uniform")
        good = A.resized_crop_law(kw["height"], kw["width"], **args)
        bad = A.resized_crop_law(kw["height"], kw["width"], rounding="floor", **args)
        resized.append(T.chisquare_power(D.BOXES, good.sum(axis=(2, 3)), bad.sum(axis=(2, 3))))
    out["aug.crop/random_resized"] = min(resized)
    distorted = []
    for kw in _box_draws("tf", (10, 100)):
        args = dict(scale=kw["scale"], ratio=kw["ratio"], attempts=kw["attempts"], sampler="tf")
        good = A.resized_crop_law(kw["height"], kw["width"], **args)
        bad = A.resized_crop_law(kw["height"], kw["width"], ratio_law="log_uniform", **args)
        distorted.append(T.chisquare_power(D.BOXES, good.sum(axis=(2, 3)),
                                           bad.sum(axis=(2, 3))))
    out["aug.crop/distorted_box"] = min(distorted)
    return out


def offsets_power() -> float:
    """The box samplers' offsets test against the off-by-one offsets (0..H-h-1), worst case
    over the torchvision-law draws."""
    worst = 1.0
    for kw in _box_draws("torchvision", (10,)):
        args = dict(scale=kw["scale"], ratio=kw["ratio"], attempts=10,
                    fallback_offset="uniform")
        good = A.resized_crop_law(kw["height"], kw["width"], **args)
        bad = A.resized_crop_law(kw["height"], kw["width"], offsets="exclusive", **args)
        worst = min(worst, _offsets_given_size(good, bad, D.BOXES))
    return worst
