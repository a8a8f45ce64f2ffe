"""Tests of oracle.autodiff.composite, the fixed functions of ad.jvp / ad.vjp / ad.hessian /
ad.numeric_diff: each against a formula written out here independently (the MLP's forward
pass, the closed-form Hessians, the difference quotients by hand) and the JVP and VJP
against each other (<g, J u> computed both ways).

Error model (eps = 2^-52): every case is O(1) and a few dozen roundings deep, so agreement to
64 eps of the output's scale is what correct code gives; a wrong rule is off by O(1).
"""

from __future__ import annotations

import numpy as np
import pytest

from oracle.autodiff import composite as C

EPS = float(np.finfo(np.float64).eps)
TOL = 64 * EPS


def _mlp_case(rng: np.random.Generator) -> list[np.ndarray]:
    n, d, h, c = 3, 2, 4, 3
    return [rng.normal(size=(n, d)), rng.normal(size=(h, d)), rng.normal(size=h),
            rng.normal(size=(c, h)), rng.normal(size=c), rng.uniform(size=(n, c))]


def _mlp_by_hand(x, w1, b1, w2, b2, t):
    z = np.tanh(x @ w1.T + b1) @ w2.T + b2
    logp = z - z.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return -(t * logp).sum(axis=1)


def test_mlp_loss_is_the_written_formula():
    args = _mlp_case(np.random.default_rng(0))
    want = _mlp_by_hand(*args)
    np.testing.assert_allclose(C.mlp_loss(*args), want, rtol=0, atol=TOL * np.abs(want).max())


def test_mlp_jvp_against_central_differences():
    rng = np.random.default_rng(1)
    args = _mlp_case(rng)
    u = [rng.normal(size=a.shape) for a in args[:5]]
    value, tangent = C.mlp_jvp(*args, *u)
    np.testing.assert_array_equal(value, C.mlp_loss(*args))
    h = 1e-5  # central difference: truncation h^2 |f'''| ~ 1e-10, rounding eps / h ~ 2e-11
    plus = C.mlp_loss(*(a + h * v for a, v in zip(args[:5], u)), args[5])
    minus = C.mlp_loss(*(a - h * v for a, v in zip(args[:5], u)), args[5])
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * h), rtol=0, atol=1e-8)


def test_mlp_vjp_is_the_transpose_of_the_jvp():
    rng = np.random.default_rng(2)
    args = _mlp_case(rng)
    g = rng.normal(size=args[0].shape[0])
    u = [rng.normal(size=a.shape) for a in args[:5]]
    out = C.mlp_vjp(*args, g)
    np.testing.assert_array_equal(out.loss, C.mlp_loss(*args))
    _, tangent = C.mlp_jvp(*args, *u)
    lhs = float(np.dot(g, tangent))
    rhs = sum(float(np.sum(grad * v)) for grad, v in zip(out[1:], u))
    assert abs(lhs - rhs) <= TOL * max(1.0, abs(lhs))


def test_logsumexp_hessian_closed_form():
    # H = A^T (diag(p) - p p^T) A + I with p = softmax(A x).
    rng = np.random.default_rng(3)
    x, A = rng.normal(size=4), rng.normal(size=(3, 4))
    z = A @ x
    p = np.exp(z - z.max())
    p /= p.sum()
    want = A.T @ (np.diag(p) - np.outer(p, p)) @ A + np.eye(4)
    np.testing.assert_allclose(C.hessian_logsumexp(x, A), want, rtol=0,
                               atol=TOL * np.abs(want).max())


def test_rosenbrock_hessian_closed_form():
    # Per term i: d2/dx_i^2 = 2 - 4b(x_{i+1} - x_i^2) + 8b x_i^2, d2/dx_i dx_{i+1} = -4b x_i,
    # d2/dx_{i+1}^2 = 2b.
    x, a, b = np.array([0.5, -1.25, 2.0]), 1.0, 10.0
    want = np.zeros((3, 3))
    for i in range(2):
        want[i, i] += 2 - 4 * b * (x[i + 1] - x[i] ** 2) + 8 * b * x[i] ** 2
        want[i, i + 1] = want[i + 1, i] = -4 * b * x[i]
        want[i + 1, i + 1] += 2 * b
    np.testing.assert_array_equal(C.hessian_rosenbrock(x, a=a, b=b), want)
    assert C.rosenbrock(np.array([a, a * a]), a=a, b=b) == 0.0  # the minimum (a, a^2)


@pytest.mark.parametrize("scheme", ["forward", "central"])
def test_numeric_diff_is_the_difference_quotient(scheme):
    x, u, h = np.array([0.3, -1.1]), np.array([1.0, -0.5]), 2.0**-8
    f = C.smooth
    want = ((f(x + h * u) - f(x)) / h if scheme == "forward"
            else (f(x + h * u) - f(x - h * u)) / (2 * h))
    np.testing.assert_allclose(C.numeric_diff(x, u, h=h, scheme=scheme), want, rtol=0,
                               atol=TOL)
    np.testing.assert_array_equal(C.smooth(x), np.sin(x) * np.exp(x / 2))
