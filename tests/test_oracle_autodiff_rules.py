"""The elementary derivative rules of oracle.autodiff (ad.dual_arith, ad.dual_functions)
against mpmath.diff at 50 digits, hand-computed dual arithmetic, and algebraic identities.

Error model (eps = 2^-52): a correctly rounded + - * / or sqrt errs by eps/2 relative; NumPy's
float64 exp/log/sin/cos/tanh/pow by at most 2 ulp <= 2 eps relative; a product of factors adds
their relative errors. Each rule's budget (in eps, relative to the true derivative at the
float input) is derived next to it. mpmath.diff at 50 digits is exact to float64 precision.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from oracle.autodiff import ARITH_OPS, FUNCTIONS, Dual, dual_arith, dual_functions

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50
M = mpmath.mpf

ANY_X = [-3.7, -1.2, -0.3, 0.05, 0.6, 1.9, 4.4]
POSITIVE_X = [1e-3, 0.2, 0.9, 1.5, 7.0, 250.0]


def _rel_err(got: float, truth: mpmath.mpf) -> float:
    return float(abs(M(float(got)) - truth) / abs(truth))


# (name, Dual function, mpmath function, points, budget in eps with its derivation)
UNARY_RULES = [
    ("exp", np.exp, mpmath.exp, ANY_X + [30.0], 2),  # exp(x) * 1: one exp
    ("expm1", np.expm1, mpmath.expm1, ANY_X + [1e-9], 2),  # exp(x): one exp
    ("log", np.log, mpmath.log, POSITIVE_X, 1),  # 1/x: one division
    # 1/(1 + x): the sum and the division, eps/2 each
    ("log1p", np.log1p, mpmath.log1p, [-0.9, -0.4, 1e-12] + POSITIVE_X, 1),
    ("sqrt", np.sqrt, mpmath.sqrt, POSITIVE_X, 1),  # 1/(2 sqrt x): sqrt and division
    ("sin", np.sin, mpmath.sin, ANY_X + [3.14159], 2),  # cos(x): one cos
    ("cos", np.cos, mpmath.cos, ANY_X + [1.5707], 2),  # -sin(x): one sin
    # 4e/(1+e)^2, e = exp(-2|x|): exp 2, 1+e 0.5 (doubled by the square) + 0.5, division 0.5
    ("tanh", np.tanh, mpmath.tanh, ANY_X + [-25.0, 19.0, 40.0], 4),
    ("reciprocal", np.reciprocal, lambda x: 1 / x, ANY_X, 2),  # -(1/x)^2: 1/x doubled + mul
    ("square", np.square, lambda x: x * x, ANY_X, 0),  # 2x: exact
    ("abs", np.abs, abs, ANY_X, 0),  # sign(x): exact
    ("pow2.5", lambda a: a ** 2.5, lambda x: x ** M(2.5), POSITIVE_X, 3),  # 2.5 x^1.5: pow + mul
    # 2^x log 2: pow 2 + log 2 + two products 0.5 each
    ("2**x", lambda a: 2.0 ** a, lambda x: M(2) ** x, ANY_X, 5),
]


@pytest.mark.parametrize("name, f, f_mp, points, budget", UNARY_RULES,
                         ids=[r[0] for r in UNARY_RULES])
def test_unary_rule_matches_mpmath(name, f, f_mp, points, budget):
    x = np.array(points)
    out = f(Dual(x, np.ones_like(x)))
    for xi, vi, ti in zip(x, out.value, out.tangent, strict=True):
        truth = mpmath.diff(f_mp, M(float(xi)))
        assert _rel_err(ti, truth) <= budget * EPS, (name, xi, ti, truth)
        assert _rel_err(vi, f_mp(M(float(xi)))) <= 2 * EPS  # the value is NumPy's own


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def test_sigmoid_rule_matches_mpmath():
    # Tangent of the two-branch form: e (2), 1+e (0.5), the quotient 1/(1+e) (1), the product
    # q*e' (0.5) and the division by 1+e (1): 5 eps relative.
    x = np.array(ANY_X + [0.0, -30.0, 35.0])
    got = dual_functions(x, np.ones_like(x), fn="sigmoid")
    for xi, ti in zip(x, got.tangent, strict=True):
        truth = mpmath.diff(_mp_sigmoid, M(float(xi)))
        assert _rel_err(ti, truth) <= 5 * EPS, (xi, ti)
    # sigma'(0) = 1/4 exactly: the kink-free where form, not abs, is used.
    assert got.tangent[len(ANY_X)] == 0.25


def test_tanh_rule_keeps_relative_accuracy_where_one_minus_tanh_squared_cancels():
    # At x = 20, 1 - tanh(x)^2 rounds to 0 in float64; sech^2(20) = 1.6993e-17.
    got = np.tanh(Dual(np.array(20.0), np.array(1.0))).tangent
    truth = mpmath.sech(20) ** 2
    assert 1 - np.tanh(20.0) ** 2 == 0.0
    assert _rel_err(got, truth) <= 4 * EPS


def test_power_with_both_dual_matches_mpmath_partials():
    # d/dt (x + t a)^(y + t b) = a y x^(y-1) + b log(x) x^y. x > 1, y > 0, a, b > 0: both
    # terms positive (no cancellation); each term <= 5 eps (pow, log, 2 products), the sum
    # adds 0.5: 6 eps.
    xs = np.array([1.5, 2.25, 7.0, 1.01])
    ys = np.array([2.0, 0.5, 3.3, 10.0])
    a, b = np.array([1.0, 0.5, 2.0, 1.0]), np.array([0.25, 1.0, 0.5, 3.0])
    got = dual_arith(xs, a, ys, b, op="pow")
    for x, y, ai, bi, t in zip(xs, ys, a, b, got.tangent, strict=True):
        dx = mpmath.diff(lambda u, v: u ** v, (M(x), M(y)), (1, 0))
        dy = mpmath.diff(lambda u, v: u ** v, (M(x), M(y)), (0, 1))
        assert _rel_err(t, ai * dx + bi * dy) <= 6 * EPS


def test_logaddexp_partials_match_mpmath():
    # Tangent exp(x - v) x' + exp(y - v) y': v errs by 2 eps |v| absolute, x - v adds eps/2
    # |x - v|; exp turns an absolute argument error into a relative one and adds 2 eps;
    # two such terms of one sign: budget (2|v| + |x - v| + |y - v| + 5) eps relative.
    xs, ys = np.array([0.3, -2.0, 5.0, 40.0]), np.array([-1.1, -2.0, 4.5, -3.0])
    got = dual_arith(xs, np.ones(4), ys, np.full(4, 0.5), op="add")  # warm-up: the sum rule
    np.testing.assert_array_equal(got.tangent, np.full(4, 1.5))
    out = np.logaddexp(Dual(xs, np.ones(4)), Dual(ys, np.full(4, 0.5)))
    for x, y, v, t in zip(xs, ys, out.value, out.tangent, strict=True):
        f = lambda u, w: mpmath.log(mpmath.exp(u) + mpmath.exp(w))  # noqa: E731
        truth = mpmath.diff(f, (M(x), M(y)), (1, 0)) + mpmath.diff(f, (M(x), M(y)), (0, 1)) / 2
        budget = 2 * abs(v) + abs(x - v) + abs(y - v) + 5
        assert _rel_err(t, truth) <= budget * EPS


# ---------------------------------------------------------------- hand-computed dual algebra


def test_dual_arith_hand_values():
    # x = 3 + 2d, y = 5 - 1d (all dyadic: every result below is exact):
    x, xd, y, yd = np.array(3.0), np.array(2.0), np.array(5.0), np.array(-1.0)
    expected = {
        "add": (8.0, 1.0),  # (3 + 5) + (2 - 1) d
        "sub": (-2.0, 3.0),  # (3 - 5) + (2 + 1) d
        "mul": (15.0, 7.0),  # 15 + (2*5 + 3*(-1)) d
        "maximum": (5.0, -1.0),  # y wins
        "minimum": (3.0, 2.0),  # x wins
    }
    for op, (v, t) in expected.items():
        got = dual_arith(x, xd, y, yd, op=op)
        assert (float(got.value), float(got.tangent)) == (v, t), op
    # x = 4 + 1d: 1/x = 1/4 - 1/16 d; -x = -4 - 1d; x / 2 = 2 + 0.5 d (y constant).
    got = dual_arith(np.array(4.0), np.array(1.0), op="reciprocal")
    assert (float(got.value), float(got.tangent)) == (0.25, -0.0625)
    got = dual_arith(np.array(4.0), np.array(1.0), op="neg")
    assert (float(got.value), float(got.tangent)) == (-4.0, -1.0)
    got = dual_arith(np.array(4.0), np.array(1.0), np.array(2.0), op="div")
    assert (float(got.value), float(got.tangent)) == (2.0, 0.5)
    # (4 + 1d) / (2 + 1d) = 2 + (1 - 2*1)/2 d = 2 - 0.5 d
    got = dual_arith(np.array(4.0), np.array(1.0), np.array(2.0), np.array(1.0), op="div")
    assert (float(got.value), float(got.tangent)) == (2.0, -0.5)
    # (2 + 1d)^(3 + 0d) = 8 + 3*4 d = 8 + 12 d
    got = dual_arith(np.array(2.0), np.array(1.0), np.array(3.0), op="pow")
    assert (float(got.value), float(got.tangent)) == (8.0, 12.0)


def test_maximum_and_minimum_average_tangents_at_ties():
    # max(2 + 1d, 2 + 3d): a tie, tangent (1 + 3)/2 = 2 (torch, JAX and TF average too).
    for op in ("maximum", "minimum"):
        got = dual_arith(np.array([2.0]), np.array([1.0]), np.array([2.0]), np.array([3.0]), op=op)
        assert got.tangent[0] == 2.0
    # max(x, 0) at x = 0 with a constant 0: (x' + 0)/2.
    got = dual_arith(np.array([0.0]), np.array([1.0]), np.array([0.0]), op="maximum")
    assert got.tangent[0] == 0.5


def test_power_conventions_at_zero():
    # x^0 is constant in x: derivative 0 also at x = 0 (not 0 * 0^-1 = nan).
    got = dual_arith(np.array([0.0, 3.0]), np.ones(2), np.array([0.0, 0.0]), op="pow")
    np.testing.assert_array_equal(got.tangent, [0.0, 0.0])
    # 0^2: 2 * 0^1 = 0; 0^y wrt y for y > 0: the log(0) term is taken as 0 (JAX and torch).
    got = dual_arith(np.array([0.0]), np.array([1.0]), np.array([2.0]), np.array([1.0]), op="pow")
    np.testing.assert_array_equal(got.tangent, [0.0])
    # A mixed exponent array: only the y == 0 entries are masked.
    got = dual_arith(np.array([2.0, 2.0]), np.ones(2), np.array([0.0, 2.0]), op="pow")
    np.testing.assert_array_equal(got.tangent, [0.0, 4.0])


def test_identities_hold_on_dual_numbers():
    rng = np.random.default_rng(1)
    x = Dual(rng.uniform(0.5, 3.0, 16), rng.standard_normal(16))
    # x * (1/x) = 1: tangent x'(1/x) - x x'(1/x)^2, two terms of size |x'/x| <= 2|x'| (x >=
    # 0.5) with <= 2 eps relative error each: |tangent| <= 8 eps |x'|.
    one = x * (1 / x)
    assert np.all(np.abs(one.tangent) <= 8 * EPS * np.abs(x.tangent))
    back = np.exp(np.log(x))  # tangent (x'/x) * exp(log x): division, exp, product: 4 eps
    np.testing.assert_allclose(back.tangent, x.tangent, rtol=8 * EPS)
    # sin^2 + cos^2 = 1: tangent (x' cos)(2 sin) + (-x' sin)(2 cos), two terms of size
    # <= |x'| (|2 sin cos| <= 1) with 5 eps relative error each (sin/cos 2, 2 products).
    s = np.square(np.sin(x)) + np.square(np.cos(x))
    assert np.all(np.abs(s.tangent) <= 10 * EPS * np.abs(x.tangent))
    # Dyadic values: the quotient rule equals the product with the reciprocal exactly.
    a, b = Dual(np.array([3.0]), np.array([1.5])), Dual(np.array([4.0]), np.array([-2.0]))
    assert (a / b).tangent[0] == (a * (1 / b)).tangent[0] == 0.75  # (1.5*4 + 3*2)/16


def test_polynomial_matches_its_mpmath_derivative():
    # Seed notes: f(x + x'd) = f(x) + f'(x) x' d for p_0 + p_1 x + ... + p_n x^n (Horner).
    # Bound: n Horner steps, each tangent step rounds twice and inherits the value's rounding:
    # 4 n eps * sum i |p_i| |x|^(i-1) (Higham's gamma_{2n}, doubled).
    coeffs = [0.5, -1.25, 3.0, 0.0, -0.75, 0.125]
    n = len(coeffs) - 1
    x = np.array([-2.3, -0.4, 0.0, 0.9, 1.7])
    got = dual_functions(x, np.full_like(x, 2.0), fn="polynomial", coeffs=coeffs)
    for xi, vi, ti in zip(x, got.value, got.tangent, strict=True):
        xm = M(float(xi))
        d = mpmath.fsum(i * M(c) * xm ** (i - 1) for i, c in enumerate(coeffs) if i)
        v = mpmath.fsum(M(c) * xm ** i for i, c in enumerate(coeffs))
        scale = sum(i * abs(c) * abs(xi) ** (i - 1) for i, c in enumerate(coeffs) if i)
        assert abs(M(float(ti)) - 2 * d) <= 4 * n * EPS * 2 * scale
        assert abs(M(float(vi)) - v) <= 2 * n * EPS * sum(abs(c) * abs(xi) ** i
                                                           for i, c in enumerate(coeffs))
    const = dual_functions(x, np.ones_like(x), fn="polynomial", coeffs=[2.5])
    np.testing.assert_array_equal(const.value, np.full(5, 2.5))
    np.testing.assert_array_equal(const.tangent, np.zeros(5))


def test_nonsmooth_conventions_of_the_elementary_functions():
    x = np.array([-1.0, 0.0, 2.0])
    # abs'(0) = 0 (sign(0) = 0); relu'(0) = 0 by np.where(x > 0, x, 0).
    np.testing.assert_array_equal(dual_functions(x, np.ones(3), fn="abs").tangent, [-1, 0, 1])
    np.testing.assert_array_equal(dual_functions(x, np.ones(3), fn="relu").tangent, [0, 0, 1])
    # max/min over the last axis: the first extremal element's tangent.
    got = dual_functions(np.array([[1.0, 3.0, 3.0]]), np.array([[10.0, 20.0, 30.0]]), fn="max")
    assert (got.value[0], got.tangent[0]) == (3.0, 20.0)
    got = dual_functions(np.array([[1.0, 3.0, 1.0]]), np.array([[10.0, 20.0, 30.0]]), fn="min")
    assert (got.value[0], got.tangent[0]) == (1.0, 10.0)


def test_elementary_entry_points_reject_bad_arguments():
    with pytest.raises(ValueError, match="op must be one of"):
        dual_arith(np.ones(2), np.ones(2), np.ones(2), op="mod")
    with pytest.raises(ValueError, match="binary"):
        dual_arith(np.ones(2), np.ones(2), op="mul")
    with pytest.raises(ValueError, match="unary"):
        dual_arith(np.ones(2), np.ones(2), np.ones(2), op="neg")
    with pytest.raises(ValueError, match="coeffs"):
        dual_functions(np.ones(2), np.ones(2), fn="polynomial")
    with pytest.raises(ValueError, match="fn must be one of"):
        dual_functions(np.ones(2), np.ones(2), fn="erf")
    assert set(ARITH_OPS) >= {"add", "sub", "mul", "div", "pow", "neg", "reciprocal"}
    assert set(FUNCTIONS) >= {"exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "abs",
                              "polynomial"}
