"""torch mappings of the ``reg`` family.

torch has no penalty ops: the l1 and l2 norms are torch.linalg.vector_norm (a native norm
kernel), sums of squares and group penalties are composed. Dropout is F.dropout in training
mode; the soft threshold is F.softshrink. Early stopping has no torch counterpart.
"""

from __future__ import annotations

from typing import Any

from adapters._shared import composed_total_loss
from adapters.base import implements
from adapters.torch._lazy import F, torch


def _group_squares(w: Any, groups: Any) -> Any:
    """Sum of squares of each present group id >= 0 (one entry per distinct id)."""
    ids = groups.reshape(-1)
    keep = ids >= 0
    present, slot = torch.unique(ids[keep], return_inverse=True)
    sq = (w * w).reshape(-1)[keep]
    return torch.zeros(present.numel(), dtype=w.dtype, device=w.device).index_add(0, slot, sq)


_WHOLE = {"dim": "fixed: None, the whole tensor", "keepdim": "fixed: False",
          "dtype": "fixed: None, no upcast", "out": "fixed: None, a new tensor"}


class RegularizationOps:
    UNSUPPORTED = {
        "reg.early_stopping": "torch has no early-stopping rule (no training loop or callback "
                              "API: torch.optim and torch.nn stop at single steps)",
    }

    @implements("reg.l1", native="torch.linalg.vector_norm",
                params={"ord": "fixed: 1 (L1)", **_WHOLE})
    def l1(self, w: Any) -> Any:
        return torch.linalg.vector_norm(w, ord=1)

    @implements("reg.l2", native="torch.linalg.vector_norm",
                params={"ord": "fixed: 2 (default)", **_WHOLE})
    def l2(self, w: Any) -> Any:
        return torch.linalg.vector_norm(w)

    @implements("reg.l2_squared", composed=True, native="torch.sum",
                params={"dtype": "fixed: None, no upcast"})
    def l2_squared(self, w: Any) -> Any:
        # Not vector_norm(w) ** 2: that rounds the square root first.
        return torch.sum(w * w)

    @implements("reg.group", composed=True, native=("torch.Tensor.index_add", "torch.sum"),
                params={"alpha": "fixed: 1 (default)", "dtype": "fixed: None, no upcast"})
    def group(self, w: Any, groups: Any, *, form: str) -> Any:
        sq = _group_squares(w, groups)
        return torch.sum(sq if form == "squares" else torch.sqrt(sq))

    @implements("reg.total_loss", composed=True)
    def total_loss(self, data_loss: Any, w1: Any, w2: Any, g1: Any, g2: Any, *,
                   lambda_r: float, lambda_g: float, penalty: str, group_form: str) -> Any:
        flat = torch.cat([w1.reshape(-1), w2.reshape(-1)])
        penalties = {"l1": self.l1, "l2": self.l2, "l2_squared": self.l2_squared}
        return composed_total_loss(data_loss, flat, ((w1, g1), (w2, g2)),
                                   penalty_fn=penalties[penalty], group_fn=self.group,
                                   lambda_r=lambda_r, lambda_g=lambda_g, group_form=group_form)

    @implements("reg.dropout", native="torch.nn.functional.dropout", params={
        "p": "drawn", "training": "fixed: True (dropout is active)",
        "inplace": "fixed: False, the input is kept"})
    def dropout(self, x: Any, *, p: float) -> Any:
        return F.dropout(x, p=p, training=True)

    @implements("reg.prox_l1", native="torch.nn.functional.softshrink",
                params={"lambd": "drawn: from lam"})
    def prox_l1(self, w: Any, *, lam: float) -> Any:
        return F.softshrink(w, lambd=lam)

    @implements("reg.prox_l1/step", composed=True, native="torch.nn.functional.softshrink",
                params={"lambd": "drawn: from lr, lam (lr * lam)"})
    def prox_gradient_step(self, w: Any, grad: Any, *, lr: float, lam: float) -> Any:
        return F.softshrink(w - lr * grad, lambd=lr * lam)
