"""Second derivatives by nested duals (ad.hessian): hand Hessians, mpmath derivatives at 50
digits, symmetry, H v, and differences of gradients.

Error model (eps = 2^-52): a correctly rounded operation errs by eps/2 relative, a NumPy
float64 transcendental by <= 2 eps; a second-order tangent passes through about twice the
operations of the value. Each bound is derived where it is used.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle.autodiff import Dual, directional_derivative, gradient, hessian, hvp

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50
M = mpmath.mpf
RNG = np.random.default_rng(11)


def _rosenbrock(x):
    return np.sum(100 * np.square(x[1:] - x[:-1] ** 2) + np.square(1 - x[:-1]))


def _rosenbrock_hessian(x):
    """Hand formula: H_ii = 1200 x_i^2 - 400 x_{i+1} + 2 (i < n-1) + 200 (i > 0),
    H_{i,i+1} = H_{i+1,i} = -400 x_i."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        if i < n - 1:
            h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
            h[i, i + 1] = h[i + 1, i] = -400 * x[i]
        if i > 0:
            h[i, i] += 200
    return h


def _logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def test_rosenbrock_hessian_matches_the_hand_formula():
    # At (1, 1, 1): [[802, -400, 0], [-400, 1002, -400], [0, -400, 200]], exact in float64.
    np.testing.assert_array_equal(hessian(_rosenbrock, np.ones(3)),
                                  [[802, -400, 0], [-400, 1002, -400], [0, -400, 200]])
    x = np.array([0.5, -1.5, 2.0, 0.25])  # dyadic: every product below is exact
    np.testing.assert_array_equal(hessian(_rosenbrock, x), _rosenbrock_hessian(x))


def test_logsumexp_hessian_is_diag_p_minus_p_p_transpose():
    # p = softmax(x); H = diag(p) - p p^T. Each entry: exp (2), sum of 5 (2.5), log and its
    # second-order tangent (about 10 more roundings): 16 eps of the largest entry.
    x = RNG.standard_normal(5)
    p = np.exp(x - _logsumexp(x))
    expected = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(hessian(_logsumexp, x), expected, rtol=0, atol=16 * EPS)


def _sin_exp(z):
    return np.sin(z) * np.exp(z)


@pytest.mark.parametrize("x", [-2.1, -0.4, 0.0, 0.9, 3.3])
def test_second_and_third_derivatives_match_mpmath(x):
    # f = sin(x) e^x. The k-th tangent is a sum of 2^k product-rule terms, each a product of a
    # sin/cos value and an exp value (2 + 2 + 0.5 eps) of size <= s = (|sin x| + |cos x|) e^x,
    # plus 2^k additions (eps/2 of the running sum, <= 2^k s): (4.5 + 1) 2^k eps s.
    scale = (abs(np.sin(x)) + abs(np.cos(x))) * np.exp(x)
    f_mp = lambda t: mpmath.sin(t) * mpmath.exp(t)  # noqa: E731
    for k in (1, 2, 3):
        got = directional_derivative(_sin_exp, np.array(x), np.array(1.0), order=k)
        truth = mpmath.diff(f_mp, M(x), k)
        assert abs(M(float(got)) - truth) <= 5.5 * 2 ** k * EPS * scale
    h = hessian(_sin_exp, np.array([x]))
    assert h.shape == (1, 1)
    assert abs(M(float(h[0, 0])) - mpmath.diff(f_mp, M(x), 2)) <= 5.5 * 4 * EPS * scale


def test_directional_third_derivative_of_a_cubic_is_exact():
    # d^3/dt^3 sum (x + t u)^3 = 6 sum u^3; dyadic data: exact.
    x, u = np.array([0.5, -2.0, 1.25]), np.array([1.0, 0.5, -2.0])
    got = directional_derivative(lambda z: np.sum(z * z * z), x, u, order=3)
    assert float(got) == 6 * np.sum(u ** 3)
    with pytest.raises(ValueError, match="order"):
        directional_derivative(np.sum, x, u, order=0)


def _mlp_loss(w):
    """A smooth scalar of 6 parameters: tanh layer, sigmoid output, squared error."""
    x = np.array([[0.3, -1.2], [1.5, 0.4], [-0.7, 0.9]])
    h = np.tanh(x @ w[:4].reshape(2, 2))
    out = 1 / (1 + np.exp(-(h @ w[4:])))
    return np.sum(np.square(out - np.array([0.2, 0.9, 0.5])))


