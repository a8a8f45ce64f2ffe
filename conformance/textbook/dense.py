"""Textbook derivative formula of ``nn.dense``: the activation's derivative from the saved
output y, then the matrix products, in the tested dtype (registry.OpSpec.textbook).

Why it is needed: tanh' = 1 - y^2 and sigmoid' = y (1 - y) cancel where the activation
saturates, and the kernels (torch's tanh_backward, TF's TanhGrad) compute exactly that from
y, while the oracle's dual numbers differentiate tanh itself.

Signature: (mode, args, kwargs, outs, seeds) -> list, as in ``conformance.textbook.losses``.
"""

from __future__ import annotations

import numpy as np

# Activation derivatives from the saved output y (tanh' = 1 - y^2 cancels where |y| ~ 1).
_ACT_FROM_OUTPUT = {
    "identity": lambda y: np.ones_like(y),
    "relu": lambda y: (y > 0).astype(y.dtype),
    "sigmoid": lambda y: y * (1 - y),
    "tanh": lambda y: 1 - y * y,
}


def dense(mode: str, args: list, kwargs: dict, outs: list, seeds: list) -> list:
    """dz = g'(from y) * seed, then the matrix products (vjp: dx = alpha dz W,
    dW = alpha dz^T x, db = beta sum dz; jvp: g' * (alpha (ux W^T + x uW^T) + beta ub)), with
    the Gemm scales alpha, beta of nn.dense/gemm (1 otherwise)."""
    x, w, y = args[0], args[1], outs[0]
    alpha = np.asarray(kwargs.get("alpha", 1.0), dtype=y.dtype)
    beta = np.asarray(kwargs.get("beta", 1.0), dtype=y.dtype)
    d = _ACT_FROM_OUTPUT[kwargs["activation"]](y)
    if mode == "jvp":
        dz = np.matmul(seeds[0], w.T).astype(y.dtype) + np.matmul(x, seeds[1].T).astype(y.dtype)
        dz = dz if alpha == 1 else alpha * dz
        if len(seeds) > 2:
            dz = dz + (seeds[2] if beta == 1 else beta * seeds[2])
        return [d * dz]
    gz = seeds[0] * d
    flat_gz, flat_x = gz.reshape(-1, gz.shape[-1]), x.reshape(-1, x.shape[-1])
    grads = [np.matmul(gz, w).astype(y.dtype), np.matmul(flat_gz.T, flat_x).astype(y.dtype)]
    grads = grads if alpha == 1 else [(alpha * g).astype(y.dtype) for g in grads]
    if len(args) > 2 and args[2] is not None:
        db = flat_gz.sum(axis=0).astype(y.dtype)
        grads.append(db if beta == 1 else (beta * db).astype(y.dtype))
    return grads
