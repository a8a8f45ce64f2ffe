"""norm.standardize's forward bound models a kernel that sums each group's mean and
variance in one sequential loop (XLA:CPU's jax.nn.standardize), beside the oracle's own
pairwise NumPy sums: the JAX float64 false alarm of issue 17 (ratio 1.03 at seed 5) was that
order, not a bug."""

from __future__ import annotations

import numpy as np

from conformance import agreement, checks, evaluate
from conformance.specs import all_specs
from oracle import normalization as N


def _sequential(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """Written out by hand: left-to-right sums in float64, two passes."""
    xs = np.moveaxis(x, axis, -1)
    n = xs.shape[-1]
    mean = np.zeros(xs.shape[:-1])
    for j in range(n):
        mean = mean + xs[..., j]
    mean = mean / n
    d = xs - mean[..., None]
    var = np.zeros(xs.shape[:-1])
    for j in range(n):
        var = var + d[..., j] * d[..., j]
    return np.moveaxis(d / np.sqrt(var / n + eps)[..., None], -1, axis)


def test_the_forward_textbook_is_the_sequential_two_pass_form():
    spec = all_specs()["norm.standardize"]
    assert checks.FORWARD_TEXTBOOK in spec.tags
    rng = np.random.default_rng(5)
    x = 3.0 + rng.standard_normal((4, 125)) * 2.0**-3
    (forms,) = evaluate.textbook(spec, "forward", [x], {"axis": 1, "eps": 2.0**-10}, [],
                                 "float64")
    np.testing.assert_array_equal(forms[0], _sequential(x, 1, 2.0**-10))


def test_a_sequentially_summing_kernel_is_within_the_bound():
    rng = np.random.default_rng(5)
    x = 4.0 + rng.standard_normal((3, 125)) * 2.0**-4
    kwargs = {"axis": 1, "eps": 2.0**-12}
    spec = all_specs()["norm.standardize"]
    exact = N.standardize(x, **kwargs)
    naive, _ = evaluate.values(spec, [x.astype(np.float32)], kwargs, "float32")
    (book,) = evaluate.textbook(spec, "forward", [x], kwargs, [], "float64")
    got = _sequential(x, 1, kwargs["eps"])
    assert agreement.compare("out", got, exact, naive[0], "float64", 1.0, book).passed
