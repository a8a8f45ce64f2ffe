"""Statistical specs of the aug family (mode "stat"): the frameworks' own random draws.

Each check calls the framework's random op once (seeded) on a batch built so that every
draw can be read back from the output: images with distinct values tell a flip from no
flip and where a crop was taken; a constant, zero-mean or low-saturation image gives the
jitter factor; zeros give the noise. It then checks the output against the oracle given
the draws read back (deterministic part, the agreement rule) and the draws against their
law at the suite's false-alarm rate ALPHA = 1e-6 (conformance.statistics): one test per
check (two for the box samplers: size law and offsets). The power against a plausible bug
is computed in conformance/specs/augmentation/power.py and quoted in each check's docstring.

Drawn in float32 only, except the noise (generated in the tested dtype): a flip decision,
a crop box or a factor does not depend on the image dtype, and the union bound of the
suite's false alarms counts every test (statistics.BUDGET_TESTS). At the default 20
examples the family makes at most 20 x (1 + 1 + 1 + 2 + 2 + 1) + 20 x 4 = 240 tests a run
(fewer where hypothesis exhausts a small menu): a false alarm with probability <= 2.4e-4.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy import stats

from adapters.base import Adapter, outputs_list
from conformance import agreement
from conformance.checks import CheckOutcome
from conformance.registry import Case, OpSpec, register
from conformance.specs.augmentation import _stats as T
from conformance.specs.augmentation._common import images
from conformance.statistics import ALPHA, pvalue_agreement
from conformance.vocabulary import numpy_dtype
from oracle import augmentation as A

FLIPS = 2048          # images per flip check
CROPS = 2048          # crops per random-crop check
BOXES = 4096          # boxes per box-sampler check
FACTORS = 4096        # jitter factors per check
NOISE = 8192          # noise values per check
FLIP_PS = tuple(k / 8 for k in range(1, 8))
NOISE_SIGMAS = (0.125, 0.25, 0.5, 0.75, 1.5, 2.0, 3.0)
# Box-sampler draws: (height, width), area fraction and aspect-ratio ranges.
BOX_IMAGES = ((6, 5), (8, 8), (5, 7))
BOX_SCALES = ((0.08, 1.0), (0.25, 1.0), (0.5, 0.75))
BOX_RATIOS = ((0.75, 4 / 3), (0.5, 2.0), (2 / 3, 1.5))
# The torchvision and kornia fallbacks place their crop differently (centre, uniform): the
# draws keep the fallback's probability below this, where neither placement is seen.
MAX_FALLBACK = 1e-4


def _run(adapter: Adapter, spec: OpSpec, args: list[np.ndarray], kwargs: dict, dtype: str,
         seed: int) -> list[np.ndarray]:
    adapter.seed(seed)
    fn = adapter.op(spec.id)
    with adapter.context():
        out = fn(*[adapter.to_native(a, dtype) for a in args], **kwargs)
    return [adapter.to_numpy(o).astype(np.float64) for o in outputs_list(out)]


def _exact(name: str, got: np.ndarray, want: np.ndarray, dtype: str) -> agreement.Agreement:
    """A selection (flip, crop) moves values without arithmetic: exact and naive coincide."""
    return agreement.compare(name, got, want, want, dtype)


def _coded(x: np.ndarray, n: int, dtype: str) -> np.ndarray:
    """n images of x's shape whose values are all distinct within each image (the ramp
    k / size in [-2, 2), exact in every dtype here), so a flip or a crop is read back from
    the output: the drawn values only set the shape (draws may shrink to ties)."""
    size = int(np.prod(x.shape[1:]))
    one = (np.arange(size, dtype=np.float64) * (4.0 / 2 ** int(np.ceil(np.log2(size)))) - 2.0)
    return np.tile(one.reshape(x.shape[1:]), (n, 1, 1, 1)).astype(numpy_dtype(dtype)).astype(
        np.float64)


def _outcome(agreements: list[agreement.Agreement]) -> CheckOutcome:
    return CheckOutcome(agreements, [], [a.output for a in agreements])


# --- flips -------------------------------------------------------------------------------

def _flip_inputs(ps: tuple[float, ...]):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        return st.builds(lambda x, d, p: Case((x,), {"direction": d, "p": p}, ("x",)),
                         images(), st.sampled_from(A.geometry.DIRECTIONS),
                         st.sampled_from(ps))

    return inputs


def _flip_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                seed: int) -> CheckOutcome:
    """FLIPS images of x's shape (distinct values: a flip changes every image); each output image
    must be its input or its flip (the flip read back as the nearer of the two), and the
    flip count a Binomial(FLIPS, p) draw: two-sided exact binomial test. Power (computed,
    power.py): 0.99998 against a flip probability of 0.4 for 0.5, and at least that against
    p - 0.1 for every drawn p."""
    direction, p = case.kwargs["direction"], case.kwargs["p"]
    x = _coded(case.args[0], FLIPS, dtype)
    (y,) = _run(adapter, spec, [x], case.kwargs, dtype, seed)
    flipped = A.flip(x, direction=direction)
    flips = (np.abs(y - flipped).reshape(FLIPS, -1).max(axis=1)
             < np.abs(y - x).reshape(FLIPS, -1).max(axis=1))
    k = int(flips.sum())
    test = stats.binomtest(k, FLIPS, p)
    spread = stats.norm.isf(ALPHA / 2) * math.sqrt(p * (1 - p) / FLIPS)
    return _outcome([_exact("y given its flips", y, A.random_flip(x, flips, direction=direction),
                            dtype),
                     pvalue_agreement("flip fraction (binomial test)", test.pvalue, k / FLIPS,
                                      p, spread)])


# --- crops of a fixed size at uniform offsets ------------------------------------------------

# (image shape, crop size) pairs: a small menu, since JAX compiles per shape and crop size.
CROP_MENU = (((1, 1, 3, 4), (2, 2)), ((2, 3, 2, 3), (1, 2)), ((1, 3, 4, 5), (2, 3)),
             ((1, 1, 3, 4), (1, 1)), ((2, 3, 5, 4), (5, 1)))


def _crop_inputs(dtype: str) -> st.SearchStrategy[Case]:
    return st.sampled_from(CROP_MENU).map(
        lambda m: Case((np.zeros(m[0]),), {"height": m[1][0], "width": m[1][1]}, ("x",)))


def _crop_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                seed: int) -> CheckOutcome:
    """CROPS crops of images of x's shape (distinct values: a crop tells its offset); each
    must be the oracle's crop at the offset read back (the nearest candidate), and the
    offsets (top, left) uniform on every position: Pearson's test over all of them. Power
    (computed, power.py): 1.0000 (to 4 places, every menu entry) against offsets drawn from
    0..H-h-1, the last position never reached."""
    h, w = case.kwargs["height"], case.kwargs["width"]
    x = _coded(case.args[0], CROPS, dtype)
    (y,) = _run(adapter, spec, [x], case.kwargs, dtype, seed)
    h_img, w_img = x.shape[2:]
    offsets = [(t, l) for t in range(h_img - h + 1) for l in range(w_img - w + 1)]
    cand = np.stack([x[:, :, t:t + h, l:l + w] for t, l in offsets], axis=1)
    pick = np.abs(cand - y[:, None]).reshape(CROPS, len(offsets), -1).max(axis=2).argmin(axis=1)
    want = cand[np.arange(CROPS), pick]
    counts = np.bincount(pick, minlength=len(offsets))
    _, _, pvalue = T.pooled_chisquare(counts, np.full(len(offsets), CROPS / len(offsets)))
    return _outcome([_exact("crop at its offset", y, want, dtype),
                     pvalue_agreement("offsets (chi-square, uniform)", pvalue,
                                      float(counts.max() / CROPS), 1 / len(offsets),
                                      float(stats.chi2.isf(ALPHA, len(offsets) - 1)))])


# --- box samplers (random resized crop) -------------------------------------------------------

def _law_kwargs(kw: dict, sampler: str) -> dict:
    return {"scale": kw["scale"], "ratio": kw["ratio"], "attempts": kw["attempts"],
            "sampler": sampler, "fallback_offset": "uniform"}


def _fallback_probability(kw: dict, sampler: str) -> float:
    """The mass of the fallback box (every attempt failed) under the law."""
    law = A.resized_crop_law(kw["height"], kw["width"], **_law_kwargs(kw, sampler))
    fresh = A.resized_crop_law(kw["height"], kw["width"],
                               **{**_law_kwargs(kw, sampler), "attempts": kw["attempts"] + 1})
    return float(np.abs(law - fresh).sum())


def _box_inputs(sampler: str, attempts: tuple[int, ...]):
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            h, w = d(st.sampled_from(BOX_IMAGES))
            kw = {"height": h, "width": w, "scale": d(st.sampled_from(BOX_SCALES)),
                  "ratio": d(st.sampled_from(BOX_RATIOS)), "attempts": d(st.sampled_from(attempts))}
            return Case((np.zeros((1, 1, h, w)),), kw, ("x",))

        cases = draw()
        if sampler == "tf":
            return cases
        return cases.filter(lambda c: _fallback_probability(c.kwargs, sampler) < MAX_FALLBACK)

    return inputs


def _floor_p(logp: float) -> float:
    """A p-value from its logarithm, floored at the smallest normal double: a test whose
    evidence is overwhelming still records a finite ratio (log p / log ALPHA <= 51.3)."""
    return float(max(math.exp(logp), np.finfo(np.float64).tiny)) if logp > -700 else \
        float(np.finfo(np.float64).tiny)


def _box_tests(boxes: np.ndarray, law: np.ndarray) -> list[agreement.Agreement]:
    """Pearson tests of the sizes (h, w) against the law's marginal, and of the offsets
    given each size against the law's conditional (cells of expected count < 5 pooled;
    an impossible box, off the law's support, is an outright failure)."""
    n = boxes.shape[0]
    counts = np.zeros(law.shape)
    inside = ((boxes[:, 2] >= 1) & (boxes[:, 3] >= 1) & (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0)
              & (boxes[:, 0] + boxes[:, 2] <= law.shape[2])
              & (boxes[:, 1] + boxes[:, 3] <= law.shape[3]))
    for t, l, h, w in boxes[inside]:
        counts[h, w, t, l] += 1
    sizes_obs, sizes_law = counts.sum(axis=(2, 3)), law.sum(axis=(2, 3))
    size_stat, size_df, _ = T.pooled_chisquare(sizes_obs, n * sizes_law)
    impossible = not inside.all() or math.isinf(size_stat)
    size_logp = -math.inf if impossible else (
        0.0 if size_df == 0 else float(stats.chi2.logsf(size_stat, size_df)))
    stat_sum, df_sum = 0.0, 0
    for h, w in zip(*np.nonzero(sizes_obs)):
        cond = law[h, w] / max(sizes_law[h, w], 1e-300)
        stat, df, _ = T.pooled_chisquare(counts[h, w], sizes_obs[h, w] * cond)
        stat_sum, df_sum = stat_sum + stat, df_sum + df
    off_logp = 0.0 if df_sum == 0 else float(stats.chi2.logsf(stat_sum, df_sum))
    return [pvalue_agreement("box sizes (chi-square)", _floor_p(size_logp), size_stat,
                             float(size_df), 0.0),
            pvalue_agreement("offsets given the size (chi-square)", _floor_p(off_logp),
                             stat_sum, float(df_sum), 0.0)]


