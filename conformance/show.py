"""``python -m conformance show OP``: everything about one catalog id in one place.

The oracle function (file:line and the first line of its docstring), every spec variant and
what it draws (its strategy's docstring and a few drawn examples' shapes and keywords), each
backend's mapping (file:line, native or composed or unsupported and why, the native callables
and what becomes of their keywords), the known divergences that name it, and the tests that
mention it. Never imports a framework: mappings are read from the adapter classes.
"""

from __future__ import annotations

import fnmatch
import inspect
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings

from adapters import BUILTIN
from adapters.base import load_adapter_class
from conformance import divergences as div
from conformance.catalog import catalog_ids, family_module
from conformance.registry import Case, OpSpec
from conformance.specs import all_specs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = 3


def where(obj: Any) -> str:
    """``path:line`` of a function, relative to the project root."""
    target = inspect.unwrap(obj)
    try:
        path = Path(inspect.getsourcefile(target) or "?")
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return "?"
    try:
        path = path.resolve().relative_to(ROOT)
    except ValueError:
        pass
    return f"{path}:{line}"


def first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else "(no docstring)"


def _describe(case: Case) -> str:
    shapes = ", ".join(f"{n} {np.shape(a) if a is not None else None}"
                       for n, a in zip(case.arg_names(), case.args))
    kwargs = ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items())
    return f"{shapes}" + (f"; {kwargs}" if kwargs else "")


def drawn(spec: OpSpec, dtype: str = "float32") -> list[str]:
    """A few examples of what the spec draws (fixed seed: the same every time)."""
    out: list[str] = []

    @seed(0)
    @settings(max_examples=EXAMPLES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(spec.inputs(dtype))
    def collect(case: Case) -> None:
        if len(out) < EXAMPLES:
            out.append(_describe(case))

    collect()
    return out


def _drawn_by(spec: OpSpec) -> str:
    return first_line(spec.inputs) if inspect.getdoc(spec.inputs) else spec.inputs.__qualname__


def _spec_lines(spec: OpSpec) -> list[str]:
    lines = [f"  {spec.id}  [{', '.join(spec.modes)}; {', '.join(spec.dtypes)}]"
             f"  {where(spec.inputs)}",
             f"    draws: {_drawn_by(spec)}"]
    lines += [f"    e.g. {d}" for d in drawn(spec)]
    if spec.grad_wrt:
        lines.append(f"    differentiated inputs: {list(spec.grad_wrt)}")
    for o in spec.overrides:
        lines.append(f"    tolerance x{o.factor:g} ({', '.join(o.modes)}; "
                     f"{', '.join(o.dtypes)}): {o.reason}")
    if spec.textbook is not None:
        lines.append(f"    textbook derivative: {where(spec.textbook)}")
    return lines


def _mapping_lines(backend: str, specs: list[OpSpec], op: str) -> list[str]:
    cls = load_adapter_class(backend)
    lines = [f"  {backend}:"]
    for sid in [s.id for s in specs] or [op]:
        m = cls.mapping(sid)
        if m is None:
            reason = cls.unsupported_reason(sid)
            lines.append(f"    {sid}: " + (f"unsupported: {reason}" if reason else "missing"))
            continue
        lines.append(f"    {sid}: {m.kind}  {where(getattr(cls, m.method))}  "
                     f"({cls.__name__}.{m.method})")
        if m.native:
            lines.append(f"      calls {', '.join(m.native)}")
        for name, what in m.params:
            lines.append(f"      {name}: {what}")
    return lines


def _divergence_lines(op: str, specs: list[OpSpec]) -> list[str]:
    ids = [s.id for s in specs] or [op]
    lines = []
    for backend in BUILTIN:
        for path in div.builtin_paths(backend):
            for d in div.load(path):
                if not any(fnmatch.fnmatchcase(i, d.ops) or
                           fnmatch.fnmatchcase(i.split("/")[0], d.ops) for i in ids):
                    continue
                scope = ", ".join(f"{k} {'/'.join(v)}" for k, v in (
                    ("modes", d.modes), ("dtypes", d.dtypes), ("devices", d.devices)) if v)
                lines.append(f"  {backend} {d.id} [{d.category}; allows {d.allowance()}"
                             f"{'; ' + scope if scope else ''}]  {path.relative_to(ROOT)}")
                lines.append(f"    {' '.join(d.reason.split())[:200]}")
    return lines or ["  none"]


def _test_lines(op: str, oracle_fn: Any) -> list[str]:
    names = {op, getattr(oracle_fn, "__name__", op)}
    hits = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        count = sum(text.count(n) for n in names)
        if count:
            hits.append(f"  {path.relative_to(ROOT)} ({count} mention{'s' if count != 1 else ''})")
    return hits or ["  none found"]


def show(op: str) -> str:
    if op not in catalog_ids():
        raise KeyError(f"{op!r} is not a catalog id (python -m conformance coverage lists them)")
    from oracle.registry import OPS

    specs = sorted((s for s in all_specs().values() if s.catalog_id == op), key=lambda s: s.id)
    fn = OPS.get(op)
    lines = [f"{op}  (family {op.split('.')[0]}, module {family_module(op)})", "", "oracle:"]
    lines.append(f"  {where(fn)}  {fn.__module__}.{fn.__name__}: {first_line(fn)}" if fn
                 else "  none yet")
    lines += ["", "specs:"] + (sum((_spec_lines(s) for s in specs), []) or ["  none yet"])
    lines += ["", "mappings:"] + sum((_mapping_lines(b, specs, op) for b in BUILTIN), [])
    lines += ["", "known divergences:"] + _divergence_lines(op, specs)
    lines += ["", "tests:"] + _test_lines(op, fn)
    return "\n".join(lines)
