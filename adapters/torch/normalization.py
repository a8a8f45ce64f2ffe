"""torch mappings of the ``norm`` family.

BatchNorm: ``F.batch_norm`` updates the running statistics it is given in place, so it gets
clones (the inputs are never modified) and returns them as the new statistics. torch's
momentum is the oracle's ``momentum_on="batch"``; ``"running"`` maps to 1 - m (exact: m is
dyadic). torch always stores the unbiased batch variance
(docs/conventions/normalization.md §1.3).
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch
from adapters.torch._params import OUT


def _torch_momentum(momentum: float, momentum_on: str) -> float:
    return momentum if momentum_on == "batch" else 1.0 - momentum


def _count(x: Any) -> int:
    """Values per channel of an (N, C, *) batch."""
    return x.numel() // x.shape[1]


_BN_AFFINE = {"weight": "fixed: the drawn gamma", "bias": "fixed: the drawn beta"}
_BN_TRAIN = {**_BN_AFFINE, "training": "fixed: True, batch statistics",
             "momentum": "drawn: from momentum, momentum_on (converted to torch's m)",
             "eps": "drawn"}


class NormalizationOps:
    def _bn_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                  eps: float, momentum: float, momentum_on: str) -> tuple[Any, Any, Any, float]:
        m = _torch_momentum(momentum, momentum_on)
        rm, rv = running_mean.detach().clone(), running_var.detach().clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=m, eps=eps)
        return y, rm, rv, m

    @implements("norm.batch_norm_train", native="torch.nn.functional.batch_norm",
                params=_BN_TRAIN)
    def batch_norm_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                         running_var: Any, *, eps: float, momentum: float,
                         momentum_on: str = "batch", running_var_unbiased: bool = True) -> Any:
        if not running_var_unbiased:
            raise ValueError("torch stores the unbiased running variance: use the "
                             "norm.batch_norm_train/biased_running_var mapping")
        y, rm, rv, _ = self._bn_train(x, gamma, beta, running_mean, running_var, eps,
                                      momentum, momentum_on)
        return y, rm, rv

    @implements("norm.batch_norm_train/biased_running_var", composed=True,
                native="torch.nn.functional.batch_norm", params=_BN_TRAIN)
    def batch_norm_train_biased(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                                running_var: Any, *, eps: float, momentum: float,
                                momentum_on: str = "batch",
                                running_var_unbiased: bool = False) -> Any:
        """The native kernel, then its unbiased running-variance update undone exactly:
        torch stores (1 - m) old + m var * n/(n-1), so m var = (new - (1 - m) old) (n-1)/n.
        Rounding error: one cancellation bounded by eps * |new|, the size of the result."""
        if running_var_unbiased:
            raise ValueError("this mapping is the biased running-variance variant")
        y, rm, rv, m = self._bn_train(x, gamma, beta, running_mean, running_var, eps,
                                      momentum, momentum_on)
        n = _count(x)
        keep = (1.0 - m) * running_var.detach()
        return y, rm, keep + (rv - keep) * ((n - 1) / n)

    @implements("norm.batch_norm_eval", native="torch.nn.functional.batch_norm", params={
        **_BN_AFFINE, "training": "fixed: False, the running statistics",
        "momentum": "fixed: default, unused in eval", "eps": "drawn"})
    def batch_norm_eval(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                        running_var: Any, *, eps: float) -> Any:
        return F.batch_norm(x, running_mean, running_var, gamma, beta, training=False,
                            eps=eps)

    @implements("norm.layer_norm", native="torch.nn.functional.layer_norm",
                params={**_BN_AFFINE, "eps": "drawn"})
    def layer_norm(self, x: Any, gamma: Any, beta: Any, *, normalized_ndim: int,
                   eps: float) -> Any:
        return F.layer_norm(x, tuple(x.shape[x.ndim - normalized_ndim:]), gamma, beta, eps)

    @implements("norm.weight_norm", native="torch._weight_norm",
                params={"dim": "drawn: from axis (None is torch's -1, the whole tensor)"})
    def weight_norm(self, v: Any, g: Any, *, axis: int | None = 0) -> Any:
        """``torch._weight_norm``, the kernel of ``parametrizations.weight_norm``: g must be
        shaped like v with 1 on every reduced axis, and torch's dim=-1 means the whole
        tensor, so the oracle's axis is made non-negative (axis=None is torch's -1)."""
        if axis is None:
            return torch._weight_norm(v, g, -1)
        axis = axis % v.ndim
        shape = [1] * v.ndim
        shape[axis] = v.shape[axis]
        return torch._weight_norm(v, g.reshape(shape), axis)

    @implements("norm.cosine_norm", composed=True, native="torch.linalg.vector_norm", params={
        "ord": "fixed: 2 (default)", "dim": "fixed: 1, each row",
        "keepdim": "fixed: True", "dtype": "fixed: None, no upcast", **OUT})
    def cosine_norm(self, x: Any, w: Any) -> Any:
        """No cosine-unit layer in torch; F.normalize would put an eps on the norm
        (docs/conventions/normalization.md §2.3), so the oracle's eps-free formula is
        composed."""
        x_norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
        w_norm = torch.linalg.vector_norm(w, dim=1, keepdim=True)
        return (x @ w.T) / (x_norm * w_norm.T)

    @implements("norm.standardize", composed=True, native=("torch.var_mean", "torch.sqrt"),
                params={"dim": "drawn: from axis", "correction": "fixed: 0, the population "
                        "variance (the notes')", "keepdim": "fixed: True", **OUT})
    def standardize(self, x: Any, *, axis: int | tuple[int, ...] = 0, eps: float) -> Any:
        """torch has no z-score op: mean and torch.var(correction=0), both native."""
        var, mean = torch.var_mean(x, dim=axis, correction=0, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps)

    @implements("norm.lrn", native="torch.nn.functional.local_response_norm",
                params={"alpha": "drawn", "beta": "drawn", "k": "drawn"})
    def lrn(self, x: Any, *, size: int, alpha: float, beta: float, k: float) -> Any:
        return F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k)
