"""The JAX adapter: x64 on, explicit device placement, jax.vjp and jax.jvp.

Values run eagerly (the path most users call); reverse and forward mode run under jax.jit
with float hyper-parameters traced (``_run``: one compile per shape from the spec menus,
falling back to the floats compiled in, and to eager only for a mapping that cannot be
traced). Every compile, eager primitives included (50-90 ms each on this 2-core machine,
most of a run's time), goes to JAX's persistent compilation cache: a second run over the
same shape menus reads them back (measured: 32-40 s user against 183 s with the cache off,
``graph.gcn*,attn.scaled_dot_product`` at 5 examples). ``KERNEL_ORACLE_JAX_CACHE`` names
another folder, or ``off``. The cache key covers the HLO, the compile options and the jaxlib
version, so a cached executable is the one a fresh compile would produce. ``release`` drops
the in-memory executables after each test, so a long run's memory maps stay bounded.
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
        if self.threads is not None:
            _xla_cpu_threads(self.threads)
        # Without x64, float64 inputs silently become float32 (divergences.md §0.1).
        jax.config.update("jax_enable_x64", True)
        _persistent_cache()
        _listen_to_compiles()
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
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
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

    # --- checks under jax.jit ---------------------------------------------------------------
    # Eager JAX compiles every primitive per shape and dtype (~130 ms each here); a check
    # compiles once per (op, mode, dtype, static hyper-parameters, shape) instead. The
    # forward check stays eager, the path users take when they call a function directly;
    # vjp and jvp run jitted, as training code runs them (README: "Which form each mode
    # runs").
    JIT_MODES = ("vjp", "jvp")

    def compile_seconds(self) -> float:
        return _COMPILE["seconds"]

    def run_forward(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                    dtype: str) -> list[np.ndarray]:
        def build(fn: Callable[..., Any], static: dict[str, Any]) -> Callable[..., Any]:
            return lambda dyn, a, extra: tuple(outputs_list(fn(*a, **static, **dyn)))

        return self._run("forward", op, args, kwargs, dtype, (), build, ())

    def run_vjp(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                wrt: Sequence[int], cotangents: Sequence[Any], dtype: str) -> list[np.ndarray]:
        def build(fn: Callable[..., Any], static: dict[str, Any]) -> Callable[..., Any]:
            def run(dyn: dict[str, Any], a: list[Any], cots: list[Any]) -> Any:
                return self.vjp(lambda *b: fn(*b, **static, **dyn), a, wrt, cots)[1]
            return run

        return self._run("vjp", op, args, kwargs, dtype, tuple(wrt), build, cotangents)

    def run_jvp(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                wrt: Sequence[int], tangents: Sequence[Any], dtype: str) -> list[np.ndarray]:
        def build(fn: Callable[..., Any], static: dict[str, Any]) -> Callable[..., Any]:
            def run(dyn: dict[str, Any], a: list[Any], tans: list[Any]) -> Any:
                return self.jvp(lambda *b: fn(*b, **static, **dyn), a, wrt, tans)[1]
            return run

        return self._run("jvp", op, args, kwargs, dtype, tuple(wrt), build, tangents)

    def _run(self, mode: str, op: str, args: Sequence[Any], kwargs: dict[str, Any], dtype: str,
             wrt: tuple[int, ...], build: Callable[..., Callable[..., Any]],
             extra: Sequence[Any]) -> list[np.ndarray]:
        """``build(fn, static)`` gives run(dynamic kwargs, native args, native extra); it is
        jitted with the float hyper-parameters traced, else with them static, else run
        eagerly when the mapping cannot be traced at all."""
        fn = self.op(op)
        natives, extras = self._natives(args, dtype), self._natives(extra, dtype)
        static, dynamic = _split(kwargs)
        cache = self.__dict__.setdefault("_jitted", {})
        try:
            key = (mode, op, wrt, _frozen(static), tuple(sorted(dynamic)),
                   tuple(a is None for a in natives), tuple(e is None for e in extras))
        except TypeError:
            key = None  # an unhashable hyper-parameter: this call runs eagerly
        plan = cache.get(key, "dynamic") if mode in self.JIT_MODES and key else "eager"
        while True:
            if plan == "eager":
                self.last_path = "eager"
                out = build(fn, {**static, **dynamic})({}, natives, extras)
                break
            try:
                if plan == "dynamic":
                    if ("fn", *key) not in cache:
                        cache["fn", *key] = jax.jit(build(fn, static))
                    out = cache["fn", *key](dynamic, natives, extras)
                else:  # the float hyper-parameters' values are part of the compiled function
                    jitted = jax.jit(build(fn, {**static, **dynamic}))
                    out = jitted({}, natives, extras)
                self.last_path = "jit" if plan == "dynamic" else "jit (floats static)"
                break
            except Exception as err:  # noqa: BLE001
                # With the floats traced, not only jax.errors' tracer errors: a mapping may
                # hash a float (a cache key) or hit a primitive that cannot linearize with
                # traced parameters (lax.reduce_window in norm.lrn); the next plan compiles
                # them in. Only a mapping that cannot be traced at all runs eagerly: a
                # compiled function the framework rejects (XLA:CPU refusing float16
                # dot_general with F16_F16_F32 precision in jax.nn.dot_product_attention)
                # is the framework's failure under jit, and surfaces.
                if plan == "static" and not isinstance(err, _untraceable()):
                    raise
                plan = cache[key] = "static" if plan == "dynamic" else "eager"
        return [self.to_numpy(o) for o in outputs_list(out)]

    def release(self) -> None:
        # The next test has another dtype or spec: nothing here is reused, and each live
        # executable holds memory maps. Recompiles come back from the persistent cache.
        self.__dict__.pop("_jitted", None)
        jax.clear_caches()

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


# Tracing a mapping fails with one of these when it uses a traced value as a Python one
# (an ``if`` on a float hyper-parameter, ``int()`` of an array): such a mapping runs with its
# float hyper-parameters static, or, failing that, eagerly.
def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(static, dynamic) keyword hyper-parameters: floats are traced (one compile serves
    every value hypothesis draws), everything else is part of the compiled function."""
    dynamic = {k: v for k, v in kwargs.items()
               if isinstance(v, (float, np.floating)) and not isinstance(v, bool)}
    return {k: v for k, v in kwargs.items() if k not in dynamic}, dynamic


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a static hyper-parameter (lists and dicts included)."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    hash(value)
    return value


