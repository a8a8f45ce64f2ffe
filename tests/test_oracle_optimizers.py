"""Tests of the first-order and adaptive optimizers of oracle.optimizers: hand-computed first
steps (dyadic values, so the expected numbers are exact), closed forms (SGD with weight
decay on a fixed gradient sequence, heavy ball on a quadratic), the Adam paper's Algorithm 1
written out in plain Python floats, the forms' equivalences stated in
docs/conventions/optimizers.md, the mpmath transcriptions at 50 digits, float16 runs, and
the dual numbers through a trajectory against central differences.

Error model: correctly rounded + - * / sqrt err by eps/2 relative; a K-step trajectory of
O(1) values accumulates at most a few eps per step, so 64 eps covers K <= 16 with margin.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from oracle import _canon, autodiff
from oracle import optimizers as O
from oracle.optimizers.adaptive import bias_correction
from oracle.precise import optimizers as P

EPS = np.finfo(np.float64).eps
mpmath.mp.dps = 50
RNG = np.random.default_rng(20261201)


def _seq(k: int = 5, shape: tuple[int, ...] = (4,), scale: float = 1.0) -> tuple:
    return RNG.uniform(-2, 2, shape), scale * RNG.uniform(-1, 1, (k, *shape))


def _close(got: np.ndarray, want: np.ndarray, ulps: float = 64) -> None:
    want = np.asarray(want, dtype=np.float64)
    tol = ulps * EPS * max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


# --- SGD and momentum ------------------------------------------------------------------
def test_sgd_first_steps_by_hand():
    out = O.sgd(np.array([1.0, -2.0]), np.array([[0.5, 0.25], [-1.0, 2.0]]), lr=0.25)
    np.testing.assert_array_equal(out.params, [[0.875, -2.0625], [1.125, -2.5625]])


def test_sgd_with_weight_decay_matches_its_closed_form():
    """theta_{k+1} = (1 - lr wd) theta_k - lr g_k, so theta_K = r^K theta_0 -
    lr sum_k r^(K-1-k) g_k with r = 1 - lr wd."""
    p, g = _seq(7)
    lr, wd = 0.125, 0.5
    r = 1 - lr * wd
    out = O.sgd(p, g, lr=lr, weight_decay=wd)
    for k in range(len(g)):
        want = r ** (k + 1) * p - lr * sum(r ** (k - j) * g[j] for j in range(k + 1))
        _close(out.params[k], want)


def test_heavy_ball_on_a_quadratic_follows_its_linear_recursion():
    """With g_k = h theta_k the velocity form is the linear map
    (theta, v) -> (theta - (gamma v + lr h theta), gamma v + lr h theta)."""
    h, lr, gamma = 0.75, 0.25, 0.5
    theta, v = 1.0, 0.0
    thetas = []
    for _ in range(6):
        v = gamma * v + lr * h * theta
        theta = theta - v
        thetas.append(theta)
    # the gradients the trajectory sees are h theta_{k-1}: feed them in
    grads = h * np.array([1.0, *thetas[:-1]])[:, None]
    out = O.momentum(np.array([1.0]), grads, lr=lr, momentum=gamma)
    _close(out.params[:, 0], thetas, ulps=8)


def test_momentum_first_steps_by_hand():
    g = np.array([[1.0], [0.5], [-2.0]])
    out = O.momentum(np.array([0.0]), g, lr=0.5, momentum=0.75)
    # v1 = 0.5; v2 = 0.375 + 0.25 = 0.625; v3 = 0.46875 - 1 = -0.53125
    np.testing.assert_array_equal(out.velocity[:, 0], [0.5, 0.625, -0.53125])
    np.testing.assert_array_equal(out.params[:, 0], [-0.5, -1.125, -0.59375])


def test_velocity_and_buffer_forms_agree_under_a_constant_lr():
    p, g = _seq(9)
    v = O.momentum(p, g, lr=0.125, momentum=0.875)
    b = O.momentum(p, g, lr=0.125, momentum=0.875, form="buffer")
    _close(v.params, b.params)
    _close(v.velocity, 0.125 * b.buffer)


def test_the_forms_differ_under_a_changing_lr():
    """Two steps, lrs (1, 1/2), gamma 1/2, g = (1, 1): velocity keeps lr_1 inside v,
    theta_2 = -(1) - (1/2 * 1 + 1/2 * 1) = -2; the buffer form takes
    -(1 * 1) - 1/2 (1/2 * 1 + 1) = -1.75."""
    g = np.ones((2, 1))
    lrs = np.array([1.0, 0.5])
    vel = O.momentum_lr_schedule(np.zeros(1), g, lrs, momentum=0.5)
    buf = O.momentum_lr_schedule(np.zeros(1), g, lrs, momentum=0.5, form="buffer")
    assert vel.params[-1, 0] == -2.0 and buf.params[-1, 0] == -1.75


def test_torch_dampening_copies_the_first_gradient():
    g = np.array([[1.0], [1.0]])
    out = O.momentum(np.zeros(1), g, lr=1.0, momentum=0.5, form="buffer", dampening=0.25)
    # b1 = g1 = 1 (no (1 - dampening) on the first step); b2 = 0.5 + 0.75 = 1.25
    np.testing.assert_array_equal(out.buffer[:, 0], [1.0, 1.25])


# --- Adagrad, RMSprop, Adadelta ------------------------------------------------------------
def test_adagrad_first_steps_by_hand():
    g = np.array([[3.0], [4.0]])
    inside = O.adagrad(np.zeros(1), g, lr=1.0, eps=0.0, initial_accumulator=16.0)
    # G1 = 16 + 9 = 25, theta1 = -3/5; G2 = 25 + 16 = 41, theta2 = -0.6 - 4/sqrt(41)
    np.testing.assert_array_equal(inside.accumulator[:, 0], [25.0, 41.0])
    _close(inside.params[:, 0], [-0.6, -0.6 - 4 / math.sqrt(41)], ulps=4)
    outside = O.adagrad(np.zeros(1), g[:1], lr=1.0, eps=1.0, eps_placement="outside")
    inside1 = O.adagrad(np.zeros(1), g[:1], lr=1.0, eps=1.0)
    assert outside.params[0, 0] == -3 / (3 + 1) and inside1.params[0, 0] == -3 / math.sqrt(10)


def test_rmsprop_first_step_by_hand():
    out = O.rmsprop(np.zeros(1), np.array([[2.0]]), lr=0.5, rho=0.75, eps=0.0)
    # E1 = 0.25 * 4 = 1, theta1 = -0.5 * 2 / 1
    assert out.square_avg[0, 0] == 1.0 and out.params[0, 0] == -1.0
    out = O.rmsprop(np.zeros(1), np.array([[2.0]]), lr=0.5, rho=0.75, eps=3.0,
                    eps_placement="outside")
    assert out.params[0, 0] == -0.5 * 2 / (1 + 3)


def test_adadelta_first_step_by_hand():
    """E_g1 = (1 - rho) g^2 = 1; dx1 = sqrt(0 + eps) / sqrt(1 + eps) g; E_dx1 = (1 - rho) dx1^2."""
    rho, eps, g = 0.75, 0.25, 2.0
    out = O.adadelta(np.zeros(1), np.array([[g]]), rho=rho, eps=eps, lr=0.5)
    dx = math.sqrt(eps) / math.sqrt(1 + eps) * g
    assert out.square_avg[0, 0] == 1.0
    _close(out.delta_avg[0, 0], (1 - rho) * dx * dx, ulps=4)
    _close(out.params[0, 0], -0.5 * dx, ulps=4)


# --- Adam --------------------------------------------------------------------------------
def _adam_algorithm_1(theta: list[float], grads: list[list[float]], alpha: float, b1: float,
                      b2: float, eps: float) -> list[list[float]]:
    """Kingma & Ba (2015), Algorithm 1, as printed (eps added to sqrt(v_hat))."""
    m = [0.0] * len(theta)
    v = [0.0] * len(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        theta = [th - alpha * mh / (math.sqrt(vh) + eps)
                 for th, mh, vh in zip(theta, m_hat, v_hat)]
        out.append(theta)
    return out


def test_adam_is_algorithm_1_of_the_paper():
    p, g = _seq(12)
    out = O.adam(p, g, lr=0.001, b1=0.9, b2=0.999, eps=1e-8)
    want = _adam_algorithm_1(list(p), [list(r) for r in g], 0.001, 0.9, 0.999, 1e-8)
    # the paper's direct 1 - b2^t errs by eps / (1 - b2^t) <= 2^-52 / 0.001: 1e-13 relative
    np.testing.assert_allclose(out.params, want, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(out.step, np.arange(1, 13))


def test_adam_first_step_is_lr_times_the_sign_of_g():
    """m'_1 = g and v'_1 = g^2, so with eps = 0 the first step is lr sign(g), in every
    eps mode (eps-hat and inside included), whatever b1 and b2."""
    g = np.array([[0.5, -3.0, 1e-6]])
    for mode in ("outside", "inside", "hat"):
        out = O.adam(np.zeros(3), g, lr=0.25, b1=0.5, b2=0.75, eps=0.0, eps_mode=mode)
        np.testing.assert_array_equal(out.params[0], [-0.25, 0.25, -0.25])


def test_epsilon_hat_is_eps_outside_with_a_step_dependent_eps():
    """Step t of 'hat' with eps equals 'outside' with eps_t = eps / sqrt(1 - b2^t)."""
    g = np.array([[0.25, -0.5]])
    b2, eps = 0.875, 0.125
    hat = O.adam(np.zeros(2), g, lr=0.5, b1=0.5, b2=b2, eps=eps, eps_mode="hat")
    out = O.adam(np.zeros(2), g, lr=0.5, b1=0.5, b2=b2, eps=eps / math.sqrt(1 - b2),
                 eps_mode="outside")
    _close(hat.params, out.params, ulps=4)


def test_decoupled_and_l2_weight_decay():
    """eps = 0, first step: decoupled gives theta (1 - lr wd) - lr sign(g); L2 puts
    wd theta into g, so a gradient g = -wd theta gives m = 0 and no step at all."""
    theta = np.array([2.0, -4.0])
    dec = O.adam(theta, np.array([[1.0, 1.0]]), lr=0.25, b1=0.5, b2=0.5, eps=0.0,
                 weight_decay=0.5, weight_decay_mode="decoupled")
    np.testing.assert_array_equal(dec.params[0], theta * (1 - 0.125) - 0.25)
    l2 = O.adam(theta, np.array([[-1.0, 2.0]]), lr=0.25, b1=0.5, b2=0.5, eps=1.0,
                weight_decay=0.5)
    np.testing.assert_array_equal(l2.params[0], theta)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999, 1 - 2.0**-20])
def test_bias_correction_is_accurate_where_the_direct_form_cancels(beta):
    for t in (1, 2, 3, 7, 16):
        want = 1 - mpmath.mpf(beta) ** t
        got = bias_correction(np.float64(beta), np.float64(t))
        assert abs(mpmath.mpf(float(got)) - want) <= 4 * EPS * want


# --- against the mpmath transcriptions ------------------------------------------------------
CASES = [
    ("optim.sgd", {"lr": 0.375, "weight_decay": 0.0625}),
    ("optim.momentum", {"lr": 0.125, "momentum": 0.9375}),
    ("optim.adagrad", {"lr": 0.5, "eps": 2.0**-10, "initial_accumulator": 0.125}),
    ("optim.rmsprop", {"lr": 0.0625, "rho": 0.875, "eps": 2.0**-20,
                       "eps_placement": "outside"}),
    ("optim.adadelta", {"rho": 0.9375, "eps": 2.0**-12, "lr": 1.0}),
    ("optim.adam", {"lr": 0.125, "b1": 0.875, "b2": 1 - 2.0**-10, "eps": 2.0**-30,
                    "weight_decay": 0.0625}),
    ("optim.adam", {"lr": 0.5, "b1": 0.5, "b2": 1 - 2.0**-18, "eps": 2.0**-8,
                    "eps_mode": "hat", "weight_decay": 0.125, "weight_decay_mode": "decoupled"}),
    ("optim.adam", {"lr": 0.5, "b1": 0.0, "b2": 0.96875, "eps": 0.5, "eps_mode": "inside"}),
]


@pytest.mark.parametrize("op, kwargs", CASES)
def test_trajectories_against_mpmath(op, kwargs):
    """Every output, every step, within 16 eps of the output's scale (relative to its largest
    magnitude) of the 50-digit transcription."""
    p, g = _seq(16, (3,), scale=2.0)
    got = O.ORACLE[op](p, g, **kwargs)
    with mpmath.workdps(50):
        want = P.PRECISE[op](p, g, **kwargs)
    for name, a, b in zip(got._fields, got, want):
        b = np.asarray(b, dtype=object).astype(float)
        scale = np.max(np.abs(b), axis=tuple(range(1, b.ndim)), keepdims=True) if b.ndim > 1 \
            else np.abs(b)
        bound = np.broadcast_to(16 * EPS * scale + 1e-300, b.shape)
        np.testing.assert_array_less(np.abs(np.asarray(a) - b), bound, err_msg=f"{op} {name}")


def test_scheduled_momentum_against_mpmath():
    p, g = _seq(8)
    lrs = 2.0 ** -RNG.integers(1, 8, 8)
    for form in ("velocity", "buffer"):
        got = O.momentum_lr_schedule(p, g, lrs, momentum=0.75, form=form)
        with mpmath.workdps(50):
            want = P.momentum(p, g, lrs, momentum=0.75, form=form)
        for a, b in zip(got, want):
            _close(a, np.asarray(b, dtype=object).astype(float), ulps=16)


# --- low precision and dual numbers ---------------------------------------------------------
def test_the_naive_run_stays_in_the_low_dtype():
    p, g = _seq(3)
    with _canon.compute_dtype(np.float16):
        out = O.adam(p.astype(np.float16), g.astype(np.float16), lr=0.125, b1=0.875,
                     b2=0.9375, eps=2.0**-10)
    assert all(np.asarray(o).dtype == np.float16 for o in out)


@pytest.mark.parametrize("op, kwargs", CASES[:6])
def test_dual_jvp_of_a_trajectory_matches_central_differences(op, kwargs):
    """d(trajectory)/d(params, grads) along a random direction: the oracle's duals against
    a central difference with step 2^-20 (error ~ h^2 f''' ~ 1e-12 here)."""
    p, g = _seq(4, (3,))
    u = [RNG.standard_normal(p.shape), RNG.standard_normal(g.shape)]
    fn = O.ORACLE[op]
    _, tangents = autodiff.jvp(lambda a, b: fn(a, b, **kwargs), [p, g], None, {0: u[0], 1: u[1]})
    h = 2.0**-20
    hi = fn(p + h * u[0], g + h * u[1], **kwargs)
    lo = fn(p - h * u[0], g - h * u[1], **kwargs)
    for t, a, b in zip(tangents, hi, lo):
        np.testing.assert_allclose(t, (np.asarray(a) - np.asarray(b)) / (2 * h), rtol=1e-6,
                                   atol=1e-6)
