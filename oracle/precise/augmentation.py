"""mpmath transcriptions of the ``aug`` family, written apart from oracle/augmentation.

Same signatures as the oracle functions (float64 NumPy arrays in, keyword hyper-parameters),
results as NumPy object arrays of ``mpmath.mpf`` at the caller's precision. Where the NumPy
oracle uses one formula, this uses another route to the same value: resize by an explicit
sum of two (or the kernel's) taps per output sample, saturation in HSV by the closed form
y = V - (V - x) S'/S (hue and value kept) instead of the round trip through the hexcone,
blur by index arithmetic for the padding instead of np.pad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

REC601 = (0.299, 0.587, 0.114)


def _mp(a: Any) -> np.ndarray:
    return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(np.asarray(a))


def _out(shape: tuple[int, ...]) -> np.ndarray:
    return np.empty(shape, dtype=object)


def flip(x: Any, *, direction: str = "horizontal") -> np.ndarray:
    x = _mp(x)
    n, c, h, w = x.shape
    out = _out(x.shape)
    for i in range(h):
        for j in range(w):
            src = (i, w - 1 - j) if direction == "horizontal" else (h - 1 - i, j)
            out[:, :, i, j] = x[:, :, src[0], src[1]]
    return out


def crop(x: Any, *, top: int, left: int, height: int, width: int) -> np.ndarray:
    x = _mp(x)
    out = _out(x.shape[:2] + (height, width))
    for i in range(height):
        for j in range(width):
            out[:, :, i, j] = x[:, :, top + i, left + j]
    return out


def _taps(n_in: int, n_out: int, i: int, method: str, grid: str,
          antialias: bool) -> list[tuple[int, Any]]:
    """(source index, weight) pairs of output sample i along one axis."""
    if method == "nearest":
        if grid == "half_pixel":
            k = ((2 * i + 1) * n_in) // (2 * n_out)
        elif grid == "asymmetric":
            k = (i * n_in) // n_out
        else:  # align_corners: round half away from zero of i (n_in - 1) / (n_out - 1)
            k = 0 if n_out == 1 else (2 * i * (n_in - 1) + (n_out - 1)) // (2 * (n_out - 1))
        return [(min(k, n_in - 1), mpmath.mpf(1))]
    scale = mpmath.mpf(n_in) / n_out
    if antialias and n_in > n_out:
        centre = (i + mpmath.mpf(1) / 2) * scale
        raw = [(j, max(mpmath.mpf(0), 1 - abs(j + mpmath.mpf(1) / 2 - centre) / scale))
               for j in range(n_in)]
        total = mpmath.fsum(w for _, w in raw)
        return [(j, w / total) for j, w in raw if w > 0]
    if grid == "half_pixel":
        s = (i + mpmath.mpf(1) / 2) * scale - mpmath.mpf(1) / 2
    elif grid == "asymmetric":
        s = i * scale
    else:
        s = mpmath.mpf(0) if n_out == 1 else mpmath.mpf(i * (n_in - 1)) / (n_out - 1)
    s = min(max(s, mpmath.mpf(0)), mpmath.mpf(n_in - 1))
    k = int(mpmath.floor(s))
    frac = s - k
    return [(k, 1 - frac), (min(k + 1, n_in - 1), frac)]


def resize(x: Any, *, size: tuple[int, int], method: str = "bilinear",
           grid: str = "half_pixel", antialias: bool = False) -> np.ndarray:
    x = _mp(x)
    n, c, h_in, w_in = x.shape
    h_out, w_out = size
    rows = [_taps(h_in, h_out, i, method, grid, antialias) for i in range(h_out)]
    cols = [_taps(w_in, w_out, j, method, grid, antialias) for j in range(w_out)]
    out = _out((n, c, h_out, w_out))
    for a in range(n):
        for b in range(c):
            for i, ri in enumerate(rows):
                for j, cj in enumerate(cols):
                    out[a, b, i, j] = mpmath.fsum(wr * wc * x[a, b, p, q]
                                                  for p, wr in ri for q, wc in cj)
    return out


def _luma(px: Any, luma: tuple[float, float, float]) -> Any:
    return mpmath.fsum(mpmath.mpf(wt) * v for wt, v in zip(luma, px))


def _pixels(x: np.ndarray) -> list[tuple[int, int, int]]:
    n, _, h, w = x.shape
    return [(a, i, j) for a in range(n) for i in range(h) for j in range(w)]


def _clip01(v: Any) -> Any:
    return min(max(v, mpmath.mpf(0)), mpmath.mpf(1))


def _saturate_hsv(px: list[Any], factor: Any) -> list[Any]:
    """S scaled and clipped with hue and value kept: every channel keeps its place between
    min and max, so y_c = V - (V - x_c) S' / S."""
    v, lo = max(px), min(px)
    if v == 0 or v == lo:
        return list(px)
    s = (v - lo) / v
    s_new = min(max(s * factor, mpmath.mpf(0)), mpmath.mpf(1))
    return [v - (v - p) * s_new / s for p in px]


