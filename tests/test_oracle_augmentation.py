"""The aug oracle's geometry, blur and noise against independent evidence: hand values,
closed forms (a linear ramp is reproduced exactly by linear interpolation), scipy.ndimage
as a second implementation of padded correlation, and the mpmath transcriptions."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import ndimage

from oracle import augmentation as A
from oracle.precise import augmentation as P

RNG = np.random.default_rng(15)


def _mp_close(got: np.ndarray, precise: np.ndarray, tol: float = 4e-15) -> None:
    exact = np.array(precise.tolist(), dtype=float).reshape(precise.shape)
    assert got.shape == exact.shape
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)


# --- flips and crops -----------------------------------------------------------------------

def test_flips_by_hand():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    assert A.flip(x, direction="horizontal").tolist() == [[[[2, 1, 0], [5, 4, 3]]]]
    assert A.flip(x, direction="vertical").tolist() == [[[[3, 4, 5], [0, 1, 2]]]]


def test_random_flip_follows_its_decisions():
    x = RNG.standard_normal((3, 2, 2, 4))
    y = A.random_flip(x, np.array([True, False, True]), direction="horizontal")
    np.testing.assert_array_equal(y[1], x[1])
    np.testing.assert_array_equal(y[[0, 2]], x[[0, 2], :, :, ::-1])


def test_crop_by_hand_and_bounds():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    assert A.crop(x, top=1, left=2, height=2, width=3).tolist() == [[[[7, 8, 9], [12, 13, 14]]]]
    with pytest.raises(ValueError):
        A.crop(x, top=3, left=0, height=2, width=1)


# --- resize --------------------------------------------------------------------------------

@pytest.mark.parametrize("n_in,n_out,grid,expected", [
    (8, 3, "half_pixel", [1, 4, 6]),   # torch nearest-exact, TF2, JAX (measured, dependencies.md)
    (8, 3, "asymmetric", [0, 2, 5]),   # torch "nearest"
    (4, 8, "half_pixel", [0, 0, 1, 1, 2, 2, 3, 3]),
    (3, 5, "align_corners", [0, 1, 1, 2, 2]),  # i * 2/4 = 0, .5, 1, 1.5, 2: halves round up
    (5, 1, "align_corners", [0]),
])
def test_nearest_indices_by_hand(n_in, n_out, grid, expected):
    assert A.nearest_indices(n_in, n_out, grid).tolist() == expected


@pytest.mark.parametrize("method,grid", [("nearest", g) for g in A.geometry.GRIDS]
                         + [("bilinear", g) for g in A.geometry.GRIDS])
def test_identity_resize(method, grid):
    x = RNG.standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(A.resize(x, size=(4, 5), method=method, grid=grid), x)


def _ramp(h: int, w: int, a: float = 0.75, b: float = -1.25, c: float = 0.5) -> np.ndarray:
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return (a * i + b * j + c)[None, None]


@pytest.mark.parametrize("grid", A.geometry.GRIDS)
@pytest.mark.parametrize("size", [(3, 7), (7, 3), (9, 11), (2, 2)])
def test_bilinear_reproduces_a_linear_ramp(grid, size):
    """Linear interpolation of a ramp is the ramp at the (clamped) source position:
    a s_i + b t_j + c, s_i from the grid's definition."""
    h_in, w_in = 5, 6
    y = A.resize(_ramp(h_in, w_in), size=size, method="bilinear", grid=grid)

    def pos(n_in, n_out):
        i = np.arange(n_out, dtype=float)
        if grid == "half_pixel":
            s = (i + 0.5) * n_in / n_out - 0.5
        elif grid == "asymmetric":
            s = i * n_in / n_out
        else:
            s = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0 * i
        return np.clip(s, 0, n_in - 1)

    s, t = np.meshgrid(pos(h_in, size[0]), pos(w_in, size[1]), indexing="ij")
    np.testing.assert_allclose(y[0, 0], 0.75 * s - 1.25 * t + 0.5, rtol=0, atol=1e-14)


def test_align_corners_keeps_the_corners():
    x = RNG.standard_normal((1, 2, 4, 6))
    y = A.resize(x, size=(7, 3), grid="align_corners")
    for a, b in [(0, 0), (0, -1), (-1, 0), (-1, -1)]:
        np.testing.assert_allclose(y[..., a, b], x[..., a, b], rtol=0, atol=1e-15)


def test_antialias_halving_is_pils_1331_kernel():
    """Downsampling by 2 with the widened triangle: interior taps (1, 3, 3, 1) / 8, at the
    first sample the taps inside the image renormalised, (3, 3, 1) / 7."""
    w = A.linear_weights(8, 4, antialias=True)
    np.testing.assert_allclose(w[1, 1:5], [1 / 8, 3 / 8, 3 / 8, 1 / 8], atol=1e-15)
    np.testing.assert_allclose(w[0, :3], [3 / 7, 3 / 7, 1 / 7], atol=1e-15)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-15)


def test_antialias_changes_nothing_when_upsampling():
    x = RNG.standard_normal((1, 1, 3, 4))
    np.testing.assert_allclose(A.resize(x, size=(7, 9), antialias=True),
                               A.resize(x, size=(7, 9)), atol=1e-15)


def test_bilinear_upsampling_by_two_by_hand():
    """half-pixel, 2 -> 4: samples at -1/4, 1/4, 3/4, 5/4: x0, (3 x0 + x1)/4, (x0 + 3 x1)/4, x1."""
    x = np.array([[[[1.0, 5.0]]]])
    assert A.resize(x, size=(1, 4))[0, 0, 0].tolist() == [1.0, 2.0, 4.0, 5.0]


