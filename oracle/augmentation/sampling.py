"""The laws of random crop boxes: what a framework's crop sampler should draw.

A random crop is a deterministic crop (``geometry.crop``) of a drawn box; the box's law is
given here exactly, as probabilities over integer boxes, for the statistical checks.

* ``offset_pmf``: a crop of a fixed size at a uniform offset (torchvision/kornia RandomCrop,
  tf.image.stateless_random_crop, dm-pix random_crop): every offset 0..size-crop equally likely.
* ``resized_crop_law``: the "Inception" crop of RandomResizedCrop, a size drawn from an area
  fraction ``scale`` and an aspect-ratio range ``ratio`` with a bounded number of attempts,
  then a uniform offset; two samplers: "torchvision" (torchvision and kornia) and "tf"
  (tf.image.sample_distorted_bounding_box). docs/conventions/augmentation.md §Random crops.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate

SAMPLERS = ("torchvision", "tf")


def offset_pmf(size: int, crop: int, *, offsets: str = "inclusive") -> np.ndarray:
    """P(offset = k) for k = 0..size-crop. "inclusive": uniform on all size-crop+1 offsets
    (the meaning of a uniform random crop). "exclusive": uniform on 0..size-crop-1 when the
    crop is smaller than the image, 0 otherwise (what TF's GenerateRandomCrop draws:
    ``random->Uniform(original_height - height)``; the last offset never occurs)."""
    if not 1 <= crop <= size:
        raise ValueError(f"crop {crop} does not fit in {size}")
    p = np.zeros(size - crop + 1)
    if offsets == "inclusive" or crop == size:
        p[:] = 1.0 / p.size
    elif offsets == "exclusive":
        p[:-1] = 1.0 / (p.size - 1)
    else:
        raise ValueError(f"offsets must be 'inclusive' or 'exclusive', got {offsets!r}")
    return p


# --- torchvision / kornia: area uniform in scale, log aspect ratio uniform ------------------


def _cell_area(w: int, h: int, a0: float, a1: float, r0: float, r1: float,
               shift: float = 0.5) -> float:
    """Area of {(s, t): w - shift <= s < w + 1 - shift, likewise t for h, a0 <= s t <= a1,
    r0 <= s / t <= r1} (shift 1/2: the sizes round(s), round(t); shift 0: floor).

    (s, t) are the unrounded width and height sqrt(A r), sqrt(A / r): the map from the drawn
    (area A, log r) has Jacobian 2, so the uniform density of (A, log r) is uniform in (s, t)
    too and a size's probability is this area times a constant.
    """
    t0, t1 = h - shift, h + 1 - shift
    lo_s, hi_s = max(w - shift, math.sqrt(a0 * r0)), min(w + 1 - shift, math.sqrt(a1 * r1))
    if lo_s >= hi_s or t1 <= 0:
        return 0.0

    def length(s: float) -> float:
        t_lo = max(t0, a0 / s, s / r1)
        t_hi = min(t1, a1 / s, s / r0)
        return max(0.0, t_hi - t_lo)

    # Kinks of length(s): where two of the bounding curves cross.
    kinks = [r1 * t0, r1 * t1, r0 * t0, r0 * t1, a0 / t1, a1 / t1, math.sqrt(a0 * r1),
             math.sqrt(a1 * r0), math.sqrt(a0 * r0), math.sqrt(a1 * r1)]
    if t0 > 0:
        kinks += [a0 / t0, a1 / t0]
    points = sorted({k for k in kinks if lo_s < k < hi_s})
    edges = [lo_s, *points, hi_s]
    return math.fsum(integrate.quad(length, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
                     for a, b in zip(edges[:-1], edges[1:]))


def _torchvision_attempt(height: int, width: int, scale: tuple[float, float],
                         ratio: tuple[float, float], rounding: str) -> np.ndarray:
    """P(one attempt draws the valid size (h, w)), as an (H+1, W+1) array."""
    a0, a1 = scale[0] * height * width, scale[1] * height * width
    r0, r1 = ratio
    density = 2.0 / ((a1 - a0) * (math.log(r1) - math.log(r0)))
    shift = {"round": 0.5, "floor": 0.0}[rounding]
    p = np.zeros((height + 1, width + 1))
    for h in range(1, height + 1):
        for w in range(1, width + 1):
            p[h, w] = density * _cell_area(w, h, a0, a1, r0, r1, shift)
    return p


def _torchvision_fallback(height: int, width: int, ratio: tuple[float, float]) -> tuple[int, int]:
    """The size after every attempt failed: the whole image, cut to the nearest allowed
    aspect ratio (torchvision's RandomResizedCrop.get_params, kornia's ResizedCropGenerator)."""
    in_ratio = width / height
    if in_ratio < min(ratio):
        return min(height, max(1, round(width / min(ratio)))), width
    if in_ratio > max(ratio):
        return height, min(width, max(1, round(height * max(ratio))))
    return height, width


# --- TensorFlow: aspect ratio uniform, height uniform between the area bounds --------------


def _lrint(v: np.float32) -> int:
    return int(np.rint(np.float32(v)))


def _tf_crop_sizes(height: int, width: int, scale: tuple[float, float],
                   ar: float) -> list[tuple[int, int] | None]:
    """GenerateRandomCrop (tensorflow/core/kernels/image/sample_distorted_bounding_box_op.cc)
    for one aspect ratio, in float32 as TF computes it: one outcome per equally likely
    height draw, None where the attempt fails."""
    f32 = np.float32
    ar32 = f32(ar)
    min_area = f32(scale[0]) * f32(width) * f32(height)
    max_area = f32(scale[1]) * f32(width) * f32(height)
    h = _lrint(np.sqrt(min_area / ar32))
    max_h = _lrint(np.sqrt(max_area / ar32))
    if _lrint(f32(max_h) * ar32) > width:
        max_h = int(f32(f32(width + 0.5 - 0.0000001) / ar32))
        if _lrint(f32(max_h) * ar32) > width:
            max_h -= 1
    max_h = min(max_h, height)
    h = min(h, max_h)
    out: list[tuple[int, int] | None] = []
    for draw in range(h, max_h + 1):
        hh = draw
        ww = _lrint(f32(hh) * ar32)
        area = f32(ww * hh)
        if area < min_area:
            hh += 1
            ww = _lrint(f32(hh) * ar32)
            area = f32(ww * hh)
        if area > max_area:
            hh -= 1
            ww = _lrint(f32(hh) * ar32)
            area = f32(ww * hh)
        bad = (area < min_area or area > max_area or ww > width or hh > height
               or ww <= 0 or hh <= 0)
        out.append(None if bad else (hh, ww))
    return out


def _tf_attempt(height: int, width: int, scale: tuple[float, float],
                ratio: tuple[float, float], ratio_law: str = "uniform") -> np.ndarray:
    """P(one attempt gives the size (h, w)): the aspect ratio is uniform on ``ratio`` and the
    outcome is piecewise constant in it, so the integral is a sum over the pieces between the
    ratios where a rounding flips (each piece evaluated at its midpoint)."""
    r0, r1 = ratio
    a0, a1 = scale[0] * height * width, scale[1] * height * width
    cuts = {r0, r1}
    for k in range(0, max(height, width) + 3):
        for area in (a0, a1):
            cuts.add(area / (k + 0.5) ** 2)
        if k > 0:
            cuts.add((width + 0.5 - 0.0000001) / k)
            for m in range(0, width + 3):
                cuts.add((m + 0.5) / k)
    edges = sorted(c for c in cuts if r0 <= c <= r1)
    p = np.zeros((height + 1, width + 1))
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi <= lo:
            continue
        outcomes = _tf_crop_sizes(height, width, scale, 0.5 * (lo + hi))
        if ratio_law == "uniform":
            share = (hi - lo) / (r1 - r0)
        else:  # log-uniform, the torchvision law's (a plausible bug of a TF port)
            share = (math.log(hi) - math.log(lo)) / (math.log(r1) - math.log(r0))
        weight = share / max(len(outcomes), 1)
        for o in outcomes:
            if o is not None:
                p[o] += weight
    return p


@functools.lru_cache(maxsize=256)
def resized_crop_law(height: int, width: int, *, scale: tuple[float, float],
                     ratio: tuple[float, float], attempts: int = 10,
                     sampler: str = "torchvision", fallback_offset: str = "center",
                     offsets: str = "inclusive", rounding: str = "round",
                     ratio_law: str = "uniform") -> np.ndarray:
    """The joint law P[h, w, top, left] of the box a random-resized-crop sampler draws for
    an image of ``height`` x ``width`` (an (H+1, W+1, H, W) array, zero off the valid boxes).

    sampler "torchvision" (torchvision RandomResizedCrop.get_params, kornia
    ResizedCropGenerator): per attempt, area = H W U(scale), log r = U(log ratio), w =
    round(sqrt(area r)), h = round(sqrt(area / r)), accepted when 1 <= w <= W, 1 <= h <= H;
    after ``attempts`` failures the whole image cut to the nearest allowed ratio, placed at
    the centre (torchvision, ``fallback_offset="center"``) or uniformly (kornia, "uniform").
    sampler "tf" (tf.image.sample_distorted_bounding_box with the whole image as its box and
    min_object_covered = 0): per attempt the aspect ratio w/h is uniform on ``ratio``, the
    height uniform on the integers between the area bounds (GenerateRandomCrop), w =
    round(h r); after ``attempts`` failures the whole image. ``offsets`` as ``offset_pmf``;
    ``rounding="floor"`` (torchvision sampler only) truncates the sides instead of rounding
    them, and ``ratio_law="log_uniform"`` (tf sampler only) draws TF's aspect ratio
    log-uniformly: plausible bugs the statistical checks' power is stated against.
    A returned array is shared (cached): do not modify it.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if not (0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1]):
        raise ValueError(f"need 0 < scale[0] <= scale[1] <= 1 and 0 < ratio, got {scale}, {ratio}")
    if sampler == "torchvision":
        if not (scale[0] < scale[1] and ratio[0] < ratio[1]):
            raise ValueError("the torchvision law needs non-degenerate scale and ratio ranges")
        per_attempt = _torchvision_attempt(height, width, scale, ratio, rounding)
        fallback = _torchvision_fallback(height, width, ratio)
    else:
        per_attempt = _tf_attempt(height, width, scale, ratio, ratio_law)
        fallback, fallback_offset = (height, width), "center"
    reject = max(0.0, 1.0 - math.fsum(per_attempt.ravel()))
    # P(first success at attempt k) summed over k < attempts: a geometric partial sum.
    sizes = per_attempt * sum(reject**k for k in range(attempts))
    law = np.zeros((height + 1, width + 1, height, width))
    for h in range(1, height + 1):
        for w in range(1, width + 1):
            if sizes[h, w] > 0:
                law[h, w, :height - h + 1, :width - w + 1] = sizes[h, w] * np.outer(
                    offset_pmf(height, h, offsets=offsets), offset_pmf(width, w, offsets=offsets))
    fb_mass = reject**attempts
    h, w = fallback
    if fallback_offset == "center":
        law[h, w, (height - h) // 2, (width - w) // 2] += fb_mass
    elif fallback_offset == "uniform":
        law[h, w, :height - h + 1, :width - w + 1] += fb_mass / ((height - h + 1) * (width - w + 1))
    else:
        raise ValueError(f"fallback_offset must be 'center' or 'uniform', got {fallback_offset!r}")
    law.flags.writeable = False
    return law
