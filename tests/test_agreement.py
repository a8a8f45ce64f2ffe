"""The tolerance rule in conformance/agreement.py, on hand-made values."""

import numpy as np
import pytest

from conformance import agreement
from conformance.agreement import FLOOR, C, compare, ulp


def test_exact_agreement_has_ratio_zero():
    a = np.array([1.0, -2.0, 3.5])
    r = compare("y", a, a, a, "float32")
    assert r.passed and r.ratio == 0.0 and r.max_ulp == 0.0


def test_floor_bounds_error_when_naive_is_exact():
    # naive == exact, so the bound is the floor: C * FLOOR * eps32 * max(|x|, rms).
    exact = np.array([1.0])
    eps = 2.0**-23
    allowed = C * FLOOR * eps * 1.0
    ok = compare("y", exact + 0.9 * allowed, exact, exact, "float32")
    bad = compare("y", exact + 1.1 * allowed, exact, exact, "float32")
    assert ok.passed and ok.ratio == pytest.approx(0.9)
    assert not bad.passed and bad.ratio == pytest.approx(1.1)


def test_naive_error_scales_the_bound():
    # A naive error of 1e-3 at element 1 allows C * 1e-3 there, whatever the floor is.
    exact = np.array([1.0, 1.0])
    naive = np.array([1.0, 1.0 + 1e-3])
    got = np.array([1.0, 1.0 + 7e-3])
    r = compare("y", got, exact, naive, "float32")
    assert r.passed and r.worst_index == (1,)
    assert r.ratio == pytest.approx(7e-3 / (C * 1e-3))


def test_float64_naive_is_scaled_from_float32():
    # float64 uses the float32 naive error times eps64/eps32 = 2**-29.
    exact = np.array([1.0])
    naive32 = np.array([1.0 + 2.0**-10])
    allowed = C * 2.0**-10 * 2.0**-29
    r = compare("y", exact + 0.5 * allowed, exact, naive32, "float64")
    assert r.ratio == pytest.approx(0.5)


def test_nan_fails_unless_oracle_is_nan():
    exact = np.array([1.0, np.nan])
    assert compare("y", np.array([1.0, np.nan]), exact, exact, "float32").passed
    r = compare("y", np.array([np.nan, np.nan]), exact, exact, "float32")
    assert not r.passed and r.nan_mismatch


def test_matching_infinities_agree_and_opposite_ones_fail():
    exact = np.array([np.inf, -np.inf])
    assert compare("y", exact.copy(), exact, exact, "float16").passed
    assert not compare("y", -exact, exact, exact, "float16").passed


def test_shape_mismatch_fails_with_a_reason():
    r = compare("y", np.zeros(3), np.zeros(4), np.zeros(4), "float32")
    assert not r.passed and "shape" in r.shape_mismatch


def test_ulp_of_powers_of_two_by_hand():
    # ulp(1) in float32 is 2**-23; ulp(3) is 2**-22; bfloat16 ulp(1) is 2**-7.
    assert ulp(np.array([1.0, 3.0]), "float32").tolist() == [2.0**-23, 2.0**-22]
    assert ulp(np.array([1.0]), "bfloat16")[0] == 2.0**-7
    assert ulp(np.array([1.0]), "float16")[0] == 2.0**-10


def test_max_ulp_is_reported_for_passing_checks():
    exact = np.array([1.0, 2.0])
    got = exact + np.array([2.0**-23, 0.0])
    r = compare("y", got, exact, exact, "float32")
    assert r.passed and r.max_ulp == pytest.approx(1.0)


def test_override_factor_multiplies_the_constant():
    exact = np.array([1.0])
    got = exact + 1.5 * C * FLOOR * 2.0**-23
    assert not compare("y", got, exact, exact, "float32").passed
    assert compare("y", got, exact, exact, "float32", factor=2.0).passed


def test_worst_prefers_nan_and_shape_failures():
    ok = compare("a", np.ones(2), np.ones(2), np.ones(2), "float32")
    nan = compare("b", np.array([np.nan, 1.0]), np.ones(2), np.ones(2), "float32")
    assert agreement.worst([ok, nan]).output == "b"
