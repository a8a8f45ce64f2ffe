"""Parsing, validation and matching of divergence files (conformance/divergences.py)."""

from pathlib import Path

import numpy as np
import pytest

from conformance import divergences as div

GOOD = """
[[divergence]]
id = "t-one"
ops = "norm.*"
modes = ["forward"]
dtypes = "float16"
category = "precision"
reason = "why"
link = "https://example.org"
versions = ">=2.13,<2.14"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "d.toml"
    p.write_text(text)
    return p


def test_a_valid_file_parses_and_matches(tmp_path):
    (d,) = div.load(write(tmp_path, GOOD))
    assert d.matches("norm.lrn", "forward", "float16", "cpu", "2.13.0+cpu")
    assert not d.matches("norm.lrn", "vjp", "float16", "cpu", "2.13.0")
    assert not d.matches("norm.lrn", "forward", "float32", "cpu", "2.13.0")
    assert not d.matches("norm.lrn", "forward", "float16", "cpu", "2.14.1")
    assert not d.matches("act.relu", "forward", "float16", "cpu", "2.13.0")


def test_variant_ids_match_their_catalog_glob(tmp_path):
    (d,) = div.load(write(tmp_path, GOOD.replace('"norm.*"', '"norm.lrn"')))
    assert d.matches("norm.lrn/odd", "forward", "float16", "cpu", "2.13.0")


@pytest.mark.parametrize("bad, needle", [
    ('id = "x"\n', "missing or empty 'ops'"),
    ('id = "x"\nops = "a"\ncategory = "weird"\nreason = "r"\n', "category 'weird'"),
    ('id = "x"\nops = "a"\ncategory = "bug"\nreason = "r"\ncolour = 1\n', "unknown field"),
    ('id = "x"\nops = "a"\ncategory = "bug"\nreason = "r"\nversions = "~2"\n', "version"),
    ('id = "x"\nops = "a"\ncategory = "bug"\nreason = "r"\ndtypes = [1]\n', "list of strings"),
])
def test_malformed_entries_are_one_clear_error(tmp_path, bad, needle):
    with pytest.raises(div.DivergenceFileError, match=needle):
        div.load(write(tmp_path, "[[divergence]]\n" + bad))


def test_toml_syntax_errors_name_the_file(tmp_path):
    p = write(tmp_path, "[[divergence]\n")
    with pytest.raises(div.DivergenceFileError, match=str(p)):
        div.load(p)


def test_duplicate_ids_are_rejected(tmp_path):
    with pytest.raises(div.DivergenceFileError, match="duplicate"):
        div.load(write(tmp_path, GOOD + GOOD))


def test_version_ranges_by_hand():
    assert div.version_in("2.21.0", ">=2.21,<2.22")
    assert not div.version_in("2.22.0", ">=2.21,<2.22")
    assert div.version_in("0.10.2", "==0.10")
    assert div.version_in("3.15.1", "!=3.14")


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_shipped_divergence_files_are_valid(backend):
    paths = div.builtin_paths(backend)
    assert paths, f"no divergence files for {backend}"
    for d in div.load_all(paths):
        assert d.reason.strip() and d.category in div.CATEGORIES


def test_an_id_defined_in_two_files_is_rejected(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(GOOD)
    b.write_text(GOOD)
    with pytest.raises(div.DivergenceFileError, match="already defined"):
        div.load_all([a, b])


def _ctx(entries):
    from types import SimpleNamespace

    adapter = SimpleNamespace(requested_device="cpu", supported_dtypes=lambda: ("float16",))
    return SimpleNamespace(adapter=adapter, divergences=entries, backend="torch",
                           version="2.13.0+cpu", facts={})


def test_only_entries_for_this_device_and_version_can_be_stale(tmp_path):
    from conformance import plugin

    text = GOOD + GOOD.replace("t-one", "t-gpu").replace(
        'versions = ">=2.13,<2.14"', 'devices = ["cuda"]').replace('"norm.*"', '"norm.nothing"')
    stale = GOOD.replace("t-one", "t-stale").replace('"norm.*"', '"norm.nothing"')
    entries = div.load(write(tmp_path, text + stale))
    assert [d.applies_to("cpu", "2.13.0") for d in entries] == [True, False, True]
    with pytest.warns(UserWarning) as seen:
        plugin._warn_unmatched(_ctx(entries))
    assert [str(w.message).split("'")[1] for w in seen] == ["t-stale"]


def _outcome(*agreements):
    from types import SimpleNamespace

    return SimpleNamespace(agreements=list(agreements))


def _agreement(ratio, abs_err=0.0, nan=False, shape=None):
    from conformance.agreement import Agreement

    return Agreement("out", ratio, abs_err, 0.0, (), None, None, 1.0, nan, shape_mismatch=shape)


def _entry(tmp_path, extra):
    (d,) = div.load(write(tmp_path, GOOD.replace('dtypes = "float16"\n', "") + extra))
    return d


def test_a_ratio_table_gives_each_dtype_its_own_ceiling(tmp_path):
    d = _entry(tmp_path, "max_ratio = { float64 = 1e14, float32 = 1e6, float16 = 40, "
                         "bfloat16 = 8 }\n")
    assert div.find([d], "norm.lrn", "forward", "float16", "cpu", "2.13.0").max_ratio == 40
    f64 = div.find([d], "norm.lrn", "forward", "float64", "cpu", "2.13.0")
    assert f64.allows_outcome(_outcome(_agreement(5e13)), "float64")
    assert not d.for_dtype("float16").allows_outcome(_outcome(_agreement(80.0)), "float16")
    with pytest.raises(div.DivergenceFileError, match="max_abs_eps table needs"):
        _entry(tmp_path, "max_ratio = { float64 = 10 }\n")  # float32... not covered


def test_an_absolute_error_model_is_in_eps_of_the_dtype(tmp_path):
    d = _entry(tmp_path, "max_abs_eps = 4\n")
    eps32 = float(np.finfo(np.float32).eps)
    assert d.allows_outcome(_outcome(_agreement(1e5, 3.9 * eps32)), "float32")
    assert not d.allows_outcome(_outcome(_agreement(1e5, 8 * eps32)), "float32")
    # an exception is no longer allowed once the entry states a size without `raises`
    assert not d.allows_error("RuntimeError: boom")


def test_non_finite_and_shape_allowances_are_explicit(tmp_path):
    sized = _entry(tmp_path, "max_ratio = 10\n")
    assert not sized.allows_outcome(_outcome(_agreement(float("inf"), nan=True)), "float16")
    overflow = _entry(tmp_path, "nonfinite = true\n")
    assert overflow.allows_outcome(_outcome(_agreement(float("inf"), nan=True)), "float16")
    assert not overflow.allows_outcome(_outcome(_agreement(3.0, 1.0)), "float16")
    shaped = _entry(tmp_path, 'shape = "got shape \\\\(1, 2, 3, 3\\\\)"\n')
    assert shaped.allows_outcome(_outcome(_agreement(
        float("inf"), shape="got shape (1, 2, 3, 3), expected (1, 2, 4, 4)")), "float32")
    assert not shaped.allows_outcome(_outcome(_agreement(
        float("inf"), shape="got shape (1, 2, 2, 2), expected (1, 2, 4, 4)")), "float32")


def test_an_entry_without_a_size_still_allows_anything(tmp_path):
    """Entries from before sizes (and user files) keep their meaning."""
    d = _entry(tmp_path, "")
    assert d.allows_outcome(_outcome(_agreement(1e30, 1.0)), "float32")
    assert d.allows_error("RuntimeError: boom")
