"""One check: round a drawn case to the tested dtype, run the oracle (exact and naive) and
the backend, and compare every output with ``agreement.compare``.

Modes: ``forward`` (values), ``vjp`` (reverse mode, per element against the oracle's full
dual-number Jacobian when the differentiated inputs are small, and always through the
identity <g, u> = <v, J u>), ``jvp`` (forward mode against the oracle's dual JVP), ``state``
(trajectories of stateful ops: every output stacked by step along axis 0, compared like
values, naming the first step where backend and oracle part). ``stat`` checks are the
spec's own (``OpSpec.check``). Every check takes (adapter, spec, case, dtype, seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters.base import Adapter
from conformance import agreement, evaluate
from conformance.registry import Case, OpSpec
from conformance.timing import phase
from conformance.vocabulary import is_floating, numpy_dtype

# Above this many differentiated input elements the full Jacobian (one dual pass per element,
# twice: exact and naive) costs more than it adds over the <g, u> = <v, J u> identity.
FULL_JACOBIAN_MAX = 64
# OpSpec.tags: the spec's textbook hook answers mode "forward" too (a differentiable op
# whose kernels legitimately evaluate the value in another order than the oracle).
FORWARD_TEXTBOOK = "textbook-forward"


@dataclass
class CheckOutcome:
    agreements: list[agreement.Agreement]
    expected: list[np.ndarray] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    factor_reason: str | None = None

    @property
    def parted(self) -> tuple[int, str] | None:
        """(step, output) where trajectories first leave the bound (mode ``state``)."""
        steps = [(a.first_failing[0], a.output) for a in self.agreements
                 if a.first_failing and not a.shape_mismatch]
        return min(steps) if steps else None

    @property
    def worst(self) -> agreement.Agreement:
        return agreement.worst(self.agreements)

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.agreements)


def rounded(case: Case, dtype: str) -> list[Any]:
    """The case's floating arrays rounded to the tested dtype (what the backend receives)."""
    nd = numpy_dtype(dtype)
    return [a.astype(nd) if is_floating(a) else a for a in case.args]


def upcast(args: list[Any]) -> list[Any]:
    return [a.astype(np.float64) if is_floating(a) else a for a in args]


def run_oracle(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], dtype: str) -> list[Any]:
    """The oracle in ``dtype`` (float64 = exact), outputs as float64 arrays."""
    return evaluate.values(spec, args, kwargs, dtype)[0]


naive_dtype = evaluate.naive_dtype


def _compare(name: str, got: Any, exact: Any, naive: Any, dtype: str, factor: float,
             book: Any = None, scale: Any = None, op: str | None = None) -> agreement.Agreement:
    """``op``: values only (forward, state), whose float64 bound then includes the oracle's
    stated error for the op; its stated bounds are for values, not for derivatives."""
    if scale is None and book is not None:
        scale = getattr(book, "magnitude", None)  # a textbook sum: judged by its terms' magnitudes
    with phase("compare"):
        return agreement.compare(name, got, exact, naive, dtype, factor, book, scale, op=op)


def _backend(run: Any, *args: Any) -> list[np.ndarray]:
    with phase("backend"):
        return run(*args)


def forward(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int = 0) -> CheckOutcome:
    return _values(adapter, spec, case, dtype, "forward")


def state(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int = 0) -> CheckOutcome:
    """A stateful op's trajectory: the backend's K steps against the oracle's, every state
    tensor after every step. The naive evaluation is the oracle's own K steps in the tested
    dtype, so error that grows over the steps is judged step by step, not hidden; the
    outcome's ``parted`` names the first step and tensor beyond the bound."""
    return _values(adapter, spec, case, dtype, "state")


def _values(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, mode: str) -> CheckOutcome:
    args = rounded(case, dtype)
    kwargs = dict(case.kwargs)
    exact, names = evaluate.values(spec, upcast(args), kwargs, "float64")
    naive, _ = evaluate.values(spec, args, kwargs, naive_dtype(dtype))
    got = _backend(adapter.run_forward, spec.id, args, kwargs, dtype)
    factor, why = spec.factor(mode, dtype)
    if len(got) != len(exact):
        bad = agreement.Agreement(names[0], float("inf"), float("inf"), float("inf"), (), None,
                                  None, 0.0, False,
                                  shape_mismatch=f"{len(got)} outputs, expected {len(exact)}")
        return CheckOutcome([bad], exact, names, why)
    # Specs whose outputs are themselves derivatives (the ad family: no grad_wrt) give their
    # textbook rules here; a differentiable spec's hook answers only "vjp" and "jvp", unless
    # tagged FORWARD_TEXTBOOK (its hook also models the value's legitimate evaluation order).
    answers = not spec.grad_wrt or FORWARD_TEXTBOOK in spec.tags
    book = evaluate.textbook(spec, "forward", args, kwargs, [], dtype) if answers else None
    agree = [_compare(n, g, e, v, dtype, factor, book[i] if book else None, op=spec.id)
             for i, (n, g, e, v) in enumerate(zip(names, got, exact, naive))]
    return CheckOutcome(agree, exact, names, why)


