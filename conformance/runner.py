"""Runs one generic test (an op, a mode, a dtype) under hypothesis and records every check.

Passing examples are recorded as they run; a failure is recorded once, for the smallest
example hypothesis shrank it to (its final replay), with the case, the oracle's values, a
reproducer and the command that reruns it.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.control import current_build_context

from conformance import agreement, checks
from conformance.config import Conformance
from conformance.registry import Case, OpSpec
from conformance.timing import Stopwatch


def _stat(adapter: Any, spec: OpSpec, case: Case, dtype: str, seed: int) -> checks.CheckOutcome:
    assert spec.check is not None
    return spec.check(adapter, spec, case, dtype, seed)


# One check function per mode of vocabulary.MODES, all taking (adapter, spec, case, dtype, seed).
CHECKS = {"forward": checks.forward, "vjp": checks.vjp, "jvp": checks.jvp,
          "state": checks.state, "stat": _stat}


def _no_local_constants() -> None:
    """Hypothesis mixes literal constants it collects from every loaded local module into
    its draws, so the examples a seed draws would change with any code change and with which
    modules a run happens to import (its backend, an xdist worker): a printed seed would not
    replay. The strategies alone decide here. (A private hook of hypothesis, pinned by the
    tested range in pyproject.toml; tests/test_strategies.py checks it still holds.)"""
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_get_local_constants"):  # releases before it never mixed them in
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty


_no_local_constants()


def test_seed(run_seed: int, test_id: str) -> int:
    """A per-test hypothesis seed: reproducible from the run seed and the test's id alone."""
    return zlib.crc32(f"{run_seed}:{test_id}".encode())


def array_record(name: str, a: Any) -> dict[str, Any]:
    if a is None:
        return {"name": name, "dtype": "None", "shape": [], "data": None}
    arr = np.asarray(a)
    data = arr.astype(np.float64) if arr.dtype.kind not in "biu" else arr
    listed = np.vectorize(_finite_or_str, otypes=[object])(data).tolist() if data.size else []
    return {"name": name, "dtype": str(arr.dtype), "shape": list(arr.shape), "data": listed}


def _finite_or_str(v: Any) -> Any:
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v.item() if hasattr(v, "item") else v


def case_record(case: Case, dtype: str) -> dict[str, Any]:
    args = checks.rounded(case, dtype)
    return {"args": [array_record(n, a) for n, a in zip(case.arg_names(), args)],
            "kwargs": {k: _plain(v) for k, v in case.kwargs.items()}}


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return list(v)
    return v.item() if hasattr(v, "item") else v


def rerun_command(ctx: Conformance, nodeid: str) -> str:
    return (f"pytest '{nodeid}' --backend {ctx.backend} --device {ctx.adapter.requested_device}"
            f" --seed {ctx.seed} --precision {ctx.precision}")


def describe_failure(ctx: Conformance, spec: OpSpec, mode: str, dtype: str, seed: int,
                     case: Case, outcome: checks.CheckOutcome, nodeid: str) -> str:
    w = outcome.worst
    head = (f"{spec.id} {mode} on {ctx.adapter.name} {ctx.version} {ctx.device} {dtype} "
            f"disagrees with the oracle (run seed {ctx.seed}, test seed {seed})")
    if w.shape_mismatch:
        detail = f"  output {w.output!r}: {w.shape_mismatch}"
    else:
        nan = " (NaN where the oracle is finite)" if w.nan_mismatch else ""
        detail = (f"  worst element: output {w.output!r} index {list(w.worst_index)}: "
                  f"got {w.got!r}, expected {w.expected!r}, |err| {w.max_abs_err:.3g}, "
                  f"{w.ratio:.3g} x allowed {w.allowed:.3g} ({w.max_ulp:.3g} ulp){nan}")
    parted = outcome.parted
    if mode == "state" and parted is not None:
        detail += (f"\n  the trajectories part at step {parted[0]} (0-based) in state tensor "
                   f"{parted[1]!r}")
    inputs = "\n".join(f"    {n} = {_show(a, w.worst_index)}"
                       for n, a in zip(case.arg_names(), checks.rounded(case, dtype)))
    return (f"{head}\n{detail}\n  inputs:\n{inputs}\n  kwargs: {dict(case.kwargs)}\n"
            f"  bound: {agreement.RULE} (C={agreement.C}, FLOOR={agreement.FLOOR})\n"
            f"  rerun: {rerun_command(ctx, nodeid)}")


