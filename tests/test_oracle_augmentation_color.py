"""The aug oracle's colour and lighting ops against independent evidence: Python's colorsys
for the HSV conversions, TF's documented adjust_contrast example, hand values, a
hand-built eigen decomposition for PCA lighting, and the mpmath transcriptions (whose HSV
saturation uses the closed form V - (V - x) S'/S, not the hexcone round trip)."""

from __future__ import annotations

import colorsys
import math

import mpmath
import numpy as np
import pytest

from oracle import augmentation as A
from oracle.precise import augmentation as P

RNG = np.random.default_rng(1515)


def _pixels(n: int) -> np.ndarray:
    """(n, 3, 1, 1) RGB pixels in [0.05, 0.95] with distinct channels."""
    return RNG.uniform(0.05, 0.95, (n, 3))[:, :, None, None]


def test_hsv_round_trip_against_colorsys():
    x = _pixels(200)
    h, s, v = A.rgb_to_hsv(x)
    want = np.array([colorsys.rgb_to_hsv(*px[:, 0, 0]) for px in x])
    np.testing.assert_allclose(np.stack([h, s, v], axis=1)[:, :, 0, 0], want, atol=1e-15)
    back = A.hsv_to_rgb(h, s, v)
    np.testing.assert_allclose(back, x, atol=2e-15)


def test_hsv_saturation_against_colorsys():
    x = _pixels(100)
    for f in (0.0, 0.5, 1.75, 9.0):
        want = []
        for px in x[:, :, 0, 0]:
            h, s, v = colorsys.rgb_to_hsv(*px)
            want.append(colorsys.hsv_to_rgb(h, min(s * f, 1.0), v))
        got = A.adjust_saturation(x, factor=f, mode="hsv")[:, :, 0, 0]
        np.testing.assert_allclose(got, np.array(want), atol=2e-15)


def test_grey_pixels_and_black_keep_their_value():
    x = np.array([[0.25, 0.25, 0.25], [0.0, 0.0, 0.0]])[:, :, None, None]
    np.testing.assert_array_equal(A.adjust_saturation(x, factor=3.0, mode="hsv"), x)


def test_grey_blend_saturation_by_hand():
    x = np.array([[0.2, 0.4, 0.8]])[:, :, None, None]
    grey = 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.8
    np.testing.assert_allclose(A.adjust_saturation(x, factor=0.0, mode="grey")[0, :, 0, 0],
                               [grey] * 3, rtol=1e-15)
    np.testing.assert_allclose(A.adjust_saturation(x, factor=1.5, mode="grey")[0, :, 0, 0],
                               [1.5 * c - 0.5 * grey for c in (0.2, 0.4, 0.8)], rtol=1e-15)
    clipped = A.adjust_saturation(x, factor=3.0, mode="grey", clip=True)[0, :, 0, 0]
    assert clipped[2] == 1.0 and clipped[0] == 0.0


def test_brightness_by_hand():
    x = np.array([[[[0.25, 0.75]]]])
    assert A.adjust_brightness(x, factor=0.5).tolist() == [[[[0.75, 1.25]]]]
    assert A.adjust_brightness(x, factor=0.5, clip=True).tolist() == [[[[0.75, 1.0]]]]
    assert A.adjust_brightness(x, factor=1.5, mode="multiplicative").tolist() == [[[[0.375,
                                                                                     1.125]]]]


def test_channel_contrast_matches_tfs_documented_example():
    """tf.image.adjust_contrast's docstring (image_ops_impl.py): the 2x2x3 image 1..12 with
    factor 2 gives [[[-3.5, -2.5, -1.5], [2.5, 3.5, 4.5]], [[8.5, 9.5, 10.5], [14.5, 15.5,
    16.5]]] (HWC)."""
    hwc = np.arange(1.0, 13.0).reshape(2, 2, 3)
    got = A.adjust_contrast(hwc.transpose(2, 0, 1)[None], factor=2.0, mean="channel")
    want = [[[-3.5, -2.5, -1.5], [2.5, 3.5, 4.5]], [[8.5, 9.5, 10.5], [14.5, 15.5, 16.5]]]
    np.testing.assert_allclose(got[0].transpose(1, 2, 0), want, rtol=1e-15)


def test_grey_contrast_by_hand():
    x = RNG.uniform(0.2, 0.8, (2, 3, 2, 3))
    m = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).mean(axis=(1, 2))
    got = A.adjust_contrast(x, factor=0.5, mean="grey")
    np.testing.assert_allclose(got, 0.5 * x + 0.5 * m[:, None, None, None], rtol=1e-15)


