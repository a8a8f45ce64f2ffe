"""Data augmentation (catalog family ``aug``, notes 004): NCHW images, float64.

Random augmentations are deterministic functions of their drawn parameters (flip decisions,
crop boxes, factors, noise, PCA alphas); the laws of those draws are in ``sampling`` (crop
boxes) and in the specs (flip probability, uniform factors, normal noise). Modules:
``geometry`` (flip, crop, resize), ``sampling`` (random-crop box laws), ``color``
(brightness, contrast, saturation, colour jitter), ``lighting`` (PCA lighting, Gaussian
noise), ``blur`` (Gaussian blur). Conventions: docs/conventions/augmentation.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.augmentation.blur import gaussian_blur, gaussian_kernel1d
from oracle.augmentation.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    color_jitter,
    grayscale,
    hsv_to_rgb,
    rgb_to_hsv,
)
from oracle.augmentation.geometry import (
    crop,
    flip,
    linear_weights,
    nearest_indices,
    random_flip,
    resize,
)
from oracle.augmentation.lighting import (
    Eigenpairs,
    gaussian_noise,
    pca_lighting,
    rgb_covariance,
    rgb_eigenpairs,
)
from oracle.augmentation.sampling import offset_pmf, resized_crop_law

__all__ = [
    "Eigenpairs", "adjust_brightness", "adjust_contrast", "adjust_saturation", "color_jitter",
    "crop", "flip", "gaussian_blur", "gaussian_kernel1d", "gaussian_noise", "grayscale",
    "hsv_to_rgb", "linear_weights", "nearest_indices", "offset_pmf", "pca_lighting",
    "random_flip", "resize", "resized_crop_law", "rgb_covariance", "rgb_eigenpairs",
    "rgb_to_hsv",
]

ORACLE: dict[str, Callable[..., Any]] = {
    "aug.flip": flip,
    "aug.crop": crop,
    "aug.resize": resize,
    "aug.color_jitter": color_jitter,
    "aug.pca_jitter": pca_lighting,
    "aug.gaussian_noise": gaussian_noise,
    "aug.blur": gaussian_blur,
}
