"""The oracle's own forward-mode automatic differentiation (catalog family ``ad``, notes 001).

``Dual`` (dual numbers as a NumPy-duck-typed array) runs every oracle function unchanged and
gives its exact JVP; ``jvp``/``jacobian``/``vjp`` wrap that for any function, ``hessian`` and
``hvp`` nest duals for second derivatives, and the difference quotients of ``numeric`` serve as
an independent, approximate cross-check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.autodiff.dual import Dual, depth, is_dual
from oracle.autodiff.elementary import ARITH_OPS, FUNCTIONS, DualResult, dual_arith, dual_functions
from oracle.autodiff.functions import SUPPORTED_FUNCTIONS
from oracle.autodiff.hessian import directional_derivative, gradient, hessian, hvp
from oracle.autodiff.jvp import jacobian, jvp, vjp
from oracle.autodiff.linalg import DegenerateEigenvalues  # registers the eigh rule
from oracle.autodiff.magnitude import magnitudes
from oracle.autodiff.numeric import (
    ErrorCurve,
    central_difference,
    difference_error_curve,
    finite_difference,
    forward_difference,
)
from oracle.autodiff.ufuncs import ON_VALUES, RULES

SUPPORTED_UFUNCS: tuple[str, ...] = tuple(sorted(u.__name__ for u in (*RULES, *ON_VALUES)))

__all__ = [
    "ARITH_OPS", "FUNCTIONS", "ORACLE", "SUPPORTED_FUNCTIONS", "SUPPORTED_UFUNCS",
    "DegenerateEigenvalues", "Dual", "DualResult", "ErrorCurve", "central_difference", "depth",
    "difference_error_curve",
    "directional_derivative", "dual_arith", "dual_functions", "finite_difference",
    "forward_difference", "gradient", "hessian", "hvp", "is_dual", "jacobian", "jvp", "magnitudes",
    "vjp",
]

ORACLE: dict[str, Callable[..., Any]] = {
    "ad.dual_arith": dual_arith,
    "ad.dual_functions": dual_functions,
    "ad.jvp": jvp,
    "ad.vjp": vjp,
    "ad.numeric_diff": finite_difference,
    "ad.hessian": hessian,
}
