"""A corpus of planted bugs: user adapters that subclass the torch adapter and override one
op with a realistic kernel bug, to measure the suite (issue 17). ``python -m conformance
mutants`` runs each at default settings over several seeds and prints on how many seeds, and
by which checks, it was caught; ``tests/test_mutants.py`` runs a handful in CI.

Each class sets ``OPS`` (the --ops glob its runs use: the overridden op's specs) and
``AFFECTS`` (the modes the bug can show in). A bug caught on fewer seeds than it was run on
is a weakness of the strategies, not a pass.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from adapters.base import implements
from adapters.torch import TorchAdapter

HALF = (torch.float16, torch.bfloat16)


class CrossEntropyMeanOverNPlusOne(TorchAdapter):
    """The mean of the per-row losses divided by N + 1 (an off-by-one in the count)."""

    OPS = "loss.cross_entropy/index"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("loss.cross_entropy")
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        if reduction != "mean":
            return F.cross_entropy(logits, target, reduction=reduction)
        rows = F.cross_entropy(logits, target, reduction="none")
        return rows.sum() / (rows.shape[0] + 1)


class LayerNormOnePassVariance(TorchAdapter):
    """var = E[x^2] - E[x]^2 in the input dtype (float32 stays float32): cancels when the
    mean is large against the spread."""

    OPS = "norm.layer_norm*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("norm.layer_norm")
    def layer_norm(self, x: Any, gamma: Any, beta: Any, *, normalized_ndim: int,
                   eps: float) -> Any:
        dims = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = x.mean(dim=dims, keepdim=True)
        var = (x * x).mean(dim=dims, keepdim=True) - mean * mean
        y = (x - mean) / torch.sqrt(var.clamp_min(0) + eps)
        if gamma is not None:
            y = y * gamma
        return y + beta if beta is not None else y


class MaxPoolDropsNaN(TorchAdapter):
    """A max pool whose comparison treats NaN as -inf: a NaN in the window is dropped
    instead of propagated."""

    OPS = "pool.max*"
    AFFECTS = ("forward",)

    @implements("pool.max")
    def max_pool(self, x: Any, *, kernel: Any, stride: Any, padding: Any, dilation: Any,
                 ceil_mode: bool) -> Any:
        clean = torch.where(torch.isnan(x), torch.full_like(x, -math.inf), x)
        return super().max_pool(clean, kernel=kernel, stride=stride, padding=padding,
                                dilation=dilation, ceil_mode=ceil_mode)


class SoftmaxHalfAccumulation(TorchAdapter):
    """A half-precision softmax that sums its denominator in float16 / bfloat16, one term at
    a time, instead of in float32."""

    OPS = "act.softmax*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("act.softmax")
    def softmax(self, x: Any, *, axis: int) -> Any:
        e = torch.exp(x - x.amax(dim=axis, keepdim=True))
        if x.dtype not in HALF:
            return e / e.sum(dim=axis, keepdim=True)
        terms = e.movedim(axis, -1)
        total = torch.zeros_like(terms[..., 0])
        for j in range(terms.shape[-1]):
            total = total + terms[..., j]  # rounded to the half dtype at every step
        return e / total.unsqueeze(-1).movedim(-1, axis)


class _TanhWrongTangent(torch.autograd.Function):
    @staticmethod
    def forward(x: Any) -> Any:
        return torch.tanh(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_forward(output)
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)

    @staticmethod
    def jvp(ctx: Any, u: Any) -> Any:
        (y,) = ctx.saved_tensors
        return u * (1 - y)  # the square forgotten: 1 - y instead of 1 - y^2


class TanhWrongForwardDerivative(TorchAdapter):
    """tanh with a custom forward-mode rule that forgets a square: (1 - y) u."""

    OPS = "act.tanh"
    AFFECTS = ("jvp",)

    @implements("act.tanh")
    def tanh(self, x: Any) -> Any:
        return _TanhWrongTangent.apply(x)


class _SigmoidGradFromInput(torch.autograd.Function):
    @staticmethod
    def forward(x: Any) -> Any:
        return torch.sigmoid(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(inputs[0], output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, _ = ctx.saved_tensors
        return g * torch.sigmoid(x) * (1 - x)  # 1 - x where 1 - sigmoid(x) was meant

    @staticmethod
    def jvp(ctx: Any, u: Any) -> Any:
        (y,) = ctx.saved_tensors
        return u * y * (1 - y)


class SigmoidWrongBackward(TorchAdapter):
    """sigmoid whose backward takes 1 - x for 1 - sigmoid(x)."""

    OPS = "act.sigmoid"
    AFFECTS = ("vjp",)

    @implements("act.sigmoid")
    def sigmoid(self, x: Any) -> Any:
        return _SigmoidGradFromInput.apply(x)


class BatchNormBiasedRunningVar(TorchAdapter):
    """The running variance updated with the biased batch variance (divided by n, not
    n - 1), where torch's (unbiased) convention is asked for."""

    OPS = "norm.batch_norm_train"
    AFFECTS = ("forward",)

    @implements("norm.batch_norm_train")
    def batch_norm_train(self, x: Any, gamma: Any, beta: Any, running_mean: Any,
                         running_var: Any, *, eps: float, momentum: float,
                         momentum_on: str = "batch", running_var_unbiased: bool = True) -> Any:
        return super().batch_norm_train_biased(
            x, gamma, beta, running_mean, running_var, eps=eps, momentum=momentum,
            momentum_on=momentum_on, running_var_unbiased=False)


