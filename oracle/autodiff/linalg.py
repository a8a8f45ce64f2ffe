"""Derivative rule of ``numpy.linalg.eigh`` for ``Dual`` (symmetric eigendecomposition).

For A = U diag(w) U^T with distinct eigenvalues and a symmetric tangent dA, first-order
perturbation theory gives, with M = U^T dA U,

    dw_i = M_ii,        dU = U (F o M),   F_ij = 1 / (w_j - w_i) (i != j),  F_ii = 0,

i.e. du_j = sum_{i != j} u_i (u_i^T dA u_j) / (w_j - w_i): each eigenvector stays of unit
length and keeps NumPy's sign (the tangent has no u_j component), so the derivative is that
of the very function ``numpy.linalg.eigh`` computes, not of some other choice of basis.

``numpy.linalg.eigh`` reads one triangle of its input (``UPLO='L'`` by default, the lower):
as a function of the whole array it depends on that triangle only, and the rule takes the
tangent of that triangle, mirrored (for a symmetric tangent this is the tangent itself).

Repeated eigenvalues are declared, not guessed: where two eigenvalues coincide the
eigenvectors are not differentiable (any rotation inside the eigenspace is as good) and the
eigenvalues split along the eigenvalues of a projected perturbation, which is not linear in
dA. When two eigenvalues are closer than ``degenerate_tolerance`` (a few units of rounding of
the spectrum), the rule raises ``DegenerateEigenvalues`` naming the pair; quantities that stay
differentiable there (projectors onto whole eigenspaces, g(A) for smooth g) must be derived
some other way. The rule is written with NumPy calls only, so nested duals (second
derivatives) dispatch through it again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import ml_dtypes
import numpy as np
import scipy.linalg

from oracle.autodiff import magnitude
from oracle.autodiff.dual import Dual, dtype_of, innermost
from oracle.autodiff.functions import HANDLED

# Two eigenvalues closer than this many units of rounding of the spectrum (n * eps * max|w|)
# are taken as repeated: an eigensolver cannot separate them, and neither can a derivative.
DEGENERATE_ULPS = 4.0


class DegenerateEigenvalues(ValueError):
    """The derivative of eigh is requested where two eigenvalues coincide."""


class EighResult(NamedTuple):
    """The fields of ``numpy.linalg.eigh``'s result (ascending eigenvalues, columns of U)."""

    eigenvalues: Any
    eigenvectors: Any


def _eps(dtype: Any) -> float:
    dt = np.dtype(dtype)
    return float(np.finfo(dt).eps) if dt.kind == "f" else float(ml_dtypes.finfo(dt).eps)


def degenerate_tolerance(w: Any, dtype: Any = np.float64) -> np.ndarray:
    """The gap below which two eigenvalues of one matrix (the last axis of ``w``) count as
    repeated, for an eigendecomposition computed in ``dtype``."""
    w = np.asarray(w, dtype=np.float64)
    scale = np.max(np.abs(w), axis=-1, keepdims=True) if w.shape[-1] else np.zeros(1)
    return DEGENERATE_ULPS * w.shape[-1] * _eps(dtype) * scale


def _check_distinct(w: Any, dtype: Any) -> None:
    w = np.asarray(w, dtype=np.float64)
    if w.shape[-1] < 2:
        return
    tol = degenerate_tolerance(w, dtype)
    close = np.diff(w, axis=-1) <= tol  # ascending: adjacent gaps are the smallest ones
    if np.any(close):
        at = tuple(int(i) for i in np.argwhere(close)[0])
        i, lead = at[-1], at[:-1]
        raise DegenerateEigenvalues(
            f"eigh derivative at repeated eigenvalues: w[{i}] = {w[lead + (i,)]!r} and "
            f"w[{i + 1}] = {w[lead + (i + 1,)]!r} coincide within {float(tol[lead][0]):.3g}: "
            "the eigenvectors have no derivative there (any rotation inside the eigenspace "
            "is as good), and the eigenvalues split non-linearly in the perturbation")


def _triangle_tangent(t: Any, uplo: str) -> Any:
    """The tangent eigh sees: the triangle it reads, mirrored onto the other one."""
    low = np.tril(t) if uplo == "L" else np.triu(t)
    strict = np.tril(t, -1) if uplo == "L" else np.triu(t, 1)
    return low + np.swapaxes(strict, -1, -2)


def _perturbation(w: Any, u: Any, ta: Any) -> tuple[Any, Any]:
    """(dw, dU) = (diag M, U (F o M)), M = U^T dA U, F_ij = 1 / (w_j - w_i) off the diagonal."""
    m = np.matmul(np.matmul(np.swapaxes(u, -1, -2), ta), u)
    dw = np.diagonal(m, axis1=-2, axis2=-1)
    n = np.shape(innermost(w))[-1]
    eye = np.eye(n, dtype=dtype_of(w))
    diff = w[..., None, :] - w[..., :, None]  # diff[i, j] = w_j - w_i
    f = np.where(eye > 0, np.zeros_like(diff), 1 / (diff + eye))
    return dw, np.matmul(u, f * m)