# Compilation seconds JAX reports (tracing, lowering, XLA compile or cache retrieval), for
# every adapter in the process: a listener cannot be removed, so it is registered once.
_COMPILE = {"seconds": 0.0, "listening": False}
_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                   "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")


def _listen_to_compiles() -> None:
    if _COMPILE["listening"]:
        return

    def on_event(event: str, duration: float, **_: Any) -> None:
        if event in _COMPILE_EVENTS:
            _COMPILE["seconds"] += duration

    jax.monitoring.register_event_duration_secs_listener(on_event)
    _COMPILE["listening"] = True


def _xla_cpu_threads(n: int) -> None:
    """XLA's CPU client reads its thread flags once, when JAX's backend starts: set them
    before that (a backend already started keeps its threads; the fingerprint shows them)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        flags += f" --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={n}"
    os.environ["XLA_FLAGS"] = flags.strip()


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


def _untraceable() -> tuple[type[Exception], ...]:
    """The errors of a mapping that needs concrete values (Python control flow on an array,
    a conversion to NumPy): it can only run eagerly."""
    e = jax.errors
    return (e.ConcretizationTypeError, e.TracerArrayConversionError,
            e.TracerIntegerConversionError, e.TracerBoolConversionError,
            e.NonConcreteBooleanIndexError, e.UnexpectedTracerError)
