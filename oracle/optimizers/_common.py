"""What every optimizer of the family shares: the unrolled trajectory and input checks.

Each optimizer is a pure step ``(params, grad, state, *, hyper) -> (params, state)``; the
trajectory function of a catalog id runs K of them on a gradient sequence (K, *params.shape)
(or on a test function, ``objectives.py``) and stacks the parameters and every state tensor
after each step along a new axis 0, which is what the conformance ``state`` mode compares.

Arithmetic happens in the compute dtype (``_canon``), hyper-parameters included: 1 - beta,
beta^t and lr / (1 - beta^t) are computed in the tested dtype by the naive run exactly as a
kernel that keeps them in the parameter dtype would (Keras does; torch keeps them in Python
floats, which is more exact, never less). Specs draw hyper-parameters that every tested
dtype represents exactly, so the constants themselves are never a rounding difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from oracle import _canon


def s(value: float) -> Any:
    """A hyper-parameter as a 0-d array of the compute dtype (the naive run stays in it)."""
    return _canon.scalar(value)


def check_sequence(params: Any, grads: Any) -> tuple[Any, Any]:
    """params (*S) and grads (K, *S) in the compute dtype, K >= 1."""
    params = _canon.asarray(params)
    grads = _canon.asarray(grads)
    if grads.ndim != params.ndim + 1 or grads.shape[1:] != params.shape or grads.shape[0] < 1:
        raise ValueError(f"grads must be (K, *params.shape) with K >= 1, got {grads.shape} "
                         f"for params {params.shape}")
    return params, grads


def unroll(step: Callable[..., tuple[Any, Any]], params: Any, grads: Any, state: Any,
           keep: Sequence[str], out: Callable[..., Any], **hyper: Any) -> Any:
    """K steps of ``step`` over grads (K, *S); ``out(params=(K, *S), **{field: (K, ...)})``
    with the state fields named in ``keep`` stacked by step."""
    rows: list[tuple[Any, ...]] = []
    for k in range(grads.shape[0]):
        params, state = step(params, grads[k], state, **hyper)
        rows.append((params, *[getattr(state, f) for f in keep]))
    cols = [np.stack(col) for col in zip(*rows)]
    return out(cols[0], *cols[1:])


def step_counts(k: int) -> np.ndarray:
    """1, 2, ..., k (the step counter after each step), exact in every dtype up to 2048."""
    return np.arange(1, k + 1).astype(_canon.current_dtype())


def choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")
    return value
