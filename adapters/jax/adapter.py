"""The JAX adapter: x64 on, explicit device placement, jax.vjp and jax.jvp.

Mappings run eagerly: ``jax.jit`` would recompile for every new shape hypothesis draws
(~130 ms each), and the eager path dispatches the same XLA kernels op by op. Eager JAX still
compiles each primitive once per shape and dtype (50-90 ms each on this 2-core machine, most
of a run's time), so compiled executables go to JAX's persistent compilation cache: a second
run over the same shape menus skips them (``KERNEL_ORACLE_JAX_CACHE`` names another folder,
or ``off``). The cache key covers the HLO, the compile options and the jaxlib version, so a
cached executable is the one a fresh compile would produce.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adapters.base import Adapter, AdapterError, outputs_list
from adapters.jax._lazy import jax, jnp
from conformance.vocabulary import numpy_dtype


class JaxCore(Adapter):
    name = "jax"
    framework = "jax"
    extra = "jax"
    compiles = True

    def setup(self) -> None:
        # Without x64, float64 inputs silently become float32 (divergences.md §0.1).
        jax.config.update("jax_enable_x64", True)
        _persistent_cache()
        if self.precision == "strict":
            jax.config.update("jax_default_matmul_precision", "highest")
        req = self.requested_device
        platform_name = {"cpu": "cpu", "gpu": "gpu", "cuda": "gpu"}.get(req.split(":")[0])
        if platform_name is None:
            raise AdapterError(f"unknown jax device {req!r} (cpu, gpu, gpu:N)")
        try:
            devices = jax.devices(platform_name)
        except RuntimeError as exc:
            raise AdapterError(f"device {req!r} requested but jax has none: {exc}") from exc
        index = int(req.split(":")[1]) if ":" in req else 0
        if index >= len(devices):
            raise AdapterError(f"device {req!r} requested but jax sees {len(devices)}")
        self.device = devices[index]

    def framework_version(self) -> str:
        return str(jax.__version__)

    def device_info(self) -> dict[str, Any]:
        d = self.device
        name = d.device_kind if d.platform != "cpu" else (platform.processor() or d.device_kind)
        return {"requested": self.requested_device, "actual": f"{d.platform}:{d.id}", "name": name}

    def precision_flags(self) -> dict[str, Any]:
        return {
            "jax_enable_x64": bool(jax.config.jax_enable_x64),
            "jax_default_matmul_precision": jax.config.jax_default_matmul_precision,
            "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        }

    def seed(self, seed: int) -> None:
        self._base_key, self._draws = jax.random.key(seed), 0

    def next_key(self) -> Any:
        # The state is a Python counter, not a split key stored on the adapter: a mapping
        # traced by jax.jit (speed runs) would leave a tracer behind in a stored key.
        if getattr(self, "_base_key", None) is None:
            with jax.ensure_compile_time_eval():  # a concrete key even when first met in a trace
                self.seed(0)
        self._draws += 1
        return jax.random.fold_in(self._base_key, self._draws)

    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return jax.jit(fn)

    def sync(self, out: Any) -> None:
        jax.block_until_ready(out)

    def bench_primitives(self) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        return jax.jit(lambda x: x * 2.0), jax.jit(jnp.matmul)

    def to_native(self, value: np.ndarray, dtype: str | None) -> Any:
        arr = np.asarray(value)
        if arr.dtype.kind == "f" or arr.dtype == numpy_dtype("bfloat16"):
            arr = arr.astype(numpy_dtype(dtype or "float64"))
        return jax.device_put(jnp.asarray(arr), self.device)

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(jax.device_get(value))

    def vjp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        cotangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        f = _partial(fn, args, wrt)
        out, pullback = jax.vjp(f, *[args[i] for i in wrt])
        outs = outputs_list(out)
        cts = [jnp.zeros_like(o) if c is None else c for o, c in zip(outs, cotangents)]
        grads = pullback(tuple(cts) if isinstance(out, (tuple, list)) else cts[0])
        return outs, list(grads)

    def jvp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        tangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        f = _partial(fn, args, wrt)
        out, tan = jax.jvp(f, tuple(args[i] for i in wrt), tuple(tangents))
        return outputs_list(out), outputs_list(tan)


def _persistent_cache() -> None:
    folder = os.environ.get("KERNEL_ORACLE_JAX_CACHE")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        folder = os.path.join(base, "kernel-oracle", "jax")
    if folder.lower() in ("", "off", "0", "none"):
        return
    jax.config.update("jax_compilation_cache_dir", folder)
    # Every executable, however small or quick to compile: the many tiny per-primitive
    # compiles are exactly the cost being saved.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def _partial(fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> Callable:
    """fn as a function of the differentiated positional arguments only."""

    def f(*diff: Any) -> Any:
        full = list(args)
        for i, v in zip(wrt, diff):
            full[i] = v
        out = fn(*full)
        return tuple(out) if isinstance(out, list) else out

    return f
