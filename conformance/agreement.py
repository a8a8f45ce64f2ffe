"""How close is close enough: the one place that defines the error metric and the bound.

The rule (design.md): a backend's error at each element may be at most ``C`` times the error
that a naive evaluation of the same mathematics in the same dtype makes there (the oracle run
in that dtype, on the same rounded inputs), with a floor of ``FLOOR`` units of the dtype's
machine epsilon times the output's scale. The naive error carries the op's conditioning,
size and dtype, so no per-op rtol/atol table is needed.

For float64 the oracle is itself the reference, so the naive error is estimated from the
float32 evaluation and scaled by eps64/eps32: the conditioning measured in float32, applied
to float64 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.vocabulary import machine_eps, tiny
from oracle.accuracy.bounds import stated_error

C = 8.0
FLOOR = 4.0
RULE = (
    "|got-exact| <= C * max(|naive-exact|, FLOOR * eps * max(|exact|, scale), tiny) per "
    "element; naive = oracle evaluated in the tested dtype (float64: float32 naive * "
    "eps64/eps32), or for derivatives also the textbook formula in the tested dtype; scale = "
    "rms(exact), or for the identity <g,u> = <v,Ju> the larger of sum|g_i u_i| and "
    "sum|v_j (Ju)_j|, and for an output the textbook gives as a sum, the sum of its terms' "
    "magnitudes per element (a sum is judged by the magnitudes of its terms); tiny = smallest "
    "normal (subnormals may flush to zero); float64: + the oracle's stated error for the op "
    "(oracle/accuracy/bounds.py)"
)


@dataclass
class Agreement:
    """The comparison of one output: metrics recorded for every check, pass or fail."""

    output: str
    ratio: float
    max_abs_err: float
    max_ulp: float
    worst_index: tuple[int, ...]
    got: float | None
    expected: float | None
    allowed: float
    nan_mismatch: bool
    shape_mismatch: str | None = None
    # Which term set the bound at the worst element: "oracle-in-dtype" (the oracle run in
    # the tested dtype), "textbook" (the spec's textbook derivative formula) or "floor".
    bound_source: str = "floor"
    # The first element (C order) beyond the bound: for trajectories (steps along axis 0)
    # the first step at which they part. None when every element is within it.
    first_failing: tuple[int, ...] | None = None
    # Statistical checks (conformance.statistics): the test's p-value.
    pvalue: float | None = None

    @property
    def passed(self) -> bool:
        return self.shape_mismatch is None and not self.nan_mismatch and self.ratio <= 1.0


def ulp(x: np.ndarray, dtype: str) -> np.ndarray:
    """One unit in the last place of each exact value, in the tested dtype."""
    eps = machine_eps(dtype)
    mag = np.maximum(np.abs(x), tiny(dtype))
    return np.exp2(np.floor(np.log2(mag))) * eps


def compare(
    name: str, got: Any, exact: Any, naive: Any, dtype: str, factor: float = 1.0,
    textbook: Any = None, scale: Any = None, *, op: str | None = None,
) -> Agreement:
    """``naive``: the oracle's own naive evaluation (float64: its float32 run, scaled).
    ``textbook``: the textbook formula kernels use, evaluated in the tested dtype itself (for
    derivatives computed from saved outputs), one array or a list of variants; the largest
    of the naive errors counts. ``scale`` (a number, or an array of the output's shape) raises
    the output's rms scale in the floor: a sum's rounding scales with the sum of its terms'
    magnitudes, not with its value. ``op`` (the spec or catalog id): for float64, the
    oracle's stated error for that op is added to the bound."""
    got = np.asarray(got, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    naive = np.asarray(naive, dtype=np.float64)
    if got.shape != exact.shape:
        return Agreement(name, float("inf"), float("inf"), float("inf"), (), None, None, 0.0,
                         False, shape_mismatch=f"got shape {got.shape}, expected {exact.shape}")
    eps = machine_eps(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        err = _abs_err(got, exact)
        naive_err = _abs_err(naive, exact)
        if dtype == "float64":
            naive_err = naive_err * (eps / machine_eps("float32"))
        book_err = np.zeros_like(naive_err)
        for book in (textbook if isinstance(textbook, list) else [textbook]):
            if book is not None:
                book_err = np.maximum(book_err, _abs_err(np.asarray(book, np.float64), exact))
        finite = exact[np.isfinite(exact)]
        rms = float(np.sqrt(np.mean(finite**2))) if finite.size else 0.0
        scale = rms if scale is None else np.maximum(np.asarray(scale, np.float64), rms)
        floor = FLOOR * eps * np.maximum(np.abs(np.nan_to_num(exact, posinf=0, neginf=0)), scale)
        # Kernels may flush subnormal results to zero (FTZ/DAZ on CPU and GPU).
        floor = np.maximum(floor, tiny(dtype))
        allowed = C * factor * np.maximum(np.maximum(naive_err, book_err), floor)
        if dtype == "float64" and op is not None:
            # The float64 reference is itself off by up to the oracle's stated error for this
            # op (oracle/accuracy/bounds.py, measured by python -m oracle accuracy): added,
            # so that no float64 kernel is blamed for the reference's own rounding.
            allowed = allowed + stated_error(op, exact, scale)
        nan_mismatch = bool(np.any(np.isnan(got) & ~np.isnan(exact)))
        ratios = np.where(err == 0, 0.0, err / np.where(allowed > 0, allowed, np.inf))
        ratios = np.where(np.isnan(ratios), np.inf, ratios)
    if ratios.size == 0:
        return Agreement(name, 0.0, 0.0, 0.0, (), None, None, 0.0, False)
    flat = int(np.argmax(ratios))
    idx = tuple(int(i) for i in np.unravel_index(flat, ratios.shape))
    beyond = np.flatnonzero(ratios > 1.0)
    first = (tuple(int(i) for i in np.unravel_index(int(beyond[0]), ratios.shape))
             if beyond.size else None)
    terms = {"floor": float(floor.flat[flat]), "oracle-in-dtype": float(naive_err.flat[flat]),
             "textbook": float(book_err.flat[flat])}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ulps = np.where(err == 0, 0.0, err / ulp(exact, dtype))
    finite_err = err[np.isfinite(err)]
    return Agreement(
        output=name,
        ratio=float(ratios.flat[flat]),
        max_abs_err=float(finite_err.max()) if finite_err.size else float("inf"),
        max_ulp=float(np.nanmax(ulps)) if np.isfinite(ulps).any() else float("inf"),
        worst_index=idx,
        got=float(got[idx]) if got.ndim else float(got),
        expected=float(exact[idx]) if exact.ndim else float(exact),
        allowed=float(allowed.flat[flat]),
        nan_mismatch=nan_mismatch,
        bound_source=max(terms, key=lambda k: terms[k]),
        first_failing=first,
    )


def _abs_err(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| where equal infinities and both-NaN count as agreement (error 0)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    diff = np.abs(a - b)
    return np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))


def worst(results: list[Agreement]) -> Agreement:
    """The output whose check is furthest from passing."""
    def key(a: Agreement) -> float:
        return float("inf") if (a.shape_mismatch or a.nan_mismatch) else a.ratio

    return max(results, key=key)
