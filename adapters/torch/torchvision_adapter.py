"""torchvision mappings of the ``aug`` family, for users with a torchvision build that
imports (``--backend adapters.torch.torchvision_adapter:TorchvisionAdapter``).

Not part of the default TorchAdapter: torchvision 0.28 (the build for torch 2.13) cannot be
imported with the torch 2.13.0 CPU wheel this project pins ("operator torchvision::nms does
not exist"), so these mappings were written against torchvision's documented v2 API and could
not be run here. Ops torchvision has no form for keep the kornia mappings of the parent.

Known differences from the specs, to be measured where torchvision runs: its grey image uses
0.2989 for red (the specs' grey mean and grey blend use Rec. 601's 0.299), its
RandomResizedCrop fallback is a centre crop (kornia's is uniform; the specs keep the
fallback's probability below 1e-4), and its random transforms draw one decision per call, so
the per-image mappings loop over the batch.
"""

from __future__ import annotations

from typing import Any

from adapters.base import AdapterError, LazyModule, implements
from adapters.torch import TorchAdapter
from adapters.torch._lazy import torch

TF = LazyModule("torchvision.transforms.v2.functional", extra="torch")
T = LazyModule("torchvision.transforms.v2", extra="torch")


def _mode(name: str) -> Any:
    return getattr(T.InterpolationMode, name)


class TorchvisionAugmentationOps:
    @implements("aug.flip", native=("torchvision.transforms.v2.functional.horizontal_flip",
                                    "torchvision.transforms.v2.functional.vertical_flip"),
                params={"inpt": "drawn"})
    def flip(self, x: Any, *, direction: str) -> Any:
        return TF.horizontal_flip(x) if direction == "horizontal" else TF.vertical_flip(x)

    @implements("aug.crop", native="torchvision.transforms.v2.functional.crop",
                params={"inpt": "drawn", "top": "drawn", "left": "drawn", "height": "drawn",
                        "width": "drawn"})
    def crop(self, x: Any, *, top: int, left: int, height: int, width: int) -> Any:
        return TF.crop(x, top, left, height, width)

    def _resize(self, x: Any, size, mode: str, antialias: bool) -> Any:
        return TF.resize(x, list(size), interpolation=_mode(mode), antialias=antialias)

    @implements("aug.resize/bilinear", native="torchvision.transforms.v2.functional.resize",
                params={"inpt": "drawn", "size": "drawn", "interpolation": "fixed: BILINEAR",
                        "max_size": "fixed: None", "antialias": "fixed: False"})
    def resize_bilinear(self, x: Any, *, size, method, grid, antialias) -> Any:
        return self._resize(x, size, "BILINEAR", False)

    @implements("aug.resize/bilinear_antialias",
                native="torchvision.transforms.v2.functional.resize",
                params={"inpt": "drawn", "size": "drawn", "interpolation": "fixed: BILINEAR",
                        "max_size": "fixed: None", "antialias": "fixed: True, the default"})
    def resize_bilinear_aa(self, x: Any, *, size, method, grid, antialias) -> Any:
        return self._resize(x, size, "BILINEAR", True)

    @implements("aug.resize/nearest", native="torchvision.transforms.v2.functional.resize",
                params={"inpt": "drawn", "size": "drawn",
                        "interpolation": "fixed: NEAREST_EXACT", "max_size": "fixed: None",
                        "antialias": "fixed: ignored by nearest"})
    def resize_nearest(self, x: Any, *, size, method, grid, antialias) -> Any:
        return self._resize(x, size, "NEAREST_EXACT", False)

    @implements("aug.resize/nearest_asymmetric",
                native="torchvision.transforms.v2.functional.resize",
                params={"inpt": "drawn", "size": "drawn", "interpolation": "fixed: NEAREST",
                        "max_size": "fixed: None", "antialias": "fixed: ignored by nearest"})
    def resize_nearest_asym(self, x: Any, *, size, method, grid, antialias) -> Any:
        return self._resize(x, size, "NEAREST", False)

    @implements("aug.color_jitter/brightness_mul",
                native="torchvision.transforms.v2.functional.adjust_brightness",
                params={"inpt": "drawn", "brightness_factor": "drawn"})
    def brightness_mul(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return TF.adjust_brightness(x, factor)

    @implements("aug.color_jitter/contrast_grey",
                native="torchvision.transforms.v2.functional.adjust_contrast",
                params={"inpt": "drawn", "contrast_factor": "drawn"})
    def contrast_grey(self, x: Any, *, factor: float, mean: str, clip: bool) -> Any:
        return TF.adjust_contrast(x, factor)

    @implements("aug.color_jitter/saturation_grey",
                native="torchvision.transforms.v2.functional.adjust_saturation",
                params={"inpt": "drawn", "saturation_factor": "drawn"})
    def saturation_grey(self, x: Any, *, factor: float, mode: str, clip: bool) -> Any:
        return TF.adjust_saturation(x, factor)

    # --- random draws: one call per image (v2 transforms draw once per call) ------------------
    @implements("aug.flip/random", native=("torchvision.transforms.v2.RandomHorizontalFlip",
                                           "torchvision.transforms.v2.RandomVerticalFlip"),
                params={"p": "drawn"})
    def random_flip(self, x: Any, *, direction: str, p: float) -> Any:
        cls = T.RandomHorizontalFlip if direction == "horizontal" else T.RandomVerticalFlip
        flip = cls(p=p)
        return torch.stack([flip(img) for img in x])

    @implements("aug.flip/random_p", native=("torchvision.transforms.v2.RandomHorizontalFlip",
                                             "torchvision.transforms.v2.RandomVerticalFlip"),
                params={"p": "drawn"})
    def random_flip_p(self, x: Any, *, direction: str, p: float) -> Any:
        return self.random_flip(x, direction=direction, p=p)

    @implements("aug.crop/random", native="torchvision.transforms.v2.RandomCrop",
                params={"size": "drawn", "padding": "fixed: None",
                        "pad_if_needed": "fixed: False", "fill": "fixed: unused",
                        "padding_mode": "fixed: unused"})
    def random_crop(self, x: Any, *, height: int, width: int) -> Any:
        crop = T.RandomCrop((height, width))
        return torch.stack([crop(img) for img in x])

    @implements("aug.crop/random_resized", native="torchvision.transforms.v2.RandomResizedCrop",
                params={"size": "fixed: the boxes are read from get_params", "scale": "drawn",
                        "ratio": "drawn", "interpolation": "fixed: unused",
                        "antialias": "fixed: unused"})
    def random_resized_boxes(self, x: Any, *, height: int, width: int, scale, ratio,
                             attempts: int) -> Any:
        rows = [T.RandomResizedCrop.get_params(img, list(scale), list(ratio)) for img in x]
        return torch.tensor(rows, dtype=torch.int64)

    @implements("aug.gaussian_noise/random",
                native="torchvision.transforms.v2.functional.gaussian_noise",
                params={"inpt": "drawn", "mean": "fixed: 0", "sigma": "drawn",
                        "clip": "fixed: False (the check reads the noise back)"})
    def random_noise(self, x: Any, *, sigma: float) -> Any:
        return TF.gaussian_noise(x, mean=0.0, sigma=sigma, clip=False)


class TorchvisionAdapter(TorchvisionAugmentationOps, TorchAdapter):
    """TorchAdapter with torchvision's augmentation API where it has one."""

    def setup(self) -> None:
        super().setup()
        try:
            import torchvision.transforms.v2  # noqa: F401
        except Exception as exc:  # RuntimeError from the operator registry, or ImportError
            raise AdapterError(f"cannot import torchvision: {exc}") from exc
