"""Specs of the aug family's geometric ops given their parameters: flip, box crop, resize.

Resize has one variant per framework code path: the interpolation, the sampling grid and
antialiasing are fixed per variant (docs/conventions/augmentation.md §Resize), the input and
output sizes drawn from small menus (up- and downsampling, ratios that are not integers,
and sample points that fall exactly on pixel boundaries for nearest: 4 -> 3 puts output 1 at
source 2.0 on the half-pixel grid).
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance import bench_cases as B
from conformance import strategies as S
from conformance.registry import Case, OpSpec, register
from conformance.specs.augmentation._common import bench_images, images
from oracle import augmentation as A


def _flip(dtype: str) -> st.SearchStrategy[Case]:
    return st.builds(lambda x, d: Case((x,), {"direction": d}, ("x",)), images(),
                     st.sampled_from(A.geometry.DIRECTIONS))


def _boxes(hw: tuple[int, int]) -> list[dict[str, int]]:
    """Three boxes per image size: a corner pixel, a strip along the far edge, and an inner
    rectangle (JAX compiles a crop per box: a menu, not free boxes)."""
    h, w = hw
    return [{"top": 0, "left": 0, "height": 1, "width": 1},
            {"top": h - 1, "left": 0, "height": 1, "width": w},
            {"top": h // 3, "left": w // 3, "height": h - h // 3, "width": max(1, w - w // 2)}]


def _crop(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        x = d(images())
        return Case((x,), d(st.sampled_from(_boxes(x.shape[2:]))), ("x",))

    return draw()


# (input shape, output size) pairs: down and up in each axis, non-integer ratios, 4 -> 3
# (nearest's boundary case), batch 2 and 3 channels. Four pairs: JAX compiles per pair,
# dtype and mode, which is most of the family's JAX time.
RESIZE = (((1, 2, 3, 4), (5, 7)), ((1, 2, 3, 4), (2, 3)), ((2, 1, 5, 4), (3, 8)),
          ((1, 3, 6, 5), (4, 9)))
RESIZE_AA = (((1, 2, 6, 5), (3, 2)), ((1, 1, 7, 8), (2, 3)), ((2, 1, 4, 3), (3, 2)),
             ((1, 2, 3, 4), (5, 7)))
# The asymmetric grid beyond 2x upsampling samples past the last pixel centre + 1/2.
RESIZE_ASYM = RESIZE[:3] + (((1, 2, 2, 3), (7, 9)),)


def _resize(pairs, method: str, grid: str, antialias: bool = False):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            shape, size = d(st.sampled_from(pairs))
            x = d(S.arrays(shape, -4.0, 4.0))
            return Case((x,), {"size": size, "method": method, "grid": grid,
                               "antialias": antialias}, ("x",))

        return draw()

    return inputs


def _bench_resize(method: str, grid: str, antialias: bool = False) -> dict:
    def make(s: tuple[int, ...]) -> Case:
        size = (3 * s[2] // 4, 3 * s[3] // 4)
        return Case((B.normal(s),), {"size": size, "method": method, "grid": grid,
                                     "antialias": antialias}, ("x",))

    return bench_images(make)


def _resize_spec(variant: str, pairs, method: str, grid: str, antialias: bool = False,
                 notes: str = "") -> OpSpec:
    return OpSpec(f"aug.resize/{variant}", A.resize, _resize(pairs, method, grid, antialias),
                  grad_wrt=(0,), bench=_bench_resize(method, grid, antialias), notes=notes)


def _bench_flip() -> dict:
    return bench_images(lambda s: Case((B.normal(s),), {"direction": "horizontal"}, ("x",)))


def _bench_crop() -> dict:
    return bench_images(lambda s: Case((B.normal(s),), {"top": s[2] // 8, "left": s[3] // 8,
                                                        "height": 3 * s[2] // 4,
                                                        "width": 3 * s[3] // 4}, ("x",)))


register(
    OpSpec("aug.flip", A.flip, _flip, grad_wrt=(0,), bench=_bench_flip()),
    OpSpec("aug.crop", A.crop, _crop, grad_wrt=(0,), bench=_bench_crop(),
           notes="a given box (top, left, height, width); the box laws are aug.crop/random*"),
    _resize_spec("bilinear", RESIZE, "bilinear", "half_pixel"),
    _resize_spec("bilinear_antialias", RESIZE_AA, "bilinear", "half_pixel", True,
                 notes="triangle kernel widened by the scale when downsampling"),
    _resize_spec("bilinear_align_corners", RESIZE, "bilinear", "align_corners"),
    _resize_spec("bilinear_asymmetric", RESIZE_ASYM, "bilinear", "asymmetric"),
    _resize_spec("nearest", RESIZE, "nearest", "half_pixel",
                 notes="half-pixel grid, floor (torch nearest-exact, TF2, JAX)"),
    _resize_spec("nearest_asymmetric", RESIZE_ASYM, "nearest", "asymmetric",
                 notes="source floor(i * in / out) (torch 'nearest', TF1's default)"),
    _resize_spec("nearest_align_corners", RESIZE, "nearest", "align_corners",
                 notes="corners aligned, rounded half away from zero (TF align_corners=True)"),
)

