"""JAX mappings of the ``reg`` family.

The l1 and l2 norms are jnp.linalg.norm; everything else is composed: sums of squares, group
sums with jax.ops.segment_sum, dropout from jax.random.bernoulli (JAX core has no dropout),
the soft threshold with jnp.where. Early stopping has no JAX (core) counterpart.

Compositions run under jax.jit (one compile per shape instead of one per primitive, as
eager dispatch does); hyper-parameters enter as traced scalars so that a new value does not
recompile. Group ids are read on the host first (they are never differentiated).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from adapters.base import implements
from adapters.jax._lazy import jax, jnp


@functools.cache
def _jit(fn: Callable[..., Any], static: tuple[str, ...] = ()) -> Callable[..., Any]:
    return jax.jit(fn, static_argnames=static)


def _group_slots(groups: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(flat positions in a group, their group's slot 0..G-1, G) for ids >= 0."""
    ids = np.asarray(groups).reshape(-1)
    members = np.flatnonzero(ids >= 0)
    present, slot = np.unique(ids[members], return_inverse=True)
    return members, slot, int(present.size)


def _group_value(w: Any, members: Any, slot: Any, count: int, form: str) -> Any:
    sq = jax.ops.segment_sum((w * w).reshape(-1)[members], slot, num_segments=count)
    return jnp.sum(sq if form == "squares" else jnp.sqrt(sq))


_PENALTIES: dict[str, Callable[[Any], Any]] = {
    "l1": lambda w: jnp.linalg.norm(w.reshape(-1), ord=1),
    "l2": lambda w: jnp.linalg.norm(w.reshape(-1)),
    "l2_squared": lambda w: jnp.sum(w * w),
}


def _total_loss(data_loss: Any, w1: Any, w2: Any, lambda_r: Any, lambda_g: Any,
                slots: tuple[Any, ...], *, penalty: str, form: str,
                counts: tuple[int | None, ...]) -> Any:
    flat = jnp.concatenate([w1.reshape(-1), w2.reshape(-1)])
    loss = data_loss + lambda_r * _PENALTIES[penalty](flat)
    terms = [_group_value(w, *s, c, form) for w, s, c in zip((w1, w2), slots, counts)
             if c is not None]
    if not terms:
        return loss
    return loss + lambda_g * (terms[0] if len(terms) == 1 else terms[0] + terms[1])


def _dropout(x: Any, key: Any, keep_prob: Any) -> Any:
    keep = jax.random.bernoulli(key, keep_prob, x.shape)
    return jnp.where(keep, x / keep_prob.astype(x.dtype), jnp.zeros_like(x))


def _soft_threshold(w: Any, t: Any) -> Any:
    return jnp.where(w > t, w - t, jnp.where(w < -t, w + t, jnp.zeros_like(w)))


def _prox_step(w: Any, grad: Any, lr: Any, t: Any) -> Any:
    return _soft_threshold(w - lr * grad, t)


_FLAT = {"axis": "fixed: None, the flattened vector", "keepdims": "fixed: False"}


class RegularizationOps:
    UNSUPPORTED = {
        "reg.early_stopping": "JAX core (and optax) has no early-stopping rule; Flax's "
                              "flax.training.early_stopping is not a dependency here",
    }

    @implements("reg.l1", native="jax.numpy.linalg.norm", params={
        "ord": "fixed: 1 (L1)", **_FLAT})
    def l1(self, w: Any) -> Any:
        return _PENALTIES["l1"](w)

    @implements("reg.l2", native="jax.numpy.linalg.norm", params={
        "ord": "fixed: None, the 2-norm of the vector", **_FLAT})
    def l2(self, w: Any) -> Any:
        return _PENALTIES["l2"](w)

    @implements("reg.l2_squared", composed=True)
    def l2_squared(self, w: Any) -> Any:
        return _PENALTIES["l2_squared"](w)

    @implements("reg.group", composed=True)
    def group(self, w: Any, groups: Any, *, form: str) -> Any:
        members, slot, count = _group_slots(groups)
        return _jit(_group_value, ("count", "form"))(w, members, slot, count=count, form=form)

    @implements("reg.total_loss", composed=True)
    def total_loss(self, data_loss: Any, w1: Any, w2: Any, g1: Any, g2: Any, *,
                   lambda_r: float, lambda_g: float, penalty: str, group_form: str) -> Any:
        found = [None if g is None else _group_slots(g) for g in (g1, g2)]
        slots = tuple(None if f is None else f[:2] for f in found)
        counts = tuple(None if f is None else f[2] for f in found)
        dtype = data_loss.dtype
        return _jit(_total_loss, ("penalty", "form", "counts"))(
            data_loss, w1, w2, jnp.asarray(lambda_r, dtype), jnp.asarray(lambda_g, dtype),
            slots, penalty=penalty, form=group_form, counts=counts)

    @implements("reg.dropout", composed=True, native="jax.random.bernoulli", params={
        "p": "drawn: from p (the keep probability 1 - p)", "shape": "fixed: x's shape",
        "mode": "fixed: 'low' (default); 'high' (more bits, for p < ~1e-7 in float32) is not "
        "covered", "out_sharding": "fixed: None, one device"})
    def dropout(self, x: Any, *, p: float) -> Any:
        return _jit(_dropout)(x, self.next_key(), jnp.asarray(1.0 - p))

    @implements("reg.prox_l1", composed=True)
    def prox_l1(self, w: Any, *, lam: float) -> Any:
        return _jit(_soft_threshold)(w, jnp.asarray(lam, w.dtype))

    @implements("reg.prox_l1/step", composed=True)
    def prox_gradient_step(self, w: Any, grad: Any, *, lr: float, lam: float) -> Any:
        return _jit(_prox_step)(w, grad, jnp.asarray(lr, w.dtype), jnp.asarray(lr * lam, w.dtype))