def test_hessian_is_symmetric_and_hvp_is_h_times_v():
    w = RNG.standard_normal(6)
    h = hessian(_mlp_loss, w)
    scale = np.max(np.abs(h))
    # H_ij and H_ji come from differently ordered products of the same partials: the two
    # roundings differ by at most 64 eps of the scale (about 30 operations each, 2 eps).
    np.testing.assert_allclose(h, h.T, rtol=0, atol=64 * EPS * scale)
    v = RNG.standard_normal(6)
    hv = hvp(_mlp_loss, w, v)
    np.testing.assert_allclose(hv, h @ v, rtol=0, atol=64 * EPS * scale * np.sum(np.abs(v)))


A_WAVES = np.array([[0.5, -1.0, 0.25, 0.75], [1.0, 0.5, -0.5, 0.0], [-0.25, 0.5, 1.0, -1.0]])
C_WAVES = np.array([1.5, -0.5, 2.0])


def _waves(w):
    """f(w) = sum_k c_k sin(a_k . w + k): every derivative is bounded by hand (below)."""
    return np.sum(C_WAVES * np.sin(A_WAVES @ w + np.arange(3.0)))


def test_hessian_matches_central_differences_of_the_gradient():
    # Column j of H against (g(w + h e_j) - g(w - h e_j)) / 2h, g = grad f. Taylor: the
    # truncation error of entry i is h^2/6 |d^4 f / dw_i dw_j^3| <= h^2/6 B_ij with
    # B_ij = sum_k |c_k a_ki a_kj^3| (each derivative of sin is bounded by 1). Rounding: g_i
    # errs by at most 16 eps sum_k |c_k a_ki| (a 4-term dot, sin, cos, products), twice,
    # divided by 2h.
    w = RNG.standard_normal(4)
    step = 1e-4
    h = hessian(_waves, w)
    ca = np.abs(C_WAVES)[:, None] * np.abs(A_WAVES)
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        col = (gradient(_waves, w + e) - gradient(_waves, w - e)) / (2 * step)
        trunc = step ** 2 / 6 * (ca.T @ np.abs(A_WAVES[:, j]) ** 3)
        rounding = 16 * EPS * ca.sum(axis=0) / step
        assert np.all(np.abs(h[:, j] - col) <= trunc + rounding), j
    # and against the hand Hessian -sum_k c_k sin(.) a_k a_k^T (4-term sums: 16 eps of B)
    s = np.sin(A_WAVES @ w + np.arange(3.0))
    hand = -np.einsum("k,ki,kj->ij", C_WAVES * s, A_WAVES, A_WAVES)
    np.testing.assert_allclose(h, hand, rtol=0, atol=16 * EPS * np.sum(ca))


def test_gradient_hvp_and_hessian_of_simple_functions():
    x = np.array([1.5, -0.5, 2.0])
    np.testing.assert_array_equal(gradient(lambda z: np.sum(z ** 3), x), 3 * x ** 2)
    np.testing.assert_array_equal(hessian(lambda z: np.sum(z ** 3), x), np.diag(6 * x))
    np.testing.assert_array_equal(hvp(lambda z: z[0] * z[1], x, np.array([1.0, 2.0, 3.0])),
                                  [2.0, 1.0, 0.0])  # H = [[0,1,0],[1,0,0],[0,0,0]]
    np.testing.assert_array_equal(hessian(lambda z: np.sum(np.ones(3)), x), np.zeros((3, 3)))
    m = np.array([[1.0, 2.0], [3.0, 4.0]])  # matrix input: shape x.shape * 2
    hm = hessian(lambda z: np.sum(z * z), m)
    assert hm.shape == (2, 2, 2, 2) and hm[1, 0, 1, 0] == 2.0 and hm[0, 1, 1, 0] == 0.0
    with pytest.raises(ValueError, match="single scalar"):
        hessian(lambda z: z * z, x)


def test_nested_duals_through_maximum_where_and_reductions():
    # f = max(x) * sum(x^2) for x with a unique max: d2f/dx_i dx_j by hand:
    # f = m S; f_ij = [i=k] 2 x_j + [j=k] 2 x_i + 2 m [i=j], k the argmax.
    x = np.array([0.5, 2.0, -1.0])
    f = lambda z: np.max(z) * np.sum(z * z)  # noqa: E731
    k = 1
    expected = 2 * 2.0 * np.eye(3)
    expected[k, :] += 2 * x
    expected[:, k] += 2 * x
    np.testing.assert_array_equal(hessian(f, x), expected)
    # relu(x)^2 via where: second derivative 2 for x > 0, 0 for x <= 0 (kink convention).
    g = lambda z: np.sum(np.square(np.where(z > 0, z, 0 * z)))  # noqa: E731
    np.testing.assert_array_equal(hessian(g, np.array([1.0, 0.0, -1.0])), np.diag([2.0, 0, 0]))
    assert isinstance(Dual(Dual(np.ones(2))).tangent, Dual)
