"""jvp, jacobian and vjp (ad.jvp, ad.vjp): hand-derived Jacobians, the consistency of the three
(J u column by column, <v, J u> = <J^T v, u>), output handling, and the compute dtype.

Tolerance rule for the inner-product identities: both sides are sums of the same n products
v_i J_ij u_j, rounded in different orders; each side errs by at most n eps/2 * sum |v_i J_ij
u_j| (recursive summation bound), so their difference is at most n eps * sum |v| |J| |u|.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from oracle import _canon
from oracle.autodiff import jacobian, jvp, vjp

EPS = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps
RNG = np.random.default_rng(3)


class Pair(NamedTuple):
    y: np.ndarray
    count: np.ndarray


def _two_outputs(x, w, *, scale):
    """y = tanh(x @ w) * scale, and an integer output that no derivative reaches."""
    y = np.tanh(x @ w) * scale
    return Pair(y, np.argmax(_canon.primal(y), axis=1))


def _composite(a, b, c):
    """Two outputs mixing every kind of rule: smooth, reductions, where, broadcasting. Written
    by the oracle's rules (inputs through _canon.asarray) so that it runs in any dtype."""
    a, b, c = _canon.asarray(a), _canon.asarray(b), _canon.asarray(c)
    h = np.exp(-np.square(a)) * b[None, :] + np.logaddexp(a, c)
    ones = np.ones((3, 2), dtype=_canon.current_dtype())
    out1 = np.where(_canon.primal(h) > 0.5, h, 0.5 * h) @ ones
    out2 = np.sum(np.sqrt(1 + h * h), axis=0) / np.max(np.abs(b) + 1)
    return out1, out2


def test_jvp_returns_flattened_outputs_with_zero_tangents_where_undifferentiated():
    x, w = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 2))
    outs, tans = jvp(_two_outputs, [x, w], {"scale": 2.0}, {1: np.ones((3, 2))})
    assert len(outs) == len(tans) == 2
    np.testing.assert_array_equal(outs[0], _two_outputs(x, w, scale=2.0).y)
    # d/dt 2 tanh(x (w + t 1)) = 2 sech^2(x w) * (x 1): 2 (1 - tanh^2) * rowsum(x)
    z = x @ w
    expected = 2 * (1 - np.tanh(z) ** 2) * x.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(tans[0], expected, rtol=32 * EPS, atol=32 * EPS)
    assert tans[1].dtype == np.float64 and not tans[1].any()  # integer output
    const_out, const_tan = jvp(lambda a, b: (a * 2, b), [x, w], None, {0: x})
    np.testing.assert_array_equal(const_tan[1], np.zeros_like(w))
    np.testing.assert_array_equal(const_tan[0], 2 * x)


def test_jvp_does_not_modify_its_arguments_and_checks_shapes():
    x = np.ones(3)

    def mutating(a):
        a[0] = 7.0  # forbidden in the oracle, but must not reach the caller's array
        return a

    jvp(mutating, [x], None, {0: np.ones(3)})
    assert x[0] == 1.0
    with pytest.raises(ValueError, match="tangent shape"):
        jvp(np.exp, [x], None, {0: np.ones(4)})


def test_jacobian_of_matmul_matches_the_hand_formula():
    # C = A B: dC_ij/dA_kl = delta_ik B_lj, dC_ij/dB_kl = A_ik delta_jl. All exact.
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    (ja, jb), = jacobian(lambda p, q: p @ q, [a, b], None, [0, 1])
    assert ja.shape == (2, 4, 2, 3) and jb.shape == (2, 4, 3, 4)
    np.testing.assert_array_equal(ja, np.einsum("ik,lj->ijkl", np.eye(2), b))
    np.testing.assert_array_equal(jb, np.einsum("ik,jl->ijkl", a, np.eye(4)))


