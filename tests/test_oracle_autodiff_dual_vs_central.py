"""The oracle's dual-number JVP against central differences (ad.numeric_diff), for every
registered spec that differentiates something, on a few drawn cases each.

Step. Each differentiated argument x_k gets the direction u_k = s_k z_k (z_k standard normal,
s_k = max(1, max|x_k|)) and all share h = eps^(1/3): a step of eps^(1/3) relative to the
argument's size, the optimum of a central difference when f varies on the scale of x.

Bound, per output element (Taylor with remainder, plus the rounding of f):
  D_h f[u] - f'(x)u = T(h) + R(h),  T(h) = h^2/6 D^3f[u,u,u] + O(h^4),  |R(h)| <= c eps S / h.
* Truncation: many specs are far from "f varies on the scale of x" (softmax logits shifted by
  ~1400, log(p) at p = 2^-10, 1/sqrt(var + eps) with a tiny var), so no constant bounds D^3.
  It is estimated instead, independently of the duals, by Richardson: D_2h - D_h = 3 T(h) +
  O(h^4), and allowed as 2/3 |D_2h - D_h| (twice the estimate: that covers the O(h^4) terms,
  at most h^4 |D^5| / 120 against the estimate's h^4 |D^5| / 24, and the estimate's own
  rounding noise).
* Rounding: S = max(|f|, |J u|, 1) over the output (f's own rounding is relative to |f|;
  rounding x +- h u moves f by about eps |J u| / |z|; the 1 covers cancellation in O(1) sums)
  and c = ROUNDING: two evaluations of ops a handful of roundings deep on small cases, plus
  the input rounding. c eps / h = c eps^(2/3) ~ 6e-10 relative: a dual that is wrong at that
  level still fails (test_the_check_catches_a_small_dual_error).

Kinks. Specs keep their inputs away from kinks (relu's 0, |w|'s 0, prox_l1's +-lam, unique
values for max pooling) by far more than h |u|, except the tie specs (pool.max/ties,
pool.global_max/ties, pool.kmax/ties), where values are tied on purpose: the function is not
differentiable there and the dual follows the tie rule, i.e. the slope of one active piece.
An example that mismatches is "at a kink" when some mismatching element has one-sided
differences (forward, backward) that disagree by more than the bound, with a gap that does
not shrink with the step (a smooth piece's gap is h D^2f[u,u]: it doubles from h to 2h), and
a dual between them. A direction that moves equal
values together keeps every tie, so the tie rule's piece is active on both sides: an example
at a kink with tied inputs is re-checked, strictly, along such a direction. Only an example
at a kink without ties (a step long enough to reach a kink) is skipped, with ``assume``; a
mismatch not explained by a kink fails.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.registry import Case, OpSpec
from conformance.specs import all_specs
from oracle import _canon, autodiff
from oracle import activations as A
from oracle import normalization as N

EPS = float(np.finfo(np.float64).eps)
H = EPS ** (1 / 3)
ROUNDING = 16.0
RICHARDSON = 2.0 / 3.0
EXAMPLES = 5
KINK = "a step of h |u| reaches a kink"

SPECS = {sid: s for sid, s in all_specs().items() if s.grad_wrt}
# Specs whose drawn values are tied on purpose (checked along tie-keeping directions).
TIE_SPECS = {"pool.max/ties", "pool.global_max/ties", "pool.kmax/ties"}


@dataclass
class Measure:
    """Per output (flattened): the dual J u, the central difference and its bound; and the
    line itself, for the one-sided differences that tell a kink."""

    names: list[str]
    dual: list[np.ndarray]
    central: list[np.ndarray]
    bound: list[np.ndarray]
    line: tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray]

    def bad(self) -> list[np.ndarray]:
        """Elements where the dual and the central difference disagree (NaN counts)."""
        return [~(np.abs(c - d) <= b) for c, d, b in zip(self.central, self.dual, self.bound)]

    def _split(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        """Forward and backward one-sided differences with step h, flattened."""
        f, z0, u = self.line
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return (autodiff.forward_difference(f, z0, u, h=h),
                    -autodiff.forward_difference(f, z0, -u, h=h))

    def at_kink(self) -> bool:
        """Some mismatching element sits on a kink at x: its one-sided differences disagree
        by more than the bound, their gap does not shrink with the step (on a smooth piece
        fw - bw = h D^2f[u,u] doubles with h; across a kink at x it is the jump in slope,
        the same for h and 2h), and the dual lies between them (one active piece's slope)."""
        fw, bw = self._split(H)
        fw2, bw2 = self._split(2 * H)
        offset = 0
        for bad, d, b in zip(self.bad(), self.dual, self.bound):
            part = slice(offset, offset + d.size)
            offset += d.size
            gap, gap2 = fw[part] - bw[part], fw2[part] - bw2[part]
            lo, hi = np.minimum(fw[part], bw[part]), np.maximum(fw[part], bw[part])
            kink = ((np.abs(gap) > b) & (np.abs(gap2 - gap) <= np.abs(gap) / 2)
                    & (d >= lo - b) & (d <= hi + b))
            if np.any(bad & kink):
                return True
        return False


def _line(spec: OpSpec, case: Case) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """f restricted to the differentiated arguments, flattened and concatenated (integer
    arguments and hyper-parameters held fixed), and the point z0 it is evaluated at."""
    args, wrt = list(case.args), list(spec.grad_wrt)
    shapes = [np.shape(args[i]) for i in wrt]

    def f(z: np.ndarray) -> np.ndarray:
        call, offset = list(args), 0
        for i, shape in zip(wrt, shapes):
            n = int(np.prod(shape))
            call[i] = z[offset:offset + n].reshape(shape)
            offset += n
        outs = _canon.flatten_outputs(spec.oracle(*call, **case.kwargs))
        return np.concatenate([np.asarray(o, dtype=np.float64).ravel() for o in outs])

    return f, np.concatenate([np.asarray(args[i], dtype=np.float64).ravel() for i in wrt])


def _directions(spec: OpSpec, case: Case, rng: np.random.Generator,
                keep_ties: bool) -> list[np.ndarray]:
    """u_k = max(1, max|x_k|) z_k; with ``keep_ties``, z_k is one normal per distinct value
    of x_k (equal values move together, so every tie persists along the line)."""
    us = []
    for i in spec.grad_wrt:
        x = np.asarray(case.args[i], dtype=np.float64)
        if keep_ties:
            values, group = np.unique(x, return_inverse=True)
            z = rng.standard_normal(values.size)[group.reshape(x.shape)]
        else:
            z = rng.standard_normal(x.shape)
        us.append(max(1.0, float(np.max(np.abs(x), initial=0.0))) * z)
    return us


def _measure(spec: OpSpec, case: Case, us: list[np.ndarray]) -> Measure:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        outs, tans = autodiff.jvp(spec.oracle, list(case.args), case.kwargs,
                                  dict(zip(spec.grad_wrt, us)))
        f, z0 = _line(spec, case)
        u = np.concatenate([v.ravel() for v in us])
        central = autodiff.central_difference(f, z0, u, h=H)
        wide = autodiff.central_difference(f, z0, u, h=2 * H)
    names = _canon.output_names(spec.oracle(*case.args, **case.kwargs))
    m = Measure(names if len(names) == len(outs) else [f"out{i}" for i in range(len(outs))],
                [], [], [], (f, z0, u))
    offset = 0
    for o, t in zip(outs, tans):
        o, t = np.asarray(o, dtype=np.float64).ravel(), np.asarray(t, dtype=np.float64).ravel()
        part = slice(offset, offset + o.size)
        offset += o.size
        scale = max(float(np.max(np.abs(o), initial=0.0)),
                    float(np.max(np.abs(t), initial=0.0)), 1.0)
        m.dual.append(t)
        m.central.append(central[part])
        m.bound.append(RICHARDSON * np.abs(wide[part] - central[part])
                       + ROUNDING * EPS ** (2 / 3) * scale)
    assert offset == central.size, f"{spec.id}: outputs and the flattened line disagree"
    return m


def _report(spec: OpSpec, case: Case, m: Measure, direction: str) -> str:
    lines = [f"{spec.id}: dual JVP and central difference disagree ({direction} direction, "
             f"h = {H:.3g})"]
    for name, bad, d, c, b in zip(m.names, m.bad(), m.dual, m.central, m.bound):
        if np.any(bad):
            k = int(np.argmax(np.where(bad, np.nan_to_num(np.abs(c - d), nan=np.inf), -1)))
            lines.append(f"  {name}[{k}] (flat): dual {d[k]!r}, central {c[k]!r}, "
                         f"|diff| {abs(c[k] - d[k]):.3g} > bound {b[k]:.3g} "
                         f"({int(np.sum(bad))} of {bad.size} elements)")
    lines.append(f"  case: args {[np.asarray(a).tolist() for a in case.args]}, "
                 f"kwargs {dict(case.kwargs)}")
    return "\n".join(lines)


def _has_ties(spec: OpSpec, case: Case) -> bool:
    return any(np.unique(np.asarray(case.args[i])).size < np.size(case.args[i])
               for i in spec.grad_wrt)


def check_case(spec: OpSpec, case: Case, rng: np.random.Generator) -> str:
    """Assert the dual JVP matches the central difference; returns how it was checked
    (or KINK: the example straddles a kink without ties, and there is nothing to compare)."""
    for i in spec.grad_wrt:  # integer arguments (labels, indices) are never differentiated
        assert np.asarray(case.args[i]).dtype.kind == "f", f"{spec.id}: argument {i}"
    m = _measure(spec, case, _directions(spec, case, rng, keep_ties=False))
    if not any(np.any(b) for b in m.bad()):
        return "random direction"
    if not m.at_kink():
        raise AssertionError(_report(spec, case, m, "random"))
    # At a kink: x itself sits on a tie (re-check along a tie-keeping direction), or a step
    # of h |u| reaches a kink near x (nothing to compare: the caller skips the example).
    if not _has_ties(spec, case):
        return KINK
    m = _measure(spec, case, _directions(spec, case, rng, keep_ties=True))
    assert not any(np.any(b) for b in m.bad()), _report(spec, case, m, "tie-keeping")
    return "tie-keeping direction"


@pytest.mark.parametrize("spec_id", sorted(SPECS))
def test_dual_jvp_matches_central_difference(spec_id: str) -> None:
    spec = SPECS[spec_id]
    ways: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, database=None, derandomize=True, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(spec.inputs("float64"), label="case")
        seed = data.draw(st.integers(0, 2**32 - 1), label="direction seed")
        way = check_case(spec, case, np.random.default_rng(seed))
        assume(way != KINK)
        ways[way] += 1

    run()
    # hypothesis raises Unsatisfiable when every example is skipped; say it explicitly too.
    assert sum(ways.values()) >= 1, f"{spec_id}: no example was checked"
    if spec_id in TIE_SPECS:
        # The tie specs must exercise the tie path at least once, or they test nothing new.
        assert ways["tie-keeping direction"] >= 1, (spec_id, dict(ways))


def test_every_differentiable_spec_is_listed() -> None:
    """The parametrization is the registry's differentiable specs, none filtered out."""
    differentiable = {sid for sid, s in all_specs().items() if s.grad_wrt}
    assert set(SPECS) == differentiable
    assert {"act.softmax", "norm.batch_norm_train", "pool.kmax/ties", "block.inception",
            "conv.conv3d", "loss.cross_entropy/index"} <= differentiable
    assert TIE_SPECS <= differentiable


def _planted(oracle: Callable[..., Any], size: float) -> Callable[..., Any]:
    """``oracle`` (whose first output has its first input's shape) with that output's
    tangent off by ``size`` * the first input's tangent, its values unchanged."""

    def wrong(x: Any, *args: Any, **kwargs: Any) -> Any:
        drift = x - _canon.primal(x)  # value 0, tangent u: only the dual sees it
        return oracle(x, *args, **kwargs) + size * drift

    return wrong


@pytest.mark.parametrize("oracle,case", [
    (A.tanh, Case((np.array([-3.0, -0.5, 0.25, 1.0, 20.0]),))),
    (N.layer_norm, Case((np.array([[0.5, -1.0, 2.0, 0.25], [3.0, 1.0, -2.0, 0.5]]),
                         np.array([1.0, 0.5, -2.0, 1.5]), np.array([0.0, 0.25, 1.0, -1.0])),
                        {"normalized_ndim": 1, "eps": 2.0**-10})),
], ids=["tanh", "layer_norm"])
def test_the_check_catches_a_small_dual_error(oracle: Callable[..., Any], case: Case) -> None:
    """The bound is tight: a dual JVP off by 1e-7 u fails, the correct one passes."""
    grad_wrt = tuple(range(len(case.args)))
    good = OpSpec("planted.good", oracle, lambda dtype: st.just(case), grad_wrt=grad_wrt)
    bad = OpSpec("planted.bad", _planted(oracle, 1e-7), lambda dtype: st.just(case),
                 grad_wrt=grad_wrt)
    assert check_case(good, case, np.random.default_rng(0)) == "random direction"
    with pytest.raises(AssertionError, match="planted.bad: dual JVP and central difference"):
        check_case(bad, case, np.random.default_rng(0))


def test_a_step_that_reaches_a_kink_is_skipped_not_failed() -> None:
    """relu at x = 1e-9: the step h |u| ~ 1e-6 crosses 0, the central difference mixes the
    two slopes, and the example is recognized as straddling a kink (no ties: skipped)."""
    case = Case((np.array([1e-9, -2.0, 3.0]),))
    spec = OpSpec("near.kink", A.relu, lambda dtype: st.just(case), grad_wrt=(0,))
    assert check_case(spec, case, np.random.default_rng(0)) == KINK
