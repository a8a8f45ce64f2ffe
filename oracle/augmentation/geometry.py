"""Geometric augmentations on NCHW images: flips, box crops and resizing.

All three are linear in the image, so they run unchanged on dual numbers (the derivative of a
resize is its weight matrices, of a flip or crop a selection). Conventions are keyword options;
the facts behind each framework's choice are in docs/conventions/augmentation.md.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from oracle import _canon

DIRECTIONS = ("horizontal", "vertical")
GRIDS = ("half_pixel", "align_corners", "asymmetric")
METHODS = ("nearest", "bilinear")


def _check_nchw(x: Any) -> None:
    if len(np.shape(_canon.primal(x))) != 4:
        raise ValueError(f"images must be NCHW, got shape {np.shape(_canon.primal(x))}")


def flip(x: Any, *, direction: str = "horizontal") -> Any:
    """Mirror NCHW images: "horizontal" reverses the width axis (left-right, torchvision's
    hflip, tf.image.flip_left_right), "vertical" the height axis (up-down)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    x = _canon.asarray(x)
    _check_nchw(x)
    return x[..., ::-1] if direction == "horizontal" else x[..., ::-1, :]


def random_flip(x: Any, flips: Any, *, direction: str = "horizontal",
                p: float | None = None) -> Any:
    """The random flip given its drawn decisions: image n is flipped where ``flips[n]`` is
    true (a bool array of shape (N,)), returned unchanged otherwise. ``p`` names the law the
    decisions were drawn from (Bernoulli(p) per image, the frameworks' RandomFlip): given the
    decisions the output does not depend on it; the law is checked statistically by the
    specs aug.flip/random*, which pass it as a keyword."""
    x = _canon.asarray(x)
    decide = np.asarray(flips, dtype=bool)
    if decide.shape != (np.shape(_canon.primal(x))[0],):
        raise ValueError(f"flips must be (N,) booleans, got shape {decide.shape}")
    return np.where(decide[:, None, None, None], flip(x, direction=direction), x)


def crop(x: Any, *, top: int, left: int, height: int, width: int) -> Any:
    """The box rows top..top+height-1, columns left..left+width-1 of every image (the order
    of tf.image.crop_to_bounding_box and torchvision's crop: top, left, height, width)."""
    x = _canon.asarray(x)
    _check_nchw(x)
    h, w = np.shape(_canon.primal(x))[2:]
    if not (0 <= top and 0 <= left and 1 <= height and 1 <= width
            and top + height <= h and left + width <= w):
        raise ValueError(f"box (top={top}, left={left}, {height}x{width}) is not inside {h}x{w}")
    return x[:, :, top:top + height, left:left + width]


# --- resize ----------------------------------------------------------------------------


def nearest_indices(n_in: int, n_out: int, grid: str) -> np.ndarray:
    """Source index of each output sample, computed exactly in rational arithmetic.

    half_pixel: floor((i + 1/2) n_in / n_out) (torch "nearest-exact", tf.image.resize,
    jax.image.resize); asymmetric: floor(i n_in / n_out) (torch "nearest", TF1's default);
    align_corners: i (n_in - 1) / (n_out - 1) rounded half away from zero (TF's
    align_corners=True). Ties of the floor (a sample exactly on a pixel boundary) go to the
    higher index, as the exact floor does; frameworks that compute the position in floating
    point may land on either side of such a tie.
    """
    idx = []
    for i in range(n_out):
        if grid == "half_pixel":
            src = Fraction(2 * i + 1, 2) * Fraction(n_in, n_out)
            k = int(np.floor(src))
        elif grid == "asymmetric":
            k = (i * n_in) // n_out
        elif grid == "align_corners":
            src = Fraction(0) if n_out == 1 else Fraction(i * (n_in - 1), n_out - 1)
            k = int(src + Fraction(1, 2)) if src >= 0 else -int(-src + Fraction(1, 2))
        else:
            raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
        idx.append(min(max(k, 0), n_in - 1))
    return np.array(idx, dtype=np.int64)


def _source_positions(n_in: int, n_out: int, grid: str) -> Any:
    """Continuous source coordinate of each output sample (pixel centres at integers), in
    the compute dtype, as the kernels compute it: a scale first, then the position."""
    i = _canon.asarray(np.arange(n_out, dtype=np.float64))
    half = _canon.scalar(0.5)
    if grid == "half_pixel":
        return (i + half) * _canon.scalar(n_in / n_out) - half
    if grid == "asymmetric":
        return i * _canon.scalar(n_in / n_out)
    if grid == "align_corners":
        scale = 0.0 if n_out == 1 else (n_in - 1) / (n_out - 1)
        return i * _canon.scalar(scale)
    raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")


