"""mpmath transcriptions of the ``reg`` family (notes 003/004), from the formulas: the
penalties as exact sums (l1 = sum |w|, l2 = sqrt(sum w^2), group norms), the regularized
total loss, inverted dropout x / (1 - p) on kept entries, the soft threshold, and the early
stopping rule written as its own loop (exact integers out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from oracle.precise._common import fsum, mp
from oracle.regularization import EarlyStop


def _entries(w: Any) -> list[Any]:
    arrays = list(w) if isinstance(w, (list, tuple)) else [w]
    return [v for a in arrays for v in mp(a).reshape(-1)]


def l1(w: Any) -> Any:
    return np.array(fsum(abs(v) for v in _entries(w)), dtype=object)


def l2_squared(w: Any) -> Any:
    return np.array(fsum(v * v for v in _entries(w)), dtype=object)


def l2(w: Any) -> Any:
    return np.array(mpmath.sqrt(fsum(v * v for v in _entries(w))), dtype=object)


def group_penalty(w: Any, groups: Any, *, form: str = "squares") -> Any:
    w, ids = mp(w), np.asarray(groups)
    terms = []
    for g in sorted(set(int(i) for i in ids.reshape(-1) if i >= 0)):
        sq = fsum(v * v for v, i in zip(w.reshape(-1), ids.reshape(-1)) if i == g)
        terms.append(sq if form == "squares" else mpmath.sqrt(sq))
    return np.array(fsum(terms), dtype=object)


_PENALTIES: dict[str, Callable[[Any], Any]] = {"l1": l1, "l2": l2, "l2_squared": l2_squared}


def total_loss(data_loss: Any, weights: Any, *, lambda_r: float, lambda_g: float,
               penalty: str = "l2_squared", groups: Any = None,
               group_form: str = "squares") -> Any:
    weights = list(weights)
    total = [mpmath.mpf(float(np.asarray(data_loss))),
             mpmath.mpf(lambda_r) * _PENALTIES[penalty](weights)[()]]
    if groups is not None:
        g_terms = [group_penalty(w, g, form=group_form)[()]
                   for w, g in zip(weights, groups) if g is not None]
        total.append(mpmath.mpf(lambda_g) * fsum(g_terms))
    return np.array(fsum(total), dtype=object)


def dropout(x: Any, mask: Any, *, p: float) -> np.ndarray:
    x = mp(x)
    keep = np.broadcast_to(np.asarray(mask).astype(bool), x.shape)
    out = np.empty(x.shape, dtype=object)
    scale = 1 / (1 - mpmath.mpf(p)) if p < 1 else mpmath.mpf(0)
    for idx in np.ndindex(x.shape):
        out[idx] = x[idx] * scale if keep[idx] else mpmath.mpf(0)
    return out


def prox_l1(w: Any, *, lam: float) -> np.ndarray:
    w, t = mp(w), mpmath.mpf(lam)
    out = np.empty(w.shape, dtype=object)
    for idx in np.ndindex(w.shape):
        v = w[idx]
        out[idx] = mpmath.sign(v) * max(abs(v) - t, mpmath.mpf(0))
    return out


def early_stopping(scores: Any, *, patience: int, mode: str = "min",
                   min_delta: float = 0.0) -> EarlyStop:
    delta = mpmath.mpf(abs(min_delta))
    best = None
    best_epoch = 0
    since = 0
    for epoch, s in enumerate(mpmath.mpf(float(v)) for v in scores):
        better = best is None or (s + delta < best if mode == "min" else s - delta > best)
        if better:
            best, best_epoch, since = s, epoch, 0
        else:
            since += 1
            if since >= patience and epoch > 0:
                return EarlyStop(epoch, best_epoch)
    return EarlyStop(None, best_epoch)


PRECISE: dict[str, Callable[..., Any]] = {
    "reg.l1": l1,
    "reg.l2": l2,
    "reg.l2_squared": l2_squared,
    "reg.group": group_penalty,
    "reg.total_loss": total_loss,
    "reg.dropout": dropout,
    "reg.prox_l1": prox_l1,
    "reg.early_stopping": early_stopping,
}