def _show(a: Any, index: tuple[int, ...]) -> str:
    if a is None:
        return "None"
    arr = np.asarray(a)
    text = np.array2string(arr.astype(np.float64) if arr.dtype.kind == "f" else arr,
                           threshold=40, precision=8)
    if arr.ndim and len(index) == arr.ndim and all(i < s for i, s in zip(index, arr.shape)):
        return f"{text}  (at the worst index: {arr[index]!r})"
    return f"{text}  shape {arr.shape}"


def base_record(ctx: Conformance, spec: OpSpec, mode: str, dtype: str, nodeid: str,
                seed: int) -> dict[str, Any]:
    return {"run_id": ctx.run_id, "nodeid": nodeid, "op": spec.catalog_id,
            "spec": spec.id, "mode": mode, "backend": ctx.backend,
            "framework_version": ctx.version, "device": ctx.device, "dtype": dtype,
            "seed": seed, "rerun": rerun_command(ctx, nodeid), "minimal": False,
            "ratio": None, "max_abs_err": None, "max_ulp": None, "bound": None, "worst": None,
            "divergence": None, "message": None, "case": None, "expected": None,
            "reproducer": None, "duration_s": 0.0, "example": -1}


def metrics(outcome: checks.CheckOutcome, factor_c: float) -> dict[str, Any]:
    w = outcome.worst
    return {
        "ratio": w.ratio, "max_abs_err": w.max_abs_err, "max_ulp": w.max_ulp,
        "bound": {"rule": agreement.RULE, "C": factor_c, "floor_eps": agreement.FLOOR,
                  "allowed_at_worst": w.allowed, "source": w.bound_source},
        "worst": {"output": w.output, "index": list(w.worst_index), "got": w.got,
                  "expected": w.expected},
        "pvalues": {a.output: a.pvalue for a in outcome.agreements if a.pvalue is not None}
        or None,
    }


def _skip(ctx: Conformance, rec: dict[str, Any], verdict: str, reason: str) -> None:
    assert ctx.writer is not None
    ctx.writer.write({**rec, "verdict": verdict, "message": reason})
    pytest.skip(reason)