def linear_weights(n_in: int, n_out: int, *, grid: str = "half_pixel",
                   antialias: bool = False) -> np.ndarray:
    """(n_out, n_in) weights of linear interpolation along one axis.

    Without antialiasing: the source position s is clamped to [0, n_in - 1] and split
    between floor(s) and floor(s) + 1 (torch's and TF's clamping; JAX's renormalised
    triangle kernel gives the same weights inside the image). With ``antialias`` (half-pixel
    grid only; it changes nothing when upsampling): the triangle kernel widened by the
    scale n_in / n_out, w_j = max(0, 1 - |j + 1/2 - (i + 1/2) scale| / scale), normalised to
    sum 1 over the pixels inside the image (PIL's, torch's antialias=True, JAX's and TF's
    scale_and_translate "triangle").
    """
    if antialias and grid != "half_pixel":
        raise ValueError("antialiasing is defined on the half-pixel grid only")
    one = _canon.scalar(1.0)
    zero = _canon.scalar(0.0)
    scale = n_in / n_out
    if antialias and scale > 1:
        centre = (_canon.asarray(np.arange(n_out, dtype=np.float64)) + _canon.scalar(0.5)) \
            * _canon.scalar(scale)
        j = _canon.asarray(np.arange(n_in, dtype=np.float64)) + _canon.scalar(0.5)
        dist = np.abs(j[None, :] - centre[:, None]) / _canon.scalar(scale)
        w = np.maximum(one - dist, zero)
        return w / np.sum(w, axis=1, keepdims=True)
    s = np.clip(_source_positions(n_in, n_out, grid), zero, _canon.scalar(n_in - 1))
    lo = np.floor(s).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = s - np.floor(s)
    w = np.zeros((n_out, n_in), dtype=_canon.current_dtype())
    rows = np.arange(n_out)
    np.add.at(w, (rows, lo), one - frac)
    np.add.at(w, (rows, hi), frac)
    return w


def nearest_weights(n_in: int, n_out: int, *, grid: str = "half_pixel") -> np.ndarray:
    """(n_out, n_in) 0/1 selection matrix of nearest-neighbour resampling."""
    w = np.zeros((n_out, n_in), dtype=_canon.current_dtype())
    w[np.arange(n_out), nearest_indices(n_in, n_out, grid)] = 1
    return w


def resize(x: Any, *, size: tuple[int, int], method: str = "bilinear",
           grid: str = "half_pixel", antialias: bool = False) -> Any:
    """Resize NCHW images to ``size`` = (height, width), separably: rows then columns.

    method "nearest" or "bilinear"; ``grid`` the sampling convention (see
    ``nearest_indices`` and ``linear_weights``): "half_pixel" (pixel centres at i + 1/2,
    torch align_corners=False, TF2, JAX), "align_corners" (the corner pixels' centres map
    onto each other, torch align_corners=True, TF1 align_corners=True), "asymmetric"
    (source = i * scale, torch "nearest", TF1's default). ``antialias`` widens the bilinear
    kernel when downsampling (the default of jax.image.resize, off in F.interpolate and
    tf.image.resize). Nearest resampling has no antialiased form here.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "nearest" and antialias:
        raise ValueError("nearest resampling has no antialiased form")
    x = _canon.asarray(x)
    _check_nchw(x)
    h_in, w_in = np.shape(_canon.primal(x))[2:]
    h_out, w_out = (int(s) for s in size)
    if method == "nearest":
        wy, wx = nearest_weights(h_in, h_out, grid=grid), nearest_weights(w_in, w_out, grid=grid)
    else:
        wy = linear_weights(h_in, h_out, grid=grid, antialias=antialias)
        wx = linear_weights(w_in, w_out, grid=grid, antialias=antialias)
    # Weighted sums by broadcasting (np.einsum has no bfloat16 loop): rows, then columns.
    rows = np.sum(wy[None, None, :, :, None] * x[:, :, None, :, :], axis=3)
    return np.sum(rows[:, :, :, None, :] * wx[None, None, None, :, :], axis=4)
