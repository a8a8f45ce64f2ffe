"""torch mappings of the ``aug`` family: torch.flip, F.interpolate and kornia 0.9.

torchvision is the usual torch augmentation API, but its 0.28 build for torch 2.13 cannot be
imported with the CPU wheel ("operator torchvision::nms does not exist": its compiled part
links the CUDA libraries); the mappings here use kornia (enhance, filters, augmentation),
which runs on plain torch. A torchvision mapping for users with a matching build is
``adapters.torch.torchvision_adapter:TorchvisionAdapter`` (torchvision imported only there).
Facts behind each mapping: docs/conventions/augmentation.md.
"""

from __future__ import annotations

from typing import Any

from adapters.base import LazyModule, implements
from adapters.torch._lazy import F, torch
from adapters.torch._params import EIGH

kornia_enhance = LazyModule("kornia.enhance", extra="torch")
kornia_filters = LazyModule("kornia.filters", extra="torch")
kornia_aug = LazyModule("kornia.augmentation", extra="torch")

TORCHVISION = ("torchvision 0.28 cannot be imported with the torch 2.13.0 CPU build here "
               "(operator torchvision::nms does not exist)")
BORDER = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
          "circular": "circular"}
_INTERPOLATE = {"input": "drawn: from x", "size": "drawn",
                "scale_factor": "not covered: the output size is given",
                "recompute_scale_factor": "not covered: only with scale_factor"}


def _interpolate(x: Any, size: tuple[int, int], mode: str, align_corners: bool | None,
                 antialias: bool) -> Any:
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=align_corners,
                         antialias=antialias)


