"""Run the accuracy measurement: every op's forms, every hard class in its domain, a few
hypothesis-drawn examples each; the oracle (float64) against its mpmath transcription at 50
digits; per op the max and 99th percentile of the error in the bound's units and in ulps,
the normwise error, and the input class of the worst element.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import mpmath
import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from oracle import _canon
from oracle.accuracy import measure as M
from oracle.accuracy.bounds import Bound, bound_for
from oracle.accuracy.cases import FORMS, Draw, Form
from oracle.accuracy.others import other_forms

DIGITS = 50
# A command run of this many examples per (form, class); the tests take fewer.
DEFAULT_EXAMPLES = 20


@dataclass
class OpAccuracy:
    op: str
    bound: float
    kind: str
    bound_text: str
    reason: str
    examples: int = 0
    max: float = 0.0
    p99: float = 0.0
    max_ulp: float = 0.0
    p99_ulp: float = 0.0
    normwise: float = 0.0
    worst_class: str = ""
    worst_case: str = ""
    classes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Forms the harness could not evaluate (a spec's inputs the transcription does not take).
    unmeasured: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        """False when no example could be evaluated because the harness has no input builder
        for the transcription (another family's spec draws inputs its signature lacks):
        listed, but not a failure of the oracle."""
        return self.examples > 0 or bool(self.errors)

    @property
    def passed(self) -> bool:
        return self.measured and not self.errors and self.max <= self.bound

    @property
    def status(self) -> str:
        if not self.measured:
            return "NOT MEASURED " + (self.unmeasured or ["no examples"])[0]
        if self.errors:
            return "ERROR " + self.errors[0]
        partly = f" ({len(self.unmeasured)} not measured)" if self.unmeasured else ""
        return ("ok" if self.passed else "OVER BOUND") + partly

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "measured": self.measured,
                "status": self.status}


@functools.cache
def all_forms() -> dict[str, list[Form]]:
    return {**FORMS, **other_forms(set(FORMS))}


def bound_of(op: str) -> Bound:
    bound = bound_for(op)
    if bound is None:
        raise KeyError(f"{op}: no stated accuracy bound (oracle/accuracy/bounds.py)")
    return bound


def _describe(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    shapes = [f"{np.asarray(a).dtype}{list(np.shape(a))}" if isinstance(a, np.ndarray)
              else type(a).__name__ for a in args]
    kw = {k: (f"array{list(np.shape(v))}" if isinstance(v, np.ndarray) else v)
          for k, v in kwargs.items()}
    return f"args {', '.join(shapes)}; {kw}"


def evaluate(form: Form, args: tuple[Any, ...], kwargs: dict[str, Any], bound: Bound
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """(error in the bound's units, error in ulps, normwise error), every output flattened."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _canon.flatten_outputs(form.subject(*copy.deepcopy(args), **kwargs))
        with mpmath.workdps(DIGITS):
            want = _canon.flatten_outputs(form.precise(*copy.deepcopy(args), **kwargs))
        floats = [M.to_float(g) for g in got]
        terms = form.terms(args, kwargs, floats) if form.terms else [None] * len(got)
    if len(got) != len(want):
        raise ValueError(f"{len(got)} oracle outputs against {len(want)} mpmath outputs")
    q, u, norm = [], [], 0.0
    for g, w, t in zip(got, want, terms):
        err = M.abs_errors(g, w)
        exact = M.to_float(w)
        q.append(M.measure(err, exact, bound.kind, t).reshape(-1))
        u.append(M.measure(err, exact, "ulp").reshape(-1))
        norm = max(norm, M.normwise(err, exact))
    return np.concatenate(q), np.concatenate(u), norm


def _probe(form: Form, cls: str, examples: int, seed_value: int,
           observe: Callable[..., None]) -> Callable[[], None]:
    """A hypothesis test (never failing) that draws ``examples`` cases of ``form`` in class
    ``cls`` and hands each to ``observe``; reproducible from ``seed_value``."""

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(seed_value)
    @given(st.data())
    def probe(data: st.DataObject) -> None:
        d = Draw(np.random.default_rng(data.draw(st.integers(0, 2**63 - 1))), cls, data)
        args, kwargs = form.build(d)
        observe(form, cls, args, kwargs)

    return probe


def measure_op(op: str, examples: int, seed_value: int,
               progress: Callable[[str], None] | None = None) -> OpAccuracy:
    bound = bound_of(op)
    res = OpAccuracy(op, bound.value, bound.kind, bound.describe(), bound.reason)
    qs: list[np.ndarray] = []
    us: list[np.ndarray] = []

    def observe(form: Form, cls: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            q, u, norm = evaluate(form, args, kwargs, bound)
        except Exception as exc:  # an op that fails on its own domain is a finding
            msg = f"{cls}: {type(exc).__name__}: {exc}"[:300]
            # A spec's inputs the transcription does not take: not the oracle's failure.
            where = res.unmeasured if cls == "spec" else res.errors
            msg = f"{form.name}: {msg}" if cls == "spec" else msg
            if msg not in where:
                where.append(msg)
            return
        res.examples += 1
        qs.append(q)
        us.append(u)
        res.normwise = max(res.normwise, norm)
        top = float(q.max()) if q.size else 0.0
        if top > res.max or not res.worst_class:
            res.max = max(res.max, top)
            res.worst_class = cls
            res.worst_case = _describe(args, kwargs)

    forms = all_forms()[op]
    if not forms:
        res.unmeasured.append("no input builder (no spec variant whose oracle has a "
                              "transcription of the same name)")
    for form in forms:
        for cls in form.classes:
            res.classes.append(cls if len(forms) == 1 else f"{form.name}:{cls}")
            _probe(form, cls, examples, seed_value, observe)()
            if progress:
                progress(f"{op} [{cls}]")
    if qs:
        q, u = np.concatenate(qs), np.concatenate(us)
        res.max, res.p99 = float(q.max()), _p99(q)
        res.max_ulp, res.p99_ulp = float(u.max()), _p99(u)
    return res


def _p99(values: np.ndarray) -> float:
    """The 99th percentile, by rank (np.percentile interpolates, which an inf breaks)."""
    ordered = np.sort(values)
    return float(ordered[min(len(ordered) - 1, int(np.ceil(0.99 * len(ordered))) - 1)])


def select(patterns: list[str] | None) -> list[str]:
    ops = sorted(all_forms())
    if not patterns:
        return ops
    return [op for op in ops if any(fnmatch.fnmatchcase(op, p) for p in patterns)]


def run(patterns: list[str] | None = None, *, examples: int = DEFAULT_EXAMPLES,
        seed_value: int = 0, progress: Callable[[str], None] | None = None
        ) -> list[OpAccuracy]:
    out = []
    for op in select(patterns):
        start = time.perf_counter()
        res = measure_op(op, examples, seed_value)
        if progress:
            progress(f"{op}: max {res.max:.3g} ({res.bound_text}) {res.status[:40]} "
                     f"[{time.perf_counter() - start:.1f} s]")
        out.append(res)
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return "inf"
    return f"{v:.3g}"


def table(results: list[OpAccuracy]) -> str:
    head = ("op", "bound", "max", "p99", "max ulp", "p99 ulp", "normwise", "worst class", "")
    rows = [head] + [
        (r.op, r.bound_text, _fmt(r.max), _fmt(r.p99), _fmt(r.max_ulp), _fmt(r.p99_ulp),
         _fmt(r.normwise), r.worst_class, r.status)
        for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def document(results: list[OpAccuracy], *, examples: int, seed_value: int) -> dict[str, Any]:
    """The JSON the report reads (reports/load.py: ``accuracy*.json``)."""
    return {
        "kind": "oracle-accuracy",
        "digits": DIGITS,
        "examples_per_class": examples,
        "seed": seed_value,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "units": M.__doc__,
        "ops": [r.record() for r in results],
    }
