"""Tests of NAG, Newton and L-BFGS in oracle.optimizers and of their test functions: the
dual-number gradient and Hessian against the closed forms, Newton converging in one step on
a quadratic, the two-loop recursion equal to the inverse-Hessian product on a quadratic once
it holds n Q-conjugate pairs, the first-step and pair-storage conventions by hand, NAG's two
forms related by p = theta - mu v, and the mpmath transcriptions at 50 digits.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from oracle import optimizers as O
from oracle.optimizers import objectives
from oracle.precise import optimizers as P

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(7)


def _problem(n: int = 3, b_scale: float = 0.5) -> tuple[np.ndarray, ...]:
    m = RNG.uniform(-1, 1, (n, n))
    q = m @ m.T / n + np.diag(RNG.uniform(0.5, 2.0, n))
    q = (q + q.T) / 2
    return (RNG.uniform(-2, 2, n), q, RNG.uniform(0.5, 2, n) * RNG.choice([-1, 1], n),
            b_scale * RNG.uniform(0, 1, n), RNG.uniform(-1, 1, n))


def _closed_form(x: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                 kind: str) -> tuple[np.ndarray, np.ndarray]:
    z = x - c
    if kind == "softplus":
        sig = 1 / (1 + np.exp(-z))
        d1, d2 = sig, sig * (1 - sig)
    elif kind == "logcosh":
        d1, d2 = np.tanh(z), 1 / np.cosh(z) ** 2
    else:
        d1, d2 = z**3, 3 * z**2
    return q @ (x - a) + b * d1, q + np.diag(b * d2)


@pytest.mark.parametrize("kind", objectives.KINDS)
def test_dual_gradient_and_hessian_are_the_closed_forms(kind):
    x, q, a, b, c = _problem()
    g, h = _closed_form(x, q, a, b, c, kind)
    np.testing.assert_allclose(objectives.gradient(x, q, a, b, c, kind=kind), g, rtol=0,
                               atol=64 * EPS * np.max(np.abs(g)))
    np.testing.assert_allclose(objectives.hessian(x, q, a, b, c, kind=kind), h, rtol=0,
                               atol=64 * EPS * np.max(np.abs(h)))


def test_log_cosh_does_not_overflow():
    x = np.array([800.0])
    f = objectives.objective(x, np.eye(1), np.zeros(1), np.ones(1), np.zeros(1), kind="logcosh")
    assert f == pytest.approx(0.5 * 800**2 + 800 - math.log(2), rel=1e-15)


def test_newton_converges_in_one_step_on_a_quadratic():
    x, q, a, _, c = _problem()
    out = O.newton(x, q, a, np.zeros(3), c, kind="softplus", steps=2)
    np.testing.assert_allclose(out.params[0], a, rtol=0, atol=64 * EPS * np.max(np.abs(x)))
    np.testing.assert_allclose(out.params[1], a, rtol=0, atol=64 * EPS * np.max(np.abs(x)))


@pytest.mark.parametrize("kind", objectives.KINDS)
def test_newton_converges_quadratically(kind):
    x, q, a, b, c = _problem()
    out = O.newton(x, q, a, b, c, kind=kind, steps=6)
    g = [np.linalg.norm(objectives.gradient(p, q, a, b, c, kind=kind)) for p in out.params]
    assert g[-1] < 1e-12 and g[3] < 1e-6


def test_two_loop_is_the_inverse_hessian_after_n_conjugate_pairs():
    """On f = 1/2 x^T Q x with pairs s_i = eigenvectors of Q (Q-conjugate), y_i = Q s_i, the
    BFGS update keeps every secant condition H y_i = s_i, so after n pairs H = Q^-1 for any
    H_0 = gamma I (Nocedal & Wright, Theorem 6.4's hereditary property)."""
    _, q, _, _, _ = _problem(4)
    _, vecs = np.linalg.eigh(q)
    pairs = [(vecs[:, i], q @ vecs[:, i], 1 / (vecs[:, i] @ q @ vecs[:, i])) for i in range(4)]
    g = RNG.standard_normal(4)
    for gamma in (1.0, 0.3):
        np.testing.assert_allclose(O.two_loop(g, pairs, gamma), np.linalg.solve(q, g),
                                   rtol=1e-13, atol=1e-13)
    # with fewer pairs it is not the inverse
    assert not np.allclose(O.two_loop(g, pairs[:2], 1.0), np.linalg.solve(q, g))


def test_lbfgs_first_step_conventions_by_hand():
    """First step x1 = x0 - lr_1 g0: lr (identity), lr min(1, 1/||g||_1) (torch),
    lr min(1, 1/||g||_2) (optax); pure quadratic with Q = I, a = 0: g0 = x0."""
    x0 = np.array([3.0, -4.0])
    prob = (np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2))
    for first, scale in (("identity", 1.0), ("l1", 1 / 7), ("l2", 1 / 5)):
        out = O.lbfgs(x0, *prob, kind="softplus", steps=1, lr=0.5, history=2,
                      first_step=first)
        np.testing.assert_allclose(out.params[0], x0 - 0.5 * scale * x0, rtol=1e-15)
        assert out.pairs[0] == 0 and not out.s.any()


