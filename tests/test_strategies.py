"""The array strategies draw values by regime (``conformance.drawing``): every hard input
class the element-wise strategy drew is still drawn, a failing example still shrinks to a
small, simple one, and a seed replays the same examples."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, seed, settings
from hypothesis import strategies as st

from conformance import drawing
from conformance import strategies as S

QUIET = settings(max_examples=400, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck), phases=(Phase.generate,))


def _sample(strategy: st.SearchStrategy[np.ndarray], n: int = 400) -> list[np.ndarray]:
    out: list[np.ndarray] = []

    @seed(7)
    @QUIET
    @given(strategy)
    def collect(a: np.ndarray) -> None:
        out.append(a)

    collect()
    assert len(out) >= n // 2
    return out


def _classes(arrays: list[np.ndarray], lo: float, hi: float) -> set[str]:
    seen = set()
    for a in arrays:
        flat = a.reshape(-1)
        assert np.all((flat >= lo) & (flat <= hi)) and np.all(np.isfinite(flat))
        if np.any(flat == lo) or np.any(flat == hi):
            seen.add("end of the interval")
        if np.any(flat == 0.0):
            seen.add("zero")
        if flat.size > 1 and np.unique(flat).size < flat.size:
            seen.add("ties")
        if np.any((flat != 0) & (np.abs(flat) < 1e-30)):
            seen.add("tiny magnitude")
        mags = np.abs(flat[flat != 0])
        if mags.size > 1 and mags.max() / mags.min() > 2.0**20:
            seen.add("wide dynamic range")
        if np.all(flat * 2 == np.round(flat * 2)):
            seen.add("simple numbers")
        if np.any(flat * 2**20 != np.round(flat * 2**20)):
            seen.add("generic values")
    return seen


ALL = {"end of the interval", "zero", "ties", "tiny magnitude", "wide dynamic range",
       "simple numbers", "generic values"}


def test_every_input_class_is_still_drawn():
    arrays = _sample(S.arrays(S.shapes(1, 2, 1, 6), -4.0, 4.0))
    assert _classes(arrays, -4.0, 4.0) == ALL


def test_an_interval_without_zero_is_approached_from_its_near_end():
    arrays = _sample(S.arrays((5,), 0.25, 4.0))
    seen = _classes(arrays, 0.25, 4.0)
    assert {"end of the interval", "ties", "simple numbers", "generic values"} <= seen
    assert any(np.any((a > 0.25) & (a - 0.25 < 1e-12)) for a in arrays)  # just above lo


def test_unique_arrays_are_distinct():
    for a in _sample(S.arrays((3, 4), -1.0, 1.0, unique=True)):
        assert np.unique(a).size == a.size


def test_integer_arrays_cover_their_ends_and_ties():
    arrays = _sample(S.integer_arrays((6,), -2, 3))
    assert all(a.dtype == np.int64 and a.min() >= -2 and a.max() <= 3 for a in arrays)
    assert any(np.any(a == -2) for a in arrays) and any(np.any(a == 3) for a in arrays)
    assert any(np.unique(a).size == 1 for a in arrays)


def test_a_failure_shrinks_to_a_small_example():
    """A failure any element can trigger (most kernel bugs) shrinks to one element; one that
    needs a particular element keeps a small shape (the fill is prefix-stable, but the seed
    must keep that element)."""
    box = settings(database=None, max_examples=500)
    strategy = S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0)
    assert find(strategy, lambda a: np.any(np.abs(a) > 1.0), settings=box).size == 1
    assert find(strategy, lambda a: np.any(a > 3.0), settings=box).size <= 8


def test_a_smaller_shape_keeps_the_first_elements():
    for regime in drawing.REGIMES:
        big = drawing.fill(drawing.Streams(99), regime, (40,), -4.0, 4.0)
        small = drawing.fill(drawing.Streams(99), regime, (5,), -4.0, 4.0)
        assert np.array_equal(big[:5], small), regime


def test_the_same_seed_draws_the_same_examples():
    first = _sample(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0))
    again = _sample(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0))
    assert len(first) == len(again)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_every_regime_stays_in_its_interval():
    rng = drawing.Streams(0)
    for regime in drawing.REGIMES:
        for lo, hi in ((-4.0, 4.0), (0.25, 4.0), (-3.0, -0.5), (0.0, 1.0)):
            a = drawing.fill(rng, regime, (50,), lo, hi)
            assert a.shape == (50,) and np.all((a >= lo) & (a <= hi)), (regime, lo, hi)


def test_draws_do_not_depend_on_the_modules_loaded(tmp_path, monkeypatch):
    """Hypothesis would mix literal constants of every loaded local module into its draws:
    the runner switches that off, so a seed replays whatever else a run imports."""
    import importlib
    import sys

    import conformance.runner  # noqa: F401  (installs the switch)

    first = _sample(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0))
    (tmp_path / "constants_module.py").write_text(
        "VALUES = [3.25, -1.0625, 2.875, 1e-300, 123456789, -7]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("constants_module")
    try:
        again = _sample(S.arrays(S.shapes(1, 3, 1, 6), -4.0, 4.0))
    finally:
        sys.modules.pop("constants_module", None)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_special_values_are_drawn_only_on_request():
    """NaN, +-inf and -0.0 appear in every array of an opt-in strategy (among values in the
    interval), and never in the default ones."""
    arrays = _sample(S.arrays((4, 6), -2.0, 2.0, special=True))
    flat = np.concatenate([a.reshape(-1) for a in arrays])
    assert np.isnan(flat).any() and np.isposinf(flat).any() and np.isneginf(flat).any()
    assert np.any((flat == 0) & np.signbit(flat))
    finite = flat[np.isfinite(flat)]
    assert finite.size > flat.size / 2 and np.all((finite >= -2.0) & (finite <= 2.0))
    assert all(np.isnan(a).any() for a in arrays)
    assert all(np.isfinite(a).all() for a in _sample(S.arrays((4, 6), -2.0, 2.0)))
