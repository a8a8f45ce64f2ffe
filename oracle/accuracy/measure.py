"""Errors of the float64 oracle against the mpmath values, per element and normwise.

``eps`` is 2^-52 (the float64 machine epsilon) and ulp(e) = 2^(floor(log2 |e|) - 52), at
least 2^-1074 (the subnormal spacing). The measures, per element i of an output:

  ulp    |o_i - e_i| / ulp(e_i)                       (the error in units in the last place)
  rel    |o_i - e_i| / (eps |e_i|)                     (relative error in eps)
  norm   |o_i - e_i| / (eps max(|e_i|, rms(e)))        (normwise: against the output's scale)
  terms  |o_i - e_i| / (eps t_i)                       (against a condition scale t_i, e.g.
                                                        sum |x_j w_j| for a dot product)

Every denominator is at least 2^-1074, so an exact 0 computed as 0 has error 0 and a
subnormal result is judged on the subnormal grid. Equal infinities and NaN == NaN agree;
an exact value beyond the float64 range agrees with the infinity it rounds to.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

EPS = 2.0**-52
SUBNORMAL = 2.0**-1074
KINDS = ("ulp", "rel", "norm", "terms")


def to_float(a: Any) -> np.ndarray:
    """An mpf (object) array, or an oracle output, as float64 (None -> -1: 'never')."""
    arr = np.asarray(a, dtype=object)
    out = np.empty(arr.shape, dtype=np.float64)
    for idx in np.ndindex(arr.shape):
        v = arr[idx]
        out[idx] = -1.0 if v is None else float(v)
    return out


def abs_errors(got: Any, exact: Any) -> np.ndarray:
    """|got - exact| computed in mpmath (the exact value is not rounded first), as float64."""
    g = np.asarray(got, dtype=object)
    e = np.asarray(exact, dtype=object)
    if g.shape != e.shape:
        raise ValueError(f"oracle output {g.shape} and mpmath value {e.shape} differ in shape")
    out = np.zeros(g.shape, dtype=np.float64)
    with mpmath.workdps(WORK_DIGITS):  # never round the exact value to the caller's precision
        _fill_errors(g, e, out)
    return out


# The precision differences are taken at: above the transcriptions' 50 digits, so that an
# exact value is never rounded (mpmath's default is 53 bits) before it is compared.
WORK_DIGITS = 100


def _fill_errors(g: np.ndarray, e: np.ndarray, out: np.ndarray) -> None:
    for idx in np.ndindex(g.shape):
        gv = -1.0 if g[idx] is None else float(g[idx])
        ev = mpmath.mpf(-1) if e[idx] is None else mpmath.mpf(e[idx])
        if mpmath.isnan(ev) or np.isnan(gv):
            out[idx] = 0.0 if (mpmath.isnan(ev) and np.isnan(gv)) else np.inf
        elif mpmath.isinf(ev) or np.isinf(gv):
            # An exact value beyond the float64 range rounds to inf: an oracle inf of the
            # same sign is the correctly rounded result.
            out[idx] = 0.0 if gv == float(ev) else np.inf
        else:
            out[idx] = float(abs(mpmath.mpf(gv) - ev))


def ulp(exact: np.ndarray) -> np.ndarray:
    mag = np.abs(exact)
    with np.errstate(divide="ignore"):
        e = np.where(mag > 0, np.floor(np.log2(np.where(mag > 0, mag, 1.0))), -1074.0)
    return np.maximum(np.exp2(e - 52.0), SUBNORMAL)


def measure(err: np.ndarray, exact: np.ndarray, kind: str,
            terms: np.ndarray | None = None) -> np.ndarray:
    """The per-element error in the units of ``kind`` (see the module docstring)."""
    exact = np.where(np.isfinite(exact), exact, 0.0)
    if kind == "ulp":
        denom = ulp(exact)
    elif kind == "rel":
        denom = EPS * np.abs(exact)
    elif kind == "norm":
        scale = float(np.sqrt(np.mean(exact**2))) if exact.size else 0.0
        denom = EPS * np.maximum(np.abs(exact), scale)
    elif kind == "terms":
        if terms is None:
            raise ValueError("kind 'terms' needs the condition scale")
        denom = EPS * np.asarray(terms, dtype=np.float64)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.where(err == 0, 0.0, err / np.maximum(denom, SUBNORMAL))
    return np.where(np.isnan(q), np.inf, q)


def normwise(err: np.ndarray, exact: np.ndarray) -> float:
    """max |o - e| / (eps max |e|): the error against the output's largest value."""
    finite = np.where(np.isfinite(exact), np.abs(exact), 0.0)
    top = float(finite.max()) if finite.size else 0.0
    worst = float(err.max()) if err.size else 0.0
    return 0.0 if worst == 0 else worst / max(EPS * top, SUBNORMAL)
