"""Every implemented family is complete: oracle, spec and a mapping (or a reasoned
"unsupported") in each built-in backend, for each of its catalog ids."""

import json
import subprocess
import sys

from conformance import coverage
from oracle.registry import OPS
from tests._runs import ROOT


def test_catalog_copy_has_the_102_ids():
    ids = coverage.catalog_ids()
    assert len(ids) == 102 and len(set(ids)) == 102


def test_every_oracle_id_is_a_catalog_id():
    assert set(OPS) <= set(coverage.catalog_ids())


def test_implemented_families_have_no_gaps():
    assert coverage.gaps(coverage.report()) == []


def test_unsupported_entries_carry_a_reason():
    for op, entry in coverage.report()["ops"].items():
        for backend, kind in entry["backends"].items():
            if kind.startswith("unsupported"):
                assert len(kind.split(":", 1)[1].strip()) > 10, (op, backend)


def test_coverage_cli_json_shape():
    proc = subprocess.run([sys.executable, "-m", "conformance", "coverage", "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    entry = data["ops"]["act.softmax"]
    assert entry["oracle"] is True and entry["spec"] is True
    assert set(entry["backends"]) == {"torch", "jax", "tensorflow"}
    assert entry["gradients"]["torch"] == {"vjp": True, "jvp": True}


def test_coverage_does_not_import_frameworks():
    code = ("import sys; from conformance import coverage; coverage.report(); "
            "print([m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == "[]"
