"""JAX mappings of the ``ad`` family: jax.jvp (each primitive's JVP rule), jax.vjp (its
transpose) and jax.hessian (forward-over-reverse), on jax.numpy / jax.nn ops.

Unlike the other families' mappings these run under jax.jit, as users run derivatives:
eagerly, jax.jvp / jax.vjp / jax.hessian trace the function again at every call (5 to 50 ms
a call) and compile each primitive of the derivative per shape and dtype (seconds for the
MLP and the Hessians), while one jit per mapping, shape and dtype costs a fraction of a
second, and the ad specs draw their shapes from short menus.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp

# Catalog op name -> jax.numpy function name (the same lax primitives as the operators).
_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "pow": "power",
          "maximum": "maximum", "minimum": "minimum", "neg": "negative",
          "reciprocal": "reciprocal"}


def _function(fn: str) -> Callable[[Any], Any]:
    if fn in ("max", "min"):  # ties: the JVP rule splits the tangent evenly
        return lambda x: getattr(jnp, fn)(x, axis=-1)
    if fn in ("sigmoid", "relu"):
        return getattr(jax.nn, fn)
    return getattr(jnp, fn)  # exp log sin cos tanh sqrt abs


def _horner(x: Any, coeffs: Any) -> Any:
    """coeffs: a 1-d array (p_0 .. p_n) in x's dtype (a traced argument, so one compile per
    degree serves every drawn coefficient)."""
    r = jnp.full_like(x, coeffs[-1])
    for i in range(coeffs.shape[0] - 2, -1, -1):
        r = r * x + coeffs[i]
    return r


def _mlp_loss(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> Any:
    h = jnp.tanh(x @ w1.T + b1)
    return -jnp.sum(t * jax.nn.log_softmax(h @ w2.T + b2, axis=1), axis=1)


def _mlp_jvp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, *tangents: Any) -> Any:
    return jax.jvp(lambda *p: _mlp_loss(*p, t), (x, w1, b1, w2, b2), tangents)


def _mlp_vjp(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> Any:
    loss, pullback = jax.vjp(lambda *p: _mlp_loss(*p, t), x, w1, b1, w2, b2)
    return (loss, *pullback(g))


def _hessian_logsumexp(x: Any, A: Any) -> Any:
    return jax.hessian(lambda v: jax.nn.logsumexp(A @ v) + jnp.sum(v * v) / 2)(x)


def _hessian_rosenbrock(x: Any, a: Any, b: Any) -> Any:
    def f(v: Any) -> Any:
        head, tail = v[:-1], v[1:]
        return jnp.sum(b * (tail - head * head) ** 2 + (a - head) ** 2)

    return jax.hessian(f)(x)


_DERIVATIVES = {"jvp": _mlp_jvp, "vjp": _mlp_vjp, "logsumexp": _hessian_logsumexp,
                "rosenbrock": _hessian_rosenbrock}


@functools.cache
def _jit(kind: str, name: str) -> Callable[..., Any]:
    """One jitted function per mapping (built on first use: jax is imported lazily)."""
    if kind == "arith":
        f = getattr(jnp, _ARITH[name])
        return jax.jit(lambda primals, tangents: jax.jvp(f, primals, tangents))
    if kind == "polynomial":
        return jax.jit(lambda x, x_dot, c: jax.jvp(lambda v: _horner(v, c), (x,), (x_dot,)))
    if kind == "function":
        f = _function(name)
        return jax.jit(lambda x, x_dot: jax.jvp(f, (x,), (x_dot,)))
    return jax.jit(_DERIVATIVES[name])


_JIT = {"fun": "fixed: the derivative computation", "in_shardings": "fixed: default, one "
        "device", "out_shardings": "fixed: default, one device", "static_argnums": "fixed: "
        "none; the op name selects the jitted function", "static_argnames": "fixed: none",
        "donate_argnums": "fixed: none", "donate_argnames": "fixed: none",
        "keep_unused": "fixed: False (default)", "device": "fixed: None (deprecated; inputs "
        "are on the adapter's device)", "backend": "fixed: None (deprecated)",
        "inline": "fixed: False (default)", "compiler_options": "fixed: None, XLA's defaults"}
_JVP = {**_JIT, "has_aux": "fixed: False"}
_LOG_SOFTMAX = {"axis": "fixed: 1, over the classes", "where": "fixed: None, every class"}
_HESSIAN = {**_JIT, "argnums": "fixed: 0, the point x", "has_aux": "fixed: False",
            "holomorphic": "fixed: False, real inputs"}


class AutodiffOps:
    UNSUPPORTED = {
        "ad.numeric_diff": "JAX has no public finite-difference op: jax.test_util.check_grads "
                           "/ check_jvp take difference quotients internally but only assert",
    }

    @implements("ad.dual_arith", native=("jax.jvp", "jax.jit"), params=_JVP)
    def dual_arith(self, x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *,
                   op: str) -> Any:
        if y is None:
            return _jit("arith", op)((x,), (x_dot,))
        return _jit("arith", op)((x, y), (x_dot, y_dot))

    @implements("ad.dual_functions", native=("jax.jvp", "jax.jit", "jax.numpy.max"),
                params={**_JVP, "axis": "fixed: -1 (max, min over the last axis)",
                        "out": "fixed: None", "keepdims": "fixed: False",
                        "initial": "fixed: None, no identity (non-empty rows)",
                        "where": "fixed: None, every element"})
    def dual_functions(self, x: Any, x_dot: Any, *, fn: str,
                       coeffs: Sequence[float] | None = None) -> Any:
        if fn == "polynomial":
            # Dyadic coefficients: exact in x's dtype, as Python floats would be.
            return _jit("polynomial", "")(x, x_dot, jnp.asarray(coeffs, dtype=x.dtype))
        return _jit("function", fn)(x, x_dot)

    @implements("ad.jvp", native=("jax.jvp", "jax.jit", "jax.nn.log_softmax"),
                params={**_JVP, **_LOG_SOFTMAX})
    def mlp_jvp(self, *args: Any) -> Any:
        return _jit("derivative", "jvp")(*args)

    @implements("ad.vjp", native=("jax.vjp", "jax.jit", "jax.nn.log_softmax"),
                params={**_JIT, **_LOG_SOFTMAX, "has_aux": "fixed: False",
                        "reduce_axes": "fixed: () (default, deprecated)"})
    def mlp_vjp(self, *args: Any) -> Any:
        return _jit("derivative", "vjp")(*args)

    @implements("ad.hessian/logsumexp", native=("jax.hessian", "jax.jit", "jax.nn.logsumexp"),
                params={**_HESSIAN, "axis": "fixed: None, over the one vector",
                        "b": "fixed: None, unweighted", "keepdims": "fixed: False",
                        "return_sign": "fixed: False", "where": "fixed: None"})
    def hessian_logsumexp(self, x: Any, A: Any) -> Any:
        return _jit("derivative", "logsumexp")(x, A)

    @implements("ad.hessian/rosenbrock", native=("jax.hessian", "jax.jit"), params=_HESSIAN)
    def hessian_rosenbrock(self, x: Any, *, a: float, b: float) -> Any:
        # a and b are traced weakly-typed scalars: they take x's dtype, like Python floats.
        return _jit("derivative", "rosenbrock")(x, a, b)
