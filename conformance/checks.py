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

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters.base import Adapter, outputs_list
from conformance import agreement
from conformance.registry import Case, OpSpec
from conformance.vocabulary import is_floating, numpy_dtype
from oracle import _canon, autodiff

# Above this many differentiated input elements the full Jacobian (one dual pass per element,
# twice: exact and naive) costs more than it adds over the <g, u> = <v, J u> identity.
FULL_JACOBIAN_MAX = 64


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
    nd = numpy_dtype(dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"), _canon.compute_dtype(nd):
        warnings.simplefilter("ignore")
        out = spec.oracle(*[a.astype(nd) if is_floating(a) else a for a in args], **kwargs)
    return [np.asarray(o, dtype=np.float64) for o in _canon.flatten_outputs(out)]


def naive_dtype(dtype: str) -> str:
    """float64 has no lower-precision twin of its own: its naive error is scaled from float32."""
    return "float32" if dtype == "float64" else dtype


def call_backend(adapter: Adapter, spec: OpSpec, args: list[Any], kwargs: dict[str, Any],
                 dtype: str) -> list[np.ndarray]:
    fn = adapter.op(spec.id)
    with adapter.context():
        native = [None if a is None else adapter.to_native(a, dtype) for a in args]
        out = fn(*native, **kwargs)
    return [adapter.to_numpy(o) for o in outputs_list(out)]


def forward(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int = 0) -> CheckOutcome:
    return _values(adapter, spec, case, dtype, "forward")


def _values(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, mode: str) -> CheckOutcome:
    args = rounded(case, dtype)
    kwargs = dict(case.kwargs)
    exact = run_oracle(spec, upcast(args), kwargs, "float64")
    naive = run_oracle(spec, args, kwargs, naive_dtype(dtype))
    got = call_backend(adapter, spec, args, kwargs, dtype)
    names = _names(spec, case, len(exact))
    factor, why = spec.factor(mode, dtype)
    if len(got) != len(exact):
        bad = agreement.Agreement(names[0], float("inf"), float("inf"), float("inf"), (), None,
                                  None, 0.0, False,
                                  shape_mismatch=f"{len(got)} outputs, expected {len(exact)}")
        return CheckOutcome([bad], exact, names, why)
    # Specs whose outputs are themselves derivatives (the ad family: no grad_wrt) give their
    # textbook rules here; a differentiable spec's hook answers only "vjp" and "jvp".
    book = None if spec.grad_wrt else _textbook(spec, "forward", args, kwargs, [], dtype)
    agree = [agreement.compare(n, g, e, v, dtype, factor, book[i] if book else None)
             for i, (n, g, e, v) in enumerate(zip(names, got, exact, naive))]
    return CheckOutcome(agree, exact, names, why)


def state(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int = 0) -> CheckOutcome:
    """A stateful op's trajectory: the backend's K steps against the oracle's, every state
    tensor after every step. The naive evaluation is the oracle's own K steps in the tested
    dtype, so error that grows over the steps is judged step by step, not hidden; the
    outcome's ``parted`` names the first step and tensor beyond the bound."""
    return _values(adapter, spec, case, dtype, "state")


def _names(spec: OpSpec, case: Case, n: int) -> list[str]:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = spec.oracle(*upcast(list(case.args)), **case.kwargs)
    names = _canon.output_names(out)
    return names if len(names) == n else [f"out{i}" for i in range(n)]


def _random_like(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return rng.standard_normal(shape).astype(numpy_dtype(dtype))


def _grad_outputs(spec: OpSpec, n: int) -> list[int]:
    return list(spec.grad_outputs) if spec.grad_outputs is not None else list(range(n))


def vjp(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int) -> CheckOutcome:
    rng = np.random.default_rng(seed)
    args, kwargs, wrt = rounded(case, dtype), dict(case.kwargs), list(spec.grad_wrt)
    exact_out = run_oracle(spec, upcast(args), kwargs, "float64")
    diff_outs = _grad_outputs(spec, len(exact_out))
    cots = [_random_like(rng, o.shape, dtype) if i in diff_outs else None
            for i, o in enumerate(exact_out)]
    us = [_random_like(rng, args[i].shape, dtype) for i in wrt]
    fn = adapter.op(spec.id)
    with adapter.context():
        native = [None if a is None else adapter.to_native(a, dtype) for a in args]
        nat_cots = [None if c is None else adapter.to_native(c, dtype) for c in cots]
        _, grads = adapter.vjp(lambda *a: fn(*a, **kwargs), native, wrt, nat_cots)
    grads = [adapter.to_numpy(g) for g in grads]
    factor, why = spec.factor("vjp", dtype)
    names = [f"d/d{case.arg_names()[i]}" for i in wrt]
    agree = [_identity(spec, args, kwargs, wrt, cots, us, grads, dtype, factor)]
    if sum(args[i].size for i in wrt) <= FULL_JACOBIAN_MAX:
        exact = _oracle_vjp(spec, upcast(args), kwargs, wrt, cots, "float64")
        naive = _oracle_vjp(spec, args, kwargs, wrt, cots, naive_dtype(dtype))
        book = _textbook(spec, "vjp", args, kwargs, cots, dtype)
        agree += [agreement.compare(n, g, e, v, dtype, factor, book[k] if book else None)
                  for k, (n, g, e, v) in enumerate(zip(names, grads, exact, naive))]
    return CheckOutcome(agree, [], names, why)


def _zero_cots(cots: list[Any], outs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros_like(o) if c is None else c.astype(np.float64) for c, o in zip(cots, outs)]


def _oracle_vjp(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
                cots: list[Any], dtype: str) -> list[np.ndarray]:
    nd = numpy_dtype(dtype)
    cast = [a.astype(nd) if is_floating(a) else a for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"), _canon.compute_dtype(nd):
        warnings.simplefilter("ignore")
        outs = [np.asarray(o) for o in _canon.flatten_outputs(spec.oracle(*cast, **kwargs))]
        cts = [c.astype(nd) for c in _zero_cots(cots, outs)]
        grads = autodiff.vjp(spec.oracle, cast, kwargs, wrt, cts)
    return [np.asarray(g, dtype=np.float64) for g in grads]


def _oracle_jvp(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
                tangents: list[np.ndarray], dtype: str) -> tuple[list[Any], list[np.ndarray]]:
    nd = numpy_dtype(dtype)
    cast = [a.astype(nd) if is_floating(a) else a for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"), _canon.compute_dtype(nd):
        warnings.simplefilter("ignore")
        outs, tans = autodiff.jvp(spec.oracle, cast, kwargs,
                                {i: t.astype(nd) for i, t in zip(wrt, tangents)})
    return outs, [np.asarray(t, dtype=np.float64) for t in tans]


def _textbook(spec: OpSpec, mode: str, args: list[Any], kwargs: dict[str, Any],
              seeds: list[Any], dtype: str) -> list[list[np.ndarray]] | None:
    """The spec's textbook derivative formula evaluated in the tested dtype itself (float64
    too: unlike the oracle's duals it is a different algorithm from the exact one), from the
    exact outputs and from outputs one ulp above and below, since a kernel's saved outputs
    carry their own rounding. Returns [per output or wrt: [variants]]."""
    if spec.textbook is None:
        return None
    nd = numpy_dtype(dtype)
    cast = [a.astype(nd) if is_floating(a) else a for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"), _canon.compute_dtype(nd):
        warnings.simplefilter("ignore")
        outs = [np.asarray(o).astype(nd) for o in _canon.flatten_outputs(
            spec.oracle(*cast, **kwargs))]
        seeds = [np.zeros_like(o) if s is None else np.asarray(s).astype(nd)
                 for s, o in zip(seeds, outs)] if mode == "vjp" else \
            [np.asarray(s).astype(nd) for s in seeds]
        variants = []
        for step in (0.0, np.inf, -np.inf):
            moved = [o if step == 0 else np.nextafter(o, nd.type(step)) for o in outs]
            got = spec.textbook(mode, cast, kwargs, moved, seeds)
            variants.append([np.asarray(g, dtype=np.float64) for g in got])
    return [list(v) for v in zip(*variants)]


def _identity(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
              cots: list[Any], us: list[np.ndarray], grads: list[np.ndarray], dtype: str,
              factor: float) -> agreement.Agreement:
    """<g, u> from the backend's VJP against <v, J u> from the oracle's exact JVP."""
    got = sum(float(np.sum(g.astype(np.float64) * u.astype(np.float64)))
              for g, u in zip(grads, us))
    outs, exact_t = _oracle_jvp(spec, upcast(args), kwargs, wrt, us, "float64")
    _, naive_t = _oracle_jvp(spec, args, kwargs, wrt, us, naive_dtype(dtype))
    cts = _zero_cots(cots, [np.asarray(o) for o in outs])
    exact = sum(float(np.sum(c * t)) for c, t in zip(cts, exact_t))
    naive = sum(float(np.sum(c * t)) for c, t in zip(cts, naive_t))
    book = _textbook(spec, "jvp", args, kwargs, us, dtype)
    book_s = ([sum(float(np.sum(c * t[k])) for c, t in zip(cts, book))
               for k in range(len(book[0]))] if book else None)
    # A sum whose terms may cancel is judged by its own conditioning: its rounding scales
    # with the sum of its terms' magnitudes, on both sides (a scalar output has one term on
    # the v side, J u, whose own summands are the g side's). The backend's g may enter the
    # scale: an error of g that inflates sum |g_i u_i| adds far more to |<g,u> - <v,Ju>|.
    terms = max(sum(float(np.sum(np.abs(c * t))) for c, t in zip(cts, exact_t)),
                sum(float(np.sum(np.abs(g.astype(np.float64) * u.astype(np.float64))))
                    for g, u in zip(grads, us)))
    return agreement.compare("<g,u>=<v,Ju>", got, exact, naive, dtype, factor, book_s,
                             scale=terms)


def jvp(adapter: Adapter, spec: OpSpec, case: Case, dtype: str, seed: int) -> CheckOutcome:
    rng = np.random.default_rng(seed)
    args, kwargs, wrt = rounded(case, dtype), dict(case.kwargs), list(spec.grad_wrt)
    us = [_random_like(rng, args[i].shape, dtype) for i in wrt]
    fn = adapter.op(spec.id)
    with adapter.context():
        native = [None if a is None else adapter.to_native(a, dtype) for a in args]
        nat_us = [adapter.to_native(u, dtype) for u in us]
        _, tans = adapter.jvp(lambda *a: fn(*a, **kwargs), native, wrt, nat_us)
    tans = [adapter.to_numpy(t) for t in tans]
    _, exact = _oracle_jvp(spec, upcast(args), kwargs, wrt, us, "float64")
    _, naive = _oracle_jvp(spec, args, kwargs, wrt, us, naive_dtype(dtype))
    names = [f"J.u/{n}" for n in _names(spec, case, len(exact))]
    factor, why = spec.factor("jvp", dtype)
    outs = _grad_outputs(spec, len(exact))
    book = _textbook(spec, "jvp", args, kwargs, us, dtype)
    agree = [agreement.compare(names[i], tans[i], exact[i], naive[i], dtype, factor,
                               book[i] if book else None)
             for i in outs]
    return CheckOutcome(agree, [], names, why)