class AvgPoolIgnoresCountIncludePad(TorchAdapter):
    """An average pool that always divides by the number of real elements in the window,
    whatever count_include_pad says."""

    OPS = "pool.avg*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("pool.avg")
    def avg_pool(self, x: Any, *, kernel: Any, stride: Any, padding: Any, ceil_mode: bool,
                 count_include_pad: bool) -> Any:
        return super().avg_pool(x, kernel=kernel, stride=stride, padding=padding,
                                ceil_mode=ceil_mode, count_include_pad=False)


class Conv2dFlippedKernel(TorchAdapter):
    """A true convolution (kernel flipped) where deep-learning frameworks cross-correlate."""

    OPS = "conv.conv2d*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("conv.conv2d")
    def conv2d(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Any:
        return super().conv2d(x, w.flip(-1, -2), b, stride=stride, padding=padding,
                              dilation=dilation, groups=groups)


class DenseLeakyRelu(TorchAdapter):
    """A dense layer whose fused "relu" epilogue leaks 2^-7 of negative pre-activations."""

    OPS = "nn.dense*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("nn.dense")
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        if activation != "relu":
            return super().dense(x, w, b, activation=activation)
        return F.leaky_relu(F.linear(x, w, b), 2.0**-7)


class DropoutUnscaled(TorchAdapter):
    """Inverted dropout without the 1 / (1 - p) scale of the kept elements."""

    OPS = "reg.dropout"
    AFFECTS = ("stat",)

    @implements("reg.dropout")
    def dropout(self, x: Any, *, p: float) -> Any:
        return F.dropout(x, p=p, training=True) * (1 - p)


# The later families' bugs (imported so that "planted_corpus:<Bug>" names every one).
from planted_families import *  # noqa: E402, F403
from planted_families import FAMILY_MUTANTS  # noqa: E402

MUTANTS = (CrossEntropyMeanOverNPlusOne, LayerNormOnePassVariance, MaxPoolDropsNaN,
           SoftmaxHalfAccumulation, TanhWrongForwardDerivative, SigmoidWrongBackward,
           BatchNormBiasedRunningVar, AvgPoolIgnoresCountIncludePad, Conv2dFlippedKernel,
           DenseLeakyRelu, DropoutUnscaled, *FAMILY_MUTANTS)
