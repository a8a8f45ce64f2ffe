"""Colour augmentations of RGB images (NCHW, channels R, G, B): brightness, contrast,
saturation, and the colour jitter that chains them.

Each framework's formula is a named option (docs/conventions/augmentation.md §Colour):
brightness added (TF, dm-pix, kornia adjust_brightness) or multiplied (torchvision, kornia
adjust_brightness_accumulative); contrast around each channel's mean (TF, dm-pix) or the
scalar grey mean (torchvision, kornia adjust_contrast_with_mean_subtraction); saturation by
scaling S in HSV and clipping it (TF, dm-pix, kornia adjust_saturation) or by blending with
the grey image (torchvision, kornia adjust_saturation_with_gray_subtraction); an optional
clip of the result to [0, 1] (torchvision and kornia clamp, TF and dm-pix do not).

Non-smooth points: clipping at 0 and 1 (np.clip's convention: the tangent passes on the
closed interval), ties between channels in the HSV conversion (max/min), S * factor = 1.
The specs keep their draws away from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon

REC601 = (0.299, 0.587, 0.114)


def _rgb(x: Any) -> Any:
    x = _canon.asarray(x)
    shape = np.shape(_canon.primal(x))
    if len(shape) != 4 or shape[1] != 3:
        raise ValueError(f"expected RGB images (N, 3, H, W), got shape {shape}")
    return x


def _clip(y: Any, clip: bool) -> Any:
    return np.clip(y, _canon.scalar(0.0), _canon.scalar(1.0)) if clip else y


def grayscale(x: Any, *, luma: tuple[float, float, float] = REC601) -> Any:
    """Luma Y = luma . (R, G, B) per pixel, shape (N, 1, H, W). Rec. 601 weights by default
    (kornia, TF, dm-pix; torchvision uses 0.2989 for red)."""
    x = _rgb(x)
    wr, wg, wb = (_canon.scalar(v) for v in luma)
    return (wr * x[:, 0] + wg * x[:, 1] + wb * x[:, 2])[:, None]


def adjust_brightness(x: Any, *, factor: float, mode: str = "additive",
                      clip: bool = False) -> Any:
    """"additive": x + factor (tf.image.adjust_brightness's delta, dm-pix, kornia
    adjust_brightness); "multiplicative": x * factor (torchvision, PIL, kornia
    adjust_brightness_accumulative). Any number of channels."""
    x = _canon.asarray(x)
    f = _canon.scalar(factor)
    if mode == "additive":
        y = x + f
    elif mode == "multiplicative":
        y = x * f
    else:
        raise ValueError(f"mode must be 'additive' or 'multiplicative', got {mode!r}")
    return _clip(y, clip)


def adjust_contrast(x: Any, *, factor: float, mean: str = "channel", clip: bool = False,
                    luma: tuple[float, float, float] = REC601) -> Any:
    """Contrast around a mean m over each image's pixels.

    "channel": m per image and channel, y = (x - m) * factor + m (tf.image.adjust_contrast's
    formula, dm-pix). "grey": m = the mean of the image's luma (one scalar per image), y =
    factor * x + (1 - factor) * m (torchvision's blend, kornia
    adjust_contrast_with_mean_subtraction; RGB only).
    """
    x = _canon.asarray(x)
    f = _canon.scalar(factor)
    if mean == "channel":
        m = np.mean(x, axis=(2, 3), keepdims=True)
        y = (x - m) * f + m
    elif mean == "grey":
        m = np.mean(grayscale(x, luma=luma), axis=(1, 2, 3), keepdims=True)
        y = f * x + (_canon.scalar(1.0) - f) * m
    else:
        raise ValueError(f"mean must be 'channel' or 'grey', got {mean!r}")
    return _clip(y, clip)


def rgb_to_hsv(x: Any) -> tuple[Any, Any, Any]:
    """(hue in [0, 1), saturation, value), each (N, H, W): V = max, S = (max - min) / max
    (0 where max = 0), hue the hexcone angle / 360 (0 where max = min), as TF and dm-pix."""
    x = _rgb(x)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    one, zero = _canon.scalar(1.0), _canon.scalar(0.0)
    v = np.maximum(np.maximum(r, g), b)
    lo = np.minimum(np.minimum(r, g), b)
    span = v - lo
    safe_v = np.where(_canon.primal(v) > 0, v, one)
    safe_span = np.where(_canon.primal(span) > 0, span, one)
    s = np.where(_canon.primal(v) > 0, span / safe_v, zero)
    sixth = one / (_canon.scalar(6.0) * safe_span)
    h = np.where(_canon.primal(v) == _canon.primal(g),
                 (b - r) * sixth + _canon.scalar(2 / 6), (r - g) * sixth + _canon.scalar(4 / 6))
    h = np.where(_canon.primal(v) == _canon.primal(r), (g - b) * sixth, h)
    h = np.where(_canon.primal(span) > 0, h, zero)
    h = np.where(_canon.primal(h) < 0, h + one, h)
    return h, s, v


def hsv_to_rgb(h: Any, s: Any, v: Any) -> Any:
    """The inverse of ``rgb_to_hsv``, as (N, 3, H, W): channel c = V (1 - S + S d_c(hue))
    with the piecewise-linear hexcone profiles d_c (dm-pix's hsv_planes_to_rgb_planes)."""
    one, zero, two = _canon.scalar(1.0), _canon.scalar(0.0), _canon.scalar(2.0)
    dh = h * _canon.scalar(6.0)
    dr = np.clip(np.abs(dh - _canon.scalar(3.0)) - one, zero, one)
    dg = np.clip(two - np.abs(dh - two), zero, one)
    db = np.clip(two - np.abs(dh - _canon.scalar(4.0)), zero, one)
    keep = one - s
    return np.stack([v * (keep + s * d) for d in (dr, dg, db)], axis=1)


def adjust_saturation(x: Any, *, factor: float, mode: str = "hsv", clip: bool = False,
                      luma: tuple[float, float, float] = REC601) -> Any:
    """"hsv": S scaled by factor and clipped to [0, 1] in HSV, hue and value kept
    (tf.image.adjust_saturation, dm-pix, kornia adjust_saturation). "grey": y = factor * x
    + (1 - factor) * luma (torchvision, kornia adjust_saturation_with_gray_subtraction)."""
    x = _rgb(x)
    f = _canon.scalar(factor)
    if mode == "hsv":
        h, s, v = rgb_to_hsv(x)
        y = hsv_to_rgb(h, np.clip(s * f, _canon.scalar(0.0), _canon.scalar(1.0)), v)
    elif mode == "grey":
        y = f * x + (_canon.scalar(1.0) - f) * grayscale(x, luma=luma)
    else:
        raise ValueError(f"mode must be 'hsv' or 'grey', got {mode!r}")
    return _clip(y, clip)


def color_jitter(x: Any, *, brightness: float = 1.0, contrast: float = 1.0,
                 saturation: float = 1.0,
                 order: tuple[str, ...] = ("brightness", "contrast", "saturation"),
                 brightness_mode: str = "multiplicative", contrast_mean: str = "grey",
                 saturation_mode: str = "grey", clip: bool = True) -> Any:
    """Colour jitter given its drawn factors and order (torchvision's ColorJitter draws
    the factors uniformly and a random order, then applies each adjustment; the defaults
    are torchvision's formulas). Each step is ``adjust_*`` with the named convention; an
    additive brightness takes ``brightness`` as its delta."""
    steps = {
        "brightness": lambda y: adjust_brightness(y, factor=brightness, mode=brightness_mode,
                                                  clip=clip),
        "contrast": lambda y: adjust_contrast(y, factor=contrast, mean=contrast_mean, clip=clip),
        "saturation": lambda y: adjust_saturation(y, factor=saturation, mode=saturation_mode,
                                                  clip=clip),
    }
    if sorted(order) != sorted(set(order)) or not set(order) <= set(steps):
        raise ValueError(f"order must list distinct steps of {sorted(steps)}, got {order}")
    y = _canon.asarray(x)
    for name in order:
        y = steps[name](y)
    return y