def _eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803  (NumPy's keyword)
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {UPLO!r}")
    if not isinstance(a, Dual):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return EighResult(w, v)
    if magnitude.active():
        raise magnitude.unsupported("linalg.eigh")
    w, u = np.linalg.eigh(a.value, UPLO=UPLO)  # dispatches again for nested duals
    _check_distinct(innermost(w), dtype_of(a))
    dw, du = _perturbation(w, u, _triangle_tangent(a.tangent, UPLO))
    return EighResult(Dual(w, dw), Dual(u, du))


HANDLED[np.linalg.eigh] = _eigh


# --------------------------------------------------------------------------- refined


def refine(a: np.ndarray, w: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of Ogita & Aishima's refinement of an eigendecomposition of the symmetric a
    (Japan J. Indust. Appl. Math. 35, 2018, Algorithm 1), products in np.longdouble:
    R = I - U^T U, S = U^T A U, w_i = s_ii / (1 - r_ii), E_ij = (s_ij + w_j r_ij) /
    (w_j - w_i) for separated pairs and r_ij / 2 inside a cluster (|w_i - w_j| <= delta),
    U' = U + U E. The error of U drops from ~ eps ||A|| / gap to ~ (eps ||A|| / gap)^2:
    a float64 pair accurate to its own rounding. Returns float64 (w', U') (same order)."""
    ld = np.longdouble
    al, ul = a.astype(ld), u.astype(ld)
    n = a.shape[-1]
    r = np.eye(n, dtype=ld) - ul.T @ ul
    s = ul.T @ al @ ul
    lam = np.diagonal(s) / (1 - np.diagonal(r))
    off = s - np.diag(lam)
    delta = 2 * (np.linalg.norm(off.astype(np.float64), 2)
                 + np.linalg.norm(a, 2) * np.linalg.norm(r.astype(np.float64), 2))
    gap = lam[None, :] - lam[:, None]
    apart = np.abs(gap) > delta
    e = np.where(apart, (s + lam[None, :] * r) / np.where(apart, gap, 1), r / 2)
    e[np.diag_indices(n)] = np.diagonal(r) / 2
    u2 = ul + ul @ e
    order = np.argsort(lam.astype(np.float64), kind="stable")
    return lam[order].astype(np.float64), u2[:, order].astype(np.float64)


def eigh_accurate(a: Any) -> EighResult:
    """The symmetric eigendecomposition (ascending) of a 2-d array, at the accuracy of its
    dtype: the oracle's eigensolver, exact in float64 and naive in float32.

    float64 (the reference): NumPy's eigh refined by ``refine`` (products in np.longdouble,
    80-bit on x86-64), and for a dual the perturbation rule evaluated on the refined pair in
    np.longdouble: eigenvalues, eigenvectors and their tangent accurate to float64 rounding,
    where a float64 solver alone is accurate to eps ||A|| / gap.
    float32 (a naive evaluation): SciPy's LAPACK ssyevd, a genuine float32 solver (its
    eigenvector errors are a few eps ||A|| / gap, as torch's, JAX's and TensorFlow's are,
    measured in docs/conventions/graph.md §Fourier), and the rule in float32. NumPy's eigh is
    not used there: on float32 input it returns eigenvectors accurate to ~0.2 eps, i.e. it
    does not behave like a float32 solver and would make a naive bound no kernel can meet.
    Other dtypes and nested duals: ``numpy.linalg.eigh`` and its rule. Repeated eigenvalues
    raise for a dual, as the rule does.
    """
    if isinstance(a, Dual) and isinstance(a.value, Dual):
        return np.linalg.eigh(a)
    value = a.value if isinstance(a, Dual) else np.asarray(a)
    if value.ndim != 2 or value.dtype not in (np.float64, np.float32):
        return np.linalg.eigh(a)
    if value.dtype == np.float32:
        w, u = scipy.linalg.eigh(value, driver="evd")
        if not isinstance(a, Dual):
            return EighResult(w, u)
        _check_distinct(w, np.float32)
        dw, du = _perturbation(w, u, _triangle_tangent(a.tangent, "L"))
        return EighResult(Dual(w, dw), Dual(u, du))
    w, u = refine(value, *np.linalg.eigh(value))
    if not isinstance(a, Dual):
        return EighResult(w, u)
    _check_distinct(w, np.float64)
    ld = np.longdouble
    dw, du = _perturbation(w.astype(ld), u.astype(ld),
                           _triangle_tangent(a.tangent, "L").astype(ld))
    return EighResult(Dual(w, dw.astype(np.float64)), Dual(u, du.astype(np.float64)))
