"""The layout a newcomer relies on: one family, one module name, everywhere.

An op's oracle function lives in ``oracle/<module>``, its spec in
``conformance/specs/<module>`` (and its textbook derivative in ``conformance/textbook/
<module>``), each backend's mapping in ``adapters/<framework>/<module>``, its oracle tests in
``tests/test_oracle_<module>*.py`` and its divergences in ``conformance/divergences/
<backend>/<module>.toml``, where ``<module>`` is the family's name in
``conformance.catalog.FAMILY_MODULES`` (a module may be a package). Also: ``conformance/``
imports without a cycle, modes and dtypes are spelled out only in ``conformance/
vocabulary.py``, and ``adapters/_shared.py`` depends on neither the oracle nor a framework.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import BUILTIN
from adapters.base import load_adapter_class
from conformance import divergences as div
from conformance.catalog import FAMILY_MODULES, family_module
from conformance.registry import REGISTERED_IN
from conformance.specs import all_specs
from conformance.vocabulary import FLOAT_DTYPES, MODES
from oracle.registry import OPS
from tests._runs import ROOT

SPECS = all_specs()


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _misplaced(found: dict[str, str], prefix: str) -> list[str]:
    """``op: module`` for every op whose module is not ``<prefix>.<family module>[.*]``."""
    return [f"{op}: {module} (expected {prefix}.{family_module(op)})"
            for op, module in sorted(found.items())
            if not _under(module, f"{prefix}.{family_module(op)}")]


def test_every_family_has_a_module_name():
    assert sorted({s.family for s in SPECS.values()} - set(FAMILY_MODULES)) == []
    assert sorted({op.split(".")[0] for op in OPS} - set(FAMILY_MODULES)) == []


def test_oracle_functions_sit_in_their_family_module():
    found = {sid: s.oracle.__module__ for sid, s in SPECS.items()}
    found |= {op: fn.__module__ for op, fn in OPS.items()}
    assert _misplaced(found, "oracle") == []


def test_specs_are_registered_by_their_family_module():
    assert _misplaced({sid: REGISTERED_IN[sid] for sid in SPECS}, "conformance.specs") == []


def test_spec_hooks_sit_with_their_family():
    textbooks = {sid: s.textbook.__module__ for sid, s in SPECS.items() if s.textbook}
    assert _misplaced(textbooks, "conformance.textbook") == []
    checks = {sid: s.check.__module__ for sid, s in SPECS.items() if s.check}
    assert _misplaced(checks, "conformance.specs") == []


@pytest.mark.parametrize("backend", sorted(BUILTIN))
def test_mappings_sit_in_their_family_module(backend):
    cls = load_adapter_class(backend)  # no framework import: mappings are class attributes
    package = BUILTIN[backend].partition(":")[0]
    found = {op: getattr(cls, m.method).__module__ for op, m in cls._mappings.items()}
    # A declared "unsupported" sits in the family's mixin like a mapping would.
    for klass in cls.__mro__:
        for op in vars(klass).get("UNSUPPORTED", {}):
            found.setdefault(op, klass.__module__)
    assert _misplaced(found, package) == []


def test_every_family_with_a_spec_has_oracle_tests():
    tests = [p.stem for p in (ROOT / "tests").glob("test_oracle_*.py")]
    missing = sorted(m for m in {family_module(sid) for sid in SPECS}
                     if not any(t == f"test_oracle_{m}" or t.startswith(f"test_oracle_{m}_")
                                for t in tests))
    assert missing == []


def test_oracle_test_files_are_named_after_a_family():
    modules = set(FAMILY_MODULES.values())
    stray = [t for t in sorted(p.stem for p in (ROOT / "tests").glob("test_oracle_*.py"))
             if not any(t == f"test_oracle_{m}" or t.startswith(f"test_oracle_{m}_")
                        for m in modules)]
    assert stray == []


def _divergence_files() -> Iterator[Path]:
    yield from sorted((ROOT / "conformance" / "divergences").glob("*/*.toml"))


def test_divergences_sit_in_their_family_file():
    misplaced = []
    for path in _divergence_files():
        assert path.parent.name in BUILTIN, f"{path}: not a built-in backend's directory"
        assert path.stem in FAMILY_MODULES.values(), f"{path}: not a family module's name"
        for d in div.load(path):
            family = d.ops.split(".")[0]
            if FAMILY_MODULES.get(family) != path.stem:
                misplaced.append(f"{path.relative_to(ROOT)}: {d.id} covers {d.ops}")
    assert misplaced == []


def _modules(package: Path) -> dict[str, Path]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(package.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The known modules that ``path`` (module ``name``) imports, at any level of the file
    (function-level imports count: a cycle through them still breaks a fresh import)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return out & known - {name}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph, as the list of its modules, or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_conformance_imports_have_no_cycle():
    modules = _modules(ROOT / "conformance")
    known = set(modules)
    graph = {name: _imports(path, name, known) for name, path in modules.items()}
    assert _cycle(graph) == []


def _literal_strings(node: ast.AST) -> list[str] | None:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


def _spelled_out(words: tuple[str, ...], path: Path) -> list[str]:
    """Assignments in ``path`` of a literal list of at least three of ``words`` (and nothing
    else): a second definition of the vocabulary."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            items = _literal_strings(node.value)
            if items and len(set(items)) >= 3 and set(items) <= set(words):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {tuple(items)}")
    return found


@pytest.mark.parametrize("words", [MODES, FLOAT_DTYPES], ids=["modes", "dtypes"])
def test_modes_and_dtypes_are_defined_once(words):
    vocabulary = ROOT / "conformance" / "vocabulary.py"
    found = [hit for package in ("oracle", "adapters", "conformance", "reports")
             for path in sorted((ROOT / package).rglob("*.py")) if path != vocabulary
             for hit in _spelled_out(words, path)]
    assert found == []
    assert _spelled_out(words, vocabulary)  # the one definition is found by the same scan


def test_shared_adapter_helpers_depend_on_no_oracle_and_no_framework():
    tree = ast.parse((ROOT / "adapters" / "_shared.py").read_text(encoding="utf-8"))
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    roots |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom)}
    assert roots <= {"__future__", "collections", "typing", "numpy"}, roots
