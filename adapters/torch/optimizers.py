"""torch mappings of the ``optim`` family: the torch.optim classes stepping a real
``nn.Parameter`` (``.grad`` set each step, or a closure for NAG and L-BFGS), the state read
back from ``optimizer.state`` after every step and stacked.

Conventions mapped (docs/conventions/optimizers.md): torch's SGD keeps the buffer
b = mu b + g and steps theta -= lr b, so the notes' velocity is v = lr b (constant lr); its
Nesterov stores the look-ahead point p = theta - mu v, so theta = p + mu lr b. Forms torch
has no class for (eps inside Adagrad's and RMSprop's root, epsilon-hat Adam, the velocity
form under a changing lr, the textbook L-BFGS first step) are UNSUPPORTED, naming the
variant torch does implement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch

_SINGLE = "fixed: False, the single-tensor path (the foreach and fused paths are variants)"
_NO_MAX = "not covered: maximize negates the gradient (the oracle minimizes)"
_NO_DIFF = "not covered: differentiating through the step is not a catalog op"
_NO_CAPTURE = "fixed: False (CUDA-graph capture; the state is read after every step)"
_NO_WD = "fixed: 0 (weight decay is checked on optim.sgd and optim.adam)"

_SGD = {"lr": "drawn", "momentum": "drawn", "dampening": "fixed: 0 (drawn in "
        "optim.momentum/dampening)", "weight_decay": _NO_WD, "nesterov": "fixed: False "
        "(optim.nag)", "maximize": _NO_MAX, "foreach": _SINGLE, "differentiable": _NO_DIFF,
        "fused": "fixed: None (optim.momentum/fused)"}
_ADAM = {"lr": "drawn", "betas": "drawn: from b1, b2", "eps": "drawn", "weight_decay": "drawn",
         "amsgrad": "not covered: not in the catalog", "foreach": _SINGLE,
         "maximize": _NO_MAX, "capturable": _NO_CAPTURE, "differentiable": _NO_DIFF,
         "fused": "fixed: None (optim.adam/fused)",
         "decoupled_weight_decay": "fixed: False (AdamW: optim.adam/decoupled)"}


def objective(x: Any, q: Any, a: Any, b: Any, c: Any, kind: str) -> Any:
    """The test function f(x) = 1/2 (x - a)^T Q (x - a) + sum b phi(x - c) in torch ops
    (oracle/optimizers/objectives.py)."""
    z = x - c
    if kind == "softplus":
        phi = F.softplus(z)
    elif kind == "logcosh":
        phi = torch.logaddexp(z, -z) - math.log(2.0)
    else:
        phi = 0.25 * torch.square(torch.square(z))
    d = x - a
    return 0.5 * torch.sum(d * (q @ d)) + torch.sum(b * phi)


def require(name: str, value: Any, expected: Any) -> None:
    """A convention keyword this mapping does not compute (another variant's) is an error."""
    if value != expected:
        raise ValueError(f"this mapping computes {name}={expected!r}, got {value!r}")


def _parameter(x: Any) -> Any:
    return torch.nn.Parameter(x.detach().clone())


def _stack(rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return tuple(torch.stack(col) for col in zip(*rows))


def _run(opt: Any, p: Any, grads: Any, read: Callable[[dict, Any], tuple[Any, ...]],
         lrs: Any = None) -> tuple[Any, ...]:
    """K optimizer.step() calls with p.grad = grads[k] (and lr = lrs[k] when given);
    read(state, p) after each."""
    rows = []
    for k in range(grads.shape[0]):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[k]
        p.grad = grads[k].clone()
        opt.step()
        rows.append(tuple(t.detach().clone() for t in read(opt.state[p], p)))
    return _stack(rows)


def _closure_run(opt: Any, p: Any, f: Callable[[Any], Any], steps: int,
                 read: Callable[[dict, Any], tuple[Any, ...]]) -> tuple[Any, ...]:
    def closure() -> Any:
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        return loss

    rows = []
    for _ in range(steps):
        opt.step(closure)
        rows.append(tuple(t.detach().clone() for t in read(opt.state[p], p)))
    return _stack(rows)


class OptimizerOps:
    UNSUPPORTED = {
        "optim.momentum/lr_schedule": "torch's SGD keeps lr outside its buffer (theta -= lr_t b): "
                                      "past learning rates never stay in the velocity; the "
                                      "form it computes is optim.momentum/buffer_lr_schedule",
        "optim.adagrad": "torch.optim.Adagrad adds eps outside the root, lr g / (sqrt(G) + "
                         "eps), with no option to move it: optim.adagrad/eps_outside",
        "optim.rmsprop": "torch.optim.RMSprop adds eps outside the root: "
                         "optim.rmsprop/eps_outside",
        "optim.adam/epsilon_hat": "torch's Adam adds eps after bias correction; the "
                                  "epsilon-hat form is Keras': no torch class computes it",
        "optim.adam/eps_inside": "torch's Adam has no eps inside the root (optax eps_root)",
        "optim.lbfgs": "torch.optim.LBFGS scales its first step by min(1, 1/||g||_1) "
                       "(optim.lbfgs/l1_first_step); the textbook H_0 = I step has no option",
        "optim.lbfgs/l2_first_step": "optax's form; torch scales the first step by the l1 norm",
    }

    # --- gradient descent and momentum ------------------------------------------------
    @implements("optim.sgd", native="torch.optim.SGD", params={**_SGD, "momentum":
                "fixed: 0 (optim.momentum)", "weight_decay": "drawn"})
    def sgd(self, params: Any, grads: Any, *, lr: float, weight_decay: float = 0.0) -> Any:
        p = _parameter(params)
        opt = torch.optim.SGD([p], lr=lr, weight_decay=weight_decay, foreach=False)
        return _run(opt, p, grads, lambda st, p: (p,))

    def _momentum(self, params: Any, grads: Any, lr: float, momentum: float, form: str,
                  dampening: float = 0.0, **path: Any) -> Any:
        p = _parameter(params)
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening, **path)
        if form == "velocity":
            return _run(opt, p, grads, lambda st, p: (p, lr * st["momentum_buffer"]))
        return _run(opt, p, grads, lambda st, p: (p, st["momentum_buffer"]))

    @implements("optim.momentum", native="torch.optim.SGD", params=_SGD)
    def momentum(self, params: Any, grads: Any, *, lr: float, momentum: float,
                 form: str = "velocity", dampening: float = 0.0) -> Any:
        """velocity = lr * momentum_buffer (the notes' v; one rounding of the product)."""
        return self._momentum(params, grads, lr, momentum, form, dampening, foreach=False)

    @implements("optim.momentum/foreach", native="torch.optim.SGD",
                params={**_SGD, "foreach": "fixed: True, the multi-tensor path"})
    def momentum_foreach(self, params: Any, grads: Any, *, lr: float, momentum: float,
                         form: str = "buffer", dampening: float = 0.0) -> Any:
        return self._momentum(params, grads, lr, momentum, form, dampening, foreach=True)

    @implements("optim.momentum/fused", native="torch.optim.SGD",
                params={**_SGD, "fused": "fixed: True, the fused kernel"})
    def momentum_fused(self, params: Any, grads: Any, *, lr: float, momentum: float,
                       form: str = "buffer", dampening: float = 0.0) -> Any:
        return self._momentum(params, grads, lr, momentum, form, dampening, fused=True)

    @implements("optim.momentum/dampening", native="torch.optim.SGD",
                params={**_SGD, "dampening": "drawn"})
    def momentum_dampening(self, params: Any, grads: Any, *, lr: float, momentum: float,
                           form: str = "buffer", dampening: float = 0.0) -> Any:
        return self._momentum(params, grads, lr, momentum, form, dampening, foreach=False)

    @implements("optim.momentum/buffer_lr_schedule", native="torch.optim.SGD",
                params={**_SGD, "lr": "drawn: from lrs (lrs[0], then each step's)"})
    def momentum_buffer_lr_schedule(self, params: Any, grads: Any, lrs: Any, *,
                                    momentum: float, form: str = "buffer") -> Any:
        """lr = lrs[k] in param_groups before step k, as a scheduler sets it."""
        require("form", form, "buffer")
        p = _parameter(params)
        opt = torch.optim.SGD([p], lr=lrs[0], momentum=momentum, foreach=False)
        return _run(opt, p, grads, lambda st, p: (p, st["momentum_buffer"]), lrs=lrs)

    @implements("optim.nag", native="torch.optim.SGD", params={**_SGD, "nesterov":
                "fixed: True"})
    def nag(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
            momentum: float, form: str = "lookahead") -> Any:
        """SGD(nesterov=True) on f; torch stores p = theta - mu v and b = v / lr, so the
        notes' (theta, v) = (p + mu lr b, lr b) (form "lookahead")."""
        p = _parameter(x0)
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=True, foreach=False)
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731
        if form == "reformulated":
            return _closure_run(opt, p, f, steps, lambda st, p: (p, st["momentum_buffer"]))

        def lookahead(st: dict, p: Any) -> tuple[Any, Any]:
            v = lr * st["momentum_buffer"]
            return p + momentum * v, v

        return _closure_run(opt, p, f, steps, lookahead)

    # --- adaptive methods ----------------------------------------------------------------
    @implements("optim.adagrad/eps_outside", native="torch.optim.Adagrad", params={
        "lr": "drawn", "lr_decay": "fixed: 0 (the catalog's Adagrad has no lr decay)",
        "weight_decay": _NO_WD, "initial_accumulator_value": "drawn: from initial_accumulator",
        "eps": "drawn",
        "foreach": _SINGLE, "maximize": _NO_MAX, "differentiable": _NO_DIFF,
        "fused": "fixed: None (the single-tensor path)"})
    def adagrad(self, params: Any, grads: Any, *, lr: float, eps: float,
                initial_accumulator: float = 0.0, eps_placement: str = "outside") -> Any:
        require("eps_placement", eps_placement, "outside")
        p = _parameter(params)
        opt = torch.optim.Adagrad([p], lr=lr, eps=eps, foreach=False,
                                  initial_accumulator_value=initial_accumulator)
        return _run(opt, p, grads, lambda st, p: (p, st["sum"]))

    @implements("optim.rmsprop/eps_outside", native="torch.optim.RMSprop", params={
        "lr": "drawn", "alpha": "drawn: from rho", "eps": "drawn", "weight_decay": _NO_WD,
        "momentum": "fixed: 0 (not in the catalog's RMSprop)",
        "centered": "fixed: False (not in the catalog's RMSprop)", "capturable": _NO_CAPTURE,
        "foreach": _SINGLE, "maximize": _NO_MAX, "differentiable": _NO_DIFF})
    def rmsprop(self, params: Any, grads: Any, *, lr: float, rho: float, eps: float,
                eps_placement: str = "outside") -> Any:
        require("eps_placement", eps_placement, "outside")
        p = _parameter(params)
        opt = torch.optim.RMSprop([p], lr=lr, alpha=rho, eps=eps, foreach=False)
        return _run(opt, p, grads, lambda st, p: (p, st["square_avg"]))

    @implements("optim.adadelta", native="torch.optim.Adadelta", params={
        "lr": "drawn", "rho": "drawn", "eps": "drawn", "weight_decay": _NO_WD,
        "foreach": _SINGLE, "capturable": _NO_CAPTURE, "maximize": _NO_MAX,
        "differentiable": _NO_DIFF})
    def adadelta(self, params: Any, grads: Any, *, rho: float, eps: float,
                 lr: float = 1.0) -> Any:
        p = _parameter(params)
        opt = torch.optim.Adadelta([p], lr=lr, rho=rho, eps=eps, foreach=False)
        return _run(opt, p, grads, lambda st, p: (p, st["square_avg"], st["acc_delta"]))

    def _adam(self, cls: Any, params: Any, grads: Any, lr: float, b1: float, b2: float,
              eps: float, weight_decay: float, **path: Any) -> Any:
        p = _parameter(params)
        opt = cls([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay, **path)
        return _run(opt, p, grads,
                    lambda st, p: (p, st["exp_avg"], st["exp_avg_sq"], st["step"]))

    @implements("optim.adam", native="torch.optim.Adam", params=_ADAM)
    def adam(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
             eps_mode: str = "outside", weight_decay: float = 0.0,
             weight_decay_mode: str = "l2") -> Any:
        require("eps_mode", eps_mode, "outside")
        require("weight_decay_mode", weight_decay_mode, "l2")
        return self._adam(torch.optim.Adam, params, grads, lr, b1, b2, eps, weight_decay,
                          foreach=False)

    @implements("optim.adam/foreach", native="torch.optim.Adam",
                params={**_ADAM, "foreach": "fixed: True, the multi-tensor path"})
    def adam_foreach(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float,
                     eps: float, eps_mode: str = "outside", weight_decay: float = 0.0,
                     weight_decay_mode: str = "l2") -> Any:
        require("eps_mode", eps_mode, "outside")
        require("weight_decay_mode", weight_decay_mode, "l2")
        return self._adam(torch.optim.Adam, params, grads, lr, b1, b2, eps, weight_decay,
                          foreach=True)

    @implements("optim.adam/fused", native="torch.optim.Adam",
                params={**_ADAM, "fused": "fixed: True, the fused kernel"})
    def adam_fused(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float,
                   eps: float, eps_mode: str = "outside", weight_decay: float = 0.0,
                   weight_decay_mode: str = "l2") -> Any:
        require("eps_mode", eps_mode, "outside")
        require("weight_decay_mode", weight_decay_mode, "l2")
        return self._adam(torch.optim.Adam, params, grads, lr, b1, b2, eps, weight_decay,
                          fused=True)

    @implements("optim.adam/decoupled", native="torch.optim.AdamW",
                params={k: v for k, v in _ADAM.items() if k != "decoupled_weight_decay"})
    def adamw(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
              eps_mode: str = "outside", weight_decay: float = 0.0,
              weight_decay_mode: str = "decoupled") -> Any:
        require("eps_mode", eps_mode, "outside")
        require("weight_decay_mode", weight_decay_mode, "decoupled")
        return self._adam(torch.optim.AdamW, params, grads, lr, b1, b2, eps, weight_decay,
                          foreach=False)

    # --- second order --------------------------------------------------------------------
    @implements("optim.newton", composed=True,
                native=("torch.func.grad", "torch.func.hessian", "torch.linalg.solve"),
                params={"argnums": "fixed: 0 (x)", "has_aux": "fixed: False",
                        "left": "fixed: True (H d = g)", "out": "fixed: None"})
    def newton(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int) -> Any:
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731
        grad, hess = torch.func.grad(f), torch.func.hessian(f)
        x, out = x0, []
        for _ in range(steps):
            x = x - torch.linalg.solve(hess(x), grad(x))
            out.append(x)
        return (torch.stack(out),)

    @implements("optim.lbfgs/l1_first_step", native="torch.optim.LBFGS", params={
        "lr": "drawn", "max_iter": "fixed: 1 (one step per step() call)",
        "max_eval": "fixed: None (no line search: one evaluation per step)",
        "tolerance_grad": "fixed: -1, never stop early (the oracle takes every step)",
        "tolerance_change": "fixed: -inf; the default 1e-9 skips a step once g.d > -1e-9",
        "history_size": "drawn: from history",
        "line_search_fn": "fixed: None (a fixed step size, the catalog's L-BFGS)"})
    def lbfgs(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int, lr: float,
              history: int, first_step: str = "l1", min_curvature: float | None = 1e-10,
              pair: str = "step") -> Any:
        """state["old_stps"] (s = t d) and ["old_dirs"] (y), oldest first, zero-padded."""
        require("convention", (first_step, min_curvature, pair), ("l1", 1e-10, "step"))
        p = _parameter(x0)
        opt = torch.optim.LBFGS([p], lr=lr, max_iter=1, tolerance_grad=-1.0,
                                tolerance_change=-math.inf, history_size=history)
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731

        def read(st: dict, p: Any) -> tuple[Any, ...]:
            s_list, y_list = st["old_stps"], st["old_dirs"]
            pad = torch.zeros((history - len(s_list), p.shape[0]), dtype=p.dtype,
                              device=p.device)
            hist_s = torch.cat([torch.stack(s_list), pad]) if s_list else pad
            hist_y = torch.cat([torch.stack(y_list), pad]) if y_list else pad
            count = torch.tensor(float(len(s_list)), dtype=p.dtype, device=p.device)
            return p, hist_s, hist_y, count

        return _closure_run(opt, p, f, steps, read)
