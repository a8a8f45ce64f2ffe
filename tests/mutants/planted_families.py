"""Planted bugs of the families added after the first corpus (rnn, attn, graph, optim, sched,
aug, block, arch, ad): one realistic kernel bug each, as user adapters that subclass the
torch adapter (same conventions as planted_corpus.py, which lists them in MUTANTS)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from adapters.base import implements
from adapters.torch import TorchAdapter
from adapters.torch.architectures import _multiplies, bottleneck_chains
from adapters.torch.graph.spectral import dense_laplacian
from adapters.torch.rnn import layer_params
from adapters.torch.schedules import _drive


class GRUResetAfter(TorchAdapter):
    """torch's GRUCell with the weights mapped correctly, but its reset gate acts after
    W_hn h where the op asks for it before (r * h, then the product)."""

    OPS = "rnn.gru"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("rnn.gru")
    def gru_reset_before(self, x: Any, h: Any, w_x: Any, w_h: Any, b: Any, b_h: Any = None,
                         *, reset: str = "before") -> Any:
        cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).to(x.dtype)
        return torch.func.functional_call(cell, layer_params("gru", w_x, w_h, b, b_h), (x, h))


class AttentionNoDefaultScale(TorchAdapter):
    """softmax(Q K^T) V when no scale is given: the 1/sqrt(E) default forgotten."""

    OPS = "attn.scaled_dot_product"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("attn.scaled_dot_product")
    def scaled_dot_product(self, q: Any, k: Any, v: Any, mask: Any = None, bias: Any = None,
                           *, scale: float | None = None, is_causal: bool = False,
                           masked_rows: str = "zeros") -> Any:
        return super().scaled_dot_product(q, k, v, mask, bias, scale=1.0 if scale is None
                                          else scale, is_causal=is_causal,
                                          masked_rows=masked_rows)


class LaplacianRandomWalk(TorchAdapter):
    """I - D^-1 A where the symmetric I - D^-1/2 A D^-1/2 is asked for."""

    OPS = "graph.normalized_laplacian"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("graph.normalized_laplacian")
    def graph_normalized_laplacian(self, edge_index: Any, edge_weight: Any, *, num_nodes: int,
                                   normalization: str = "sym", isolated: str = "one") -> Any:
        return dense_laplacian(edge_index, edge_weight, num_nodes,
                               "rw" if normalization == "sym" else normalization, isolated)


class AdamWithoutBiasCorrection(TorchAdapter):
    """Adam's step lr m / (sqrt(v) + eps), the 1 - b^t corrections forgotten."""

    OPS = "optim.adam"
    AFFECTS = ("state",)

    @implements("optim.adam")
    def adam(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
             eps_mode: str = "outside", weight_decay: float = 0.0,
             weight_decay_mode: str = "l2") -> Any:
        p = params.clone()
        m, v = torch.zeros_like(p), torch.zeros_like(p)
        rows = []
        for t in range(1, grads.shape[0] + 1):
            g = grads[t - 1] + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p = p - lr * m / (v.sqrt() + eps)
            rows.append((p, m, v, torch.tensor(float(t), dtype=p.dtype)))
        return tuple(torch.stack(col) for col in zip(*rows))


class StepDecaySteppedFirst(TorchAdapter):
    """The scheduler stepped before the first read (the classic call-order slip): every
    learning rate comes one step early."""

    OPS = "sched.step_decay"
    AFFECTS = ("state",)

    @implements("sched.step_decay")
    def step_decay(self, lr0: Any, *, factor: float, step_size: int, steps: int,
                   offset: int = 0) -> Any:
        return _drive(lr0, lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size, factor),
                      steps, offset + 1)


class FlipWrongAxis(TorchAdapter):
    """A horizontal flip that reverses the rows (H) instead of the columns (W)."""

    OPS = "aug.flip"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("aug.flip")
    def flip(self, x: Any, *, direction: str) -> Any:
        return torch.flip(x, dims=[-2] if direction == "horizontal" else [-1])


class ResidualWithoutFinalRelu(TorchAdapter):
    """A residual block returning z2 + shortcut, the ReLU after the addition left out."""

    OPS = "block.residual*"
    AFFECTS = ("forward", "vjp", "jvp")

    @implements("block.residual")
    def residual(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, ws: Any = None, *,
                 shortcut: str = "identity", stride: int = 1) -> Any:
        a1 = F.relu(F.conv2d(x, w1, b1, stride=stride, padding=w1.shape[-1] // 2))
        z2 = F.conv2d(a1, w2, b2, padding=w2.shape[-1] // 2)
        if shortcut == "projection":
            short = F.conv2d(x, ws, stride=stride)
        elif shortcut == "zero_pad":
            sub = x[:, :, ::stride, ::stride]
            short = F.pad(sub, (0, 0, 0, 0, 0, w1.shape[0] - x.shape[1]))
        else:
            short = x
        return z2 + short


class BottleneckCountsOneByOne(TorchAdapter):
    """Multiply counts that take every convolution as 1x1 (the kernel's k^2 forgotten)."""

    OPS = "arch.shapes_and_params/bottleneck"
    AFFECTS = ("forward",)

    @implements("arch.shapes_and_params/bottleneck")
    def bottleneck_multiplies(self, *, size: int, c_in: int, c_mid: int, c_out: int,
                              kernel: int) -> tuple[Any, ...]:
        chains = bottleneck_chains(c_in=c_in, c_mid=c_mid, c_out=c_out, kernel=kernel)
        return tuple(torch.tensor(_multiplies(size, [(i, o, 1) for i, o, _ in convs]),
                                  dtype=torch.float64) for convs in chains)


class DualDivWrongSign(TorchAdapter):
    """The quotient rule with the wrong sign: (x' y + x y') / y^2."""

    OPS = "ad.dual_arith"
    AFFECTS = ("forward",)

    @implements("ad.dual_arith")
    def dual_arith(self, x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *,
                   op: str) -> Any:
        if op != "div":
            return super().dual_arith(x, x_dot, y, y_dot, op=op)
        return x / y, (x_dot * y + x * y_dot) / (y * y)


FAMILY_MUTANTS = (GRUResetAfter, AttentionNoDefaultScale, LaplacianRandomWalk,
                  AdamWithoutBiasCorrection, StepDecaySteppedFirst, FlipWrongAxis,
                  ResidualWithoutFinalRelu, BottleneckCountsOneByOne, DualDivWrongSign)
