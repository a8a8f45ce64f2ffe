"""torch mappings of the ``loss`` family (torch.nn.functional kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch

_DEPRECATED = "fixed: None (deprecated, superseded by reduction)"
_LEGACY = {"size_average": _DEPRECATED, "reduce": _DEPRECATED}
_NO_WEIGHT = "not covered: None; per-class / per-element weights have no oracle option yet"


class LossOps:
    @implements("loss.mse", native="torch.nn.functional.mse_loss",
                params={**_LEGACY, "reduction": "drawn",
                        "weight": "not covered: not in the catalog's loss"})
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        return F.mse_loss(y, t, reduction=reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        # torch has the penalty only inside its optimisers (as a gradient term), never as a
        # loss value: lambda * ||w||^2 is added by hand after the reduced loss.
        return F.mse_loss(y, t, reduction=reduction) + weight_decay * torch.sum(w * w)

    @implements("loss.binary_cross_entropy/probs",
                native="torch.nn.functional.binary_cross_entropy",
                params={**_LEGACY, "reduction": "drawn", "weight": _NO_WEIGHT})
    @implements("loss.binary_cross_entropy/logits",
                native="torch.nn.functional.binary_cross_entropy_with_logits",
                params={**_LEGACY, "reduction": "drawn", "weight": _NO_WEIGHT,
                        "pos_weight": "not covered: no oracle option yet"})
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        if from_logits:
            return F.binary_cross_entropy_with_logits(p, t, reduction=reduction)
        # Clamps each log at -100: inactive for the spec's p in [2^-10, 1 - 2^-10].
        return F.binary_cross_entropy(p, t, reduction=reduction)

    @implements("loss.cross_entropy", native="torch.nn.functional.cross_entropy",
                params={**_LEGACY, "reduction": "drawn", "weight": "drawn",
                        "ignore_index": "drawn", "label_smoothing": "drawn"})
    def cross_entropy(self, logits: Any, target: Any, weight: Any = None, *, reduction: str,
                      ignore_index: int | None = None, label_smoothing: float = 0.0) -> Any:
        # One kernel for both target forms: int64 class indices or probability rows. Its
        # weighted mean divides by the kept targets' weights, the oracle's rule
        # (docs/conventions/losses.md §CE options); None ignores nothing: -100, never a class.
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                               ignore_index=-100 if ignore_index is None else ignore_index,
                               label_smoothing=label_smoothing)

    @implements("loss.sequence_cross_entropy", composed=True,
                native="torch.nn.functional.cross_entropy",
                params={**_LEGACY, "reduction": "fixed: sum, divided by N for mean",
                        "weight": _NO_WEIGHT, "ignore_index": "fixed: -100, never drawn",
                        "label_smoothing": "not covered: 0.0; no oracle option yet"})
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        # sum_t mean_n = (sum over all T*N samples) / N: one cross_entropy call over the
        # flattened steps; torch's own "mean" would divide by T*N instead.
        steps, n, c = logits.shape
        total = F.cross_entropy(logits.reshape(steps * n, c), target.reshape(steps * n),
                                reduction="sum")
        return total / n if reduction == "mean" else total
