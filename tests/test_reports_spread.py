"""``python -m reports spread``: the repeatability of benchmark medians across speed runs."""

import json

import pytest

from reports import __main__ as cli
from reports import spread
from reports.schema import ReportError
from tests.fixtures.results import synthetic as syn


def _speed_run(root, name, medians):
    d = root / name
    d.mkdir()
    entries = [syn.bench_entry(op, "torch", m) for op, m in medians.items()]
    (d / "benchmarks.json").write_text(json.dumps(syn.bench_file(entries)))
    return d


def test_spread_is_max_over_min_of_each_common_median(tmp_path):
    a = _speed_run(tmp_path, "a", {"act.relu": 2e-6, "conv.conv2d": 1e-3, "pool.max": 5e-5})
    b = _speed_run(tmp_path, "b", {"act.relu": 2.5e-6, "conv.conv2d": 1.05e-3})
    found = spread.spreads([a, b])
    # pool.max ran once only: no spread to speak of.
    assert [(s.key[0], round(s.spread, 12)) for s in found] == [
        ("act.relu", 0.25), ("conv.conv2d", 0.05)]
    text = spread.summary(found)
    assert "2 benchmarks in every run" in text and "max 25.0%" in text
    assert "within 10%: 50%" in text


def test_a_directory_without_benchmarks_is_a_one_line_error(tmp_path, capsys):
    a = _speed_run(tmp_path, "a", {"act.relu": 2e-6})
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no benchmarks"):
        spread.spreads([a, tmp_path / "empty"])
    assert cli.main(["spread", str(a), str(tmp_path / "empty")]) == 2
    assert "no benchmarks" in capsys.readouterr().err