@pytest.mark.parametrize("kw", [
    dict(method="bilinear", grid="half_pixel"), dict(method="bilinear", grid="align_corners"),
    dict(method="bilinear", grid="asymmetric"), dict(method="bilinear", antialias=True),
    dict(method="nearest", grid="half_pixel"), dict(method="nearest", grid="asymmetric"),
    dict(method="nearest", grid="align_corners"),
])
@pytest.mark.parametrize("size", [(2, 3), (6, 5)])
def test_resize_against_mpmath(kw, size):
    x = RNG.standard_normal((1, 2, 4, 3))
    with mpmath.workdps(50):
        _mp_close(A.resize(x, size=size, **kw), P.resize(x, size=size, **kw))


# --- blur ----------------------------------------------------------------------------------

def test_kernel_by_hand_and_published():
    e = math.exp(-0.5)
    np.testing.assert_allclose(A.gaussian_kernel1d(3, 1.0), [e / (1 + 2 * e), 1 / (1 + 2 * e),
                                                             e / (1 + 2 * e)], rtol=1e-15)
    # kornia's docstring: get_gaussian_kernel1d(5, 1.5) -> [0.1201, 0.2339, 0.2921, ...]
    np.testing.assert_allclose(A.gaussian_kernel1d(5, 1.5),
                               [0.1201, 0.2339, 0.2921, 0.2339, 0.1201], atol=5e-5)
    with pytest.raises(ValueError):
        A.gaussian_kernel1d(4, 1.0)


@pytest.mark.parametrize("padding", ["reflect", "replicate", "circular"])
def test_blur_of_a_constant_is_the_constant(padding):
    x = np.full((1, 2, 5, 6), 0.375)
    y = A.gaussian_blur(x, kernel_size=(5, 3), sigma=(1.5, 0.75), padding=padding)
    np.testing.assert_allclose(y, 0.375, rtol=4e-16)


def test_zero_padded_blur_of_a_constant_away_from_the_border():
    """Inside (radius away from every edge) the constant survives; at a corner it is the
    constant times the kernel mass that falls inside the image."""
    x = np.full((1, 1, 9, 8), 2.0)
    y = A.gaussian_blur(x, kernel_size=(5, 3), sigma=(1.0, 2.0), padding="zeros")
    np.testing.assert_allclose(y[0, 0, 2:-2, 1:-1], 2.0, rtol=4e-16)
    ky, kx = A.gaussian_kernel1d(5, 1.0), A.gaussian_kernel1d(3, 2.0)
    np.testing.assert_allclose(y[0, 0, 0, 0], 2.0 * ky[2:].sum() * kx[1:].sum(), rtol=1e-15)


def test_impulse_response_is_the_outer_kernel():
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 4, 4] = 1.0
    y = A.gaussian_blur(x, kernel_size=(5, 3), sigma=(1.25, 0.5), padding="zeros")
    expected = np.zeros((9, 9))
    expected[2:7, 3:6] = np.outer(A.gaussian_kernel1d(5, 1.25), A.gaussian_kernel1d(3, 0.5))
    np.testing.assert_allclose(y[0, 0], expected, atol=1e-17)


@pytest.mark.parametrize("padding,mode", [("reflect", "mirror"), ("zeros", "constant"),
                                          ("replicate", "nearest"), ("circular", "wrap")])
def test_blur_against_scipy_ndimage(padding, mode):
    """scipy.ndimage.correlate1d is a separate implementation of the padded correlation
    (its 'mirror' is reflection without repeating the edge)."""
    x = RNG.standard_normal((2, 2, 5, 6))
    ky, kx = A.gaussian_kernel1d(5, 1.1), A.gaussian_kernel1d(3, 0.8)
    want = ndimage.correlate1d(ndimage.correlate1d(x, ky, axis=2, mode=mode), kx, axis=3,
                               mode=mode)
    got = A.gaussian_blur(x, kernel_size=(5, 3), sigma=(1.1, 0.8), padding=padding)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("padding", ["reflect", "zeros", "replicate", "circular"])
def test_blur_against_mpmath(padding):
    x = RNG.standard_normal((1, 2, 4, 5))
    kw = dict(kernel_size=(3, 5), sigma=(0.7, 1.3), padding=padding)
    with mpmath.workdps(50):
        _mp_close(A.gaussian_blur(x, **kw), P.gaussian_blur(x, **kw))


# --- noise, flips and crops against mpmath ----------------------------------------------------

def test_gaussian_noise_by_hand_and_mpmath():
    x, z = np.array([[[[0.5, -1.0]]]]), np.array([[[[2.0, -0.5]]]])
    assert A.gaussian_noise(x, z, sigma=0.25, mean=1.0).tolist() == [[[[2.0, -0.125]]]]
    x, z = RNG.standard_normal((2, 3, 2, 2)), RNG.standard_normal((2, 3, 2, 2))
    with mpmath.workdps(50):
        _mp_close(A.gaussian_noise(x, z, sigma=0.3), P.gaussian_noise(x, z, sigma=0.3))


def test_flip_and_crop_against_mpmath():
    x = RNG.standard_normal((2, 3, 4, 5))
    with mpmath.workdps(50):
        for d in A.geometry.DIRECTIONS:
            _mp_close(A.flip(x, direction=d), P.flip(x, direction=d), tol=0)
        box = dict(top=1, left=0, height=3, width=4)
        _mp_close(A.crop(x, **box), P.crop(x, **box), tol=0)
