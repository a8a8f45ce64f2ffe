"""The forward check of a derivative-valued spec (the ad family) allows the frameworks'
textbook rule's rounding, and no more: tanh' = 1 - y^2 from the saved output cancels where
tanh saturates, which the oracle's stable dual rule does not."""

import numpy as np
import pytest

from adapters.base import Adapter, implements
from conformance import checks
from conformance.registry import Case
from conformance.specs import all_specs


class NumpyTanhJvp(Adapter):
    """A NumPy 'kernel' for ad.dual_functions tanh: y' = scale * (1 - y^2) x'."""

    name = "numpy-tanh"
    scale = 1.0

    def to_native(self, value, dtype):
        return np.asarray(value)

    def to_numpy(self, value):
        return np.asarray(value)

    @implements("ad.dual_functions")
    def tanh_jvp(self, x, x_dot, *, fn):
        y = np.tanh(x)
        return y, (x_dot * (1 - y * y)) * x.dtype.type(self.scale)


def _check(adapter: Adapter, dtype: str) -> checks.CheckOutcome:
    spec = all_specs()["ad.dual_functions"]
    case = Case((np.array([3.0, 4.0]), np.array([1.0, 1.0])), {"fn": "tanh"}, ("x", "x_dot"))
    return checks.forward(adapter, spec, case, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_output_based_rule_passes_where_it_cancels(dtype):
    # tanh(4) = 0.99933: 1 - y^2 loses about 11 bits, 60-90 ulp of the derivative.
    out = _check(NumpyTanhJvp(), dtype)
    tangent = out.agreements[1]
    assert out.passed and tangent.max_ulp > 10


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_error_beyond_the_rule_still_fails(dtype):
    wrong = type("Wrong", (NumpyTanhJvp,), {"scale": 1 + 2.0**-10})
    assert not _check(wrong(), dtype).passed