def test_jacobian_of_an_elementwise_function_is_diagonal():
    x = RNG.standard_normal((2, 2))
    (j,), = jacobian(lambda v: v ** 3, [x], None, [0])
    # d x_ij^3 / d x_kl = 3 x_ij^2 delta: pow(x, 2) and a product: 3 eps relative
    expected = np.einsum("ij,ik,jl->ijkl", 3 * x ** 2, np.eye(2), np.eye(2))
    np.testing.assert_allclose(j, expected, rtol=3 * EPS, atol=0)


def test_jvp_is_the_jacobian_times_the_tangent():
    args = [RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal((4, 3))]
    us = {i: RNG.standard_normal(args[i].shape) for i in (0, 1, 2)}
    jac = jacobian(_composite, args, None, [0, 1, 2])
    _, tans = jvp(_composite, args, None, us)
    for o, t in enumerate(tans):
        ju = sum(np.tensordot(jac[o][k], us[i], axes=us[i].ndim) for k, i in enumerate(us))
        n = sum(u.size for u in us.values())
        scale = sum(np.tensordot(np.abs(jac[o][k]), np.abs(us[i]), axes=us[i].ndim)
                    for k, i in enumerate(us))
        # J u by tensordot vs one dual pass along u: the n-term contraction (rule above), plus
        # the rounding inside the pass, which is linear in u: at most 64 eps (about 30
        # operations deep, 2 eps each) of the same scale sum_j |J_ij u_j|.
        assert np.all(np.abs(t - ju) <= (n + 64) * EPS * scale)


def test_inner_product_identity_between_vjp_and_jvp():
    args = [RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal((4, 3))]
    wrt = [0, 2, 1]
    us = [RNG.standard_normal(args[i].shape) for i in wrt]
    outs, tans = jvp(_composite, args, None, dict(zip(wrt, us, strict=True)))
    vs = [RNG.standard_normal(o.shape) for o in outs]
    grads = vjp(_composite, args, None, wrt, vs)
    lhs = sum(np.sum(v * t) for v, t in zip(vs, tans, strict=True))
    rhs = sum(np.sum(g * u) for g, u in zip(grads, us, strict=True))
    jac = jacobian(_composite, args, None, wrt)
    scale = sum(np.sum(np.abs(np.tensordot(np.abs(v), np.abs(jac[o][k]), axes=v.ndim))
                       * np.abs(us[k])) for o, v in enumerate(vs) for k in range(len(wrt)))
    n = sum(v.size for v in vs) * sum(u.size for u in us)
    assert abs(lhs - rhs) <= n * EPS * scale


def test_vjp_of_hand_differentiable_functions():
    x = RNG.standard_normal(5)
    v = RNG.standard_normal(())
    (g,) = vjp(lambda a: np.sum(a * a), [x], None, [0], [v])
    np.testing.assert_allclose(g, 2 * x * v, rtol=EPS)  # 2 x v: one rounding per entry
    # A None cotangent is a zero cotangent (an output that is not differentiated).
    w = RNG.standard_normal((5, 2))
    gx, gw = vjp(lambda a, b: (a @ b, np.sum(a)), [x, w], None, [0, 1], [None, np.ones(())])
    np.testing.assert_array_equal(gx, np.ones(5))
    np.testing.assert_array_equal(gw, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="cotangents"):
        vjp(lambda a: a, [x], None, [0], [x, x])


def test_compute_dtype_float32_gives_float32_derivatives_close_to_float64():
    args = [RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal((4, 3))]
    u = {0: RNG.standard_normal((4, 3))}
    _, exact = jvp(_composite, args, None, u)
    with _canon.compute_dtype(np.float32):
        outs, tans = jvp(_composite, args, None, u)
        grads = vjp(_composite, args, None, [1], [np.ones_like(o) for o in outs])
    assert all(t.dtype == np.float32 for t in tans) and grads[0].dtype == np.float32
    for t, e in zip(tans, exact, strict=True):
        # about 20 float32 operations per entry, through a 3-term matmul: 64 eps32 of scale
        np.testing.assert_allclose(t, e, rtol=0, atol=64 * EPS32 * max(1.0, np.max(np.abs(e))))
