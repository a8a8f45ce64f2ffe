"""TensorFlow mappings of the ``ad`` family: tf.autodiff.ForwardAccumulator (forward mode,
built by transposing each op's registered gradient), GradientTape (reverse mode) and nested
tapes (tape.jacobian of a gradient) for the Hessian, on tf.math / tf.nn ops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import tf
from adapters.tensorflow._params import MATMUL, NAME

# Catalog op name -> tf.math function name.
_ARITH = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "pow": "pow",
          "maximum": "maximum", "minimum": "minimum", "neg": "negative",
          "reciprocal": "reciprocal"}
_FUNCTIONS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tanh": "tanh",
              "sigmoid": "sigmoid", "sqrt": "sqrt", "abs": "abs"}


def _function(fn: str, coeffs: Sequence[float] | None) -> Callable[[Any], Any]:
    if fn == "polynomial":
        return lambda x: _horner(x, coeffs or ())
    if fn == "relu":
        return tf.nn.relu
    if fn in ("max", "min"):  # ties: the gradient (and so the tangent) is split evenly
        return lambda x: getattr(tf.math, f"reduce_{fn}")(x, axis=-1)
    return getattr(tf.math, _FUNCTIONS[fn])


def _horner(x: Any, coeffs: Sequence[float]) -> Any:
    r = tf.fill(tf.shape(x), tf.constant(coeffs[-1], dtype=x.dtype))
    for c in reversed(coeffs[:-1]):
        r = r * x + c
    return r


def _forward(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
             ) -> tuple[Any, Any]:
    """(f(*primals), J tangents) by ForwardAccumulator; a constant output has tangent 0."""
    with tf.autodiff.ForwardAccumulator(primals=list(primals), tangents=list(tangents)) as acc:
        out = f(*primals)
    return out, acc.jvp(out, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def _mlp_loss(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any) -> Any:
    h = tf.math.tanh(tf.linalg.matmul(x, w1, transpose_b=True) + b1)
    z = tf.linalg.matmul(h, w2, transpose_b=True) + b2
    return -tf.math.reduce_sum(t * tf.nn.log_softmax(z, axis=1), axis=1)


def _hessian(f: Callable[[Any], Any], x: Any) -> Any:
    """tape.jacobian of the tape gradient: reverse over reverse. Row by row
    (experimental_use_pfor=False): the same gradient ops as the vectorized pfor path, which
    in eager mode converts the gradient graph again at every call (~0.5 s a call)."""
    with tf.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
    return outer.jacobian(g, x, experimental_use_pfor=False)


_FWD = ("tf.autodiff.ForwardAccumulator", "tf.autodiff.ForwardAccumulator.jvp")
_JVP = {**NAME, "unconnected_gradients": "fixed: ZERO, a constant output's tangent is 0 "
        "(the oracle's)"}
_MLP = ("tf.linalg.matmul", "tf.nn.log_softmax")
_MLP_PARAMS = {**MATMUL, "axis": "fixed: 1, over the classes"}
_HESSIAN = ("tf.GradientTape", "tf.GradientTape.gradient", "tf.GradientTape.jacobian")
_HESSIAN_PARAMS = {
    "persistent": "fixed: True on the outer tape (its jacobian after the inner gradient), "
    "False on the inner", "watch_accessed_variables": "fixed: True (default); x is watched",
    "output_gradients": "fixed: None, the scalar's gradient",
    "unconnected_gradients": "fixed: NONE (default); every input is connected",
    "parallel_iterations": "fixed: None (default)",
    "experimental_use_pfor": "fixed: False, row by row (the pfor path converts the gradient "
    "graph again at every eager call); the vectorized path is not covered",
    **NAME, "axis": "fixed: None, all elements", "keepdims": "fixed: False"}


class AutodiffOps:
    UNSUPPORTED = {
        "ad.numeric_diff": "TensorFlow has no finite-difference op for a direction: "
                           "tf.test.compute_gradient (a test utility) returns a central-"
                           "difference Jacobian along the coordinate axes only, with the "
                           "steps and the quotient taken in NumPy",
    }

    @implements("ad.dual_arith", native=(*_FWD, "tf.math.add"), params=_JVP)
    def dual_arith(self, x: Any, x_dot: Any, y: Any = None, y_dot: Any = None, *,
                   op: str) -> Any:
        f = getattr(tf.math, _ARITH[op])
        if y is None:
            return _forward(f, [x], [x_dot])
        return _forward(f, [x, y], [x_dot, y_dot])

    @implements("ad.dual_functions", native=(*_FWD, "tf.math.exp", "tf.math.reduce_max"),
                params={**_JVP, "axis": "fixed: -1 (max, min over the last axis)",
                        "keepdims": "fixed: False"})
    def dual_functions(self, x: Any, x_dot: Any, *, fn: str,
                       coeffs: Sequence[float] | None = None) -> Any:
        return _forward(_function(fn, coeffs), [x], [x_dot])

    @implements("ad.jvp", native=(*_FWD, *_MLP), params={**_JVP, **_MLP_PARAMS})
    def mlp_jvp(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, *tangents: Any
                ) -> Any:
        return _forward(lambda *p: _mlp_loss(*p, t), [x, w1, b1, w2, b2], tangents)

    @implements("ad.vjp", native=("tf.GradientTape", "tf.GradientTape.gradient", *_MLP),
                params={**_MLP_PARAMS, "persistent": "fixed: False, one gradient",
                        "watch_accessed_variables": "fixed: True (default); the inputs "
                        "are watched", "output_gradients": "fixed: the drawn cotangent g",
                        "unconnected_gradients": "fixed: NONE (default); every input is "
                        "connected"})
    def mlp_vjp(self, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, t: Any, g: Any) -> Any:
        params = [x, w1, b1, w2, b2]
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = _mlp_loss(*params, t)
        return (loss, *tape.gradient(loss, params, output_gradients=g))

    @implements("ad.hessian/logsumexp", native=(*_HESSIAN, "tf.linalg.matvec",
                                                "tf.math.reduce_logsumexp"),
                params={**_HESSIAN_PARAMS, "transpose_a": "fixed: False, A v",
                        "adjoint_a": "fixed: False", "a_is_sparse": "fixed: False",
                        "b_is_sparse": "fixed: False"})
    def hessian_logsumexp(self, x: Any, A: Any) -> Any:
        def f(v: Any) -> Any:
            z = tf.linalg.matvec(A, v)
            return tf.math.reduce_logsumexp(z) + tf.math.reduce_sum(v * v) / 2

        return _hessian(f, x)

    @implements("ad.hessian/rosenbrock", native=_HESSIAN,
                params={k: v for k, v in _HESSIAN_PARAMS.items()
                        if k not in ("name", "axis", "keepdims")})
    def hessian_rosenbrock(self, x: Any, *, a: float, b: float) -> Any:
        def f(v: Any) -> Any:
            head, tail = v[:-1], v[1:]
            return tf.math.reduce_sum(b * (tail - head * head) ** 2 + (a - head) ** 2)

        return _hessian(f, x)