def color_jitter(x: Any, *, brightness: float = 1.0, contrast: float = 1.0,
                 saturation: float = 1.0,
                 order: tuple[str, ...] = ("brightness", "contrast", "saturation"),
                 brightness_mode: str = "multiplicative", contrast_mean: str = "grey",
                 saturation_mode: str = "grey", clip: bool = True) -> np.ndarray:
    y = _mp(x)
    fb, fc, fs = (mpmath.mpf(v) for v in (brightness, contrast, saturation))

    def finish(v: Any) -> Any:
        return _clip01(v) if clip else v

    for step in order:
        z = _out(y.shape)
        if step == "brightness":
            for idx in np.ndindex(y.shape):
                z[idx] = finish(y[idx] + fb if brightness_mode == "additive" else y[idx] * fb)
        elif step == "contrast":
            for a in range(y.shape[0]):
                if contrast_mean == "grey":
                    m = mpmath.fsum(_luma(y[a, :, i, j], REC601) for i in range(y.shape[2])
                                    for j in range(y.shape[3])) / (y.shape[2] * y.shape[3])
                    means = [m] * y.shape[1]
                else:
                    means = [mpmath.fsum(y[a, ch].ravel()) / y[a, ch].size
                             for ch in range(y.shape[1])]
                for ch in range(y.shape[1]):
                    for i in range(y.shape[2]):
                        for j in range(y.shape[3]):
                            z[a, ch, i, j] = finish(means[ch] + fc * (y[a, ch, i, j] - means[ch]))
        else:
            for a, i, j in _pixels(y):
                px = list(y[a, :, i, j])
                if saturation_mode == "hsv":
                    new = _saturate_hsv(px, fs)
                else:
                    g = _luma(px, REC601)
                    new = [g + fs * (p - g) for p in px]
                for ch in range(3):
                    z[a, ch, i, j] = finish(new[ch])
        y = z
    return y


def pca_lighting(x: Any, alphas: Any, eigvals: Any, eigvecs: Any) -> np.ndarray:
    x, alphas, eigvals, eigvecs = _mp(x), _mp(alphas), _mp(eigvals), _mp(eigvecs)
    out = _out(x.shape)
    for a in range(x.shape[0]):
        for ch in range(3):
            shift = mpmath.fsum(eigvecs[ch, k] * alphas[a, k] * eigvals[k] for k in range(3))
            out[a, ch] = x[a, ch] + shift
    return out


def gaussian_noise(x: Any, noise: Any, *, sigma: float, mean: float = 0.0) -> np.ndarray:
    x, noise = _mp(x), _mp(noise)
    out = _out(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = x[idx] + mpmath.mpf(mean) + mpmath.mpf(sigma) * noise[idx]
    return out


def _source(k: int, n: int, padding: str) -> int | None:
    """The index a padded position k (any integer) reads, None for a zero."""
    if 0 <= k < n:
        return k
    if padding == "zeros":
        return None
    if padding == "replicate":
        return min(max(k, 0), n - 1)
    if padding == "circular":
        return k % n
    period = 2 * (n - 1)  # reflect without repeating the edge: ... 2 1 | 0 1 2 .. n-1 | n-2 ...
    k = k % period if period else 0
    return k if k < n else period - k


def _kernel(size: int, sigma: float) -> list[Any]:
    s = mpmath.mpf(sigma)
    raw = [mpmath.exp(-(mpmath.mpf(j) - mpmath.mpf(size - 1) / 2) ** 2 / (2 * s * s))
           for j in range(size)]
    total = mpmath.fsum(raw)
    return [r / total for r in raw]


def gaussian_blur(x: Any, *, kernel_size: tuple[int, int], sigma: tuple[float, float],
                  padding: str = "reflect") -> np.ndarray:
    x = _mp(x)
    n, c, h, w = x.shape
    ky, kx = _kernel(kernel_size[0], sigma[0]), _kernel(kernel_size[1], sigma[1])
    ry, rx = kernel_size[0] // 2, kernel_size[1] // 2
    rows = _out(x.shape)
    for i in range(h):
        taps = [(_source(i + t - ry, h, padding), wt) for t, wt in enumerate(ky)]
        for a in range(n):
            for b in range(c):
                for j in range(w):
                    rows[a, b, i, j] = mpmath.fsum(wt * x[a, b, s, j] for s, wt in taps
                                                   if s is not None)
    out = _out(x.shape)
    for j in range(w):
        taps = [(_source(j + t - rx, w, padding), wt) for t, wt in enumerate(kx)]
        for a in range(n):
            for b in range(c):
                for i in range(h):
                    out[a, b, i, j] = mpmath.fsum(wt * rows[a, b, i, s] for s, wt in taps
                                                  if s is not None)
    return out


PRECISE: dict[str, Callable[..., Any]] = {
    "aug.flip": flip,
    "aug.crop": crop,
    "aug.resize": resize,
    "aug.color_jitter": color_jitter,
    "aug.pca_jitter": pca_lighting,
    "aug.gaussian_noise": gaussian_noise,
    "aug.blur": gaussian_blur,
}
