"""Input builders and condition scales of the act, loss, nn, conv and block families for
the accuracy harness (oracle/accuracy/cases.py assembles them). Shapes are small: mpmath
evaluates every element exactly, and the stated bounds assume these sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from oracle import conv as cv
from oracle import dense as dn
from oracle.accuracy.draw import Args, Draw, Terms, abs_args


# --- act --------------------------------------------------------------------------------------
def elementwise(d: Draw) -> Args:
    return (d.values(4, 6),), {}


def leaky(d: Draw) -> Args:
    return (d.values(4, 6),), {"slope": d.pick((0.01, 0.2, 0.3))}


def softmax(d: Draw) -> Args:
    return (d.values(4, 6),), {"axis": d.pick((-1, 0))}


# --- loss -------------------------------------------------------------------------------------
def mse(d: Draw) -> Args:
    y, t = d.values(2, 4), d.values(2, 4)
    reduction = d.pick(("mean", "sum", "none"))
    if reduction != "none" and d.pick((False, True)):
        return (y, t, d.values(3,)), {"reduction": reduction, "weight_decay": 1e-3}
    return (y, t), {"reduction": reduction}


def probabilities(d: Draw, *shape: int) -> np.ndarray:
    """p in (0, 1): the class sets how close to 0 or 1 (the far tails of the logs)."""
    if d.cls == "tiny":
        return 10.0 ** d.uniform(-300, -10, *shape)
    if d.cls == "saturation":  # near 1: 1 - 2^-k
        return 1.0 - 2.0 ** -d.rng.integers(5, 53, size=shape).astype(np.float64)
    return d.uniform(1e-7, 1 - 1e-7, *shape)


def soft_targets(d: Draw, *shape: int) -> np.ndarray:
    kind = d.pick(("hard", "soft", "near_one"))
    if kind == "hard":
        return d.rng.integers(0, 2, size=shape).astype(np.float64)
    if kind == "near_one":
        return 1.0 - 2.0 ** -d.rng.integers(1, 53, size=shape).astype(np.float64)
    return d.uniform(0, 1, *shape)


def bce(d: Draw) -> Args:
    reduction = d.pick(("mean", "sum", "none"))
    t = soft_targets(d, 2, 4)
    if d.pick((True, False)):
        return (d.values(2, 4), t), {"reduction": reduction, "from_logits": True}
    return (probabilities(d, 2, 4), t), {"reduction": reduction, "from_logits": False}


def cross_entropy(d: Draw) -> Args:
    z = d.values(3, 5)
    reduction = d.pick(("mean", "sum", "none"))
    if d.pick((True, False)):
        # Half the rows target their largest logit: a small loss, log1p of the other terms.
        target = np.where(d.rng.integers(0, 2, size=3) == 1, np.argmax(z, axis=1),
                          d.rng.integers(0, 5, size=3))
        return (z, target), {"reduction": reduction}
    t = d.uniform(0, 1, 3, 5)
    return (z, t / t.sum(axis=1, keepdims=True)), {"reduction": reduction}


def sequence_ce(d: Draw) -> Args:
    z = d.values(2, 2, 4)
    target = np.where(d.rng.integers(0, 2, size=(2, 2)) == 1, np.argmax(z, axis=2),
                      d.rng.integers(0, 4, size=(2, 2)))
    return (z, target), {"reduction": d.pick(("mean", "sum"))}


# --- nn, conv, block --------------------------------------------------------------------------
def dense(d: Draw) -> Args:
    b = d.values(5,) if d.pick((True, False)) else None
    return ((d.values(3, 4), d.values(5, 4), b),
            {"activation": d.pick(("identity", "relu", "sigmoid", "tanh"))})


def dense_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                 outs: list[np.ndarray]) -> list[np.ndarray]:
    # |g(z + dz) - g(z)| <= |dz| for g in identity, relu, tanh, sigmoid (|g'| <= 1): the
    # pre-activation's sum |terms| bounds the propagated error; + |y| for g's own rounding.
    return [abs_args(dn.dense, args, {}) + np.abs(outs[0])]


def conv_case(d: Draw, rank: int) -> Args:
    spatial = {1: (6,), 2: (4, 4), 3: (3, 3, 3)}[rank]
    kernel = {1: (3,), 2: (2, 2), 3: (2, 2, 2)}[rank]
    groups = d.pick((1, 2))
    x = d.values(1, 2, *spatial)
    w = d.values(2, 2 // groups, *kernel)
    b = d.values(2,) if d.pick((True, False)) else None
    return (x, w, b), {"stride": d.pick((1, 2)), "padding": d.pick((0, 1, "same")),
                       "dilation": 1, "groups": groups}


def conv_terms(fn: Callable[..., Any]) -> Terms:
    def terms(args: tuple[Any, ...], kwargs: dict[str, Any],
              outs: list[np.ndarray]) -> list[np.ndarray]:
        return [abs_args(fn, args, kwargs)]
    return terms


def conv_t(d: Draw) -> Args:
    groups = d.pick((1, 2))
    b = d.values(groups,) if d.pick((True, False)) else None
    return ((d.values(1, 2, 3, 3), d.values(2, 1, 2, 2), b),
            {"stride": d.pick((1, 2)), "padding": d.pick((0, 1)), "groups": groups})


def depthwise(d: Draw) -> Args:
    b = d.values(4,) if d.pick((True, False)) else None
    return (d.values(1, 2, 4, 4), d.values(4, 1, 2, 2), b), {"padding": d.pick((0, 1))}


def edge(d: Draw) -> Args:
    return (d.values(5, 5),), {}


def edge_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                outs: list[np.ndarray]) -> list[np.ndarray]:
    image = np.abs(args[0])[None, None]
    return [np.asarray(cv.conv2d(image, np.abs(cv.EDGE_KERNEL)[None, None]))[0, 0]]


def residual(d: Draw) -> Args:
    shortcut = d.pick(("identity", "projection", "zero_pad"))
    c_out = 2 if shortcut == "identity" else 3
    stride = 1 if shortcut == "identity" else d.pick((1, 2))
    ws = d.values(c_out, 2, 1, 1) if shortcut == "projection" else None
    return ((d.values(1, 2, 3, 3), d.values(c_out, 2, 3, 3), d.values(c_out,),
             d.values(c_out, c_out, 3, 3), d.values(c_out,)),
            {"shortcut": shortcut, "ws": ws, "stride": stride})


def relu_chain_terms(fn: Callable[..., Any]) -> Terms:
    # ReLU and max pooling are 1-Lipschitz and monotone, and every layer here is
    # multilinear in (activations, weights), so the whole block run on |inputs| bounds
    # sum |terms| of every output through every layer (its error grows with the depth).
    def terms(args: tuple[Any, ...], kwargs: dict[str, Any],
              outs: list[np.ndarray]) -> list[np.ndarray]:
        kw = {k: (np.abs(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
        return [abs_args(fn, args, kw)]
    return terms


def inception(d: Draw) -> Args:
    c = 2
    shapes = [(1, c, 1, 1), (1,), (1, c, 1, 1), (1,), (1, 1, 3, 3), (1,),
              (1, c, 1, 1), (1,), (1, 1, 5, 5), (1,), (1, c, 1, 1), (1,)]
    return (d.values(1, c, 3, 3), *(d.values(*s) for s in shapes)), {}


def flatten_fc(d: Draw) -> Args:
    b = d.values(3,) if d.pick((True, False)) else None
    return (d.values(2, 2, 2, 2), d.values(3, 8), b), {}

