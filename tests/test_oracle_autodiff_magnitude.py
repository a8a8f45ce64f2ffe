"""Magnitude mode (oracle/autodiff/magnitude.py): hand values, the bound m >= |J u| with
equality where no terms of opposite sign meet, and the functions it refuses."""

import numpy as np
import pytest

from oracle import autodiff as ad
from oracle.rnn import saved


def _mag(fn, args, seeds):
    with ad.magnitudes():
        return ad.jvp(fn, args, {}, seeds)


def test_hand_values_of_a_difference_and_a_product():
    # d(x y - x) = (y - 1) dx + x dy; magnitudes |y| + 1 and |x|, seeds 1.
    x, y = np.array([2.0, -3.0]), np.array([0.5, 4.0])
    outs, (m,) = _mag(lambda a, b: a * b - a, [x, y], {0: np.ones(2), 1: np.ones(2)})
    np.testing.assert_array_equal(outs[0], x * y - x)  # values as outside the mode
    np.testing.assert_array_equal(m, [0.5 + 1 + 2, 4 + 1 + 3])


def test_hand_values_of_a_matrix_product_and_an_einsum():
    a, b = np.array([[1.0, -2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
    seeds = {0: np.ones((2, 2)), 1: np.ones(2)}
    # |A| 1 + 1 |b|: rows (1 + 2) + 2, (3 + 4) + 2.
    _, (m,) = _mag(lambda p, q: p @ q, [a, b], seeds)
    np.testing.assert_array_equal(m, [5, 9])
    _, (m,) = _mag(lambda p, q: np.einsum("ij,j->i", p, q), [a, b], seeds)
    np.testing.assert_array_equal(m, [5, 9])


def test_a_sum_of_opposite_terms_keeps_both():
    x = np.array([1.0, -1.0, 2.0])
    _, (t,) = ad.jvp(lambda v: np.sum(v * v), [x], {}, {0: np.ones(3)})
    _, (m,) = _mag(lambda v: np.sum(v * v), [x], {0: np.ones(3)})
    assert t == 2 * (1 - 1 + 2) and m == 2 * (1 + 1 + 2)


def test_magnitudes_bound_the_jvp_and_equal_it_without_cancellation():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3))

    def f(x):
        return np.tanh(w @ x) * np.exp(x[:1]) - np.sqrt(x * x + 1)[:1]

    for _ in range(20):
        x, u = rng.normal(size=3), rng.normal(size=3)
        _, (t,) = ad.jvp(f, [x], {}, {0: u})
        _, (m,) = _mag(f, [x], {0: np.abs(u)})
        assert np.all(m >= np.abs(t) * (1 - 1e-12))
    # exp and a positive product: every partial is positive, nothing cancels.
    x, u = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 2, 3)
    _, (t,) = ad.jvp(lambda v: np.exp(v) * v, [x], {}, {0: u})
    _, (m,) = _mag(lambda v: np.exp(v) * v, [x], {0: u})
    np.testing.assert_allclose(m, t, rtol=1e-15)


def test_saved_output_rules_give_their_terms():
    z = np.array([[3.0, -0.5, 0.2]])
    y = np.tanh(z)
    with saved.derivatives_from_outputs(), ad.magnitudes():
        _, (m,) = ad.jvp(saved.tanh, [z], {}, {0: np.ones_like(z)})
    np.testing.assert_allclose(m, 1 + y * y, rtol=1e-15)  # 1 - y^2's terms
    p = np.exp(z) / np.exp(z).sum()
    with saved.derivatives_from_outputs(), ad.magnitudes():
        _, (m,) = ad.jvp(saved.softmax, [z], {}, {0: np.ones_like(z)})
    np.testing.assert_allclose(m, p * (1 + p.sum()), rtol=1e-14)


@pytest.mark.parametrize("fn", [np.prod, lambda a: np.linalg.eigh(a @ a.T)[0]])
def test_functions_without_a_magnitude_rule_refuse(fn):
    with pytest.raises(TypeError, match="magnitude"):
        _mag(fn, [np.eye(2) + 0.5], {0: np.ones((2, 2))})
