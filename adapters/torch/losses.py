"""torch mappings of the ``loss`` family (torch.nn.functional kernels)."""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch


class LossOps:
    @implements("loss.mse")
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        return F.mse_loss(y, t, reduction=reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        # torch has the penalty only inside its optimisers (as a gradient term), never as a
        # loss value: lambda * ||w||^2 is added by hand after the reduced loss.
        return F.mse_loss(y, t, reduction=reduction) + weight_decay * torch.sum(w * w)

    @implements("loss.binary_cross_entropy/probs")
    @implements("loss.binary_cross_entropy/logits")
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        if from_logits:
            return F.binary_cross_entropy_with_logits(p, t, reduction=reduction)
        # Clamps each log at -100: inactive for the spec's p in [2^-10, 1 - 2^-10].
        return F.binary_cross_entropy(p, t, reduction=reduction)

    @implements("loss.cross_entropy")
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        # One kernel for both target forms: int64 class indices or probability rows.
        return F.cross_entropy(logits, target, reduction=reduction)

    @implements("loss.sequence_cross_entropy", composed=True)
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        # sum_t mean_n = (sum over all T*N samples) / N: one cross_entropy call over the
        # flattened steps; torch's own "mean" would divide by T*N instead.
        steps, n, c = logits.shape
        total = F.cross_entropy(logits.reshape(steps * n, c), target.reshape(steps * n),
                                reduction="sum")
        return total / n if reduction == "mean" else total
