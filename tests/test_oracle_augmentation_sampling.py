"""The random-crop box laws against hand values and against seeded simulations of the two
samplers, written here from their sources (torchvision's RandomResizedCrop.get_params and
TF's GenerateRandomCrop), compared by a chi-square test at a fixed seed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from oracle.augmentation import offset_pmf, resized_crop_law


def test_offset_pmfs_by_hand():
    np.testing.assert_allclose(offset_pmf(7, 3), [0.2] * 5)
    np.testing.assert_allclose(offset_pmf(7, 3, offsets="exclusive"), [0.25] * 4 + [0.0])
    np.testing.assert_allclose(offset_pmf(4, 4, offsets="exclusive"), [1.0])


@pytest.mark.parametrize("sampler", ["torchvision", "tf"])
@pytest.mark.parametrize("hw,scale,ratio", [((6, 5), (0.25, 1.0), (0.75, 4 / 3)),
                                            ((8, 8), (0.08, 1.0), (0.5, 2.0)),
                                            ((4, 7), (0.5, 0.9), (1.0, 3.0))])
def test_laws_are_distributions(sampler, hw, scale, ratio):
    law = resized_crop_law(*hw, scale=scale, ratio=ratio, sampler=sampler)
    assert law.min() >= 0 and abs(law.sum() - 1) < 1e-12


def test_narrow_ranges_torchvision():
    """scale [0.12, 0.16], ratio [0.95, 1.05] on 8x8: sqrt(64 s r) and sqrt(64 s / r) lie in
    [2.70, 3.28], so every attempt draws 3x3, at a uniform offset (6 x 6 positions)."""
    law = resized_crop_law(8, 8, scale=(0.12, 0.16), ratio=(0.95, 1.05))
    np.testing.assert_allclose(law[3, 3], np.pad(np.full((6, 6), 1 / 36), ((0, 2), (0, 2))),
                               atol=1e-13)
    with pytest.raises(ValueError):
        resized_crop_law(8, 8, scale=(0.5, 0.5), ratio=(0.75, 1.25))


def test_square_ratio_tf_height_is_uniform_between_the_area_bounds():
    """TF, ratio (1, 1) on 6x6, area fraction [1/4, 1]: min/max area 9 and 36, heights
    lrint(3) .. lrint(6) equally likely, w = h; offsets as drawn (exclusive: 0..5-h)."""
    law = resized_crop_law(6, 6, scale=(0.25, 1.0), ratio=(1.0, 1.0 + 1e-9), sampler="tf",
                           offsets="exclusive")
    sizes = law.sum(axis=(2, 3))
    for h in range(3, 7):
        assert sizes[h, h] == pytest.approx(0.25, abs=1e-6)
    assert law[3, 3, 2, 2] == pytest.approx(0.25 / 9, abs=1e-6)  # offsets 0..2 per axis
    assert law[3, 3, 3, :].sum() == 0.0  # the last offset never occurs (exclusive)


def test_torchvision_fallback_at_the_centre():
    """scale [0.9, 1] and ratio [4, 5] on 4x4: w = round(sqrt(16 s r)) >= 8 > 4, so every
    attempt fails -> fallback: in_ratio 1 < 4, w = 4, h = round(4 / 4) = 1, at row
    (4 - 1) // 2 = 1 (torchvision) or any row (kornia)."""
    law = resized_crop_law(4, 4, scale=(0.9, 1.0), ratio=(4.0, 5.0))
    assert law[1, 4, 1, 0] == pytest.approx(1.0)
    uniform = resized_crop_law(4, 4, scale=(0.9, 1.0), ratio=(4.0, 5.0),
                               fallback_offset="uniform")
    np.testing.assert_allclose(uniform[1, 4, :, 0], [0.25] * 4)


def _simulate_torchvision(rng, n, h_img, w_img, scale, ratio, attempts=10):
    boxes = []
    for _ in range(n):
        for _ in range(attempts):
            area = h_img * w_img * rng.uniform(*scale)
            r = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
            w, h = round(math.sqrt(area * r)), round(math.sqrt(area / r))
            if 0 < w <= w_img and 0 < h <= h_img:
                boxes.append((h, w, rng.integers(0, h_img - h + 1), rng.integers(0, w_img - w + 1)))
                break
        else:
            in_ratio = w_img / h_img
            w, h = w_img, h_img
            if in_ratio < min(ratio):
                h = round(w / min(ratio))
            elif in_ratio > max(ratio):
                w = round(h * max(ratio))
            boxes.append((h, w, (h_img - h) // 2, (w_img - w) // 2))
    return boxes


def _simulate_tf(rng, n, h_img, w_img, scale, ratio, attempts=100):
    """GenerateRandomCrop as its source reads (in float64: the float32 roundings there move
    only measure-zero boundaries), drawing the offset from the stated uniform 0..H-h."""
    boxes = []
    for _ in range(n):
        for _ in range(attempts):
            ar = rng.uniform(*ratio)
            min_a, max_a = scale[0] * h_img * w_img, scale[1] * h_img * w_img
            h, max_h = round(math.sqrt(min_a / ar)), round(math.sqrt(max_a / ar))
            if round(max_h * ar) > w_img:
                max_h = int((w_img + 0.5 - 1e-7) / ar)
                if round(max_h * ar) > w_img:
                    max_h -= 1
            max_h = min(max_h, h_img)
            h = min(h, max_h)
            h = h + rng.integers(0, max_h - h + 1)
            w = round(h * ar)
            if w * h < min_a:
                h += 1
                w = round(h * ar)
            if w * h > max_a:
                h -= 1
                w = round(h * ar)
            if min_a <= w * h <= max_a and 0 < w <= w_img and 0 < h <= h_img:
                boxes.append((h, w, rng.integers(0, h_img - h + 1), rng.integers(0, w_img - w + 1)))
                break
        else:
            boxes.append((h_img, w_img, 0, 0))
    return boxes


@pytest.mark.parametrize("sampler,simulate", [("torchvision", _simulate_torchvision),
                                              ("tf", _simulate_tf)])
@pytest.mark.parametrize("hw,scale,ratio", [((6, 5), (0.25, 1.0), (0.75, 4 / 3)),
                                            ((5, 7), (0.1, 0.8), (0.5, 2.0))])
def test_law_matches_a_simulation(sampler, simulate, hw, scale, ratio):
    rng = np.random.default_rng([15, *hw])
    boxes = simulate(rng, 20000, *hw, scale, ratio)
    law = resized_crop_law(*hw, scale=scale, ratio=ratio, sampler=sampler,
                           attempts=10 if sampler == "torchvision" else 100)
    counts = np.zeros(law.shape)
    for b in boxes:
        counts[b] += 1
    expected = law.ravel() * len(boxes)
    big = expected >= 5
    obs = np.append(counts.ravel()[big], counts.ravel()[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    p = stats.chisquare(obs[keep], exp[keep]).pvalue
    assert p > 1e-6, p
