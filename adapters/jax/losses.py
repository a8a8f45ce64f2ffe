"""JAX mappings of the ``loss`` family and of ``nn.dense``.

JAX core has no loss functions (they live in optax, which is not a dependency of this
project), so every loss is composed from jax.nn / jax.numpy primitives, the way optax writes
them. There is no dense op either (flax.linen.Dense is jnp.dot plus an add), so nn.dense is
composed from jnp.matmul, JAX's matrix-multiply kernel.
"""

from __future__ import annotations

from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp

_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: jax.nn.relu(z),
    "sigmoid": lambda z: jax.nn.sigmoid(z),
    "tanh": lambda z: jnp.tanh(z),
}


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return jnp.mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


def _per_sample_ce(logits: Any, target: Any, axis: int) -> Any:
    logp = jax.nn.log_softmax(logits, axis=axis)
    if jnp.issubdtype(target.dtype, jnp.integer):
        picked = jnp.take_along_axis(logp, jnp.expand_dims(target, axis), axis=axis)
        return -jnp.squeeze(picked, axis)
    return -jnp.sum(target * logp, axis=axis)


class LossOps:
    @implements("loss.mse", composed=True)
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        d = y - t
        return _reduce(d * d, reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        return self.mse(y, t, reduction=reduction) + weight_decay * jnp.sum(w * w)

    @implements("loss.binary_cross_entropy/probs", composed=True)
    @implements("loss.binary_cross_entropy/logits", composed=True)
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        if from_logits:
            # optax.sigmoid_binary_cross_entropy's form: log_sigmoid on both sides, no
            # cancellation for large |z|.
            loss = -t * jax.nn.log_sigmoid(p) - (1 - t) * jax.nn.log_sigmoid(-p)
        else:
            loss = -(t * jnp.log(p) + (1 - t) * jnp.log1p(-p))
        return _reduce(loss, reduction)

    @implements("loss.cross_entropy", composed=True)
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        return _reduce(_per_sample_ce(logits, target, axis=1), reduction)

    @implements("loss.sequence_cross_entropy", composed=True)
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        per_sample = _per_sample_ce(logits, target, axis=2)  # (T, N)
        per_step = jnp.mean(per_sample, axis=1) if reduction == "mean" else jnp.sum(
            per_sample, axis=1)
        return jnp.sum(per_step)

    @implements("nn.dense", composed=True)
    def dense(self, x: Any, w: Any, b: Any = None, *, activation: str) -> Any:
        z = jnp.matmul(x, w.T)
        if b is not None:
            z = z + b
        return _ACTIVATIONS[activation](z)
