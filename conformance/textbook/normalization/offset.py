"""Bounds for normalization at large offsets (the ``/offset`` variants: |mean| up to 1e4 std).

There x - mean is a difference of two numbers ~|mean| apart from a result ~std: every kernel
rounds it (or folds it, x a + (beta - mean a), or sums the mean in its own order) to an
absolute error of a few eps (|x| + |mean|), i.e. eps |mean| / std relative to the result,
and which rounding comes out depends on the kernel's summation order (torch, XLA and Eigen
all differ, by up to 100x the one sample of that rounding the naive evaluation gives). So
the outputs are ``Summed``: each keeps the base textbook's value (the naive formula in the
dtype) and carries the magnitude of its terms, computed by the same formula on absolute
values with x - mean's magnitude |x| + |mean| and every difference made a sum. The bound's
floor scales with that, as the rule does for any sum; an error beyond it (a one-pass
variance E[x^2] - E[x]^2, off by eps (mean / std)^2) still fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.textbook import Summed
from conformance.textbook import absolute as _abs
from conformance.textbook import normalization as D

Arrays = list[Any]


class _Group:
    """Magnitudes of a group's centring, in float64: dm = |x| + |mean| (the terms of
    x - mean), r = 1 / sqrt(var + eps), xm = dm r (the terms of xhat)."""

    def __init__(self, x: Any, axes: tuple[int, ...], eps: float,
                 mean: Any = None, var: Any = None) -> None:
        x64 = np.asarray(x, np.float64)
        self.axes = axes
        mu = np.mean(x64, axis=axes, keepdims=True) if mean is None else mean
        v = np.mean((x64 - mu) ** 2, axis=axes, keepdims=True) if var is None else var
        self.n = x64.size // np.asarray(mu).size if mean is None else None
        self.dm = np.abs(x64) + np.abs(mu)
        self.r = 1.0 / np.sqrt(v + eps)
        self.xm = self.dm * self.r

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return np.mean(a, axis=self.axes, keepdims=True)

    def xhat_derivative(self, mode: str, s: Any) -> np.ndarray:
        """xhat's Jacobian applied to s, fused (r (s - mean s - xhat mean(s xhat))) and
        composed through d, var and r, on magnitudes; the larger of the two."""
        s = np.abs(np.asarray(s, np.float64))
        fused = self.r * (s + self._mean(s) + self.xm * self._mean(s * self.xm))
        if mode == "vjp":
            g_d = s * self.r + self.r ** 3 * np.sum(s * self.dm, axis=self.axes,
                                                   keepdims=True) * self.dm / self.n
            return np.maximum(fused, g_d + self._mean(g_d))
        u_d = s + self._mean(s)
        return np.maximum(fused, u_d * self.r + self.dm * self.r ** 3 * self._mean(self.dm * u_d))



def _affine(mode: str, g: _Group, gamma: Any, seeds: Arrays, pshape: tuple[int, ...]
            ) -> Arrays:
    """Magnitudes of y = gamma xhat + beta's derivatives ([dx, dgamma, dbeta] or [uy])."""
    ag = _abs(gamma).reshape(pshape)
    if mode == "vjp":
        gy = _abs(seeds[0])
        others = tuple(i for i in range(gy.ndim) if pshape[i] == 1)
        return [g.xhat_derivative("vjp", gy * ag), np.sum(gy * g.xm, axis=others),
                np.sum(gy, axis=others)]
    ux, ug, ub = seeds
    return [ag * g.xhat_derivative("jvp", ux) + _abs(ug).reshape(pshape) * g.xm +
            _abs(ub).reshape(pshape)]


def _summed(values: Arrays, mags: Arrays) -> Arrays:
    return [Summed(v, m) for v, m in zip(values, mags)]


def _pshape(x: Any, axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else x.shape[i] for i in range(x.ndim))


def layer_norm(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
               seeds: Arrays) -> Arrays:
    x, gamma, beta = args
    k = kwargs["normalized_ndim"]
    axes = tuple(range(x.ndim - k, x.ndim))
    g = _Group(x, axes, kwargs["eps"])
    pshape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    if mode == "forward":
        value = np.asarray(outs[0])  # the oracle in the dtype (evaluate.textbook's outs)
        return [Summed(value, _abs(gamma).reshape(pshape) * g.xm + _abs(beta).reshape(pshape))]
    return _summed(D.ln(mode, args, kwargs, outs, seeds), _affine(mode, g, gamma, seeds, pshape))


def batch_norm_train(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
                     seeds: Arrays) -> Arrays:
    """y is Summed; the running statistics (blends of the batch's) keep the rule's scale."""
    x, gamma, beta = args[0], args[1], args[2]
    axes = (0, *range(2, x.ndim))
    g = _Group(x, axes, kwargs["eps"])
    pshape = _pshape(x, (0, *range(2, x.ndim)))
    if mode == "forward":
        y = Summed(np.asarray(outs[0]),
                   _abs(gamma).reshape(pshape) * g.xm + _abs(beta).reshape(pshape))
        return [y, *outs[1:]]
    base = D.bn(mode, args, kwargs, outs, seeds)
    if mode == "vjp":
        return _summed(base, _affine(mode, g, gamma, seeds, pshape))
    return [Summed(base[0], _affine(mode, g, gamma, seeds, pshape)[0]), *base[1:]]


def batch_norm_eval(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
                    seeds: Arrays) -> Arrays:
    """y = gamma (x - running_mean) r + beta, r = (running_var + eps)^-1/2: its derivatives
    are products, except the sums over the batch of d/dgamma and d/dbeta; the values are
    the formula in the dtype, x - running_mean's magnitude |x| + |running_mean|."""
    x, gamma, beta, rm, rv = args
    pshape = _pshape(x, (0, *range(2, x.ndim)))
    others = tuple(i for i in range(x.ndim) if pshape[i] == 1)
    g = _Group(x, others, kwargs["eps"], mean=_abs(rm).reshape(pshape),
               var=np.asarray(rv, np.float64).reshape(pshape))
    r = (rv.reshape(pshape) + np.asarray(kwargs["eps"], x.dtype)) ** np.asarray(-0.5, x.dtype)
    xhat = (x - rm.reshape(pshape)) * r
    if mode == "forward":
        return [Summed(np.asarray(outs[0]),
                       _abs(gamma).reshape(pshape) * g.xm + _abs(beta).reshape(pshape))]
    if mode == "vjp":
        gy = seeds[0]
        ag, agy = _abs(gamma).reshape(pshape), _abs(gy)
        return [Summed(gy * gamma.reshape(pshape) * r, agy * ag * g.r),
                Summed(np.sum(gy * xhat, axis=others), np.sum(agy * g.xm, axis=others)),
                Summed(np.sum(gy, axis=others), np.sum(agy, axis=others))]
    ux, ug, ub = seeds
    value = gamma.reshape(pshape) * r * ux + ug.reshape(pshape) * xhat + ub.reshape(pshape)
    return [Summed(value, _abs(gamma).reshape(pshape) * g.r * _abs(ux) +
                   _abs(ug).reshape(pshape) * g.xm + _abs(ub).reshape(pshape))]


def standardize(mode: str, args: Arrays, kwargs: dict[str, Any], outs: Arrays,
                seeds: Arrays) -> Arrays:
    x, axis = args[0], kwargs["axis"]
    axes = tuple(sorted({a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}))
    g = _Group(x, axes, kwargs["eps"])
    base = D.standardize(mode, args, kwargs, outs, seeds)
    if mode == "forward":
        return [Summed(base[0], g.xm)]
    return [Summed(base[0], g.xhat_derivative(mode, seeds[0]))]