def _box_check(sampler: str):
    def check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
              seed: int) -> CheckOutcome:
        """BOXES boxes (top, left, height, width) from the framework's sampler for
        images of the drawn size, against the oracle's law (oracle.augmentation
        .resized_crop_law): the size law and the offsets given the size, two Pearson
        tests. Power (computed, power.py, worst draw): torchvision law, 1.0000 against
        sides truncated instead of rounded (size test) and 1.0000 against offsets
        0..H-h-1 (offsets test); TF law, 0.9953 against the aspect ratio drawn
        log-uniformly instead of uniformly (size test)."""
        kw = case.kwargs
        x = np.zeros((BOXES, 1, kw["height"], kw["width"]))
        (boxes,) = _run(adapter, spec, [x], kw, dtype, seed)
        law = A.resized_crop_law(kw["height"], kw["width"], **_law_kwargs(kw, sampler))
        return _outcome(_box_tests(np.rint(boxes).astype(np.int64), law))

    return check


# --- colour jitter factors ------------------------------------------------------------------

JITTER = ("brightness", "contrast", "saturation")


def _jitter_inputs(dtype: str) -> st.SearchStrategy[Case]:
    @st.composite
    def draw(d: st.DrawFn) -> Case:
        which = d(st.sampled_from(JITTER))
        if which == "brightness":
            hi = d(st.sampled_from((1 / 16, 1 / 8, 1 / 4, 1 / 2)))
            lo = -hi
        else:
            lo = d(st.sampled_from((0.0, 0.25, 0.5, 0.75)))
            hi = lo + d(st.sampled_from((0.25, 0.5, 1.0)))
        return Case((), {"which": which, "lower": lo, "upper": hi})

    return draw()


