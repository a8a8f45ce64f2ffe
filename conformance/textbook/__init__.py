"""Textbook derivatives, one module per family: the formulas kernels actually evaluate
(sigmoid' = y (1 - y) from the saved output, batch norm's fused backward from the saved
statistics), run in the tested dtype as a second naive evaluation of a derivative
(``OpSpec.textbook``). A check's bound uses the larger of this error and the oracle's own
duals run in the dtype, and its record says which set it (``bound_source``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle._reference import two_sum


class Alternatives(tuple):
    """Several evaluation orders a kernel may legitimately take for one output (a compiler
    contracting a product and a sum into one fused multiply-add, or not): a hook returns
    one for an output, and the bound uses the worst of them."""


class Summed(NamedTuple):
    """A hook's output that sums terms which may cancel: its value (an array or
    ``Alternatives``) and the sum of its terms' magnitudes, carried through the formula
    (|a| |b| for a product, |a| + |b| for a sum), element by element. A kernel may add the
    terms in any order, so the bound's floor scales with the magnitudes, as the identity
    <g,u> = <v,Ju> does, instead of with a value that survives the cancellation."""

    value: Any
    magnitude: Any


def absolute(a: Any) -> np.ndarray:
    """|a| in float64: the factor a ``Summed`` magnitude carries for a term a."""
    return np.abs(np.asarray(a, np.float64))


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p = fl(a b) and the exact error e = a b - p in float64 (Dekker's product with
    Veltkamp's split); ignores overflow of the split, as the drawn magnitudes stay small."""
    factor = np.float64(2.0**27 + 1)
    p = a * b

    def split(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = factor * v
        hi = c - (c - v)
        return hi, v - hi

    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a b + c rounded once (to within an ulp: TwoProduct and TwoSum, then one sum), in the
    dtype: what a fused multiply-add instruction returns."""
    if a.dtype != np.float64:  # the product of two narrower floats is exact in float64
        wide = a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)
        return wide.astype(a.dtype)
    p, e = two_product(a, b)
    s, t = two_sum(p, c)
    return s + (t + e)
