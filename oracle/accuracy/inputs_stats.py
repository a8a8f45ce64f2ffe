"""Input builders and condition scales of the norm, pool and reg families for the accuracy
harness (oracle/accuracy/cases.py assembles them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from oracle import pooling as pl
from oracle import regularization as rg
from oracle.accuracy.draw import Args, Draw, abs_args


# --- norm -------------------------------------------------------------------------------------
def _eps(d: Draw) -> float:
    return d.pick((1e-5, 1e-3, 1e-12))


def bn_train(d: Draw) -> Args:
    x = d.values(3, 2, 2)
    gamma, beta = (d.uniform(-2, 2, 2), d.uniform(-2, 2, 2)) if d.pick((0, 1)) else (None, None)
    return ((x, gamma, beta, d.uniform(-1, 1, 2), d.uniform(0.5, 2, 2)),
            {"eps": _eps(d), "momentum": d.pick((0.1, 0.01, 0.9)),
             "momentum_on": d.pick(("batch", "running")),
             "running_var_unbiased": d.pick((True, False))})


def _xhat(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    d = x - x.mean(axis=axes, keepdims=True)
    return d / np.sqrt((d * d).mean(axis=axes, keepdims=True) + eps)


def affine_terms(xhat: np.ndarray, gamma: Any, beta: Any) -> np.ndarray:
    # y = gamma xhat + beta: xhat carries a few eps of (|xhat| + 1) (its centring error is
    # relative to the group's spread), and the sum with beta may cancel.
    g = 1.0 if gamma is None else np.abs(gamma)
    b = 0.0 if beta is None else np.abs(beta)
    return g * (np.abs(xhat) + 1.0) + b


def bn_train_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                    outs: list[np.ndarray]) -> list[np.ndarray]:
    x, gamma, beta, old_mean, old_var = args
    axes = (0, 2)
    shape = (1, -1, 1)
    xhat = _xhat(x, axes, kwargs["eps"])
    g = None if gamma is None else gamma.reshape(shape)
    b = None if beta is None else beta.reshape(shape)
    m = kwargs["momentum"]
    keep, take = (1 - m, m) if kwargs["momentum_on"] == "batch" else (m, 1 - m)
    n = x.size // x.shape[1]
    var = x.var(axis=axes) * (n / (n - 1) if kwargs["running_var_unbiased"] else 1.0)
    return [affine_terms(xhat, g, b),
            abs(keep) * np.abs(old_mean) + abs(take) * np.abs(x).mean(axis=axes),
            abs(keep) * np.abs(old_var) + abs(take) * var]


def bn_eval(d: Draw) -> Args:
    x = d.values(3, 2, 2)
    mean = x.mean(axis=(0, 2)) + d.uniform(-1e-3, 1e-3, 2) * np.abs(x).mean()
    gamma, beta = (d.uniform(-2, 2, 2), d.uniform(-2, 2, 2)) if d.pick((0, 1)) else (None, None)
    return (x, gamma, beta, mean, d.uniform(0.5, 2, 2)), {"eps": _eps(d)}


def bn_eval_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                   outs: list[np.ndarray]) -> list[np.ndarray]:
    x, gamma, beta, mean, var = args
    shape = (1, -1, 1)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + kwargs["eps"])
    return [affine_terms(xhat, None if gamma is None else gamma.reshape(shape),
                          None if beta is None else beta.reshape(shape))]


def layer_norm(d: Draw) -> Args:
    x = d.values(2, 3, 3)
    ndim = d.pick((1, 2))
    trailing = x.shape[3 - ndim:]
    gamma, beta = ((d.uniform(-2, 2, *trailing), d.uniform(-2, 2, *trailing))
                   if d.pick((0, 1)) else (None, None))
    return (x, gamma, beta), {"normalized_ndim": ndim, "eps": _eps(d)}


def layer_norm_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                      outs: list[np.ndarray]) -> list[np.ndarray]:
    x, gamma, beta = args
    axes = tuple(range(3 - kwargs["normalized_ndim"], 3))
    return [affine_terms(_xhat(x, axes, kwargs["eps"]), gamma, beta)]


def standardize(d: Draw) -> Args:
    x, axis = d.values(4, 3), d.pick((0, 1, (0, 1)))
    eps = d.pick((0.0, 1e-5))
    if np.any(np.ptp(x, axis=axis) == 0):  # eps = 0 is only defined for non-constant groups
        eps = 1e-5
    return (x,), {"axis": axis, "eps": eps}


def standardize_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                       outs: list[np.ndarray]) -> list[np.ndarray]:
    axis = kwargs["axis"]
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return [affine_terms(_xhat(args[0], axes, kwargs["eps"]), None, None)]


def weight_norm(d: Draw) -> Args:
    axis = d.pick((0, 1, None))
    v = d.values(3, 4)
    g = d.uniform(-2, 2) if axis is None else d.uniform(-2, 2, v.shape[axis])
    return (v, np.asarray(g)), {"axis": axis}


def cosine(d: Draw) -> Args:
    return (d.values(2, 4), d.values(3, 4)), {}


def cosine_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                  outs: list[np.ndarray]) -> list[np.ndarray]:
    x, w = args
    nx = np.sqrt((x * x).sum(axis=1, keepdims=True))
    nw = np.sqrt((w * w).sum(axis=1, keepdims=True))
    return [np.abs(x) @ np.abs(w).T / (nx * nw.T)]


def lrn(d: Draw) -> Args:
    return ((d.values(1, 5, 2, 2),),
            {"size": d.pick((1, 2, 3, 4, 5)), "alpha": d.pick((1e-4, 0.1, 1.0)),
             "beta": d.pick((0.75, 0.5, 1.0)), "k": d.pick((1.0, 2.0)),
             "window": d.pick(("torch", "onnx"))})


# --- pool -------------------------------------------------------------------------------------
def pool2d(d: Draw, *, dilation: bool = True, ceil: bool = True) -> Args:
    kernel = d.pick((2, 3))
    kw: dict[str, Any] = {"kernel": kernel, "stride": d.pick((1, 2)),
                          "padding": d.pick((0, kernel // 2))}
    if dilation:
        kw["dilation"] = d.pick((1, 2)) if kw["padding"] == 0 else 1
    if ceil:
        kw["ceil_mode"] = d.pick((False, True))
    return (d.values(1, 2, 5, 5),), kw


def avg(d: Draw) -> Args:
    args, kw = pool2d(d, dilation=False)
    kw["count_include_pad"] = d.pick((True, False))
    return args, kw


def avg_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
               outs: list[np.ndarray]) -> list[np.ndarray]:
    return [abs_args(pl.avg_pool, args, kwargs)]


def l2(d: Draw) -> Args:
    args, kw = pool2d(d, dilation=False, ceil=False)
    kw["mean"] = d.pick((True, False))
    kw["count_include_pad"] = d.pick((True, False))
    return args, kw


def global_pool(d: Draw) -> Args:
    return (d.values(2, 2, 2, 3),), {"keepdims": d.pick((False, True))}


def global_avg_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                      outs: list[np.ndarray]) -> list[np.ndarray]:
    return [abs_args(pl.global_avg_pool, args, kwargs)]


def stochastic(d: Draw) -> Args:
    return (np.abs(d.values(1, 2, 4, 4)),), {"kernel": 2, "stride": d.pick((1, 2))}


def unpool(d: Draw) -> Args:
    values, indices = pl.max_pool_with_indices(d.values(1, 2, 4, 4), kernel=2)
    return (np.asarray(values), indices), {"output_size": (4, 4)}


def kmax(d: Draw) -> Args:
    x = d.values(3, 6)
    if d.pick((False, False, True)):
        x = d.rng.integers(0, 4, size=(3, 6)).astype(d.pick((np.uint8, np.int32, np.int64)))
    return (x,), {"k": d.pick((1, 3, 6)), "axis": d.pick((-1, 0)) if x.shape[0] >= 6 else -1}


# --- reg --------------------------------------------------------------------------------------
def weights(d: Draw) -> Args:
    if d.pick((True, False)):
        return ([d.values(2, 2), d.values(3,)],), {}
    return (d.values(2, 4),), {}


def group(d: Draw) -> Args:
    w = d.values(2, 4)
    return (w, rg.groups_along(w.shape, d.pick((0, 1)))), {"form": d.pick(("squares", "lasso"))}


def total(d: Draw) -> Args:
    w1, w2 = d.values(2, 2), d.values(3,)
    groups = ([rg.groups_along(w1.shape, 0), None] if d.pick((True, False)) else None)
    return ((np.asarray(d.uniform(0, 3)), [w1, w2]),
            {"lambda_r": d.pick((1e-4, 0.5)), "lambda_g": 0.0 if groups is None else 1e-3,
             "penalty": d.pick(("l1", "l2", "l2_squared")), "groups": groups,
             "group_form": d.pick(("squares", "lasso"))})


def total_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                 outs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.abs(np.asarray(outs[0]))]  # a sum of nonnegative terms: its own value


def dropout(d: Draw) -> Args:
    return ((d.values(3, 4), d.rng.integers(0, 2, size=(3, 4))),
            {"p": d.pick((0.1, 0.5, 0.75, 1 / 3))})


def prox(d: Draw) -> Args:
    w = d.values(3, 4)
    lam = float(np.median(np.abs(w))) * d.pick((0.5, 1.0, 1.5))
    return (w,), {"lam": lam}


def early(d: Draw) -> Args:
    return (list(d.values(10)),), {"patience": d.pick((1, 2, 3)), "mode": d.pick(("min", "max")),
                                    "min_delta": d.pick((0.0, 1e-3))}