def run_test(ctx: Conformance, spec: OpSpec, mode: str, dtype: str, nodeid: str,
             test_id: str) -> None:
    """The body of test_forward / test_vjp / test_jvp for one (spec, dtype)."""
    assert ctx.writer is not None
    seed = test_seed(ctx.seed, test_id)
    rec = base_record(ctx, spec, mode, dtype, nodeid, seed)
    known = ctx.divergence(spec, mode, dtype)
    if known is not None:
        rec["divergence"] = known.as_record()
    if ctx.adapter.mapping(spec.id) is None:
        reason = ctx.adapter.unsupported_reason(spec.id) or "no mapping in this adapter"
        _skip(ctx, rec, "unsupported", f"{ctx.adapter.name} cannot express {spec.id}: {reason}")
    skip = known.skip_reason() if known is not None else None
    if skip is not None:
        _skip(ctx, rec, "unsupported", skip)
    check = CHECKS[mode]
    counter = {"n": 0, "expected": 0}
    # The time since the previous example ended is this one's drawing; writing a record is
    # charged to the next example's "record" phase (it happens after its own timing is set).
    clock = {"last": time.perf_counter(), "written_s": 0.0}

    def write(record: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        ctx.writer.write(record)
        clock["written_s"] += time.perf_counter() - t0

    def timed(watch: Stopwatch, checked_at: float) -> dict[str, Any]:
        watch.add("record", time.perf_counter() - checked_at + clock["written_s"])
        clock["written_s"] = 0.0
        return {"duration_s": sum(watch.spent.values()), "timing": watch.record(),
                "cpu_s": watch.cpu_s, "path": ctx.adapter.last_path}

    def expected_failure(record: dict[str, Any], case: Case) -> None:
        """A failure the divergence allows: recorded, never shrunk (it is known), and the
        example's inputs kept for the first one only."""
        if counter["expected"] == 0:
            record["case"] = case_record(case, dtype)
        counter["expected"] += 1
        write({**record, "verdict": "xfail"})

    def body(case: Case, aux: int) -> None:
        try:
            example(case, aux)
        finally:
            clock["last"] = time.perf_counter()

    def example(case: Case, aux: int) -> None:
        watch = Stopwatch()
        watch.add("draw", time.perf_counter() - clock["last"])
        final = current_build_context().is_final
        n = counter["n"]
        counter["n"] += 1
        # aux seeds the example's cotangents and tangents: recorded for reproducers.
        head = {**rec, "example": n, "aux_seed": aux}
        try:
            with watch.check(ctx.adapter.compile_seconds):
                outcome = check(ctx.adapter, spec, case, dtype, aux)
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            err = {**head, "message": text, **timed(watch, time.perf_counter())}
            if known is not None and known.allows_error(text):
                expected_failure(err, case)
                return
            if final:
                write({**err, "verdict": "error", "minimal": True,
                       "case": case_record(case, dtype)})
            raise
        checked_at = time.perf_counter()
        factor, _ = spec.factor(mode, dtype)
        m = metrics(outcome, agreement.C * factor)
        if outcome.passed:
            write({**head, **m, "verdict": "pass", **timed(watch, checked_at)})
            return
        message = describe_failure(ctx, spec, mode, dtype, seed, case, outcome, nodeid)
        if known is not None and known.allows_outcome(outcome, dtype):
            expected_failure({**head, **m, "message": message, **timed(watch, checked_at)},
                             case)
            return
        if known is not None:
            message += (f"\n  beyond what divergence {known.id!r} allows "
                        f"({known.allowance()}): a failure, not the known divergence")
        if final:
            expected = [array_record(nm, e)
                        for nm, e in zip(outcome.output_names, outcome.expected)]
            write({**head, **m, "verdict": "fail", "minimal": True, "message": message,
                   "case": case_record(case, dtype), "expected": expected or None,
                   "reproducer": _reproducer(ctx, spec, mode, case, dtype, outcome),
                   **timed(watch, checked_at)})
        raise AssertionError(message)

    # No example database: a run is reproduced from its printed seed alone, and a database
    # replaying earlier runs' examples first would make the same seed draw other examples.
    # No explain phase: it replays every failing example with tracing on, which costs far
    # more than it adds to a failure message that already names the worst element.
    test = settings(
        max_examples=ctx.examples, deadline=None, print_blob=False, database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )(hypothesis_seed(seed)(given(case=spec.inputs(dtype), aux=st.integers(0, 2**32 - 1))(body)))
    try:
        test()
    finally:
        release = getattr(ctx.adapter, "release", None)  # a user adapter may not inherit it
        if release is not None:
            release()
    if known is None:
        return
    if counter["expected"]:
        pytest.xfail(f"[{known.category}] {known.id} ({counter['expected']} of "
                     f"{counter['n']} examples, within {known.allowance()}): {known.reason}")
    if known.strict:
        ctx.writer.write({**rec, "verdict": "xpass",
                          "message": f"expected failure passed: {known.id}"})
        pytest.fail(f"divergence {known.id!r} expected a failure, but {spec.id} {mode} {dtype} "
                    f"passed all {ctx.examples} examples: remove or narrow the entry "
                    f"({known.reason})", pytrace=False)


def _reproducer(ctx: Conformance, spec: OpSpec, mode: str, case: Case, dtype: str,
                outcome: checks.CheckOutcome) -> str | None:
    try:
        from reports.reproducer import make_script
    except ImportError:
        return None
    try:
        return make_script(ctx.adapter, spec, mode, case, dtype, outcome)
    except Exception as exc:  # a reproducer is a convenience: never mask the real failure
        return f"# reproducer could not be generated: {type(exc).__name__}: {exc}"
