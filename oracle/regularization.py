"""Regularization (catalog family ``reg``, notes 003 and 004).

Weight arguments ``w`` are one array or a sequence of arrays (all the weights of a model);
a penalty sums over every entry of every array. Subgradient conventions at kinks are
stated per function and written with ``np.where`` so that dual numbers follow them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from oracle import _canon, _reference

Weights = Any  # an array or a sequence of arrays


def _arrays(w: Weights) -> list[Any]:
    arrays = list(w) if isinstance(w, (list, tuple)) else [w]
    if not arrays:
        raise ValueError("w is an empty sequence")
    return [_canon.asarray(a) for a in arrays]


def _sum_terms(terms: list[Any]) -> Any:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l1(w: Weights) -> Any:
    """R(W) = sum abs(w) over every entry (the l1-norm of notes 003/004).

    Subgradient at w = 0: 0 (abs'(0) = 0: torch's and TF's convention; JAX uses 1,
    docs/conventions/README.md §0.1 #8). Sparser solutions than l2 (004), not differentiable
    at 0.
    """
    return _sum_terms([np.sum(np.abs(a)) for a in _arrays(w)])


def l2_squared(w: Weights) -> Any:
    """R(W) = sum w^2 over every entry (squared l2-norm; no factor 1/2)."""
    return _sum_terms([np.sum(a * a) for a in _arrays(w)])


def _norm_zero_safe(sq: Any) -> Any:
    """sqrt(sq) with derivative 0 where sq == 0 (the minimum-norm subgradient of ||w||)."""
    zero = _canon.primal(sq) == 0
    root = np.sqrt(np.where(zero, np.ones_like(sq), sq))
    return np.where(zero, np.zeros_like(root), root)


def l2(w: Weights) -> Any:
    """R(W) = sqrt(sum w^2) over every entry (the l2-norm, not squared).

    At w = 0 the norm is not differentiable; convention: gradient 0 there (the smallest
    subgradient; the dual tangent is 0). The float64 reference scales by a power of two
    before squaring, so entries beyond ~1e154 or below ~1e-154 neither overflow nor
    underflow; other dtypes square directly (as the frameworks' compositions do).
    """
    if not _reference.reference():
        return _norm_zero_safe(l2_squared(w))
    arrays = _arrays(w)
    top = max(float(np.max(np.abs(_canon.primal(a)), initial=0.0)) for a in arrays)
    # Scaled by a power of two before squaring: compensates overflow and underflow of w^2.
    scaled = [_reference.scale_down(a, top) for a in arrays]
    return _reference.scale_up(_norm_zero_safe(l2_squared(scaled)), top)


def group_penalty(w: Any, groups: Any, *, form: str = "squares") -> Any:
    """Group (block, structured) regularization R_g of notes 003, for one weight array.

    ``groups``: an integer array shaped like w giving each entry's group id; every id >= 0 is
    one group, entries with a negative id belong to no group. (Groups are disjoint by
    construction. ``groups_along`` builds the usual per-filter / per-row ids.)
    form="squares" (the notes' formula): R_g = sum_g sum_{i in g} w_i^2, the squared norms
    of the groups (which equals the sum of squares of all grouped entries).
    form="lasso" (group lasso): R_g = sum_g sqrt(sum_{i in g} w_i^2), the unsquared norms;
    a group whose weights are all 0 contributes gradient 0 (as ``l2``).
    """
    if form not in ("squares", "lasso"):
        raise ValueError(f"form must be 'squares' or 'lasso', got {form!r}")
    w = _canon.asarray(w)
    ids = np.asarray(groups)
    if ids.shape != np.shape(_canon.primal(w)) or ids.dtype.kind not in "iu":
        raise ValueError(f"groups must be an integer array shaped like w {np.shape(w)}")
    terms = []
    for g in np.unique(ids[ids >= 0]):
        members = w[ids == g]
        sq = np.sum(members * members)
        terms.append(sq if form == "squares" else _norm_zero_safe(sq))
    if not terms:
        return np.sum(w * _canon.scalar(0.0))
    return _sum_terms(terms)


def groups_along(shape: Sequence[int], axis: int) -> np.ndarray:
    """Group ids for ``group_penalty``: one group per index along ``axis`` (axis 0 of an OIHW
    conv weight: one group per filter; axis 1 of a dense (out, in) weight: per input)."""
    shape = tuple(int(s) for s in shape)
    axis = _canon.normalize_axis(axis, len(shape))
    ids = np.arange(shape[axis]).reshape([-1 if a == axis else 1 for a in range(len(shape))])
    return np.broadcast_to(ids, shape).copy()


_PENALTIES: dict[str, Callable[[Weights], Any]] = {
    "l1": l1, "l2": l2, "l2_squared": l2_squared,
}


def total_loss(
    data_loss: Any,
    weights: Sequence[Any],
    *,
    lambda_r: float,
    lambda_g: float,
    penalty: str = "l2_squared",
    groups: Sequence[Any | None] | None = None,
    group_form: str = "squares",
) -> Any:
    """The regularized loss of notes 003:

        loss(W) = loss_D(W) + lambda_R * R(W) + lambda_g * sum_{l=1}^{L} R_g(W_l)

    ``data_loss`` is loss_D (an already computed scalar); ``weights`` the per-layer arrays
    W_1..W_L. R is ``penalty`` ('l1', 'l2' or 'l2_squared') over all weights together.
    ``groups[l]`` holds the group ids of W_l for ``group_penalty`` (``group_form``), or None
    for a layer without a group term; groups=None means no group term (then lambda_g must
    be 0). The weight-decay coefficient lambda_R multiplies R directly (no 1/2).
    """
    if penalty not in _PENALTIES:
        raise ValueError(f"penalty must be one of {sorted(_PENALTIES)}, got {penalty!r}")
    weights = list(weights)
    loss = _canon.asarray(data_loss) + _canon.scalar(lambda_r) * _PENALTIES[penalty](weights)
    if groups is None:
        if lambda_g != 0:
            raise ValueError("lambda_g != 0 needs the per-layer groups")
        return loss
    if len(groups) != len(weights):
        raise ValueError(f"{len(groups)} group arrays for {len(weights)} layers")
    terms = [group_penalty(w, g, form=group_form)
             for w, g in zip(weights, groups, strict=True) if g is not None]
    if not terms:
        return loss
    return loss + _canon.scalar(lambda_g) * _sum_terms(terms)


def total_loss_2(data_loss: Any, w1: Any, w2: Any, g1: Any, g2: Any, *, lambda_r: float,
                 lambda_g: float, penalty: str, group_form: str) -> Any:
    """``total_loss`` for two layers, each layer's group ids (or None) positional: the form
    a conformance check can draw and a backend mapping can take (arrays in, one scalar out)."""
    groups = None if g1 is None and g2 is None else [g1, g2]
    return total_loss(data_loss, [w1, w2], lambda_r=lambda_r, lambda_g=lambda_g,
                      penalty=penalty, groups=groups, group_form=group_form)


def dropout(x: Any, mask: Any, *, p: float) -> Any:
    """Inverted dropout with an explicit keep-mask (notes 004; torch/Keras/TF/Flax semantics):

        y = x / (1 - p) where mask, 0 elsewhere.

    p is the DROP probability (torch p, Keras/TF/Flax rate; TF v1 keep_prob = 1 - p).
    ``mask`` is bool or 0/1, broadcastable to x (a shared noise_shape / Dropout2d mask
    broadcasts). Dropped entries are exactly 0 even for inf/NaN inputs (Keras/TF use a
    select; torch multiplies by the mask and gives NaN there). p = 1 requires an all-zero
    mask and returns zeros. Derivative: mask / (1 - p).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    x = _canon.asarray(x)
    m = np.asarray(mask)
    if not np.isin(m, (0, 1)).all():
        raise ValueError("mask must hold only 0/1 (keep = 1)")
    keep = np.broadcast_to(m.astype(bool), np.shape(_canon.primal(x)))
    if p == 1:
        if keep.any():
            raise ValueError("p = 1 drops everything; the mask must be all zero")
        return np.zeros_like(x)
    return np.where(keep, x / _canon.scalar(1.0 - p), np.zeros_like(x))


def prox_l1(w: Any, *, lam: float) -> Any:
    """Proximal operator of lam * ||w||_1, the soft threshold (elementwise):

        prox(w) = argmin_u 1/2 ||u - w||^2 + lam ||u||_1 = sign(w) * max(abs(w) - lam, 0).

    lam >= 0. Derivative: 1 where abs(w) > lam, 0 where abs(w) <= lam (at abs(w) = lam the
    zero branch is taken).
    """
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    w = _canon.asarray(w)
    pw, t = _canon.primal(w), _canon.scalar(lam)
    return np.where(pw > lam, w - t, np.where(pw < -lam, w + t, np.zeros_like(w)))


def prox_gradient_step(w: Any, grad: Any, *, lr: float, lam: float) -> Any:
    """One proximal-gradient (ISTA) step for loss_D + lam * ||w||_1:

        w' = prox_{lr * lam * ||.||_1}(w - lr * grad) = soft_threshold(w - lr*grad, lr*lam).

    The threshold is lr * lam (computed in float64, then rounded once to the compute dtype).
    """
    w, grad = _canon.asarray(w), _canon.asarray(grad)
    return prox_l1(w - _canon.scalar(lr) * grad, lam=lr * lam)


class EarlyStop(NamedTuple):
    """stop_epoch: 0-based index of the epoch after which training stops (None: never
    stopped within the given scores); best_epoch: 0-based index of the best score seen."""

    stop_epoch: int | None
    best_epoch: int


def early_stopping(
    scores: Sequence[float], *, patience: int, mode: str = "min", min_delta: float = 0.0
) -> EarlyStop:
    """The "no improvement in n epochs" rule of notes 004, with Keras' EarlyStopping
    semantics (keras 3 ``EarlyStopping`` without baseline or start_from_epoch).

    Epochs are counted from 0; scores[e] is the validation score after epoch e. Epoch 0 is
    always an improvement. For e >= 1, score s improves on the best b iff s + min_delta < b
    (mode 'min') or s - min_delta > b (mode 'max'); an improvement makes e the best epoch
    and resets the wait counter, otherwise wait += 1, and training stops after epoch e once
    wait >= patience (so with patience n it stops n epochs after the best one).
    min_delta is used as abs(min_delta). NaN never improves. Plain Python floats: not an
    array op (no duals).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if patience < 0:
        raise ValueError(f"patience must be >= 0, got {patience}")
    delta = abs(min_delta)
    best, best_epoch, wait = None, 0, 0
    for epoch, score in enumerate(float(s) for s in scores):
        wait += 1
        # Keras' own arithmetic: (s + delta) < b and (s - delta) > b.
        if best is None or (score + delta < best if mode == "min" else score - delta > best):
            best, best_epoch, wait = score, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return EarlyStop(epoch, best_epoch)
    if best is None:
        raise ValueError("scores is empty")
    return EarlyStop(None, best_epoch)


def early_stopping_epochs(*, scores: list[float], patience: int, mode: str,
                          min_delta: float) -> np.ndarray:
    """``early_stopping`` as an array [stop_epoch, best_epoch] (never stopped: -1), the
    form backends return it in."""
    stop, best = early_stopping(scores, patience=patience, mode=mode, min_delta=min_delta)
    return np.array([-1 if stop is None else stop, best], dtype=np.float64)


ORACLE: dict[str, Callable[..., Any]] = {
    "reg.l1": l1,
    "reg.l2": l2,
    "reg.l2_squared": l2_squared,
    "reg.group": group_penalty,
    "reg.total_loss": total_loss,
    "reg.dropout": dropout,
    "reg.prox_l1": prox_l1,
    "reg.early_stopping": early_stopping,
}
