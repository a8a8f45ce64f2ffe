"""TensorFlow mappings of the ``aug`` family: tf.image (NHWC: the adapter transposes NCHW
in and out), tf.compat.v1.image for the aligned-corners and asymmetric grids, keras.ops.image
for the blur, tf.image.stateless_random_* and Keras GaussianNoise for the random draws.

tf.image.resize returns float32 for every non-nearest method whatever the input dtype; the
mapping casts the result back to the input's dtype (the canonical layout), so a float64 check
sees the float32 computation (a recorded divergence). adjust_brightness, adjust_contrast and
adjust_saturation convert float64 (and bfloat16) images to float32 first. Facts behind each
mapping: docs/conventions/augmentation.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf
from adapters.tensorflow._params import NAME


def _nhwc(x: Any) -> Any:
    return tf.transpose(x, [0, 2, 3, 1])


def _nchw(x: Any) -> Any:
    return tf.transpose(x, [0, 3, 1, 2])


def _back(y: Any, x: Any) -> Any:
    """An NHWC result to NCHW in the input's dtype."""
    return _nchw(tf.cast(y, x.dtype))


def _seeds(n: int | None = None) -> Any:
    """Stateless seeds ([2] or [n, 2] int64) from TF's global RNG, which the adapter's seed()
    sets: the same run seed gives the same draws."""
    shape = [2] if n is None else [n, 2]
    return tf.random.uniform(shape, maxval=2**31 - 1, dtype=tf.int64)


@functools.cache
def _graph(fn: Callable[..., Any], *static: Any) -> Callable[..., Any]:
    """fn(*static) as one tf.function (the per-image loops below would run op by op
    eagerly: thousands of images per statistical check)."""
    return tf.function(fn(*static), reduce_retracing=True)


def _crop_loop(height: int, width: int) -> Callable[..., Any]:
    def run(hwc: Any, seeds: Any) -> Any:
        size = [height, width, hwc.shape[3]]
        return tf.map_fn(lambda a: tf.image.stateless_random_crop(a[0], size, a[1]),
                         (hwc, seeds), fn_output_signature=tf.TensorSpec(size, hwc.dtype))

    return run


def _box_loop(height: int, width: int, scale: tuple, ratio: tuple,
              attempts: int) -> Callable[..., Any]:
    boxes = tf.zeros([1, 0, 4], tf.float32)

    def one(seed: Any) -> Any:
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            [height, width, 1], boxes, seed, min_object_covered=0.0,
            aspect_ratio_range=list(ratio), area_range=list(scale), max_attempts=attempts,
            use_image_if_no_bounding_boxes=True)
        return tf.stack([begin[0], begin[1], size[0], size[1]])

    def run(seeds: Any) -> Any:
        return tf.map_fn(one, seeds, fn_output_signature=tf.TensorSpec([4], tf.int32))

    return run


def _jitter_loop(which: str, lower: float, upper: float) -> Callable[..., Any]:
    def one(args: Any) -> Any:
        img, seed = args
        if which == "brightness":
            return tf.image.stateless_random_brightness(img, upper, seed)
        if which == "contrast":
            return tf.image.stateless_random_contrast(img, lower, upper, seed)
        return tf.image.stateless_random_saturation(img, lower, upper, seed)

    def run(hwc: Any, seeds: Any) -> Any:
        return tf.map_fn(one, (hwc, seeds),
                         fn_output_signature=tf.TensorSpec(hwc.shape[1:], hwc.dtype))

    return run


_RESIZE = {"images": "drawn: from x", "size": "drawn", "preserve_aspect_ratio": "fixed: False",
           "name": "fixed: None"}
_V1 = {"images": "drawn: from x", "size": "drawn", "name": "fixed: None"}


