"""JAX mappings of the ``aug`` family: jax.image (resize, scale_and_translate), jax.lax
(crops) and dm-pix 0.4.5 (flips, colour, blur, random flips and crops; channel_axis=-3 for
NCHW). JAX core has no augmentation RNG of its own: random ops are dm-pix's, vmapped over
keys split from the adapter's (one draw per image). Facts behind each mapping:
docs/conventions/augmentation.md.

Float hyper-parameters may arrive traced (vjp and jvp checks run under jax.jit): they only
enter jnp arithmetic here. dm-pix's gaussian_blur builds its kernel from float32 taps times
sigma, so sigma is passed as an array of the image's dtype (float64 under x64).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from adapters.base import LazyModule, implements
from adapters.jax._lazy import jax, jnp
from adapters.jax._params import EIGH, EINSUM

pix = LazyModule("dm_pix", extra="jax")

CHW = -3  # dm-pix's channel axis for NCHW images


@functools.cache
def _jit(fn: Callable[..., Any], static: tuple[str, ...] = ()) -> Callable[..., Any]:
    """One compile per shape and static argument instead of one per primitive (eager JAX):
    dm-pix's functions and scale_and_translate are plain jnp code, not jitted themselves."""
    return jax.jit(fn, static_argnames=static)


def _shape(x: Any, size: tuple[int, int]) -> tuple[int, ...]:
    return (*x.shape[:2], *(int(s) for s in size))


def _scale_translate_raw(x: Any, size: tuple[int, int], grid: str) -> Any:
    """Linear resampling on the aligned-corners or asymmetric grid through
    scale_and_translate, whose sample of output i is (i + 1/2 - t) / s - 1/2: s = (out - 1)
    / (in - 1) or out / in, and t = (1 - s) / 2 moves it to i (in - 1) / (out - 1) or
    i in / out."""
    scales = []
    for n_in, n_out in zip(x.shape[2:], size):
        scales.append((n_out - 1) / (n_in - 1) if grid == "align_corners" else n_out / n_in)
    scale = jnp.asarray(scales, dtype=x.dtype)
    return jax.image.scale_and_translate(x, _shape(x, size), (2, 3), scale, (1.0 - scale) / 2,
                                         method="linear", antialias=False)


def _scale_translate(x: Any, size: tuple[int, int], grid: str) -> Any:
    return _jit(_scale_translate_raw, ("size", "grid"))(x, size=tuple(size), grid=grid)


def _per_image(key: Any, n: int, fn: Any, x: Any) -> Any:
    """fn(key_i, x_i) for every image, each with its own key."""
    return jax.vmap(fn)(jax.random.split(key, n), x)


def _saturation(x: Any, factor: Any) -> Any:
    return pix.adjust_saturation(x, factor, channel_axis=CHW)


def _contrast(x: Any, factor: Any) -> Any:
    return pix.adjust_contrast(x, factor, channel_axis=CHW)


def _blur(x: Any, sigma: Any, kernel_size: int) -> Any:
    return pix.gaussian_blur(x, sigma, kernel_size, padding="SAME", channel_axis=CHW)


def _eigen(data: Any) -> tuple[Any, Any]:
    pixels = jnp.moveaxis(data, 1, -1).reshape(-1, 3)
    dev = pixels - pixels.mean(axis=0, keepdims=True)
    vals, vecs = jnp.linalg.eigh(dev.T @ dev / (pixels.shape[0] - 1))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    lead = jnp.take_along_axis(vecs, jnp.abs(vecs).argmax(axis=0)[None], axis=0)
    return vals, vecs * jnp.where(lead < 0, -1.0, 1.0).astype(vecs.dtype)


def _random_flip(key: Any, x: Any, p: Any, direction: str) -> Any:
    # dm-pix's random flips take no channel_axis: they flip HWC images (axis -2 is W).
    fn = pix.random_flip_left_right if direction == "horizontal" else pix.random_flip_up_down
    out = _per_image(key, x.shape[0], lambda k, img: fn(k, img, probability=p),
                     jnp.moveaxis(x, 1, -1))
    return jnp.moveaxis(out, -1, 1)


def _random_crop(key: Any, x: Any, height: int, width: int) -> Any:
    sizes = (x.shape[1], height, width)
    return _per_image(key, x.shape[0], lambda k, img: pix.random_crop(k, img, sizes), x)


def _random_jitter(key: Any, x: Any, lower: Any, upper: Any, which: str) -> Any:
    if which == "brightness":
        def fn(k, img):
            return pix.random_brightness(k, img, upper)
    elif which == "contrast":
        def fn(k, img):
            return pix.random_contrast(k, img, lower, upper, channel_axis=CHW)
    else:
        def fn(k, img):
            return pix.random_saturation(k, img, lower, upper, channel_axis=CHW)
    return _per_image(key, x.shape[0], fn, x)