# Read-back images, one per kind: brightness adds to 1/2; contrast scales a zero-mean image;
# saturation scales S = 0.2 of the pixel (0.5, 0.45, 0.4) (S * factor < 1 for factors < 5).
_JITTER_PIXELS = {"brightness": np.array([0.5, 0.5, 0.5]),
                  "contrast": np.array([0.25, -0.125, 0.375]),
                  "saturation": np.array([0.5, 0.45, 0.4])}


def _jitter_images(which: str) -> np.ndarray:
    px = _JITTER_PIXELS[which]
    if which == "contrast":  # each channel's two pixels are +-v: channel means 0
        return np.stack([px, -px], axis=1)[None, :, None, :].repeat(FACTORS, axis=0)
    return np.broadcast_to(px[None, :, None, None], (FACTORS, 3, 1, 1)).copy()


def _read_factors(which: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if which == "brightness":
        return (y - x).mean(axis=(1, 2, 3))
    if which == "contrast":
        return (y / x).mean(axis=(1, 2, 3))
    _, s, _ = A.rgb_to_hsv(y)
    return s[:, 0, 0] / 0.2


def _jitter_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                  seed: int) -> CheckOutcome:
    """FACTORS images, one factor each, read back from the output; every factor must lie
    in [lower, upper] (to the read-back's float32 precision), and the factors follow
    U(lower, upper): one-sample Kolmogorov-Smirnov test. Power (computed, power.py): 1
    against a range 10% narrower (no factor falls in the missing 5% at the low end, so
    D >= 0.05 surely, above the critical 0.0420 at FACTORS = 4096)."""
    which, lo, hi = case.kwargs["which"], case.kwargs["lower"], case.kwargs["upper"]
    x = _jitter_images(which)
    (y,) = _run(adapter, spec, [x], case.kwargs, dtype, seed)
    f = _read_factors(which, x, y)
    slack = 1e-5 * max(1.0, abs(hi))
    outside = float(np.max(np.maximum(0.0, np.maximum(lo - slack - f, f - hi - slack))))
    test = stats.kstest(f, stats.uniform(lo, hi - lo).cdf)
    return _outcome([_exact("factors outside [lower, upper]", np.array(outside), np.array(0.0),
                            "float32"),
                     pvalue_agreement("factors (KS test, uniform)", test.pvalue,
                                      float(test.statistic), 0.0,
                                      float(stats.kstwo.isf(ALPHA, f.size)))])


