"""The TensorFlow adapter (tf.nn / tf.math kernels, Keras 3 layers where tf.nn has none).

Every native call runs inside ``tf.device`` of the requested device; GradientTape gives
reverse mode, and forward mode as the transpose of reverse mode (``TensorFlowCore.jvp``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adapters.base import Adapter, AdapterError, outputs_list
from adapters.tensorflow._lazy import tf
from conformance.vocabulary import numpy_dtype


class TensorFlowCore(Adapter):
    name = "tensorflow"
    framework = "tensorflow"
    extra = "tensorflow"
    compiles = True

    def setup(self) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        self._onednn_source = _decide_onednn(self.precision)
        req = self.requested_device
        kind, _, index = req.partition(":")
        kind = {"cpu": "CPU", "gpu": "GPU", "cuda": "GPU"}.get(kind)
        if kind is None:
            raise AdapterError(f"unknown tensorflow device {req!r} (cpu, gpu, gpu:N)")
        if self.threads is not None:  # before TensorFlow's runtime starts (the next call)
            tf.config.threading.set_intra_op_parallelism_threads(self.threads)
            tf.config.threading.set_inter_op_parallelism_threads(self.threads)
        found = tf.config.list_physical_devices(kind)
        if len(found) <= int(index or 0):
            raise AdapterError(f"device {req!r} requested but tensorflow sees {len(found)} {kind}")
        self.tf_device = f"/{kind}:{int(index or 0)}"
        if self.precision == "strict":
            tf.config.experimental.enable_tensor_float_32_execution(False)

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return tf.device(self.tf_device)

    def framework_version(self) -> str:
        return str(tf.__version__)

    def device_info(self) -> dict[str, Any]:
        name = platform.processor() or platform.machine()
        if self.tf_device.startswith("/GPU"):
            gpu = tf.config.list_physical_devices("GPU")[int(self.tf_device.split(":")[1])]
            name = tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        return {"requested": self.requested_device, "actual": self.tf_device, "name": name}

    def precision_flags(self) -> dict[str, Any]:
        return {
            "tensor_float_32_execution": tf.config.experimental.tensor_float_32_execution_enabled(),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),
            "onednn": f"{self.facts()['onednn']} ({self._onednn_source})",
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or
            "framework default",
        }

    def facts(self) -> dict[str, str]:
        from tensorflow.python.util import _pywrap_util_port  # TF's own IsMKLEnabled()

        return {"onednn": "on" if _pywrap_util_port.IsMklEnabled() else "off"}

    def seed(self, seed: int) -> None:
        tf.random.set_seed(seed)

    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return tf.function(fn)

    def sync(self, out: Any) -> None:
        # GPU kernels run asynchronously; sync_devices blocks until they are done.
        tf.test.experimental.sync_devices()

    def bench_primitives(self) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        return tf.function(lambda x: x * 2.0), tf.function(tf.linalg.matmul)

    def to_native(self, value: np.ndarray, dtype: str | None) -> Any:
        arr = np.asarray(value)
        with self.context():
            if arr.dtype.kind == "f" or arr.dtype == numpy_dtype("bfloat16"):
                # Through float64: exact, and tf.constant cannot build bfloat16 from float64.
                return tf.cast(tf.constant(arr.astype(np.float64)), getattr(tf, dtype or "float64"))
            return tf.constant(arr)

    def to_numpy(self, value: Any) -> np.ndarray:
        if isinstance(value, tf.IndexedSlices):  # the gradient of a tf.gather'ed input
            value = tf.convert_to_tensor(value)
        if isinstance(value, (tf.Tensor, tf.Variable)) and value.dtype.is_floating:
            return tf.cast(value, tf.float64).numpy().astype(numpy_dtype(value.dtype.name))
        return np.asarray(value)

    def run_forward(self, op: str, args: Sequence[Any], kwargs: dict[str, Any],
                    dtype: str) -> list[np.ndarray]:
        self.last_path = "eager"
        return super().run_forward(op, args, kwargs, dtype)

    def vjp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        cotangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        self.last_path = "eager"
        args = list(args)
        with self.context(), tf.GradientTape() as tape:
            for i in wrt:
                tape.watch(args[i])
            outs = outputs_list(fn(*args))
        pairs = [(o, c) for o, c in zip(outs, cotangents) if c is not None]
        grads = tape.gradient(
            [o for o, _ in pairs], [args[i] for i in wrt],
            output_gradients=[c for _, c in pairs],
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        return outs, list(grads)

    def jvp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        tangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        """J u as the transpose of the vjp, which is linear in its cotangent w: J u =
        d<J^T w, u>/dw, two nested GradientTapes. ForwardAccumulator computes the same per
        op (each op's backward function differentiated in its cotangent, TensorFlow's
        forwardprop.py), so both run the same gradient kernels; per op in eager it cost
        4-5x more (graph.gat and graph.monet jvp: 52 s against 11 s). Where a backward
        kernel is missing on the device (Eigen's float64 dilated Conv2DBackpropInput),
        ForwardAccumulator, which gets past it (measured on conv.conv[12]d/extended),
        runs instead; ``last_path`` says which ran. ``ad.jvp`` keeps ForwardAccumulator
        under test on its own (adapters/tensorflow/autodiff.py)."""
        try:
            outs, tans = self._transposed_vjp(fn, list(args), wrt, tangents)
            self.last_path = "eager, transposed vjp"
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            outs, tans = self._accumulated(fn, list(args), wrt, tangents)
            self.last_path = "eager, ForwardAccumulator"
        return outs, tans

    def _transposed_vjp(self, fn: Callable[..., Any], args: list[Any], wrt: Sequence[int],
                        tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        with self.context(), tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                for i in wrt:
                    inner.watch(args[i])
                outs = outputs_list(fn(*args))
            floating = [o.dtype.is_floating for o in outs]
            dummies = [tf.zeros_like(o) for o, f in zip(outs, floating) if f]
            outer.watch(dummies)
            grads = inner.gradient([o for o, f in zip(outs, floating) if f],
                                   [args[i] for i in wrt], output_gradients=dummies,
                                   unconnected_gradients=tf.UnconnectedGradients.ZERO)
            # a gather's gradient is IndexedSlices, which the outer tape cannot target
            grads = [tf.convert_to_tensor(g) for g in grads]
        tans = iter(outer.gradient(grads, dummies, output_gradients=list(tangents),
                                   unconnected_gradients=tf.UnconnectedGradients.ZERO))
        return outs, [next(tans) if f else tf.zeros_like(o) for o, f in zip(outs, floating)]

    def _accumulated(self, fn: Callable[..., Any], args: list[Any], wrt: Sequence[int],
                     tangents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        with self.context(), tf.autodiff.ForwardAccumulator(
            primals=[args[i] for i in wrt], tangents=list(tangents)
        ) as acc:
            outs = outputs_list(fn(*args))
        tans = [acc.jvp(o, unconnected_gradients=tf.UnconnectedGradients.ZERO) for o in outs]
        return outs, tans


def _decide_onednn(precision: str) -> str:
    """oneDNN on or off, decided before TensorFlow is imported, and who decided it.

    TensorFlow turns oneDNN on by default only on some CPUs (x86 with AVX-512 VNNI/BF16 or
    AMX; an AVX2-only CPU stays on Eigen, whose grouped and dilated convolution gradients
    reject dilation > 1). Strict runs switch it on everywhere, so that the same kernels run
    on every machine; a user's explicit TF_ENABLE_ONEDNN_OPTS is kept; ``--precision
    defaults`` leaves TensorFlow its own choice. The result is recorded in the fingerprint.
    """
    if "tensorflow" in sys.modules:
        return "TensorFlow was imported before the adapter: its setting stands"
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ:
        return "TF_ENABLE_ONEDNN_OPTS set by the user"
    if precision == "strict":
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
        return "switched on by the adapter: strict precision runs the same kernels everywhere"
    return "TensorFlow's default for this CPU"