_RESIZE = {"image": "drawn: from x", "shape": "drawn: from size, x.shape",
           "precision": "fixed: HIGHEST, the default"}
_SCALE = {"image": "drawn: from x", "shape": "drawn: from size, x.shape",
          "spatial_dims": "fixed: (2, 3), NCHW",
          "scale": "fixed: from the drawn sizes and the grid",
          "translation": "fixed: (1 - scale) / 2", "method": "fixed: linear",
          "antialias": "fixed: False", "precision": "fixed: HIGHEST, the default"}


class AugmentationOps:
    UNSUPPORTED = {
        "aug.resize/nearest_asymmetric": "jax.image.resize's nearest is on the half-pixel "
            "grid only, and scale_and_translate has no nearest method",
        "aug.resize/nearest_align_corners": "jax.image.resize's nearest is on the half-pixel "
            "grid only, and scale_and_translate has no nearest method",
        "aug.color_jitter/brightness_mul": "dm-pix's adjust_brightness adds its delta; "
            "there is no multiplicative brightness",
        "aug.color_jitter/contrast_grey": "dm-pix's adjust_contrast centres each channel on "
            "its own mean (tf.image's formula); no grey-mean blend",
        "aug.color_jitter/saturation_grey": "dm-pix's adjust_saturation scales S in HSV; no "
            "blend with the grey image",
        "aug.blur/zeros_anisotropic": "dm-pix's gaussian_blur takes one sigma and one kernel "
            "size for both axes",
        "aug.blur/reflect": "dm-pix's gaussian_blur convolves with SAME (zero) or VALID "
            "padding only",
        "aug.crop/random_resized": "neither dm-pix nor jax.image samples random-resized-crop "
            "boxes",
        "aug.crop/distorted_box": "neither dm-pix nor jax.image samples TF's distorted "
            "bounding boxes",
    }

    # --- geometry ------------------------------------------------------------------------
    @implements("aug.flip", native=("dm_pix.flip_left_right", "dm_pix.flip_up_down"),
                params={"image": "drawn: from x", "channel_axis": "fixed: -3, NCHW"})
    def flip(self, x: Any, *, direction: str) -> Any:
        fn = pix.flip_left_right if direction == "horizontal" else pix.flip_up_down
        return fn(x, channel_axis=CHW)

    @implements("aug.crop", native="jax.lax.dynamic_slice",
                params={"operand": "drawn: from x", "start_indices": "drawn: from top, left",
                        "slice_sizes": "drawn: from height, width, x.shape",
                        "allow_negative_indices": "fixed: True, the default (unused)"})
    def crop(self, x: Any, *, top: int, left: int, height: int, width: int) -> Any:
        return jax.lax.dynamic_slice(x, (0, 0, top, left), (*x.shape[:2], height, width))

    @implements("aug.resize/bilinear", native="jax.image.resize",
                params={**_RESIZE, "method": "fixed: linear", "antialias": "fixed: False"})
    def resize_bilinear(self, x: Any, *, size, method, grid, antialias) -> Any:
        return jax.image.resize(x, _shape(x, size), "linear", antialias=False)

    @implements("aug.resize/bilinear_antialias", native="jax.image.resize",
                params={**_RESIZE, "method": "fixed: linear",
                        "antialias": "fixed: True, jax.image.resize's default"})
    def resize_bilinear_aa(self, x: Any, *, size, method, grid, antialias) -> Any:
        return jax.image.resize(x, _shape(x, size), "linear", antialias=True)

    @implements("aug.resize/bilinear_align_corners", native="jax.image.scale_and_translate",
                params=_SCALE)
    def resize_bilinear_ac(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _scale_translate(x, size, "align_corners")

    @implements("aug.resize/bilinear_asymmetric", native="jax.image.scale_and_translate",
                params=_SCALE)
    def resize_bilinear_asym(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _scale_translate(x, size, "asymmetric")

    @implements("aug.resize/nearest", native="jax.image.resize",
                params={**_RESIZE, "method": "fixed: nearest",
                        "antialias": "fixed: ignored by nearest"})
    def resize_nearest(self, x: Any, *, size, method, grid, antialias) -> Any:
        return jax.image.resize(x, _shape(x, size), "nearest")

    # --- colour --------------------------------------------------------------------------
    @implements("aug.color_jitter/brightness_add", native="dm_pix.adjust_brightness",
                params={"image": "drawn: from x", "delta": "drawn: from factor"})
    def brightness_add(self, x: Any, *, factor: Any, mode: str, clip: bool) -> Any:
        return pix.adjust_brightness(x, factor)

    @implements("aug.color_jitter/contrast_channel", native="dm_pix.adjust_contrast",
                params={"image": "drawn: from x", "factor": "drawn", "channel_axis": "fixed: -3"})
    def contrast_channel(self, x: Any, *, factor: Any, mean: str, clip: bool) -> Any:
        return _jit(_contrast)(x, factor)

    @implements("aug.color_jitter/saturation_hsv", native="dm_pix.adjust_saturation",
                params={"image": "drawn: from x", "factor": "drawn", "channel_axis": "fixed: -3"})
    def saturation_hsv(self, x: Any, *, factor: Any, mode: str, clip: bool) -> Any:
        return _jit(_saturation)(x, factor)

    # --- lighting, noise, blur ---------------------------------------------------------------
    @implements("aug.pca_jitter", composed=True, native="jax.numpy.einsum", params=EINSUM)
    def pca_jitter(self, x: Any, alphas: Any, eigvals: Any, eigvecs: Any) -> Any:
        offset = jnp.einsum("ci,ni->nc", eigvecs, alphas * eigvals)
        return x + offset[:, :, None, None]

    @implements("aug.pca_jitter/eigen", composed=True, native="jax.numpy.linalg.eigh",
                params={**EIGH, "symmetrize_input": "fixed: True (default), (C + C^T)/2 of "
                        "the covariance"})
    def pca_eigen(self, data: Any) -> tuple[Any, Any]:
        return _jit(_eigen)(data)

    @implements("aug.gaussian_noise", composed=True)
    def gaussian_noise(self, x: Any, noise: Any, *, sigma: Any, mean: Any) -> Any:
        return x + (mean + sigma * noise)

    @implements("aug.blur/zeros", native="dm_pix.gaussian_blur",
                params={"image": "drawn: from x", "sigma": "drawn", "kernel_size": "drawn",
                        "padding": "fixed: SAME, zero padding", "channel_axis": "fixed: -3"})
    def blur_zeros(self, x: Any, *, kernel_size, sigma, padding: str) -> Any:
        return _jit(_blur, ("kernel_size",))(x, jnp.asarray(sigma[0], dtype=x.dtype),
                                             kernel_size=kernel_size[0])

    # --- random draws (dm-pix with keys from the adapter) ------------------------------------
    @implements("aug.flip/random", native=("dm_pix.random_flip_left_right",
                                           "dm_pix.random_flip_up_down"),
                params={"key": "fixed: one split key per image", "image": "drawn: from x",
                        "probability": "fixed: 0.5, this variant's (aug.flip/random_p draws "
                        "p)"})
    def random_flip(self, x: Any, *, direction: str, p: float) -> Any:
        return _jit(_random_flip, ("direction",))(self.next_key(), x, p, direction=direction)

    @implements("aug.flip/random_p", native=("dm_pix.random_flip_left_right",
                                             "dm_pix.random_flip_up_down"),
                params={"key": "fixed: one split key per image", "image": "drawn: from x",
                        "probability": "drawn: from p"})
    def random_flip_p(self, x: Any, *, direction: str, p: float) -> Any:
        return self.random_flip(x, direction=direction, p=p)

    @implements("aug.crop/random", native="dm_pix.random_crop",
                params={"key": "fixed: one split key per image", "image": "drawn: from x",
                        "crop_sizes": "drawn: from height, width, x.shape"})
    def random_crop(self, x: Any, *, height: int, width: int) -> Any:
        return _jit(_random_crop, ("height", "width"))(self.next_key(), x, height=height,
                                                       width=width)

    @implements("aug.color_jitter/random", native=("dm_pix.random_brightness",
                                                   "dm_pix.random_contrast",
                                                   "dm_pix.random_saturation"),
                params={"key": "fixed: one split key per image",
                        "image": "fixed: the stat check's own images (a grid per factor)",
                        "max_delta": "drawn: from upper (brightness: [-upper, upper])",
                        "lower": "drawn", "upper": "drawn",
                        "channel_axis": "fixed: -3"})
    def random_jitter(self, x: Any, *, which: str, lower: float, upper: float) -> Any:
        return _jit(_random_jitter, ("which",))(self.next_key(), x, lower, upper, which=which)

    @implements("aug.gaussian_noise/random", composed=True, native="jax.random.normal",
                params={"shape": "fixed: the image's shape", "dtype": "fixed: the image's "
                        "dtype (drawn in that dtype, as users do)",
                        "out_sharding": "fixed: None, one device"})
    def random_noise(self, x: Any, *, sigma: float) -> Any:
        return x + sigma * jax.random.normal(self.next_key(), x.shape, x.dtype)
