"""Specs of the aug family's colour, lighting, noise and blur ops given their parameters.

One variant per framework formula (oracle/augmentation/color.py): the formula is fixed per
variant, the factor drawn across its usual range as a dyadic rational (exact in every dtype).
Images are RGB on a 1/256 grid with distinct channels at every pixel (no ties in the HSV
max and min); variants that clip keep every output at least CLIP_GAP from 0 and 1, and the
HSV variant keeps S * factor at least SAT_GAP from 1, so no check sits on a kink.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs.augmentation._common import (
    RGB,
    bench_images,
    bench_unit,
    images,
    rgb_pixels,
)
from conformance.textbook import augmentation as TB
from oracle import augmentation as A

CLIP_GAP = 2.0**-6
SAT_GAP = 2.0**-5
FACTOR = S.dyadic(0.0, 2.0, bits=5)
# Blur sigmas: a menu across the usual range, none at 1 (where sigma and sigma^2 agree). JAX
# compiles a blur per (kernel size, sigma): sigma is a tuple keyword, part of the compile.
SIGMAS = (0.375, 0.75, 1.625)


def _clear_of_clip(y: np.ndarray) -> bool:
    """No output within CLIP_GAP of a clip boundary (clipped outputs far past it are fine)."""
    return bool(np.all((np.abs(y) > CLIP_GAP) & (np.abs(y - 1.0) > CLIP_GAP)))


def _colour(factors: st.SearchStrategy[float], fixed: dict, keep=None):
    """Inputs Case((x,), {"factor": f, **fixed}), x RGB pixels; ``keep(x, kwargs)`` filters."""

    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            x = d(st.sampled_from(RGB).flatmap(rgb_pixels))
            return Case((x,), {"factor": d(factors), **fixed}, ("x",))

        cases = draw()
        return cases if keep is None else cases.filter(lambda c: keep(c.args[0], c.kwargs))

    return inputs


def _variant(variant: str, fn, factors, fixed: dict, keep=None, notes: str = "") -> OpSpec:
    return OpSpec(f"aug.color_jitter/{variant}", fn, _colour(factors, fixed, keep),
                  grad_wrt=(0,), bench=bench_unit(factor=0.75, **fixed), notes=notes)


def _clip_ok(fn):
    return lambda x, kw: _clear_of_clip(fn(x, **kw))


def _saturation_ok(x: np.ndarray, kw: dict) -> bool:
    _, s, _ = A.rgb_to_hsv(x)
    return bool(np.all(np.abs(s * kw["factor"] - 1.0) > SAT_GAP))


def _pca(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        x = d(st.sampled_from(RGB).flatmap(rgb_pixels))
        n = x.shape[0]
        return Case((x, d(S.arrays((n, 3), -0.375, 0.375)), d(S.arrays((3,), 0.0, 0.5)),
                     d(S.arrays((3, 3), -1.0, 1.0))), {}, ("x", "alphas", "eigvals", "eigvecs"))

    return draw()


def _separated(data: np.ndarray) -> bool:
    """Eigenvalues at least 1.5x apart and each eigenvector's largest entry at least 0.05
    larger in magnitude than the next (its sign convention is then unambiguous)."""
    vals, vecs = A.rgb_eigenpairs(data)
    if not (vals[2] > 1e-3 * vals[0] and vals[0] > 1.5 * vals[1] and vals[1] > 1.5 * vals[2]):
        return False
    mags = np.sort(np.abs(vecs), axis=0)
    return bool(np.all(mags[-1] - mags[-2] > 0.05))


def _eigen(dtype: str) -> st.SearchStrategy[Case]:
    """Pixels mean + Q diag(1, 1/2, 1/5) z with a drawn rotation Q and z in [-1, 1]."""

    @st.composite
    def draw(d: st.DrawFn) -> Case:
        shape = d(st.sampled_from(((1, 3, 3, 4), (2, 3, 4, 5))))
        q, _ = np.linalg.qr(d(S.arrays((3, 3), -1.0, 1.0)) + 3.0 * np.eye(3))
        z = d(S.arrays((shape[0], shape[2], shape[3], 3), -1.0, 1.0))
        mean = d(S.arrays((3,), 0.25, 0.75))
        pixels = mean + (z * np.array([1.0, 0.5, 0.2])) @ q.T * 0.25
        return Case((pixels.transpose(0, 3, 1, 2).copy(),), {}, ("data",))

    return draw().filter(lambda c: _separated(c.args[0]))


def _noise(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        x = d(images())
        return Case((x, d(S.arrays(x.shape, -3.0, 3.0))),
                    {"sigma": d(S.dyadic(1 / 16, 2.0, bits=4)),
                     "mean": d(S.dyadic(-0.5, 0.5, bits=4))}, ("x", "noise"))

    return draw()


def _blur(paddings: tuple[str, ...], isotropic: bool):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            x = d(images())
            padding = d(st.sampled_from(paddings))
            limit = 2 * min(x.shape[2:]) - 1 if padding == "reflect" else 5
            sizes = st.sampled_from([k for k in (1, 3, 5) if k <= limit])
            sigmas = st.sampled_from(SIGMAS)
            kh, sh = d(sizes), d(sigmas)
            kw, sw = (kh, sh) if isotropic else (d(sizes), d(sigmas))
            return Case((x,), {"kernel_size": (kh, kw), "sigma": (sh, sw),
                               "padding": padding}, ("x",))

        cases = draw()
        if isotropic:
            return cases
        return cases.filter(lambda c: c.kwargs["kernel_size"][0] != c.kwargs["kernel_size"][1]
                            or c.kwargs["sigma"][0] != c.kwargs["sigma"][1]
                            or c.kwargs["padding"] != "zeros")

    return inputs


def _bench_blur(padding: str) -> dict:
    return bench_images(lambda s: Case((B.normal(s),), {"kernel_size": (5, 5),
                                                        "sigma": (1.5, 1.5),
                                                        "padding": padding}, ("x",)))


def _bench_pca() -> dict:
    def make(s: tuple[int, ...]) -> Case:
        rng = B.rng()
        return Case((rng.uniform(0.0, 1.0, s), 0.1 * rng.standard_normal((s[0], 3)),
                     np.array([0.2175, 0.0188, 0.0045]),
                     np.linalg.qr(rng.standard_normal((3, 3)))[0]), {},
                    ("x", "alphas", "eigvals", "eigvecs"))

    return bench_images(make)


def _bench_noise() -> dict:
    return bench_images(lambda s: Case((B.normal(s), B.normal(s)), {"sigma": 0.1, "mean": 0.0},
                                       ("x", "noise")))


_GREY_CONTRAST = {"mean": "grey", "clip": True}
_GREY_SATURATION = {"mode": "grey", "clip": True}

register(
    _variant("brightness_add", A.adjust_brightness, S.dyadic(-0.5, 0.5, bits=6),
             {"mode": "additive", "clip": False},
             notes="x + delta (TF, dm-pix, kornia adjust_brightness)"),
    _variant("brightness_mul", A.adjust_brightness, S.dyadic(0.25, 2.0, bits=5),
             {"mode": "multiplicative", "clip": True},
             _clip_ok(A.adjust_brightness), notes="x * factor clipped (torchvision, PIL)"),
    _variant("contrast_channel", A.adjust_contrast, FACTOR, {"mean": "channel", "clip": False},
             notes="per-channel mean (TF, dm-pix)"),
    _variant("contrast_grey", A.adjust_contrast, FACTOR, _GREY_CONTRAST,
             _clip_ok(A.adjust_contrast), notes="scalar grey mean, clipped (torchvision)"),
    _variant("saturation_hsv", A.adjust_saturation, FACTOR, {"mode": "hsv", "clip": False},
             _saturation_ok, notes="S scaled in HSV and clipped (TF, dm-pix, kornia)"),
    _variant("saturation_grey", A.adjust_saturation, FACTOR, _GREY_SATURATION,
             _clip_ok(A.adjust_saturation), notes="blend with grey, clipped (torchvision)"),
    OpSpec("aug.pca_jitter", A.pca_lighting, _pca, grad_wrt=(0, 1, 2, 3), bench=_bench_pca(),
           notes="eigenpairs given (the data set's); see aug.pca_jitter/eigen"),
    OpSpec("aug.pca_jitter/eigen", A.rgb_eigenpairs, _eigen, dtypes=("float64", "float32"),
           textbook=TB.eigenpairs,
           notes="RGB covariance and its eigenpairs (descending, largest entry positive); "
                 "float64/float32 only: no eigh in half precision (NumPy, torch, TF, JAX)"),
    OpSpec("aug.gaussian_noise", A.gaussian_noise, _noise, grad_wrt=(0, 1),
           bench=_bench_noise(), notes="given the standard-normal draw"),
    OpSpec("aug.blur/zeros", A.gaussian_blur, _blur(("zeros",), True), grad_wrt=(0,),
           bench=_bench_blur("zeros"), notes="square kernel, one sigma, zero padding"),
    OpSpec("aug.blur/zeros_anisotropic", A.gaussian_blur, _blur(("zeros",), False),
           grad_wrt=(0,), notes="(k_h, k_w) and (sigma_h, sigma_w) not both equal"),
    OpSpec("aug.blur/reflect", A.gaussian_blur, _blur(("reflect", "replicate", "circular"),
                                                      False),
           grad_wrt=(0,), bench=_bench_blur("reflect"),
           notes="reflect, replicate or circular padding; (k_h, k_w), (sigma_h, sigma_w)"),
)

