"""The Dual array type: broadcasting, indexing and slice assignment, reductions and their tie
rules, selection conventions, linear and multilinear NumPy functions, dtypes, nesting, errors.

Evidence: hand-computed values (dyadic, so exact), and for the linear/multilinear functions
NumPy itself on plain arrays: for a linear L, L(x + u d) = L(x) + L(u) d, and for a bilinear B,
B(x + u d, y + v d) = B(x, y) + (B(u, y) + B(x, v)) d; the right-hand sides are computed by
NumPy on plain arrays, independently of the Dual rules.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from oracle import _canon
from oracle.autodiff import SUPPORTED_FUNCTIONS, SUPPORTED_UFUNCS, Dual, depth

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(7)


def _dual(shape, dtype=np.float64) -> Dual:
    return Dual(RNG.standard_normal(shape).astype(dtype), RNG.standard_normal(shape).astype(dtype))


# ---------------------------------------------------------------- construction, broadcasting


def test_constructor_broadcasts_and_casts_the_tangent():
    x = Dual(np.zeros((2, 3), np.float32), 1.0)
    assert x.tangent.shape == (2, 3) and x.tangent.dtype == np.float32
    x.tangent[0, 0] = 5.0  # a fresh buffer, not a broadcast view
    assert x.tangent[1, 1] == 1.0
    with pytest.raises(ValueError, match="does not fit"):
        Dual(np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="floating"):
        Dual(np.arange(3))


def test_binary_operations_broadcast_value_and_tangent():
    x = Dual(np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 2.0]))
    c = np.array([[1.0], [10.0]])
    y = x * c  # (2, 3): tangent x' c
    np.testing.assert_array_equal(y.tangent, [[1, 0, 2], [10, 0, 20]])
    z = Dual(np.array([[1.0], [2.0]]), np.array([[1.0], [1.0]])) + x  # (2,1) + (3,) -> (2,3)
    np.testing.assert_array_equal(z.tangent, [[2, 1, 3], [2, 1, 3]])
    assert (2 + x).tangent.tolist() == [1, 0, 2]  # reflected operators
    assert (np.float64(2) * x).tangent.tolist() == [2, 0, 4]
    assert (1 - x).tangent.tolist() == [-1, 0, -2]
    assert (6 / x).tangent.tolist() == [-6, 0, -0.75]  # -6 x'/x^2: -6*2/16


def test_comparisons_and_predicates_return_plain_boolean_arrays():
    x = Dual(np.array([1.0, np.nan, np.inf]), np.ones(3))
    for r in (x > 1, x >= 1, x < 1, 1 < x, x == 1, x != 1, np.isfinite(x), np.isnan(x)):
        assert isinstance(r, np.ndarray) and r.dtype == bool
    np.testing.assert_array_equal(x >= 1, [True, False, True])
    np.testing.assert_array_equal(np.argmax(Dual(np.array([1.0, 5.0, 5.0]))), 1)


# ---------------------------------------------------------------- indexing


def test_getitem_basic_integer_array_and_boolean():
    x = Dual(np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4) * 10)
    np.testing.assert_array_equal(x[1].tangent, [40, 50, 60, 70])
    np.testing.assert_array_equal(x[:, 1:3].tangent, [[10, 20], [50, 60], [90, 100]])
    np.testing.assert_array_equal(x[[2, 0], [1, 3]].tangent, [90, 30])
    np.testing.assert_array_equal(x[x > 9].tangent, [100, 110])
    assert x[..., None].shape == (3, 4, 1)


def test_views_share_value_and_tangent_like_numpy():
    x = Dual(np.zeros((2, 3)), np.zeros((2, 3)))
    x.T[2, 1] = Dual(np.array(7.0), np.array(8.0))
    x.reshape(6)[0] = Dual(np.array(1.0), np.array(2.0))
    assert (x.value[1, 2], x.tangent[1, 2], x.value[0, 0], x.tangent[0, 0]) == (7, 8, 1, 2)


def test_setitem_with_a_dual_or_a_plain_value():
    buf = _canon.zeros((4,), like=Dual(np.zeros(1), np.zeros(1)))
    buf[1:3] = Dual(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(buf.tangent, [0, 3, 4, 0])
    buf[np.array([True, False, True, False])] = 9.0  # a plain value: tangent 0 there
    np.testing.assert_array_equal(buf.value, [9, 1, 9, 0])
    np.testing.assert_array_equal(buf.tangent, [0, 3, 0, 0])
    buf[[1]] = np.array([5.0])
    np.testing.assert_array_equal(buf.tangent, [0, 0, 0, 0])


def test_results_never_alias_an_operand_tangent():
    x = Dual(np.ones(3), np.ones(3))
    for y in (x + 1.0, +x, x - np.zeros(3), x * 1.0, np.where(np.ones(3, bool), x, 0.0)):
        y[0] = 5.0
        assert x.tangent[0] == 1.0


def test_inplace_operators_update_the_dual_buffer():
    x = Dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    alias = x
    x += Dual(np.array([1.0, 1.0]), np.array([2.0, 3.0]))
    x *= 2.0
    assert alias is x
    np.testing.assert_array_equal(x.value, [4, 6])
    np.testing.assert_array_equal(x.tangent, [6, 8])


def test_add_at_scatters_values_and_tangents():
    buf = Dual.zeros((3,), like=Dual(np.zeros(1)))
    np.add.at(buf, np.array([0, 2, 0]), Dual(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0])))
    np.testing.assert_array_equal(buf.value, [5, 0, 2])
    np.testing.assert_array_equal(buf.tangent, [2, 0, 1])


# ---------------------------------------------------------------- reductions and selection


def test_sum_and_mean_take_the_sum_and_mean_of_tangents():
    x = _dual((3, 4))
    np.testing.assert_array_equal(np.sum(x, axis=1).tangent, np.sum(x.tangent, axis=1))
    np.testing.assert_array_equal(x.mean(axis=0, keepdims=True).tangent,
                                  np.mean(x.tangent, axis=0, keepdims=True))
    assert x.sum().shape == ()


def test_max_min_take_the_first_extremal_element_in_c_order():
    v = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]])
    t = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    x = Dual(v, t)
    assert float(np.max(x).tangent) == 20.0  # (0, 1) precedes (0, 2), (1, 0), (1, 2)
    np.testing.assert_array_equal(np.max(x, axis=0).tangent, [40, 20, 30])  # col 0: row 1
    np.testing.assert_array_equal(np.amax(x, axis=1, keepdims=True).tangent, [[20], [40]])
    np.testing.assert_array_equal(x.min(axis=1).tangent, [10, 50])
    # axis tuple on 3-D: first maximal element in C order over (axis 0, axis 2).
    v3 = np.zeros((2, 2, 2))
    t3 = np.arange(8.0).reshape(2, 2, 2)
    np.testing.assert_array_equal(np.max(Dual(v3, t3), axis=(2, 0)).tangent, [0, 2])
    with pytest.raises(ValueError, match="zero-size"):
        np.max(Dual(np.zeros((0,))))


def test_where_selects_tangents_and_relu_has_zero_derivative_at_zero():
    x = Dual(np.array([-1.0, 0.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    relu = np.where(_canon.primal(x) > 0, x, 0 * x)
    np.testing.assert_array_equal(relu.tangent, [0, 0, 1])
    both = np.where(np.array([True, False, True]), x, Dual(np.zeros(3), np.full(3, 7.0)))
    np.testing.assert_array_equal(both.tangent, [1, 7, 1])
    np.testing.assert_array_equal(np.where(x > 0)[0], [2])  # one-argument form: indices


def test_clip_passes_the_tangent_on_the_closed_interval():
    x = Dual(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), np.ones(5))
    np.testing.assert_array_equal(np.clip(x, -1.0, 1.0).tangent, [0, 1, 1, 1, 0])
    lo = Dual(np.full(5, -1.0), np.full(5, 3.0))
    np.testing.assert_array_equal(np.clip(x, lo, None).tangent, [3, 1, 1, 1, 1])


def test_sign_floor_ceil_and_abs_at_zero_have_zero_derivative():
    x = Dual(np.array([-1.5, 0.0, 2.5]), np.ones(3))
    for f in (np.sign, np.floor, np.ceil):
        np.testing.assert_array_equal(f(x).tangent, 0)
        np.testing.assert_array_equal(f(x).value, f(x.value))
    np.testing.assert_array_equal(abs(x).tangent, [-1, 0, 1])


def test_sort_permutes_tangents_by_the_stable_argsort():
    x = Dual(np.array([3.0, 1.0, 3.0, 2.0]), np.array([10.0, 20.0, 30.0, 40.0]))
    s = np.sort(x)
    np.testing.assert_array_equal(s.value, [1, 2, 3, 3])
    np.testing.assert_array_equal(s.tangent, [20, 40, 10, 30])  # tie: input order kept
    m = Dual(np.array([[2.0, 1.0], [0.0, 5.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(np.sort(m, axis=0).tangent, [[3, 2], [1, 4]])
    np.testing.assert_array_equal(np.sort(m, axis=None).tangent, [3, 2, 1, 4])


def test_prod_derivative_is_exact_with_zeros():
    # d/dt prod(x + t u) = sum_k u_k prod_{j != k} x_j; x = (2, 3, 0), u = 1: 0 + 0 + 6 = 6.
    x = Dual(np.array([2.0, 3.0, 0.0]), np.ones(3))
    assert (float(np.prod(x).value), float(np.prod(x).tangent)) == (0.0, 6.0)
    m = Dual(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    # column products 1*3 and 2*4; derivatives 1*3 (first entry varies), 2*1 (last one)
    np.testing.assert_array_equal(np.prod(m, axis=0).tangent, [3, 2])
    np.testing.assert_array_equal(np.prod(m, axis=1, keepdims=True).tangent, [[2], [3]])


# ---------------------------------------------------------------- linear and multilinear


LINEAR = [
    ("transpose", lambda a: np.transpose(a, (1, 0, 2))),
    ("moveaxis", lambda a: np.moveaxis(a, 0, -1)),
    ("swapaxes", lambda a: np.swapaxes(a, 0, 2)),
    ("reshape", lambda a: np.reshape(a, (6, 4))),
    ("broadcast_to", lambda a: np.broadcast_to(a, (5, 2, 3, 4))),
    ("expand_dims", lambda a: np.expand_dims(a, 1)),
    ("squeeze", lambda a: np.squeeze(a[:, :1], axis=1)),
    ("take", lambda a: np.take(a, [2, 0, 2], axis=1)),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.zeros((2, 3, 1), int), axis=2)),
    ("flip", lambda a: np.flip(a, axis=(0, 2))),
    ("tile", lambda a: np.tile(a, (2, 1, 1))),
    ("repeat", lambda a: np.repeat(a, 2, axis=2)),
    ("cumsum", lambda a: np.cumsum(a, axis=1)),
    ("diagonal", lambda a: np.diagonal(a, axis1=1, axis2=2)),
    ("trace", lambda a: np.trace(a, axis1=1, axis2=2)),
    ("triu", lambda a: np.triu(a, 1)),
    ("tril", lambda a: np.tril(a)),
    ("pad", lambda a: np.pad(a, ((0, 0), (1, 2), (0, 1)), mode="constant", constant_values=3.5)),
    ("pad-reflect", lambda a: np.pad(a, ((0, 0), (1, 1), (2, 0)), mode="reflect")),
    ("sum", lambda a: np.sum(a, axis=(0, 2))),
    ("mean", lambda a: np.mean(a, axis=1)),
    ("concatenate", lambda a: np.concatenate([a, np.ones((2, 3, 4))], axis=1)),
    ("stack", lambda a: np.stack([np.ones((2, 3, 4)), a], axis=-1)),
    ("split", lambda a: np.split(a, 2, axis=2)[1]),
    ("getitem", lambda a: a[1, ::-1, [0, 3]]),
]


@pytest.mark.parametrize("name, f", LINEAR, ids=[n for n, _ in LINEAR])
def test_linear_functions_map_the_tangent_like_numpy_maps_an_array(name, f):
    # For an affine f = L + c: f(x + u d) = f(x) + L(u) d, with L(u) = f(u) - f(0) on plain
    # arrays (the constant c of pad/concatenate/stack cancels; 0 for the others). Exact.
    x = _dual((2, 3, 4))
    out = f(x)
    np.testing.assert_array_equal(out.value, f(x.value))
    np.testing.assert_array_equal(out.tangent, f(x.tangent) - f(np.zeros((2, 3, 4))))


MULTILINEAR = [
    ("matmul", lambda a, b: a @ b, (3, 4), (4, 2)),
    ("matmul-batched", lambda a, b: np.matmul(a, b), (2, 3, 4), (4, 5)),
    ("dot", np.dot, (3, 4), (4,)),
    ("outer", np.outer, (3,), (4,)),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])), (2, 3, 4), (3, 4)),
    ("einsum", lambda a, b: np.einsum("bij,jk->bik", a, b), (2, 3, 4), (4, 5)),
]


@pytest.mark.parametrize("name, f, sa, sb", MULTILINEAR, ids=[m[0] for m in MULTILINEAR])
def test_bilinear_functions_follow_the_product_rule(name, f, sa, sb):
    # B(x + u d, y + v d) = B(x, y) + (B(u, y) + B(x, v)) d. The tangent is one sum of two
    # NumPy results, the reference the same sum: equal up to the rounding of that sum.
    a, b = _dual(sa), _dual(sb)
    out = f(a, b)
    np.testing.assert_array_equal(out.value, f(a.value, b.value))
    ref = f(a.tangent, b.value) + f(a.value, b.tangent)
    np.testing.assert_allclose(out.tangent, ref, rtol=0, atol=EPS * np.max(np.abs(ref)))
    only_a = f(a, b.value)  # a plain second operand is a constant
    np.testing.assert_array_equal(only_a.tangent, f(a.tangent, b.value))


def test_einsum_with_a_repeated_operand_sums_both_terms():
    x = Dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    # d/dt sum (x + t u)^2 = 2 <x, u> = 6
    assert float(np.einsum("i,i->", x, x).tangent) == 6.0


def test_like_constructors_make_duals_with_zero_tangent():
    x = _dual((2, 3), np.float32)
    for r, fill in ((np.zeros_like(x), 0), (np.ones_like(x), 1), (np.full_like(x, 2.5), 2.5)):
        assert isinstance(r, Dual) and r.dtype == np.float32
        np.testing.assert_array_equal(r.value, fill)
        np.testing.assert_array_equal(r.tangent, 0)
    assert np.zeros_like(x, dtype=int).dtype == np.int64
    f = _canon.full((2,), 3.0, like=x)
    assert isinstance(f, Dual) and f.dtype == np.float32 and f.value.tolist() == [3, 3]


# ---------------------------------------------------------------- dtypes


FLOAT32_OPS = [
    lambda a: a * 0.5 + 1, lambda a: 2.0 / a, lambda a: a ** 3, lambda a: 2.0 ** a,
    np.exp, np.expm1, lambda a: np.log(np.abs(a) + 1), lambda a: np.log1p(np.abs(a)), np.sin,
    np.cos, np.tanh, np.square, lambda a: np.sqrt(np.abs(a) + 1), np.reciprocal, np.abs,
    lambda a: np.maximum(a, 0.0), lambda a: np.minimum(a, a.T), lambda a: np.logaddexp(a, 0.5),
    lambda a: a @ a, lambda a: np.where(a > 0, a, 0), lambda a: np.clip(a, -0.5, 0.5),
    np.sum, np.mean, np.max, np.min, np.prod, np.sort, lambda a: np.cumsum(a, axis=0),
    lambda a: np.einsum("ij,jk->ik", a, a), lambda a: np.pad(a, 1), np.trace,
    lambda a: np.concatenate([a, np.ones((3, 3), np.float32)]), lambda a: a.astype(np.float32),
]


@pytest.mark.parametrize("i", range(len(FLOAT32_OPS)))
def test_float32_duals_stay_float32(i):
    out = FLOAT32_OPS[i](_dual((3, 3), np.float32))
    assert out.dtype == np.float32 and out.tangent.dtype == np.float32


def test_bfloat16_duals_follow_numpys_dtype():
    bf16 = np.dtype(ml_dtypes.bfloat16)
    x = Dual(np.array([0.5, 1.5], dtype=bf16), np.ones(2))
    for f in (lambda a: a * 2 + 1, np.exp, np.tanh, np.sqrt, lambda a: a / a, np.sum,
              lambda a: np.maximum(a, 1), lambda a: np.where(a > 1, a, 0)):
        out = f(x)
        assert out.dtype == bf16 and out.tangent.dtype == bf16
    assert x.astype(np.float64).tangent.dtype == np.float64


# ---------------------------------------------------------------- nesting and errors


def test_nested_duals_give_second_derivatives():
    # x + d1 + d2 at x = 0.7: the d1 d2 coefficient of f is f''(x).
    z = Dual(Dual(np.array(0.7), np.array(1.0)), np.array(1.0))
    assert depth(z) == 2 and depth(z.tangent) == 1
    assert float((z ** 3).tangent.tangent) == pytest.approx(6 * 0.7, rel=2 * EPS)
    np.testing.assert_allclose(float(np.sin(z).tangent.tangent), -np.sin(0.7), rtol=4 * EPS)
    # A depth-1 operand is constant with respect to the outer infinitesimal.
    w = Dual(np.array(2.0), np.array(1.0))
    r = z * w  # d2-part: w * 1, d1 d2-part: w' * 1 = 1
    assert float(r.tangent.tangent) == 1.0 and float(r.tangent.value) == 2.0
    buf = _canon.zeros((2,), like=z)
    buf[0] = z  # same depth: fine
    assert depth(buf) == 2
    with pytest.raises(TypeError, match="nesting depth"):
        _canon.zeros((2,), like=w)[0] = z


def test_unsupported_numpy_calls_raise_a_clear_type_error():
    x = _dual((3,))
    with pytest.raises(TypeError, match="numpy.median"):
        np.median(x)
    with pytest.raises(TypeError, match="numpy.arctan"):
        np.arctan(x)
    with pytest.raises(TypeError, match="numpy.add.reduce"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match="plain ndarray"):
        np.asarray(x)
    with pytest.raises(TypeError, match="plain array"):
        buf = np.zeros(3)
        buf += x
    with pytest.raises(TypeError, match="float"):
        float(x[0])
    with pytest.raises(TypeError, match="only the array"):
        np.pad(x, 1, constant_values=x[0])
    with pytest.raises(TypeError, match="plain ndarray"):  # a Dual index is no index
        np.take(np.ones(3), x)
    assert {"add", "exp", "tanh", "maximum", "matmul", "logaddexp"} <= set(SUPPORTED_UFUNCS)
    assert {"where", "einsum", "sort", "pad", "max", "prod"} <= set(SUPPORTED_FUNCTIONS)
