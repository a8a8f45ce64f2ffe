"""A cosine whose dot product cancels is judged by its terms' magnitudes: the case is the
false alarm unmodified TensorFlow (and torch) raised on the soak with --seed 15 (forward
float64: x = (-3.5, 3.5), w = (-a, -a), so w . x is exactly 0; TensorFlow returned 0.0, the
oracle's BLAS dot, fusing its product, -1.8e-17, and the bound scaled with that value)."""

import numpy as np
import pytest

from conformance import checks
from conformance.registry import Case
from conformance.specs import all_specs

A = 3.4368529393533107
CASE = Case((np.array([[-3.5, 3.5]]), np.array([[-A, -A]])), {}, ("x", "w"))


class Fixed:
    """An adapter that returns the given cosine."""

    def __init__(self, value: float) -> None:
        self.value = value

    def run_forward(self, op, args, kwargs, dtype):
        return [np.full((1, 1), self.value, dtype)]


def _agreement(got: float, dtype: str = "float64"):
    outcome = checks.forward(Fixed(got), all_specs()["norm.cosine_norm"], CASE, dtype)
    return outcome.agreements[0]


@pytest.mark.parametrize("got", [0.0, -1.8459130143870342e-17])
def test_the_seed_15_cancellation_passes(got):
    agreement = _agreement(got)
    assert agreement.passed, agreement


@pytest.mark.parametrize(("dtype", "error"), [("float64", 2.0**-20), ("float32", 2.0**-10)])
def test_a_cosine_off_by_2_to_the_minus_20_still_fails(dtype, error):
    # The cosine's terms are of size 1: 2^-20 (float32: 2^-10) is far beyond their rounding.
    agreement = _agreement(error, dtype)
    assert not agreement.passed and agreement.ratio > 100, agreement


def test_an_uncancelled_cosine_keeps_its_relative_bound():
    case = Case((np.array([[1.0, 2.0]]), np.array([[2.0, 1.0]])), {}, ("x", "w"))
    spec = all_specs()["norm.cosine_norm"]
    assert checks.forward(Fixed(0.8), spec, case, "float64").passed
    assert not checks.forward(Fixed(0.8 * (1 + 2.0**-40)), spec, case, "float64").passed
