"""Textbook derivative formulas of the ``reg`` family: the closed-form gradients of the
penalties summed the way kernels sum them, in the tested dtype (registry.OpSpec.textbook).

A penalty's derivative is a sum over every weight: J u = sum_i g_i u_i for a random tangent
u (and the VJP identity <g, u> = <v, J u> the same). Kernels accumulate it in their own
order; NumPy's pairwise order (the oracle's naive run) is among the most accurate, and on a
cancelling sum its error alone can be small by chance (kernel and naive errors are then
independent roundings of equal size). The textbook evaluation below sums the same terms
in a plain sequential loop in the tested dtype, from the closed-form gradient (l2's from
the saved output, w / ||w||, as the kernels compute it); the larger naive error counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Gradients = Callable[[list, dict, Any], list[np.ndarray]]


def _scalar_textbook(gradients: Gradients) -> Callable[..., list]:
    """textbook of a scalar-output op from its per-input gradients (tested dtype):
    vjp v * g per input; jvp sum(g * u) over all inputs, summed sequentially (np.cumsum)."""

    def naive(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
        grads = gradients(args, kwargs, outs[0])
        if mode == "vjp":
            return [seeds[0] * g for g in grads]
        terms = np.concatenate([(g * u).reshape(-1) for g, u in zip(grads, seeds)])
        return [np.cumsum(terms)[-1] if terms.size else terms.sum()]

    return naive


def _norm_grad(ws: list[np.ndarray], y: Any) -> list[np.ndarray]:
    return [w / y for w in ws]


def _penalty_grads(penalty: str, ws: list[np.ndarray]) -> list[np.ndarray]:
    """Gradients of R over all of ``ws`` (l2: from its value, computed in the dtype)."""
    if penalty == "l1":
        return [np.sign(w) for w in ws]
    if penalty == "l2_squared":
        return [w + w for w in ws]
    norm = np.sqrt(np.sum(np.concatenate([(w * w).reshape(-1) for w in ws])))
    return _norm_grad(ws, norm)


def _group_grad(w: np.ndarray, groups: np.ndarray, form: str) -> np.ndarray:
    grad = np.zeros_like(w)
    for g in np.unique(groups[groups >= 0]):
        member = groups == g
        grad[member] = (w[member] + w[member] if form == "squares"
                        else w[member] / np.sqrt(np.sum(w[member] * w[member])))
    return grad


l1 = _scalar_textbook(lambda args, kw, y: _penalty_grads("l1", [args[0]]))
l2 = _scalar_textbook(lambda args, kw, y: _norm_grad([args[0]], y))
l2_squared = _scalar_textbook(lambda args, kw, y: _penalty_grads("l2_squared", [args[0]]))


def group(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """The group penalty's textbook derivative. jvp: the formula's nesting, sum over groups of
    per-group sums (as the oracle and every adapter's segment/scatter sum compute it), each
    sequential: a group's sum is rounded before the groups are added, and when group sums
    cancel (w = 2.5 in one group, -2.5 in another) that rounding dominates the result,
    which a flat sum over all terms does not show (seen: float32, |J u| = 0.33 from group
    sums 7.90 and -7.57, a sequential group sum off by 6 ulp of 7.9)."""
    w, groups = args[0], args[1]
    grad = _group_grad(w, groups, kwargs["form"])
    if mode == "vjp":
        return [seeds[0] * grad]
    terms = grad * seeds[0]
    sums = [np.cumsum(terms[groups == g])[-1] for g in np.unique(groups[groups >= 0])]
    return [np.cumsum(np.array(sums, dtype=terms.dtype))[-1] if sums else terms.sum()]


def _total_loss_grads(args: list, kw: dict, y: Any) -> list[np.ndarray]:
    data_loss, ws, groups = args[0], list(args[1:3]), args[3:5]
    lam_r, lam_g = (np.asarray(kw[k], dtype=data_loss.dtype) for k in ("lambda_r", "lambda_g"))
    grads = [lam_r * g for g in _penalty_grads(kw["penalty"], ws)]
    grads = [g if ids is None else g + lam_g * _group_grad(w, ids, kw["group_form"])
             for g, w, ids in zip(grads, ws, groups)]
    return [np.ones_like(data_loss), *grads]


total_loss = _scalar_textbook(_total_loss_grads)
