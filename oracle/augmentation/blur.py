"""Gaussian blur of NCHW images: a separable, normalised, sampled Gaussian kernel.

The 1-d kernel of odd size k and standard deviation sigma has taps
w_j = exp(-t_j^2 / (2 sigma^2)) / sum_j exp(...), t_j = j - (k - 1) / 2 (torchvision, kornia
get_gaussian_kernel1d, Keras, dm-pix for odd sizes). Rows are filtered with the height
kernel, then columns with the width kernel (a correlation; the kernel is symmetric). The
border is padded by ``padding``: "reflect" (mirror without repeating the edge, torchvision and
kornia's default), "zeros" (dm-pix's and Keras' SAME convolution, kornia "constant"),
"replicate" (edge), "circular" (wrap). Linear in the image: runs on dual numbers as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon

PADDINGS = {"reflect": "reflect", "zeros": "constant", "replicate": "edge", "circular": "wrap"}


def gaussian_kernel1d(size: int, sigma: float) -> Any:
    """The normalised sampled Gaussian of odd ``size`` (in the compute dtype)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    t = _canon.asarray(np.arange(size, dtype=np.float64) - (size - 1) / 2)
    s = _canon.scalar(sigma)
    w = np.exp(-(t * t) / (_canon.scalar(2.0) * s * s))
    return w / np.sum(w)


def _filter_axis(x: Any, kernel: Any, axis: int, padding: str) -> Any:
    """Correlate along ``axis`` (2 or 3) with ``kernel`` after padding by k // 2 each side."""
    k = int(np.shape(_canon.primal(kernel))[0])
    r = k // 2
    n = np.shape(_canon.primal(x))[axis]
    if padding == "reflect" and r >= n:
        raise ValueError(f"reflect padding of {r} needs more than {r} pixels, got {n}")
    widths = [(0, 0)] * 4
    widths[axis] = (r, r)
    padded = np.pad(x, widths, mode=PADDINGS[padding])
    out = None
    for j in range(k):
        piece = padded[:, :, j:j + n, :] if axis == 2 else padded[:, :, :, j:j + n]
        term = kernel[j] * piece
        out = term if out is None else out + term
    return out


def gaussian_blur(x: Any, *, kernel_size: tuple[int, int], sigma: tuple[float, float],
                  padding: str = "reflect") -> Any:
    """Blur NCHW images: ``kernel_size`` = (k_h, k_w) odd sizes and ``sigma`` =
    (sigma_h, sigma_w), both height first (kornia's and Keras' documented order)."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {sorted(PADDINGS)}, got {padding!r}")
    x = _canon.asarray(x)
    if len(np.shape(_canon.primal(x))) != 4:
        raise ValueError("images must be NCHW")
    (kh, kw), (sh, sw) = kernel_size, sigma
    y = _filter_axis(x, gaussian_kernel1d(int(kh), sh), 2, padding)
    return _filter_axis(y, gaussian_kernel1d(int(kw), sw), 3, padding)