def test_lbfgs_history_is_oldest_first_and_bounded():
    x, q, a, b, c = _problem()
    out = O.lbfgs(x, q, a, b, c, kind="logcosh", steps=6, lr=0.5, history=2)
    np.testing.assert_array_equal(out.pairs, [0, 1, 2, 2, 2, 2])
    # after step 3 (x3 taken, g(x3) not yet seen) the pairs are (x1 - x0, x2 - x1)
    xs = [x, *out.params]
    np.testing.assert_allclose(out.s[2], [xs[1] - xs[0], xs[2] - xs[1]], rtol=1e-14)
    g = [objectives.gradient(p, q, a, b, c, kind="logcosh") for p in xs]
    np.testing.assert_allclose(out.y[2], [g[1] - g[0], g[2] - g[1]], rtol=1e-12, atol=1e-15)


def test_lbfgs_without_pairs_is_gradient_descent():
    """A curvature threshold no pair passes leaves gamma = 1 and no pairs: x -= lr g."""
    x, q, a, b, c = _problem()
    out = O.lbfgs(x, q, a, b, c, kind="quartic", steps=4, lr=0.125, history=3,
                  min_curvature=1e6)
    p = x
    for k in range(4):
        p = p - 0.125 * objectives.gradient(p, q, a, b, c, kind="quartic")
        np.testing.assert_allclose(out.params[k], p, rtol=1e-14)
    assert not out.pairs.any()


def test_lbfgs_on_a_quadratic_reaches_the_minimum_in_about_n_steps():
    x, q, a, _, c = _problem()
    out = O.lbfgs(x, q, a, np.zeros(3), c, kind="softplus", steps=12, lr=1.0, history=5)
    np.testing.assert_allclose(out.params[-1], a, atol=1e-10)


def test_nag_forms_are_related_by_the_lookahead_point():
    """p = theta - mu v and b = v / lr at every step (docs/conventions/optimizers.md)."""
    x, q, a, b, c = _problem()
    kw = {"kind": "softplus", "steps": 8, "lr": 0.0625, "momentum": 0.875}
    look = O.nag(x, q, a, b, c, **kw)
    ref = O.nag(x, q, a, b, c, form="reformulated", **kw)
    np.testing.assert_allclose(look.velocity, 0.0625 * ref.buffer, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(look.params - 0.875 * look.velocity, ref.params, rtol=1e-13)


def test_nag_first_steps_by_hand_on_a_quadratic():
    """f = 1/2 q x^2 (n = 1, a = 0): v1 = lr q x0; x1 = x0 - v1; v2 = mu v1 + lr q (x1 - mu v1)."""
    qv, x0, lr, mu = 0.5, 2.0, 0.25, 0.75
    out = O.nag(np.array([x0]), np.array([[qv]]), np.zeros(1), np.zeros(1), np.zeros(1),
                kind="softplus", steps=2, lr=lr, momentum=mu)
    v1 = lr * qv * x0
    x1 = x0 - v1
    v2 = mu * v1 + lr * qv * (x1 - mu * v1)
    np.testing.assert_array_equal(out.velocity[:, 0], [v1, v2])
    np.testing.assert_array_equal(out.params[:, 0], [x1, x1 - v2])


@pytest.mark.parametrize("op, kwargs", [
    ("optim.nag", {"kind": "logcosh", "steps": 6, "lr": 0.0625, "momentum": 0.875}),
    ("optim.nag", {"kind": "quartic", "steps": 6, "lr": 0.03125, "momentum": 0.5,
                   "form": "reformulated"}),
    ("optim.newton", {"kind": "softplus", "steps": 3}),
    ("optim.newton", {"kind": "quartic", "steps": 3}),
    ("optim.lbfgs", {"kind": "softplus", "steps": 6, "lr": 0.5, "history": 2}),
    ("optim.lbfgs", {"kind": "logcosh", "steps": 6, "lr": 0.375, "history": 3,
                     "first_step": "l1", "min_curvature": 1e-10}),
    ("optim.lbfgs", {"kind": "quartic", "steps": 5, "lr": 0.25, "history": 2,
                     "first_step": "l2", "min_curvature": None, "pair": "difference"}),
])
def test_against_mpmath(op, kwargs):
    """Within 1e-13 of each output's scale: the trajectories are well conditioned (the
    iterations contract), so the float64 oracle's rounding stays near eps per step."""
    prob = _problem()
    got = O.ORACLE[op](*prob, **kwargs)
    with mpmath.workdps(50):
        want = P.PRECISE[op](*prob, **kwargs)
    for name, a, b in zip(got._fields, got, want):
        b = np.asarray(b, dtype=object).astype(float)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13 * max(1.0, np.max(np.abs(b))),
                                   err_msg=f"{op} {name}")