@pytest.mark.parametrize("kw", [
    dict(brightness=1.25, contrast=0.75, saturation=1.5),
    dict(brightness=0.125, contrast=1.5, saturation=0.5, order=("saturation", "brightness",
                                                                "contrast"),
         brightness_mode="additive", contrast_mean="channel", saturation_mode="hsv",
         clip=False),
    dict(brightness=-0.125, contrast=1.25, saturation=2.0, brightness_mode="additive",
         saturation_mode="hsv"),
])
def test_color_jitter_against_mpmath(kw):
    x = RNG.uniform(0.05, 0.95, (2, 3, 2, 2))
    with mpmath.workdps(50):
        exact = np.array(P.color_jitter(x, **kw).tolist(), dtype=float)
    np.testing.assert_allclose(A.color_jitter(x, **kw), exact, rtol=0, atol=4e-15)


def test_color_jitter_is_its_steps_in_order():
    x = RNG.uniform(0.05, 0.95, (1, 3, 2, 2))
    y = A.color_jitter(x, brightness=1.25, contrast=0.5, saturation=2.0,
                       order=("contrast", "saturation", "brightness"))
    step = A.adjust_contrast(x, factor=0.5, mean="grey", clip=True)
    step = A.adjust_saturation(step, factor=2.0, mode="grey", clip=True)
    step = A.adjust_brightness(step, factor=1.25, mode="multiplicative", clip=True)
    np.testing.assert_array_equal(y, step)


# --- PCA lighting -------------------------------------------------------------------------

Q = np.stack([np.array([1.0, 1.0, 1.0]) / math.sqrt(3), np.array([1.0, -1.0, 0.0]) / math.sqrt(2),
              np.array([1.0, 1.0, -2.0]) / math.sqrt(6)], axis=1)


def _designed_data(a: tuple[float, float, float]) -> np.ndarray:
    """Six pixels mean + (+-a_k q_k): sample covariance (ddof 1) = sum 2 a_k^2 / 5 q_k q_k^T,
    so the eigenpairs are (2 a_k^2 / 5, q_k), known by construction."""
    mean = np.array([0.4, 0.5, 0.6])
    pts = [mean + sgn * ak * Q[:, k] for k, ak in enumerate(a) for sgn in (1, -1)]
    return np.array(pts).T.reshape(1, 3, 2, 3)


def test_eigenpairs_of_a_hand_built_covariance():
    vals, vecs = A.rgb_eigenpairs(_designed_data((0.5, 0.25, 0.125)))
    np.testing.assert_allclose(vals, [2 * 0.25 / 5, 2 * 0.0625 / 5, 2 * 0.015625 / 5],
                               rtol=1e-13)
    # Sign convention: the largest-magnitude entry positive (q2's 1/sqrt 2; q3's -2/sqrt 6).
    want = Q * np.array([1.0, 1.0, -1.0])
    np.testing.assert_allclose(vecs, want, atol=1e-13)


def test_pca_lighting_by_hand():
    """Offset = sum_i alpha_i lambda_i p_i, written out: alphas (0.1, -0.2, 0.05),
    lambdas (0.2, 0.05, 0.01), p = the columns of Q."""
    x = np.zeros((1, 3, 2, 2))
    lam = np.array([0.2, 0.05, 0.01])
    alpha = np.array([[0.1, -0.2, 0.05]])
    r = 0.02 / math.sqrt(3) - 0.01 / math.sqrt(2) + 0.0005 / math.sqrt(6)
    g = 0.02 / math.sqrt(3) + 0.01 / math.sqrt(2) + 0.0005 / math.sqrt(6)
    b = 0.02 / math.sqrt(3) - 0.0010 / math.sqrt(6)
    y = A.pca_lighting(x, alpha, lam, Q)
    np.testing.assert_allclose(y[0, :, 0, 0], [r, g, b], rtol=1e-14)
    np.testing.assert_array_equal(y[0, :, 0, 0], y[0, :, 1, 1])


def test_pca_lighting_against_mpmath():
    x, alpha = RNG.standard_normal((2, 3, 2, 2)), 0.1 * RNG.standard_normal((2, 3))
    lam, vecs = np.array([0.3, 0.02, 0.004]), np.linalg.qr(RNG.standard_normal((3, 3)))[0]
    with mpmath.workdps(50):
        exact = np.array(P.pca_lighting(x, alpha, lam, vecs).tolist(), dtype=float)
    np.testing.assert_allclose(A.pca_lighting(x, alpha, lam, vecs), exact, atol=4e-16)


def test_covariance_is_two_pass_at_a_large_offset():
    """Pixels 1e8 + small deviations: E[x^2] - E[x]^2 would lose everything in float64."""
    dev = _designed_data((0.5, 0.25, 0.125)) - np.array([0.4, 0.5, 0.6])[None, :, None, None]
    cov = A.rgb_covariance(dev + 1e8)
    np.testing.assert_allclose(cov, A.rgb_covariance(dev), rtol=1e-7)