class AugmentationOps:
    UNSUPPORTED = {
        "aug.resize/bilinear_asymmetric": "F.interpolate's bilinear grid is half-pixel "
            "(align_corners=False) or aligned corners; no source = i * in / out grid",
        "aug.resize/nearest_align_corners": "F.interpolate rejects align_corners for "
            "nearest modes",
        "aug.color_jitter/contrast_channel": "kornia's adjust_contrast multiplies (x * f) and "
            "adjust_contrast_with_mean_subtraction blends with the grey mean; neither "
            f"centres each channel on its own mean (torchvision neither; {TORCHVISION})",
        "aug.crop/distorted_box": "no torch sampler draws TF's sample_distorted_bounding_box "
            "law (kornia's and torchvision's RandomResizedCrop: aug.crop/random_resized)",
    }

    # --- geometry ------------------------------------------------------------------------
    @implements("aug.flip", native="torch.flip", params={"dims": "drawn: from direction"})
    def flip(self, x: Any, *, direction: str) -> Any:
        return torch.flip(x, dims=[-1] if direction == "horizontal" else [-2])

    @implements("aug.crop", native="torch.Tensor.__getitem__",
                params={"key": "drawn: from top, left, height, width (the slices)"})
    def crop(self, x: Any, *, top: int, left: int, height: int, width: int) -> Any:
        return x[:, :, top:top + height, left:left + width]

    @implements("aug.resize/bilinear", native="torch.nn.functional.interpolate",
                params={**_INTERPOLATE, "mode": "fixed: bilinear", "antialias": "fixed: False",
                        "align_corners": "fixed: False, the half-pixel grid"})
    def resize_bilinear(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _interpolate(x, size, "bilinear", False, False)

    @implements("aug.resize/bilinear_antialias", native="torch.nn.functional.interpolate",
                params={**_INTERPOLATE, "mode": "fixed: bilinear", "antialias": "fixed: True",
                        "align_corners": "fixed: False, the half-pixel grid"})
    def resize_bilinear_aa(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _interpolate(x, size, "bilinear", False, True)

    @implements("aug.resize/bilinear_align_corners", native="torch.nn.functional.interpolate",
                params={**_INTERPOLATE, "mode": "fixed: bilinear", "antialias": "fixed: False",
                        "align_corners": "fixed: True"})
    def resize_bilinear_ac(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _interpolate(x, size, "bilinear", True, False)

    @implements("aug.resize/nearest", native="torch.nn.functional.interpolate",
                params={**_INTERPOLATE, "mode": "fixed: nearest-exact (half-pixel)",
                        "antialias": "fixed: False", "align_corners": "fixed: None"})
    def resize_nearest(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _interpolate(x, size, "nearest-exact", None, False)

    @implements("aug.resize/nearest_asymmetric", native="torch.nn.functional.interpolate",
                params={**_INTERPOLATE, "mode": "fixed: nearest (floor of i * in / out)",
                        "antialias": "fixed: False", "align_corners": "fixed: None"})
    def resize_nearest_asym(self, x: Any, *, size, method, grid, antialias) -> Any:
        return _interpolate(x, size, "nearest", None, False)

    # --- colour --------------------------------------------------------------------------
    @implements("aug.color_jitter/brightness_add", native="kornia.enhance.adjust_brightness",
                params={"image": "drawn: from x", "factor": "drawn",
                        "clip_output": "fixed: from clip, which this spec holds at False"})
    def brightness_add(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return kornia_enhance.adjust_brightness(x, factor, clip_output=clip)

    @implements("aug.color_jitter/brightness_mul",
                native="kornia.enhance.adjust_brightness_accumulative",
                params={"image": "drawn: from x", "factor": "drawn",
                        "clip_output": "fixed: from clip, which this spec holds at True"})
    def brightness_mul(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return kornia_enhance.adjust_brightness_accumulative(x, factor, clip_output=clip)

    @implements("aug.color_jitter/contrast_grey",
                native="kornia.enhance.adjust_contrast_with_mean_subtraction",
                params={"image": "drawn: from x", "factor": "drawn"})
    def contrast_grey(self, x: Any, *, factor: float, mean: str, clip: bool) -> Any:
        return kornia_enhance.adjust_contrast_with_mean_subtraction(x, factor)

    @implements("aug.color_jitter/saturation_hsv", native="kornia.enhance.adjust_saturation",
                params={"image": "drawn: from x", "factor": "drawn"})
    def saturation_hsv(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return kornia_enhance.adjust_saturation(x, factor)

    @implements("aug.color_jitter/saturation_grey",
                native="kornia.enhance.adjust_saturation_with_gray_subtraction",
                params={"image": "drawn: from x", "factor": "drawn"})
    def saturation_grey(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return kornia_enhance.adjust_saturation_with_gray_subtraction(x, factor)

    # --- lighting, noise, blur ---------------------------------------------------------------
    @implements("aug.pca_jitter", composed=True, native="torch.einsum")
    def pca_jitter(self, x: Any, alphas: Any, eigvals: Any, eigvecs: Any) -> Any:
        offset = torch.einsum("ci,ni->nc", eigvecs, alphas * eigvals)
        return x + offset[:, :, None, None]

    @implements("aug.pca_jitter/eigen", composed=True, native="torch.linalg.eigh",
                params=EIGH)
    def pca_eigen(self, data: Any) -> tuple[Any, Any]:
        pixels = data.movedim(1, -1).reshape(-1, 3)
        dev = pixels - pixels.mean(dim=0, keepdim=True)
        vals, vecs = torch.linalg.eigh(dev.T @ dev / (pixels.shape[0] - 1))
        vals, vecs = vals.flip(0), vecs.flip(1)
        lead = vecs.gather(0, vecs.abs().argmax(dim=0, keepdim=True))
        return vals, vecs * torch.where(lead < 0, -1.0, 1.0).to(vecs.dtype)

    @implements("aug.gaussian_noise", composed=True)
    def gaussian_noise(self, x: Any, noise: Any, *, sigma: float, mean: float) -> Any:
        return x + (mean + sigma * noise)

    @implements("aug.blur", native="kornia.filters.gaussian_blur2d",
                params={"input": "drawn: from x", "kernel_size": "drawn", "sigma": "drawn",
                        "border_type": "drawn: from padding",
                        "separable": "fixed: True, the default"})
    def blur(self, x: Any, *, kernel_size, sigma, padding: str) -> Any:
        return kornia_filters.gaussian_blur2d(x, tuple(kernel_size), tuple(sigma),
                                              border_type=BORDER[padding], separable=True)

    # --- random draws (kornia.augmentation, the framework's RNG seeded by the adapter) ------
    @implements("aug.flip/random", native="kornia.augmentation.RandomHorizontalFlip",
                params={"p": "fixed: 0.5, this variant's (aug.flip/random_p draws p)",
                        "same_on_batch": "fixed: False, one draw per image",
                        "keepdim": "fixed: False", "p_batch": "fixed: 1"})
    def random_flip(self, x: Any, *, direction: str, p: float) -> Any:
        cls = kornia_aug.RandomHorizontalFlip if direction == "horizontal" \
            else kornia_aug.RandomVerticalFlip
        return cls(p=p)(x)

    @implements("aug.flip/random_p", native="kornia.augmentation.RandomHorizontalFlip",
                params={"p": "drawn", "same_on_batch": "fixed: False, one draw per image",
                        "keepdim": "fixed: False", "p_batch": "fixed: 1"})
    def random_flip_p(self, x: Any, *, direction: str, p: float) -> Any:
        return self.random_flip(x, direction=direction, p=p)

    @implements("aug.crop/random", native="kornia.augmentation.RandomCrop",
                params={"size": "drawn: from height, width", "padding": "fixed: None",
                        "pad_if_needed":
                        "fixed: False", "fill": "fixed: unused without padding",
                        "padding_mode": "fixed: unused without padding",
                        "resample": "fixed: unused by the slice cropping mode",
                        "same_on_batch": "fixed: False", "align_corners": "fixed: unused",
                        "p": "fixed: 1", "keepdim": "fixed: False",
                        "cropping_mode": "fixed: slice, the default"})
    def random_crop(self, x: Any, *, height: int, width: int) -> Any:
        return kornia_aug.RandomCrop((height, width))(x)

    @implements("aug.crop/random_resized", native="kornia.augmentation.RandomResizedCrop",
                params={"size": "fixed: the boxes are read from forward_parameters",
                        "scale": "drawn", "ratio": "drawn", "resample": "fixed: unused",
                        "same_on_batch": "fixed: False", "align_corners": "fixed: unused",
                        "p": "fixed: 1", "keepdim": "fixed: False",
                        "cropping_mode": "fixed: unused"})
    def random_resized_boxes(self, x: Any, *, height: int, width: int, scale, ratio,
                             attempts: int) -> Any:
        """The sampled boxes (top, left, height, width) per image: kornia's own draw
        (forward_parameters), 10 attempts as kornia fixes them."""
        aug = kornia_aug.RandomResizedCrop((height, width), scale=tuple(scale),
                                           ratio=tuple(ratio))
        src = aug.forward_parameters(tuple(x.shape))["src"]  # (B, 4, 2) corners (x, y)
        top, left = src[:, 0, 1], src[:, 0, 0]
        return torch.stack([top, left, src[:, 2, 1] - top + 1, src[:, 2, 0] - left + 1], dim=1)

    @implements("aug.color_jitter/random", native=("kornia.augmentation.RandomBrightness",
                                                   "kornia.augmentation.RandomContrast",
                                                   "kornia.augmentation.RandomSaturation"),
                params={"brightness": "drawn: from lower, upper, which (1 + the range)",
                        "contrast": "drawn: from lower, upper, which",
                        "saturation": "drawn: from lower, upper, which",
                        "clip_output": "fixed: False (the read-back needs unclipped values)",
                        "same_on_batch": "fixed: False", "p": "fixed: 1",
                        "keepdim": "fixed: False"})
    def random_jitter(self, x: Any, *, which: str, lower: float, upper: float) -> Any:
        if which == "brightness":  # kornia draws a factor around 1 and adds factor - 1
            aug = kornia_aug.RandomBrightness((1.0 + lower, 1.0 + upper), clip_output=False,
                                              p=1.0)
        elif which == "contrast":
            aug = kornia_aug.RandomContrast((lower, upper), clip_output=False, p=1.0)
        else:
            aug = kornia_aug.RandomSaturation((lower, upper), p=1.0)
        return aug(x)

    @implements("aug.gaussian_noise/random", native="kornia.augmentation.RandomGaussianNoise",
                params={"mean": "fixed: 0", "std": "drawn: from sigma",
                        "same_on_batch": "fixed: False",
                        "p": "fixed: 1", "keepdim": "fixed: False"})
    def random_noise(self, x: Any, *, sigma: float) -> Any:
        return kornia_aug.RandomGaussianNoise(mean=0.0, std=sigma, p=1.0)(x)
