"""Normalization at a large offset is judged by the magnitudes of the centring's terms,
|x| + |mean| (conformance/textbook/normalization/offset.py): a kernel that folds the
normalization, y = x a + (beta - mean a), after summing the mean in its own order (torch's
CPU kernel, Keras) passes at |mean| = 1e4 std in float32, where that rounding is 100x what
the naive evaluation happens to make; the one-pass variance E[x^2] - E[x]^2, off by
eps (mean / std)^2, fails."""

import numpy as np
import pytest

from conformance import checks
from conformance.registry import Case
from conformance.specs import all_specs

SPEC = all_specs()["norm.layer_norm/offset"]


def _case(offset: float) -> Case:
    rng = np.random.default_rng(7)
    z = rng.standard_normal((4, 16))
    z = (z - z.mean(1, keepdims=True)) / z.std(1, keepdims=True)
    x = np.float32(2.0**-3) * (offset + z)
    gamma, beta = rng.uniform(-2, 2, 16), rng.uniform(-2, 2, 16)
    args = tuple(np.asarray(a, np.float32).astype(np.float64) for a in (x, gamma, beta))
    return Case(args, {"normalized_ndim": 1, "eps": 2.0**-10}, ("x", "gamma", "beta"))


class Kernel:
    """A float32 layer norm: the mean summed left to right, then folded or one-pass."""

    def __init__(self, how: str) -> None:
        self.how = how

    def run_forward(self, op, args, kwargs, dtype):
        x, gamma, beta = (np.asarray(a, np.float32) for a in args)
        mean = np.cumsum(x, axis=1, dtype=np.float32)[:, -1:] / np.float32(x.shape[1])
        if self.how == "one-pass":
            sq = np.cumsum(x * x, axis=1, dtype=np.float32)[:, -1:] / np.float32(x.shape[1])
            var = np.maximum(sq - mean * mean, np.float32(0))
        else:
            var = np.mean((x - mean) ** 2, axis=1, keepdims=True, dtype=np.float32)
        a = gamma / np.sqrt(var + np.float32(kwargs["eps"]))
        return [x * a + (beta - mean * a)]


@pytest.mark.parametrize("offset", [1e2, 1e3, 1e4])
def test_the_folded_form_passes_at_large_offsets(offset):
    outcome = checks.forward(Kernel("folded"), SPEC, _case(offset), "float32")
    assert outcome.passed, outcome.agreements[0]


def test_a_one_pass_variance_fails():
    outcome = checks.forward(Kernel("one-pass"), SPEC, _case(1e3), "float32")
    assert not outcome.passed and outcome.agreements[0].ratio > 10, outcome.agreements[0]