# --- Gaussian noise -----------------------------------------------------------------------

def _noise_inputs(dtype: str) -> st.SearchStrategy[Case]:
    return st.sampled_from(NOISE_SIGMAS).map(lambda s: Case((), {"sigma": s}))


def _noise_check(adapter: Adapter, spec: OpSpec, case: Case, dtype: str,
                 seed: int) -> CheckOutcome:
    """NOISE values of noise added to zeros (the output is the noise), in the tested dtype:
    a KS test against N(0, sigma^2) and the chi-square test of the variance (mean 0
    known), combined into one by Bonferroni. Power (computed, power.py; the variance test
    alone at ALPHA / 2): 1.0000 against a standard deviation sigma^2 for sigma, for every
    drawn sigma (all at least 25% from 1)."""
    sigma = case.kwargs["sigma"]
    x = np.zeros((NOISE // 12, 3, 2, 2))
    (y,) = _run(adapter, spec, [x], case.kwargs, dtype, seed)
    z = y.ravel()
    ks = stats.kstest(z, stats.norm(0.0, sigma).cdf).pvalue
    var = T.variance_pvalue(z, sigma)
    return _outcome([pvalue_agreement("noise (KS and variance, Bonferroni)",
                                      T.bonferroni([ks, var]), float(np.std(z)), sigma,
                                      sigma * 5 / math.sqrt(z.size))])


register(
    OpSpec("aug.flip/random", A.random_flip, _flip_inputs((0.5,)), dtypes=("float32",),
           check=_flip_check, notes="p = 1/2, the only probability of TF's and Keras' flips"),
    OpSpec("aug.flip/random_p", A.random_flip, _flip_inputs(FLIP_PS), dtypes=("float32",),
           check=_flip_check, notes="p drawn in {1/8, ..., 7/8}"),
    OpSpec("aug.crop/random", A.crop, _crop_inputs, dtypes=("float32",), check=_crop_check,
           notes="fixed crop size at a uniform offset"),
    OpSpec("aug.crop/random_resized", A.crop, _box_inputs("torchvision", (10,)),
           dtypes=("float32",), check=_box_check("torchvision"),
           notes="torchvision's and kornia's RandomResizedCrop box law (10 attempts)"),
    OpSpec("aug.crop/distorted_box", A.crop, _box_inputs("tf", (10, 100)), dtypes=("float32",),
           check=_box_check("tf"),
           notes="tf.image.sample_distorted_bounding_box's box law, whole image as its box"),
    OpSpec("aug.color_jitter/random", A.color_jitter, _jitter_inputs, dtypes=("float32",),
           check=_jitter_check, notes="brightness delta, contrast or saturation factor"),
    OpSpec("aug.gaussian_noise/random", A.gaussian_noise, _noise_inputs, check=_noise_check,
           notes="N(0, sigma^2) noise in the tested dtype"),
)
