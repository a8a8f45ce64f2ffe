"""The report's "How exact is the oracle" section: the last ``python -m oracle accuracy
--json`` output, merged like any run (a directory holding accuracy*.json, with or without a
run's env.json, or the file itself); a broken accuracy file is listed as broken."""

from __future__ import annotations

import json

from oracle.accuracy import harness as H
from reports import html
from reports.load import load
from tests.fixtures.results import synthetic as syn


def _run(tmp_path):
    run_id = "run-torch"
    checks = [syn.check_record(run_id, "act.sigmoid", ratio=0.25, backend="torch",
                               version="2.13.0", dtype="float64")]
    env = syn.env_record(run_id, backend="torch", version="2.13.0", dtypes=("float64",),
                         totals=syn.verdict_counts(checks))
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("act.sigmoid\n")
    return syn.write_run(tmp_path, env, checks), catalog


def _accuracy(path, created: str, ops=("act.relu", "pool.max")) -> None:
    results = H.run(list(ops), examples=2, seed_value=1)
    doc = H.document(results, examples=2, seed_value=1)
    doc["created"] = created
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def test_the_last_accuracy_run_is_shown(tmp_path):
    run, catalog = _run(tmp_path)
    _accuracy(tmp_path / "acc-old" / "accuracy.json", "2026-01-01T00:00:00Z", ("act.tanh",))
    _accuracy(tmp_path / "acc" / "accuracy.json", "2026-02-01T00:00:00Z")
    results = load([run, tmp_path / "acc-old", tmp_path / "acc"], catalog)
    assert len(results.runs) == 1 and not results.broken
    assert [r["op"] for r in results.accuracy["ops"]] == ["act.relu", "pool.max"]
    page = html.render(results, [])
    assert "How exact is the oracle" in page
    assert "act.relu" in page and "pool.max" in page and "act.tanh" not in page
    assert "a selection: exact" in page  # the bound's reason
    assert "python -m oracle accuracy --seed 1 --examples 2" in page


def test_accuracy_file_given_directly_and_inside_a_run(tmp_path):
    run, catalog = _run(tmp_path)
    _accuracy(run / "accuracy.json", "2026-02-01T00:00:00Z", ("act.relu",))
    results = load([run], catalog)
    assert len(results.runs) == 1 and results.accuracy["ops"][0]["op"] == "act.relu"
    f = tmp_path / "elsewhere" / "oracle-accuracy.json"
    _accuracy(f, "2026-03-01T00:00:00Z", ("pool.max",))
    results = load([run, f], catalog)
    assert results.accuracy["ops"][0]["op"] == "pool.max"


def test_no_accuracy_no_section_and_broken_file_listed(tmp_path):
    run, catalog = _run(tmp_path)
    assert "How exact is the oracle" not in html.render(load([run], catalog), [])
    bad = tmp_path / "acc" / "accuracy.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps({"kind": "oracle-accuracy", "created": "x",
                               "ops": [{"op": "act.relu"}]}))
    results = load([run, bad.parent], catalog)
    assert results.accuracy is None
    assert any("ops[0]" in b for b in results.broken)
