"""Which catalog ids have an oracle, a spec, and a mapping in each backend.

    python -m conformance coverage [--format text|json] [--backend NAME ...]

Reads the catalog copy shipped with the package; never imports a framework (the adapters'
mapping tables are class attributes built from decorators, and their framework modules load
lazily).
"""

from __future__ import annotations

from typing import Any

from adapters import BUILTIN
from adapters.base import load_adapter_class
from conformance.catalog import catalog_ids, family
from conformance.registry import OpSpec
from conformance.specs import all_specs


def _oracle_ids() -> set[str]:
    from oracle.registry import OPS

    return set(OPS)


def _specs_by_catalog_id() -> dict[str, list[OpSpec]]:
    out: dict[str, list[OpSpec]] = {}
    for spec in all_specs().values():
        out.setdefault(spec.catalog_id, []).append(spec)
    return out


def _backend_entry(cls: type, op: str, specs: list[OpSpec]) -> str:
    kinds = [cls.coverage_entry(s.id) for s in specs] or [cls.coverage_entry(op)]
    for k in ("native", "composed"):
        if k in kinds:
            return k
    unsupported = [k for k in kinds if k.startswith("unsupported")]
    return unsupported[0] if unsupported else "missing"


def report(backends: list[str] | None = None) -> dict[str, Any]:
    backends = backends or list(BUILTIN)
    classes = {b: load_adapter_class(b) for b in backends}
    oracle_ids = _oracle_ids()
    specs = _specs_by_catalog_id()
    ops: dict[str, Any] = {}
    for op in catalog_ids():
        mine = specs.get(op, [])
        entries = {b: _backend_entry(cls, op, mine) for b, cls in classes.items()}
        differentiable = any(s.grad_wrt for s in mine)
        grads = {b: {"vjp": differentiable and e in ("native", "composed"),
                     "jvp": differentiable and e in ("native", "composed")}
                 for b, e in entries.items()}
        ops[op] = {"oracle": op in oracle_ids, "spec": bool(mine), "backends": entries,
                   "gradients": grads, "variants": sorted(s.id for s in mine)}
    return {"ops": ops}


def gaps(rep: dict[str, Any]) -> list[str]:
    """Gaps inside implemented families (a family counts once any of its ids has a spec)."""
    implemented = {family(op) for op, e in rep["ops"].items() if e["spec"]}
    out = []
    for op, e in rep["ops"].items():
        if family(op) not in implemented:
            continue
        if not e["oracle"]:
            out.append(f"{op}: no oracle")
        if not e["spec"]:
            out.append(f"{op}: no spec")
        out += [f"{op}: no {b} mapping" for b, k in e["backends"].items() if k == "missing"]
    return out


def format_text(rep: dict[str, Any]) -> str:
    ops = rep["ops"]
    backends = list(next(iter(ops.values()))["backends"]) if ops else []
    head = f"{'op':34} {'oracle':6} {'spec':4} " + " ".join(f"{b:12}" for b in backends)
    lines = [head, "-" * len(head)]
    for op, e in ops.items():
        cells = " ".join(f"{_short(e['backends'][b]):12}" for b in backends)
        lines.append(f"{op:34} {'yes' if e['oracle'] else '-':6} "
                     f"{'yes' if e['spec'] else '-':4} {cells}")
    done = sum(1 for e in ops.values() if e["spec"])
    lines.append(f"\n{done}/{len(ops)} catalog ids have a spec")
    notes = [f"  {op} on {b}: {k}" for op, e in ops.items() for b, k in e["backends"].items()
             if k.startswith("unsupported")]
    if notes:
        lines += ["unsupported, with reasons:", *notes]
    return "\n".join(lines)


def _short(kind: str) -> str:
    return "unsupported" if kind.startswith("unsupported") else kind
