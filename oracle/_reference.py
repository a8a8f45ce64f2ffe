"""Error-free transformations for the oracle's reference run, and when to apply them.

The float64 oracle is the reference every backend is measured against, so where a plain
formula would round more than float64 allows (a rounded shift before exp, a mean rounded
once before centring, squares that overflow), the oracle compensates (oracle/accuracy
measures the result). Runs in other dtypes (``_canon.compute_dtype``: the naive bound of
the agreement rule) keep the plain formula that kernels use, so that the naive error still
models a kernel's rounding; ``reference()`` tells the two apart.

Everything here uses only + and - (and NumPy functions the dual numbers support), so it
runs on ``oracle.autodiff.Dual`` too: the correction terms of an error-free transformation
have tangent 0 up to rounding, as they should (they are 0 in exact arithmetic).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import _canon


def reference() -> bool:
    """True in the reference (float64) run, where compensated steps are applied."""
    return _canon.current_dtype() == np.float64


def two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """(s, e) with s = fl(a + b) and a + b = s + e exactly (Knuth's TwoSum, any magnitudes,
    round to nearest; no overflow of a + b assumed)."""
    # Infinite inputs give a NaN error term (inf - inf): callers mask it where s is not finite.
    with np.errstate(invalid="ignore"):
        s = a + b
        bb = s - a
        return s, (a - (s - bb)) + (b - bb)


def _exponents(magnitude: Any) -> tuple[np.ndarray, np.ndarray]:
    """(h, r), h + r = e with 2^(e-1) <= magnitude < 2^e (e = 0 for 0, inf or NaN), split in
    two so that each of 2^+-h and 2^+-r is a normal float64 for any magnitude, subnormal
    ones included."""
    m = np.abs(np.asarray(magnitude, dtype=np.float64))
    _, e = np.frexp(np.where((m > 0) & np.isfinite(m), m, 1.0))
    return e // 2, e - e // 2


def scale_down(x: Any, magnitude: Any) -> Any:
    """x * 2^-e (two exact power-of-two products), with 2^e the binade above ``magnitude``:
    values of that magnitude land in [0.5, 1), so their squares neither overflow nor
    underflow."""
    h, r = _exponents(magnitude)
    return (x * np.ldexp(1.0, -h)) * np.ldexp(1.0, -r)


def scale_up(y: Any, magnitude: Any) -> Any:
    """The inverse of ``scale_down`` (exact unless the result overflows or is subnormal)."""
    h, r = _exponents(magnitude)
    return (y * np.ldexp(1.0, h)) * np.ldexp(1.0, r)
