"""Difference quotients (ad.numeric_diff) as an independent, approximate check of the duals,
and the error-versus-h curve of notes 001 (truncation against rounding).

Tolerance rule for a central difference along u with step h (Taylor with remainder, plus the
rounding of f): |D_h - f'(x)u| <= h^2/6 max|D^3 f[u,u,u]| + (c eps max|f| + eps |x| |f'|) / h,
where c is the relative error of evaluating f in eps (about the number of operations) and the
last term is the rounding of x +- h u. The third derivative near x is bounded by twice its value
at x (h is small against the scale on which it varies) computed by 3-nested duals, themselves
checked against mpmath in test_oracle_autodiff_hessian.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from oracle.autodiff import (
    central_difference,
    difference_error_curve,
    directional_derivative,
    finite_difference,
    forward_difference,
    jvp,
)

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(5)
W = RNG.standard_normal((4, 6))
B = RNG.standard_normal(4)


def _cross_entropy_like(x):
    z = W @ x + B
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m))) - z[0]


def _mlp(x):
    h = np.tanh(W @ x + B)
    return 1 / (1 + np.exp(-(h * h)))


def _normalized(x):
    return x / np.sqrt(np.sum(x * x))


def _two_pass_standardize(x):
    mu = np.mean(x)
    d = x - mu
    return d / np.sqrt(np.mean(d * d) + 1e-5)


def _power_mix(x):
    return np.abs(x[:3]) ** x[3:] + np.expm1(np.sin(x[:3]))


COMPOSITES = [_cross_entropy_like, _mlp, _normalized, _two_pass_standardize, _power_mix]


@pytest.mark.parametrize("f", COMPOSITES, ids=[f.__name__ for f in COMPOSITES])
def test_central_differences_agree_with_dual_numbers(f):
    x = RNG.uniform(0.5, 1.5, 6) * RNG.choice([-1.0, 1.0], 6)
    u = RNG.standard_normal(6)
    h = 1e-5
    (fx,), (exact,) = jvp(f, [x], None, {0: u})
    d3 = directional_derivative(f, x, u, order=3)
    got = central_difference(f, x, u, h=h)
    c = 64  # each function here is at most ~40 roundings deep
    bound = (h ** 2 / 6 * 2 * np.max(np.abs(d3))
             + (c * EPS * np.max(np.abs(fx)) + EPS * np.max(np.abs(x)) * np.max(np.abs(exact)))
             / h)
    assert np.all(np.abs(got - exact) <= bound)


def test_difference_quotients_hand_values():
    # f = x^2 at x = 3, h = 0.5: forward (3.5^2 - 9)/0.5 = 6.5 = 2x + h (truncation h f''/2);
    # central (12.25 - 6.25)/1 = 6 exactly (no truncation for a quadratic). All dyadic.
    sq = lambda v: v * v  # noqa: E731
    assert float(forward_difference(sq, np.array(3.0), np.array(1.0), h=0.5)) == 6.5
    assert float(central_difference(sq, np.array(3.0), np.array(1.0), h=0.5)) == 6.0
    with pytest.raises(ValueError, match="scheme"):
        finite_difference(sq, np.array(3.0), np.array(1.0), h=0.5, scheme="backward")
    with pytest.raises(ValueError, match="h must be"):
        central_difference(sq, np.array(3.0), np.array(1.0), h=0.0)


def _exp_sin(x):
    return np.exp(np.sin(x))


HS = 10.0 ** -np.arange(1, 14)


def test_the_error_curve_is_v_shaped():
    x, u = np.array(0.7), np.array(1.0)
    (_,), (exact,) = jvp(_exp_sin, [x], None, {0: u})
    for scheme, slope, best_h in (("central", 2, 1e-5), ("forward", 1, 1e-8)):
        curve = difference_error_curve(_exp_sin, x, u, HS, exact, scheme=scheme)
        k = int(np.argmin(curve.error))
        # The optimum is interior, near eps^(1/3) ~ 6e-6 (central) or eps^(1/2) ~ 1.5e-8
        # (forward), within a factor 100 either way.
        assert 0 < k < len(HS) - 1
        assert best_h / 100 <= curve.h[k] <= best_h * 100, (scheme, curve.h[k])
        # Truncation branch: error ~ C h^slope, so shrinking h tenfold (0.01 -> 0.001) divides
        # it by 10^slope (within a factor 2, for the next Taylor term).
        ratio = curve.error[1] / curve.error[2]
        assert 10 ** slope / 2 <= ratio <= 10 ** slope * 2, (scheme, ratio)
        # Rounding branch: at h = 1e-13 the error is far above the minimum (~ eps |f| / h).
        assert curve.error[-1] >= 100 * curve.error[k]
        assert curve.error[0] >= 100 * curve.error[k]
    central = difference_error_curve(_exp_sin, x, u, HS, exact, scheme="central")
    forward = difference_error_curve(_exp_sin, x, u, HS, exact, scheme="forward")
    assert np.min(central.error) < np.min(forward.error) / 10