def _random_like(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return rng.standard_normal(shape).astype(numpy_dtype(dtype))


def _grad_outputs(spec: OpSpec, n: int) -> list[int]:
    return list(spec.grad_outputs) if spec.grad_outputs is not None else list(range(n))


def vjp(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int) -> CheckOutcome:
    rng = np.random.default_rng(seed)
    args, kwargs, wrt = rounded(case, dtype), dict(case.kwargs), list(spec.grad_wrt)
    exact_out, _ = evaluate.values(spec, upcast(args), kwargs, "float64")
    diff_outs = _grad_outputs(spec, len(exact_out))
    cots = [_random_like(rng, o.shape, dtype) if i in diff_outs else None
            for i, o in enumerate(exact_out)]
    us = [_random_like(rng, args[i].shape, dtype) for i in wrt]
    grads = _backend(adapter.run_vjp, spec.id, args, kwargs, wrt, cots, dtype)
    factor, why = spec.factor("vjp", dtype)
    names = [f"d/d{case.arg_names()[i]}" for i in wrt]
    agree = [_identity(spec, args, kwargs, wrt, cots, us, grads, dtype, factor)]
    if sum(args[i].size for i in wrt) <= FULL_JACOBIAN_MAX:
        exact = evaluate.vjp(spec, upcast(args), kwargs, wrt, cots, exact_out, "float64")
        naive = evaluate.vjp(spec, args, kwargs, wrt, cots, exact_out, naive_dtype(dtype))
        book = evaluate.textbook(spec, "vjp", args, kwargs, cots, dtype)
        agree += [_compare(n, g, e, v, dtype, factor, book[k] if book else None)
                  for k, (n, g, e, v) in enumerate(zip(names, grads, exact, naive))]
    return CheckOutcome(agree, [], names, why)


def _identity(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
              cots: list[Any], us: list[np.ndarray], grads: list[np.ndarray], dtype: str,
              factor: float) -> agreement.Agreement:
    """<g, u> from the backend's VJP against <v, J u> from the oracle's exact JVP."""
    got = sum(float(np.sum(g.astype(np.float64) * u.astype(np.float64)))
              for g, u in zip(grads, us))
    outs, exact_t = evaluate.jvp(spec, upcast(args), kwargs, wrt, us, "float64")
    _, naive_t = evaluate.jvp(spec, args, kwargs, wrt, us, naive_dtype(dtype))
    cts = evaluate.zero_cotangents(cots, [np.asarray(o) for o in outs])
    exact = sum(float(np.sum(c * t)) for c, t in zip(cts, exact_t))
    naive = sum(float(np.sum(c * t)) for c, t in zip(cts, naive_t))
    book = evaluate.textbook(spec, "jvp", args, kwargs, us, dtype)
    book_s = ([sum(float(np.sum(c * t[k])) for c, t in zip(cts, book))
               for k in range(len(book[0]))] if book else None)
    # A sum whose terms may cancel is judged by its own conditioning: its rounding scales
    # with the sum of its terms' magnitudes, on both sides (a scalar output has one term on
    # the v side, J u, whose own summands are the g side's). The backend's g may enter the
    # scale: an error of g that inflates sum |g_i u_i| adds far more to |<g,u> - <v,Ju>|.
    # Where the textbook gives (J u)_j as a sum (``Summed``), |v_j| times its terms'
    # magnitudes are the terms of <v, J u>.
    summed = [sum(float(np.sum(np.abs(c) * t.magnitude)) for c, t in zip(cts, book)
                  if t.magnitude is not None)] if book else []
    terms = max(sum(float(np.sum(np.abs(c * t))) for c, t in zip(cts, exact_t)),
                sum(float(np.sum(np.abs(g.astype(np.float64) * u.astype(np.float64))))
                    for g, u in zip(grads, us)), *summed)
    return _compare("<g,u>=<v,Ju>", got, exact, naive, dtype, factor, book_s, scale=terms)


def jvp(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int) -> CheckOutcome:
    rng = np.random.default_rng(seed)
    args, kwargs, wrt = rounded(case, dtype), dict(case.kwargs), list(spec.grad_wrt)
    us = [_random_like(rng, args[i].shape, dtype) for i in wrt]
    tans = _backend(adapter.run_jvp, spec.id, args, kwargs, wrt, us, dtype)
    _, exact = evaluate.jvp(spec, upcast(args), kwargs, wrt, us, "float64")
    _, naive = evaluate.jvp(spec, args, kwargs, wrt, us, naive_dtype(dtype))
    names = [f"J.u/{n}" for n in evaluate.values(spec, upcast(args), kwargs, "float64")[1]]
    factor, why = spec.factor("jvp", dtype)
    book = evaluate.textbook(spec, "jvp", args, kwargs, us, dtype)
    agree = [_compare(names[i], tans[i], exact[i], naive[i], dtype, factor,
                      book[i] if book else None)
             for i in _grad_outputs(spec, len(exact))]
    return CheckOutcome(agree, [], names, why)
