"""The PyTorch adapter: data boundary, devices, precision flags, autograd and forward AD."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adapters.base import Adapter, AdapterError, outputs_list
from adapters.torch._lazy import torch
from conformance.vocabulary import numpy_dtype


class TorchCore(Adapter):
    name = "torch"
    framework = "torch"
    extra = "torch"

    def setup(self) -> None:
        torch.__version__  # noqa: B018  (import now: a missing torch is a clear error here)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        req = self.requested_device
        if req.startswith("cuda"):
            if not torch.cuda.is_available():
                raise AdapterError(f"device {req!r} requested but torch sees no CUDA device")
            self.device = torch.device(req)
            if self.device.index is None:  # report which GPU really ran: cuda:N
                self.device = torch.device("cuda", torch.cuda.current_device())
        elif req == "cpu":
            self.device = torch.device("cpu")
        else:
            raise AdapterError(f"unknown torch device {req!r} (cpu, cuda, cuda:N)")
        if self.precision == "strict":
            # TF32 and reduced-precision matmul would be blamed on the kernel otherwise.
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.set_float32_matmul_precision("highest")
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
            torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False

    def framework_version(self) -> str:
        return str(torch.__version__)

    def device_info(self) -> dict[str, Any]:
        if self.device.type == "cuda":
            name = torch.cuda.get_device_name(self.device)
        else:
            name = platform.processor() or platform.machine()
        return {"requested": self.requested_device, "actual": str(self.device), "name": name}

    def precision_flags(self) -> dict[str, Any]:
        return {
            "torch.backends.cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "torch.backends.cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "mkldnn_enabled": torch.backends.mkldnn.is_available(),
            "num_threads": torch.get_num_threads(),
            "threads": "framework default" if self.threads is None else self.threads,
        }

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def sync(self, out: Any) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def bench_primitives(self) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
        return (lambda x: x * 2.0), torch.matmul

    # --- data boundary -----------------------------------------------------------------
    def _dtype(self, dtype: str) -> Any:
        return getattr(torch, dtype)

    def to_native(self, value: np.ndarray, dtype: str | None) -> Any:
        arr = np.asarray(value)
        if arr.dtype.kind == "f" or arr.dtype == numpy_dtype("bfloat16"):
            # torch.from_numpy has no bfloat16: go through float64, exact for every dtype here.
            # np.array, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,).
            t = torch.from_numpy(np.array(arr, dtype=np.float64, order="C"))
            return t.to(device=self.device, dtype=self._dtype(dtype or "float64"))
        return torch.from_numpy(np.array(arr, order="C")).to(self.device)

    def to_numpy(self, value: Any) -> np.ndarray:
        if not isinstance(value, torch.Tensor):
            return np.asarray(value)
        t = value.detach().cpu()
        if t.is_floating_point():
            name = str(t.dtype).removeprefix("torch.")
            return t.to(torch.float64).numpy().astype(numpy_dtype(name))
        return t.numpy()

    # --- derivatives -------------------------------------------------------------------
    def vjp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        cotangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        args = list(args)
        for i in wrt:
            args[i] = args[i].detach().requires_grad_(True)
        outs = outputs_list(fn(*args))
        pairs = [(o, c) for o, c in zip(outs, cotangents) if c is not None]
        grads = torch.autograd.grad(
            [o for o, _ in pairs], [args[i] for i in wrt], [c for _, c in pairs],
            allow_unused=True, materialize_grads=True,
        )
        return outs, list(grads)

    def jvp(
        self, fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int],
        tangents: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        fwad = torch.autograd.forward_ad
        with fwad.dual_level():
            args = list(args)
            for i, t in zip(wrt, tangents):
                args[i] = fwad.make_dual(args[i], t)
            outs = outputs_list(fn(*args))
            primals, tans = [], []
            for o in outs:
                p, t = fwad.unpack_dual(o)
                primals.append(p)
                tans.append(torch.zeros_like(p) if t is None else t)
        return primals, tans
