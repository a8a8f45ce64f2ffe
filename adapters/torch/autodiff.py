"""torch mappings of the ``ad`` family: torch's own forward mode (torch.autograd.forward_ad
dual tensors, i.e. the forward-AD formula of each kernel), reverse mode (torch.autograd.grad)
and torch.autograd.functional.hessian (reverse over reverse), on the framework's own ops.

torch.func.jvp / torch.func.hessian run the same formulas through functorch, whose first
call in a process costs 5 to 9 s of initialization on this CPU: the autograd entry points
keep the family's run short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.base import implements
from adapters.torch._lazy import F, torch
from adapters.torch._params import OUT

_FWAD = ("torch.autograd.forward_ad.make_dual", "torch.autograd.forward_ad.unpack_dual")
_LEVEL = {"level": "fixed: None, the innermost dual_level (one level is entered)"}
_ARITH_PARAMS = {**_LEVEL, **OUT, "alpha": "fixed: 1 (default), add/sub as the operators",
                 "rounding_mode": "fixed: None (default), true division"}
_GRAD = {"grad_outputs": "fixed: the drawn cotangent g", "retain_graph": "fixed: default",
         "create_graph": "fixed: False, first derivatives only",
         "only_inputs": "fixed: default (deprecated, ignored)",
         "allow_unused": "fixed: default; every input is used",
         "is_grads_batched": "fixed: False, one cotangent",
         "materialize_grads": "fixed: default; every input is used"}
_HESSIAN = {"create_graph": "fixed: False, the Hessian's value only",
            "strict": "fixed: False (default)",
            "vectorize": "not covered: False (default), one backward pass per row; the vmap "
            "path (vectorize=True) would need a variant of the spec",
            "outer_jacobian_strategy": "fixed: 'reverse-mode' (default); forward-over-reverse "
            "needs vectorize=True"}

# Catalog op name -> torch function name (the same kernels as the Python operators).
_ARITH = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "pow": "pow",
          "maximum": "maximum", "minimum": "minimum", "neg": "neg", "reciprocal": "reciprocal"}


def _function(fn: str, coeffs: Sequence[float] | None) -> Callable[[Any], Any]:
    if fn == "polynomial":
        return lambda x: _horner(x, coeffs or ())
    if fn == "max":
        return lambda x: torch.amax(x, dim=-1)  # ties: amax splits the tangent evenly
    if fn == "min":
        return lambda x: torch.amin(x, dim=-1)
    return getattr(torch, fn)  # exp log sin cos tanh sigmoid sqrt abs relu


def _horner(x: Any, coeffs: Sequence[float]) -> Any:
    r = torch.full_like(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        r = r * x + c
    return r


def _forward(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
             ) -> tuple[Any, Any]:
    """(f(*primals), J tangents) with dual tensors; an output that does not depend on the
    primals (a constant polynomial) has tangent 0."""
    fwad = torch.autograd.forward_ad
    with fwad.dual_level():
        out = f(*[fwad.make_dual(p, t) for p, t in zip(primals, tangents)])
        value, tangent = fwad.unpack_dual(out)
    return value, torch.zeros_like(value) if tangent is None else tangent


_MLP_PARAMS = {**_LEVEL, "bias": "fixed: the MLP's bias tensors b1, b2",
               "dim": "fixed: 1, over the classes", "_stacklevel": "fixed: default (warnings)",
               "dtype": "fixed: None, no upcast"}


def _mlp_loss(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> Any:
    h = torch.tanh(F.linear(x, w1, b1))
    return -(t * F.log_softmax(F.linear(h, w2, b2), dim=1)).sum(dim=1)


def _hessian(f: Callable[[Any], Any], x: Any) -> Any:
    return torch.autograd.functional.hessian(f, x)


class AutodiffOps:
    UNSUPPORTED = {
        "ad.numeric_diff": "torch has no public finite-difference op: torch.autograd.gradcheck "
                           "computes a numerical Jacobian internally but only asserts "
                           "(get_numerical_jacobian is no longer public)",
    }

    @implements("ad.dual_arith", native=(*_FWAD, "torch.add", "torch.sub", "torch.div"),
                params=_ARITH_PARAMS)
    def dual_arith(self, x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *,
                   op: str) -> Any:
        f = getattr(torch, _ARITH[op])
        if y is None:
            return _forward(f, (x,), (x_dot,))
        return _forward(f, (x, y), (x_dot, y_dot))

    @implements("ad.dual_functions", native=(*_FWAD, "torch.exp", "torch.amax"),
                params={**_LEVEL, **OUT, "dim": "fixed: -1, over the last axis (max, min)",
                        "keepdim": "fixed: False"})
    def dual_functions(self, x: Any, x_dot: Any, *, fn: str,
                       coeffs: Sequence[float] | None = None) -> Any:
        return _forward(_function(fn, coeffs), (x,), (x_dot,))

    @implements("ad.jvp", native=(*_FWAD, "torch.nn.functional.linear",
                                  "torch.nn.functional.log_softmax"), params=_MLP_PARAMS)
    def mlp_jvp(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, *tangents: Any
                ) -> Any:
        return _forward(lambda *p: _mlp_loss(*p, t), (x, w1, b1, w2, b2), tangents)

    @implements("ad.vjp", native=("torch.autograd.grad", "torch.nn.functional.linear",
                                  "torch.nn.functional.log_softmax"),
                params={**{k: v for k, v in _MLP_PARAMS.items() if k != "level"}, **_GRAD})
    def mlp_vjp(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> Any:
        params = [p.detach().requires_grad_(True) for p in (x, w1, b1, w2, b2)]
        loss = _mlp_loss(*params, t)
        return (loss, *torch.autograd.grad(loss, params, g))

    @implements("ad.hessian/logsumexp", native=("torch.autograd.functional.hessian",
                                                "torch.logsumexp"),
                params={**_HESSIAN, **OUT, "keepdim": "fixed: False, a scalar"})
    def hessian_logsumexp(self, x: Any, A: Any) -> Any:
        return _hessian(lambda v: torch.logsumexp(A @ v, 0) + (v * v).sum() / 2, x)

    @implements("ad.hessian/rosenbrock", native="torch.autograd.functional.hessian",
                params=_HESSIAN)
    def hessian_rosenbrock(self, x: Any, *, a: float, b: float) -> Any:
        def f(v: Any) -> Any:
            head, tail = v[:-1], v[1:]
            return (b * (tail - head * head) ** 2 + (a - head) ** 2).sum()

        return _hessian(f, x)
