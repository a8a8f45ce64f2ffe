"""JAX mappings of the ``reg`` family.

The l1 and l2 norms are jnp.linalg.norm; everything else is composed: sums of squares, group
sums with jax.ops.segment_sum, dropout from jax.random.bernoulli (JAX core has no dropout),
the soft threshold with jnp.where. Early stopping has no JAX (core) counterpart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters.base import implements
from adapters.jax._lazy import jax, jnp


def _group_squares(w: Any, groups: Any) -> Any:
    """Sum of squares of each present group id >= 0 (one entry per distinct id). The ids are
    concrete (never differentiated), so they are read on the host."""
    ids = np.asarray(groups).reshape(-1)
    keep = ids >= 0
    present, slot = np.unique(ids[keep], return_inverse=True)
    sq = (w * w).reshape(-1)[np.flatnonzero(keep)]
    return jax.ops.segment_sum(sq, jnp.asarray(slot), num_segments=present.size)


class RegularizationOps:
    UNSUPPORTED = {
        "reg.early_stopping": "JAX core (and optax) has no early-stopping rule; Flax's "
                              "flax.training.early_stopping is not a dependency here",
    }

    @implements("reg.l1")
    def l1(self, w: Any) -> Any:
        return jnp.linalg.norm(w.reshape(-1), ord=1)

    @implements("reg.l2")
    def l2(self, w: Any) -> Any:
        return jnp.linalg.norm(w.reshape(-1))

    @implements("reg.l2_squared", composed=True)
    def l2_squared(self, w: Any) -> Any:
        return jnp.sum(w * w)

    @implements("reg.group", composed=True)
    def group(self, w: Any, groups: Any, *, form: str) -> Any:
        sq = _group_squares(w, groups)
        return jnp.sum(sq if form == "squares" else jnp.sqrt(sq))

    @implements("reg.total_loss", composed=True)
    def total_loss(self, data_loss: Any, w1: Any, w2: Any, g1: Any, g2: Any, *,
                   lambda_r: float, lambda_g: float, penalty: str, group_form: str) -> Any:
        flat = jnp.concatenate([w1.reshape(-1), w2.reshape(-1)])
        penalties = {"l1": self.l1, "l2": self.l2, "l2_squared": self.l2_squared}
        loss = data_loss + lambda_r * penalties[penalty](flat)
        terms = [self.group(w, g, form=group_form) for w, g in ((w1, g1), (w2, g2))
                 if g is not None]
        if not terms:
            return loss
        return loss + lambda_g * (terms[0] if len(terms) == 1 else terms[0] + terms[1])

    @implements("reg.dropout", composed=True)
    def dropout(self, x: Any, *, p: float) -> Any:
        keep = jax.random.bernoulli(self.next_key(), 1.0 - p, x.shape)
        return jnp.where(keep, x / jnp.asarray(1.0 - p, x.dtype), jnp.zeros_like(x))

    @implements("reg.prox_l1", composed=True)
    def prox_l1(self, w: Any, *, lam: float) -> Any:
        t = jnp.asarray(lam, w.dtype)
        return jnp.where(w > t, w - t, jnp.where(w < -t, w + t, jnp.zeros_like(w)))

    @implements("reg.prox_l1/step", composed=True)
    def prox_gradient_step(self, w: Any, grad: Any, *, lr: float, lam: float) -> Any:
        return self.prox_l1(w - jnp.asarray(lr, w.dtype) * grad, lam=lr * lam)
