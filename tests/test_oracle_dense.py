"""Tests of oracle.dense (nn.dense): hand values, mpmath at 50 digits, batch axes, the weight
layout, its dual-number JVP against the closed form, float32 runs and argument checks.

Error model (eps = 2^-52): z = x W^T + b is a sum of n + 1 terms, each product rounded once
(eps/2) and the sum in some order, so |z - z_exact| <= (n + 1) eps sum_i |x_i w_i| + eps |b|
(the recursive summation bound, loosened to a whole eps per term). The activations add a
couple of ulp of NumPy's exp/tanh on top (<= 2 eps relative), and their condition numbers on
these O(1) inputs are below 1 (tanh, sigmoid), so 4 eps on top of z's bound covers them.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle.autodiff import jvp
from oracle.dense import ORACLE, dense

EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
mpmath.mp.dps = 50

X = np.array([[1.0, 2.0], [-1.0, 0.5]])
W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (out, in) = (3, 2)
B = np.array([0.5, -1.0, 0.0])


def _mp_activation(name: str, z: mpmath.mpf) -> mpmath.mpf:
    return {"identity": lambda v: v, "relu": lambda v: max(v, mpmath.mpf(0)),
            "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "tanh": mpmath.tanh}[name](z)


def _mp_dense(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, activation: str) -> np.ndarray:
    """The layer written out per output element, at 50 digits."""
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty((flat.shape[0], w.shape[0]))
    for n, row in enumerate(flat):
        for o in range(w.shape[0]):
            z = mpmath.fsum(mpmath.mpf(float(a)) * mpmath.mpf(float(c)) for a, c in zip(row, w[o]))
            z += mpmath.mpf(float(b[o])) if b is not None else 0
            out[n, o] = float(_mp_activation(activation, z))
    return out.reshape(x.shape[:-1] + (w.shape[0],))


def test_hand_values():
    # z = x W^T + b: rows [1 + 0.5, 2 - 1, 3] and [-1 + 0.5, 0.5 - 1, -0.5].
    z = np.array([[1.5, 1.0, 3.0], [-0.5, -0.5, -0.5]])
    np.testing.assert_array_equal(dense(X, W, B), z)
    np.testing.assert_array_equal(dense(X, W, B, activation="relu"), np.maximum(z, 0))
    np.testing.assert_array_equal(dense(X, W), X @ W.T)  # no bias


@pytest.mark.parametrize("activation", ["identity", "relu", "sigmoid", "tanh"])
def test_against_mpmath(activation):
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 7)), rng.normal(size=(3, 7)), rng.normal(size=3)
    got = dense(x, w, b, activation=activation)
    want = _mp_dense(x, w, b, activation)
    bound = (8 * EPS * (np.abs(x) @ np.abs(w).T + np.abs(b))) + 4 * EPS * np.abs(want)
    assert np.all(np.abs(got - want) <= bound)


def test_leading_batch_axes_are_rows():
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
    got = dense(x, w, b, activation="tanh")
    assert got.shape == (2, 3, 5)
    rows = dense(x.reshape(6, 4), w, b, activation="tanh").reshape(2, 3, 5)
    np.testing.assert_array_equal(got, rows)


def test_weight_layout_is_out_by_in():
    # A (out, in) weight whose transpose is also a valid shape would hide a transposed read:
    # (2, 3) against x (1, 3) works, (3, 2) must be rejected.
    x = np.array([[1.0, 2.0, 3.0]])
    w = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(dense(x, w), [[1.0, 3.0]])
    with pytest.raises(ValueError, match="w must be"):
        dense(x, w.T)


def test_jvp_matches_the_closed_form():
    # d tanh(x W^T + b)[u_x, u_w, u_b] = (1 - y^2) * (u_x W^T + x u_w^T + u_b).
    rng = np.random.default_rng(6)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    ux, uw, ub = rng.normal(size=x.shape), rng.normal(size=w.shape), rng.normal(size=b.shape)
    (y,), (tangent,) = jvp(dense, [x, w, b], {"activation": "tanh"}, {0: ux, 1: uw, 2: ub})
    want = (1 - y * y) * (ux @ w.T + x @ uw.T + ub)
    np.testing.assert_allclose(tangent, want, rtol=0, atol=64 * EPS * np.abs(want).max())


def test_runs_in_float32():
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6)), rng.normal(size=3)
    with _canon.compute_dtype(np.float32):
        low = dense(x, w, b, activation="sigmoid")
    assert low.dtype == np.float32
    # Inputs rounded to float32 (eps32/2 each) and 7 terms per sum: the bound of the module
    # docstring in eps32, on sigmoid's derivative <= 1/4.
    z_scale = np.abs(x) @ np.abs(w).T + np.abs(b)
    np.testing.assert_array_less(np.abs(low - dense(x, w, b, activation="sigmoid")),
                                 8 * EPS32 * z_scale + 4 * EPS32)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        dense(X, W, B, activation="gelu")
    with pytest.raises(ValueError, match="do not match"):
        dense(X, W[:, :1])
    with pytest.raises(ValueError, match="b must be"):
        dense(X, W, B[:2])


def test_registry_ids():
    assert ORACLE == {"nn.dense": dense}