class AugmentationOps:
    UNSUPPORTED = {
        "aug.color_jitter/brightness_mul": "tf.image.adjust_brightness and Keras "
            "RandomBrightness add their delta; no multiplicative brightness",
        "aug.color_jitter/contrast_grey": "tf.image.adjust_contrast centres each channel on "
            "its own mean; no grey-mean blend",
        "aug.color_jitter/saturation_grey": "tf.image.adjust_saturation and Keras "
            "RandomSaturation scale S in HSV; no blend with the grey image",
        "aug.blur/reflect": "keras.ops.image.gaussian_blur pads with zeros (a SAME depthwise "
            "convolution); tf.image has no blur",
        "aug.crop/random_resized": "TF's random-resized-crop sampler "
            "(sample_distorted_bounding_box) draws another law: aug.crop/distorted_box",
    }

    # --- geometry ------------------------------------------------------------------------
    @implements("aug.flip", native=("tf.image.flip_left_right", "tf.image.flip_up_down"),
                params={"image": "drawn: from x"})
    def flip(self, x: Any, *, direction: str) -> Any:
        fn = tf.image.flip_left_right if direction == "horizontal" else tf.image.flip_up_down
        return _nchw(fn(_nhwc(x)))

    @implements("aug.crop", native="tf.image.crop_to_bounding_box",
                params={"image": "drawn: from x", "offset_height": "drawn: from top",
                        "offset_width": "drawn: from left", "target_height": "drawn: from height",
                        "target_width": "drawn: from width"})
    def crop(self, x: Any, *, top: int, left: int, height: int, width: int) -> Any:
        return _nchw(tf.image.crop_to_bounding_box(_nhwc(x), top, left, height, width))

    @implements("aug.resize/bilinear", native="tf.image.resize",
                params={**_RESIZE, "method": "fixed: bilinear", "antialias": "fixed: False"})
    def resize_bilinear(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.image.resize(_nhwc(x), size, method="bilinear"), x)

    @implements("aug.resize/bilinear_antialias", native="tf.image.resize",
                params={**_RESIZE, "method": "fixed: bilinear", "antialias": "fixed: True"})
    def resize_bilinear_aa(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.image.resize(_nhwc(x), size, method="bilinear", antialias=True), x)

    @implements("aug.resize/bilinear_align_corners",
                native="tf.compat.v1.image.resize_bilinear",
                params={**_V1, "align_corners": "fixed: True",
                        "half_pixel_centers": "fixed: False"})
    def resize_bilinear_ac(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.compat.v1.image.resize_bilinear(_nhwc(x), size, align_corners=True), x)

    @implements("aug.resize/bilinear_asymmetric", native="tf.compat.v1.image.resize_bilinear",
                params={**_V1, "align_corners": "fixed: False",
                        "half_pixel_centers": "fixed: False (TF1's default grid)"})
    def resize_bilinear_asym(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.compat.v1.image.resize_bilinear(_nhwc(x), size), x)

    @implements("aug.resize/nearest", native="tf.image.resize",
                params={**_RESIZE, "method": "fixed: nearest", "antialias": "fixed: False"})
    def resize_nearest(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.image.resize(_nhwc(x), size, method="nearest"), x)

    @implements("aug.resize/nearest_asymmetric",
                native="tf.compat.v1.image.resize_nearest_neighbor",
                params={**_V1, "align_corners": "fixed: False",
                        "half_pixel_centers": "fixed: False (TF1's default grid)"})
    def resize_nearest_asym(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.compat.v1.image.resize_nearest_neighbor(_nhwc(x), size), x)

    @implements("aug.resize/nearest_align_corners",
                native="tf.compat.v1.image.resize_nearest_neighbor",
                params={**_V1, "align_corners": "fixed: True",
                        "half_pixel_centers": "fixed: False"})
    def resize_nearest_ac(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _back(tf.compat.v1.image.resize_nearest_neighbor(_nhwc(x), size,
                                                                align_corners=True), x)

    # --- colour --------------------------------------------------------------------------
    @implements("aug.color_jitter/brightness_add", native="tf.image.adjust_brightness",
                params={"image": "drawn: from x", "delta": "drawn: from factor"})
    def brightness_add(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return tf.image.adjust_brightness(x, factor)

    @implements("aug.color_jitter/contrast_channel", native="tf.image.adjust_contrast",
                params={"images": "drawn: from x", "contrast_factor": "drawn: from factor"})
    def contrast_channel(self, x: Any, *, factor: float, mean: str, clip: bool) -> Any:
        return _nchw(tf.image.adjust_contrast(_nhwc(x), factor))

    @implements("aug.color_jitter/saturation_hsv", native="tf.image.adjust_saturation",
                params={"image": "drawn: from x", "saturation_factor": "drawn: from factor",
                        "name": "fixed: None"})
    def saturation_hsv(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return _nchw(tf.image.adjust_saturation(_nhwc(x), factor))

    # --- lighting, noise, blur ---------------------------------------------------------------
    @implements("aug.pca_jitter", composed=True, native="tf.einsum")
    def pca_jitter(self, x: Any, alphas: Any, eigvals: Any, eigvecs: Any) -> Any:
        offset = tf.einsum("ci,ni->nc", eigvecs, alphas * eigvals)
        return x + offset[:, :, None, None]

    @implements("aug.pca_jitter/eigen", composed=True, native="tf.linalg.eigh", params=NAME)
    def pca_eigen(self, data: Any) -> tuple[Any, Any]:
        pixels = tf.reshape(_nhwc(data), [-1, 3])
        dev = pixels - tf.reduce_mean(pixels, axis=0, keepdims=True)
        count = tf.cast(tf.shape(pixels)[0] - 1, data.dtype)
        vals, vecs = tf.linalg.eigh(tf.matmul(dev, dev, transpose_a=True) / count)
        vals, vecs = vals[::-1], vecs[:, ::-1]
        lead = tf.gather(tf.transpose(vecs), tf.argmax(tf.abs(vecs), axis=0), batch_dims=1)
        sign = tf.cast(tf.where(lead < 0, -1.0, 1.0), vecs.dtype)
        return vals, vecs * sign[None, :]

    @implements("aug.gaussian_noise", composed=True)
    def gaussian_noise(self, x: Any, noise: Any, *, sigma: float, mean: float) -> Any:
        return x + (mean + sigma * noise)

    @implements("aug.blur", native="keras.ops.image.gaussian_blur",
                params={"images": "drawn: from x", "kernel_size": "drawn", "sigma": "drawn",
                        "data_format": "fixed: channels_first"})
    def blur(self, x: Any, *, kernel_size, sigma, padding: str) -> Any:
        return keras.ops.image.gaussian_blur(x, kernel_size=tuple(kernel_size),
                                             sigma=tuple(sigma), data_format="channels_first")

    # --- random draws (stateless ops seeded from the adapter's global seed) -------------------
    @implements("aug.flip/random", native=("tf.image.stateless_random_flip_left_right",
                                           "tf.image.stateless_random_flip_up_down"),
                params={"image": "drawn: from x", "seed": "fixed: from the adapter's seed"})
    def random_flip(self, x: Any, *, direction: str, p: float) -> Any:
        fn = tf.image.stateless_random_flip_left_right if direction == "horizontal" \
            else tf.image.stateless_random_flip_up_down
        return _nchw(fn(_nhwc(x), _seeds()))

    @implements("aug.flip/random_p", composed=True, native="tf.random.stateless_uniform",
                params={**NAME, "minval": "fixed: 0 (default)",
                        "maxval": "fixed: None (default: 1 for floats)",
                        "dtype": "fixed: float32, the draw compared with p (p is dyadic, exact "
                        "in float32)", "alg": "fixed: 'auto_select' (default), the "
                        "device's Philox or ThreeFry"})
    def random_flip_p(self, x: Any, *, direction: str, p: float) -> Any:
        """TF flips with probability 1/2 only (round of a uniform): a per-image uniform
        below p decides instead."""
        flipped = tf.reverse(x, [3 if direction == "horizontal" else 2])
        u = tf.random.stateless_uniform([tf.shape(x)[0]], _seeds(), dtype=tf.float32)
        return tf.where((u < p)[:, None, None, None], flipped, x)

    @implements("aug.crop/random", native="tf.image.stateless_random_crop",
                params={"value": "drawn: from x", "size": "drawn: from height, width, x.shape",
                        "seed": "fixed: one per image",
                        **NAME})
    def random_crop(self, x: Any, *, height: int, width: int) -> Any:
        return _nchw(_graph(_crop_loop, height, width)(_nhwc(x), _seeds(x.shape[0])))

    @implements("aug.crop/distorted_box",
                native="tf.image.stateless_sample_distorted_bounding_box",
                params={"image_size": "drawn: from x.shape",
                        "bounding_boxes": "fixed: none (the image)",
                        "seed": "fixed: one per box", "min_object_covered": "fixed: 0",
                        "aspect_ratio_range": "drawn: from ratio",
                        "area_range": "drawn: from scale", "max_attempts": "drawn: from attempts",
                        "use_image_if_no_bounding_boxes":
                        "fixed: True", "name": "fixed: None"})
    def distorted_boxes(self, x: Any, *, height: int, width: int, scale, ratio,
                        attempts: int) -> Any:
        """One box (top, left, height, width) per image, each with its own seed."""
        loop = _graph(_box_loop, height, width, tuple(scale), tuple(ratio), attempts)
        return loop(_seeds(x.shape[0]))

    @implements("aug.color_jitter/random", native=("tf.image.stateless_random_brightness",
                                                   "tf.image.stateless_random_contrast",
                                                   "tf.image.stateless_random_saturation"),
                params={"image": "fixed: the stat check's own images (a grid per factor)",
                        "max_delta": "drawn: from upper (brightness: [-upper, upper])",
                        "lower": "drawn",
                        "upper": "drawn", "seed": "fixed: one per image"})
    def random_jitter(self, x: Any, *, which: str, lower: float, upper: float) -> Any:
        loop = _graph(_jitter_loop, which, lower, upper)
        return _nchw(loop(_nhwc(x), _seeds(x.shape[0])))

    @implements("aug.gaussian_noise/random", native="keras.layers.GaussianNoise",
                params={"stddev": "drawn: from sigma", "seed": "fixed: from the adapter's seed",
                        "training": "fixed: True"})
    def random_noise(self, x: Any, *, sigma: float) -> Any:
        seed = int(_seeds()[0])
        layer = keras.layers.GaussianNoise(sigma, seed=seed, dtype=x.dtype.name)
        return layer(x, training=True)
