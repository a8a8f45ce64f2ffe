"""Forward mode on any oracle function: JVP, full Jacobian, and VJP through the Jacobian.

Catalog ids ``ad.jvp`` and ``ad.vjp`` (notes 001). Every result is exact up to the rounding of
the function's own arithmetic: dual numbers carry the derivative through each operation, no
step size is involved. Inputs are cast like ``_canon.asarray`` does (to the compute dtype),
so under ``_canon.compute_dtype(np.float32)`` the derivatives are computed in float32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from oracle import _canon
from oracle.autodiff.dual import Dual


def _seed(x: Any, tangent: Any) -> Dual:
    """A fresh depth-1 Dual: copies, so the function cannot alter the caller's arrays."""
    value = np.array(_canon.asarray(x), copy=True)
    tangent = np.asarray(tangent)
    if tangent.shape != value.shape:
        raise ValueError(f"tangent shape {tangent.shape} differs from its input's {value.shape}")
    return Dual(value, tangent.astype(value.dtype, copy=True))


def _zero_tangent(out: np.ndarray) -> np.ndarray:
    dt = out.dtype if out.dtype.kind not in "biu" else _canon.current_dtype()
    return np.zeros(out.shape, dtype=dt)


def jvp(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any] | None,
        tangents: Mapping[int, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(outputs, J u): one dual pass of ``fn(*args, **kwargs)``.

    ``tangents`` maps argument positions to tangent arrays (the direction u, one block per
    differentiated argument; every other argument is passed unchanged, i.e. held constant).
    Returns the primal outputs and their tangents as two lists in ``_canon.flatten_outputs``
    order; an output that does not depend on the seeded arguments gets a zero tangent (an
    integer output gets zeros in the compute dtype).
    """
    call_args = list(args)
    for i, t in tangents.items():
        call_args[i] = _seed(args[i], t)
    outs = _canon.flatten_outputs(fn(*call_args, **(kwargs or {})))
    primals: list[np.ndarray] = []
    out_tangents: list[np.ndarray] = []
    for o in outs:
        if isinstance(o, Dual):
            primals.append(np.asarray(o.value))
            out_tangents.append(np.asarray(o.tangent))
        else:
            primals.append(np.asarray(o))
            out_tangents.append(_zero_tangent(primals[-1]))
    return primals, out_tangents


def jacobian(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any] | None,
             wrt: Sequence[int]) -> list[list[np.ndarray]]:
    """J[o][k] = d out_o / d args[wrt[k]], of shape out_o.shape + args[wrt[k]].shape.

    One dual pass per differentiated input element (unit tangent e_j): column j of J is J e_j.
    """
    outs = [np.asarray(o) for o in _canon.flatten_outputs(fn(*args, **(kwargs or {})))]
    jac: list[list[np.ndarray]] = [[] for _ in outs]
    for i in wrt:
        x = _canon.asarray(args[i])
        columns: list[list[np.ndarray]] = [[] for _ in outs]
        for j in range(x.size):
            e = np.zeros(x.size, dtype=x.dtype)
            e[j] = 1
            _, tans = jvp(fn, args, kwargs, {i: e.reshape(x.shape)})
            for col, t in zip(columns, tans, strict=True):
                col.append(t)
        for o, out in enumerate(outs):
            if columns[o]:
                block = np.stack(columns[o], axis=-1).reshape(out.shape + x.shape)
            else:  # an empty input: a zero-size Jacobian block
                block = np.zeros(out.shape + x.shape, dtype=_zero_tangent(out).dtype)
            jac[o].append(block)
    return jac


def vjp(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any] | None,
        wrt: Sequence[int], cotangents: Sequence[Any]) -> list[np.ndarray]:
    """g_k = sum_o <v_o, J[o][k]> (contracting the output axes): the reverse-mode gradient.

    Computed from the full dual-number Jacobian (slow: one pass per input element, but exact).
    ``cotangents`` has one entry per output (``_canon.flatten_outputs`` order); None means a
    zero cotangent (an output that is not differentiated).
    """
    jac = jacobian(fn, args, kwargs, wrt)
    if len(cotangents) != len(jac):
        raise ValueError(f"{len(cotangents)} cotangents for {len(jac)} outputs")
    grads: list[np.ndarray] = []
    for k, i in enumerate(wrt):
        x = _canon.asarray(args[i])
        g = np.zeros(x.shape, dtype=x.dtype)
        for v, block in zip(cotangents, [jac[o][k] for o in range(len(jac))], strict=True):
            if v is None:
                continue
            v = np.asarray(v, dtype=block.dtype)
            if v.shape != block.shape[: v.ndim] or block.ndim != v.ndim + x.ndim:
                raise ValueError(f"cotangent shape {v.shape} does not match its output")
            g = g + np.tensordot(v, block, axes=v.ndim)
        grads.append(g)
    return grads
