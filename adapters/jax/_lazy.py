"""Lazily imported JAX modules shared by the family mapping modules."""

from adapters.base import LazyModule

jax = LazyModule("jax", extra="jax")
jnp = LazyModule("jax.numpy", extra="jax")
lax = LazyModule("jax.lax", extra="jax")
