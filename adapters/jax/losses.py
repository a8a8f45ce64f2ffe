"""JAX mappings of the ``loss`` family.

JAX core has no loss functions (they live in optax, which is not a dependency of this
project), so every loss is composed from jax.nn / jax.numpy primitives, the way optax writes
them.

Each composition is jitted as one function, the way jax.nn defines its own composite
functions (jax.nn.log_softmax, softplus... are jax.jit-decorated), and the way JAX users run
a loss: eagerly, every primitive is compiled on its own for every shape, dtype and derivative
mode, which made this family's run about 1.5 times slower. The derivatives go through the
jitted function (jax.vjp and jax.jvp of a jit are jitted too). Under jit XLA may fuse the
elementwise steps and keep float16 / bfloat16 intermediates in float32.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.jax._lazy import jax, jnp

_JITTED: dict[Callable[..., Any], Callable[..., Any]] = {}


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn under jax.jit, its keyword hyper-parameters static (built on first use: importing
    this module must not import jax)."""
    if fn not in _JITTED:
        static = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind is p.KEYWORD_ONLY]
        _JITTED[fn] = jax.jit(fn, static_argnames=static)
    return _JITTED[fn]


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


def _mse(y: Any, t: Any, *, reduction: str) -> Any:
    d = y - t
    return _reduce(d * d, reduction)


def _mse_decay(y: Any, t: Any, w: Any, *, reduction: str, weight_decay: float) -> Any:
    return _mse(y, t, reduction=reduction) + weight_decay * jnp.sum(w * w)


def _bce(p: Any, t: Any, *, reduction: str, from_logits: bool) -> Any:
    if from_logits:
        # tf.nn.sigmoid_cross_entropy_with_logits' stable form, branches chosen by where
        # (jnp.abs and relu would give a one-sided derivative at 0). optax's form,
        # -t log_sigmoid(z) - (1 - t) log_sigmoid(-z), is not used: its target derivative
        # log_sigmoid(-z) - log_sigmoid(z) = -z cancels to an absolute error near z = 0.
        nonneg = p >= 0
        loss = jnp.where(nonneg, p, 0) - p * t + jnp.log1p(jnp.exp(jnp.where(nonneg, -p, p)))
    else:
        loss = -(t * jnp.log(p) + (1 - t) * jnp.log1p(-p))
    return _reduce(loss, reduction)


def _ce(logits: Any, target: Any, *, reduction: str) -> Any:
    return _reduce(_per_sample_ce(logits, target, axis=1), reduction)


def _ce_options(logits: Any, target: Any, weight: Any, label_smoothing: Any, *,
                reduction: str, ignore_index: int | None = None) -> Any:
    """torch's cross_entropy options (docs/conventions/losses.md §CE options): loss_n =
    -sum_c w_c q_nc log_softmax(z_n)_c, q = (1 - s) t + s / C (optax.smooth_labels' form);
    an ignored sample contributes 0 and the mean divides by the kept targets' weights (index
    targets) or by N (probability targets). optax's losses have no class weights and no
    ignore_index (its ``where`` masks classes, not samples). label_smoothing is traced (a
    positional argument of the jit): one compile for every drawn value."""
    n, c = logits.shape
    logp = jax.nn.log_softmax(logits, axis=1)
    w = jnp.ones((c,), logits.dtype) if weight is None else weight
    if jnp.issubdtype(target.dtype, jnp.integer):
        valid = (jnp.ones((n,), bool) if ignore_index is None
                 else target != ignore_index)
        safe = jnp.where(valid, target, 0)
        t = jax.nn.one_hot(safe, c, dtype=logits.dtype)
        kept = jnp.where(valid, w[safe], 0)
    else:
        valid, t, kept = jnp.ones((n,), bool), target, jnp.ones((n,), logits.dtype)
    q = (1 - label_smoothing) * t + label_smoothing / c
    loss = jnp.where(valid, -jnp.sum(w * q * logp, axis=1), 0)
    if reduction == "mean":
        return jnp.sum(loss) / jnp.sum(kept)
    return _reduce(loss, reduction)


def _sequence_ce(logits: Any, target: Any, *, reduction: str) -> Any:
    per_sample = _per_sample_ce(logits, target, axis=2)  # (T, N)
    per_step = jnp.mean(per_sample, axis=1) if reduction == "mean" else jnp.sum(
        per_sample, axis=1)
    return jnp.sum(per_step)


class LossOps:
    @implements("loss.mse", composed=True)
    def mse(self, y: Any, t: Any, *, reduction: str) -> Any:
        return _jit(_mse)(y, t, reduction=reduction)

    @implements("loss.mse/weight_decay", composed=True)
    def mse_weight_decay(self, y: Any, t: Any, w: Any, *, reduction: str,
                         weight_decay: float) -> Any:
        return _jit(_mse_decay)(y, t, w, reduction=reduction, weight_decay=weight_decay)

    @implements("loss.binary_cross_entropy/probs", composed=True)
    @implements("loss.binary_cross_entropy/logits", composed=True)
    def binary_cross_entropy(self, p: Any, t: Any, *, reduction: str,
                             from_logits: bool) -> Any:
        return _jit(_bce)(p, t, reduction=reduction, from_logits=from_logits)

    @implements("loss.cross_entropy", composed=True)
    def cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        return _jit(_ce)(logits, target, reduction=reduction)

    @implements("loss.cross_entropy/index_options", composed=True)
    @implements("loss.cross_entropy/index_ignore", composed=True)
    @implements("loss.cross_entropy/probs_options", composed=True)
    @implements("loss.cross_entropy/probs_smoothing", composed=True)
    def cross_entropy_options(self, logits: Any, target: Any, weight: Any = None, *,
                              reduction: str, ignore_index: int | None = None,
                              label_smoothing: float = 0.0) -> Any:
        return _jit(_ce_options)(logits, target, weight, label_smoothing, reduction=reduction,
                                 ignore_index=ignore_index)

    @implements("loss.sequence_cross_entropy", composed=True)
    def sequence_cross_entropy(self, logits: Any, target: Any, *, reduction: str) -> Any:
        return _jit(_sequence_ce)(logits, target, reduction=reduction)
