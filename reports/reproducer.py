"""Standalone reproducer scripts for failed checks: NumPy and the framework only.

The script embeds the failing (shrunk) inputs in the tested dtype, the oracle's float64
values, and the adapter's mapping copied verbatim from its source (with the module-level
framework imports and helper functions it uses), so a user can paste it into a bug report
without installing this project.
"""

from __future__ import annotations

import inspect
import re
import textwrap
import types
from typing import Any

import numpy as np

from adapters.base import LazyModule

BOUNDARY = {
    "torch": {
        "imports": ["import torch"],
        "self": "self = types.SimpleNamespace(device=torch.device({device!r}))",
        "to_native": "torch.tensor({name}.astype(np.float64), dtype=torch.{dtype}, "
                     "device=self.device)",
        "to_native_int": "torch.tensor({name}, device=self.device)",
        "to_numpy": "np.asarray({expr}.detach().cpu().double().numpy())",
    },
    "jax": {
        "imports": ["import jax", "import jax.numpy as jnp",
                    'jax.config.update("jax_enable_x64", True)'],
        "self": "self = types.SimpleNamespace(device=jax.devices({platform!r})[0])",
        "to_native": "jax.device_put(jnp.asarray({name}.astype(np.float64)).astype("
                     "jnp.{dtype}), self.device)",
        "to_native_int": "jax.device_put(jnp.asarray({name}), self.device)",
        "to_numpy": "np.asarray(jnp.asarray({expr}, dtype=jnp.float64))",
    },
    "tensorflow": {
        "imports": ["import tensorflow as tf"],
        "self": "self = types.SimpleNamespace(tf_device={device!r})",
        "to_native": "tf.cast(tf.constant({name}.astype(np.float64)), tf.{dtype})",
        "to_native_int": "tf.constant({name})",
        "to_numpy": "tf.cast({expr}, tf.float64).numpy()",
    },
}


def _literal(a: Any) -> str:
    arr = np.asarray(a)
    if arr.dtype.kind in "biu":
        return f"np.array({arr.tolist()!r}, dtype=np.{arr.dtype})"
    data = np.asarray(arr, dtype=np.float64).tolist()
    text = repr(data).replace("nan", "float('nan')").replace("inf", "float('inf')")
    return f"np.array({text})"


def _function_source(fn: Any) -> str:
    src = textwrap.dedent(inspect.getsource(fn))
    return "\n".join(line for line in src.splitlines() if not line.startswith("@"))


def _copied_from(module: str, mapping_module: str) -> bool:
    """Helpers whose source goes into the script: the mapping's own module's, and the
    framework-free ones of ``adapters._shared`` (a script must not need this package)."""
    return module in (mapping_module, "adapters._shared")


def _dependencies(fn: Any, seen: set[str]) -> tuple[list[str], list[str]]:
    """Import lines and helper sources for the globals the mapping's source refers to."""
    src = inspect.getsource(fn)
    imports, helpers = [], []
    for name in sorted(set(re.findall(r"\b([A-Za-z_]\w*)\b", src))):
        value = fn.__globals__.get(name)
        if name in seen or value is None:
            continue
        seen.add(name)
        if isinstance(value, (LazyModule, types.ModuleType)):
            module = value._lazy_name if isinstance(value, LazyModule) else value.__name__
            imports.append(f"import {module}" if module == name else f"import {module} as {name}")
        elif inspect.isfunction(value) and _copied_from(value.__module__, fn.__module__):
            sub_imports, sub_helpers = _dependencies(value, seen)
            imports += sub_imports
            helpers += sub_helpers + [_function_source(value)]
    return imports, helpers


def _self_methods(adapter: Any, fn: Any, seen: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Adapter methods the mapping calls through ``self.``: copied, bound to the namespace."""
    imports, helpers, binds = [], [], []
    # Called or passed on (``penalty_fn=self.l1``): either way the script needs it bound.
    for name in sorted(set(re.findall(r"self\.(\w+)\b", inspect.getsource(fn)))):
        method = getattr(type(adapter), name, None)
        if name in seen or not inspect.isfunction(method):
            continue
        seen.add(name)
        sub_imp, sub_help = _dependencies(method, seen)
        more_imp, more_help, more_bind = _self_methods(adapter, method, seen)
        imports += sub_imp + more_imp
        src = _function_source(method).replace(f"def {name}(", f"def _{name}(", 1)
        helpers += sub_help + more_help + [src]
        binds += more_bind + [f"self.{name} = functools.partial(_{name}, self)"]
    return imports, helpers, binds


def make_script(adapter: Any, spec: Any, mode: str, case: Any, dtype: str, outcome: Any) -> str:
    """The reproducer of one failed check (forward mode compares values; gradient modes
    print the framework's derivative next to the oracle's)."""
    from conformance import checks
    from conformance.vocabulary import is_floating

    fw = BOUNDARY.get(getattr(adapter, "framework", ""))
    if fw is None:
        return f"# no reproducer template for framework {adapter.framework!r}"
    fn = getattr(type(adapter), adapter.mapping(spec.id).method)
    seen: set[str] = {"self", "np"}
    imports, helpers = _dependencies(fn, seen)
    more_imp, more_help, binds = _self_methods(adapter, fn, seen)
    device = adapter.requested_device
    platform = "gpu" if device.split(":")[0] in ("gpu", "cuda") else "cpu"
    tf_device = getattr(adapter, "tf_device", "/CPU:0")
    names = case.arg_names()
    args = checks.rounded(case, dtype)
    lines = [
        f"# Reproducer: {spec.id} {mode} on {adapter.name} {adapter.framework_version()} "
        f"({device}, {dtype}), generated by kernel-oracle.",
        "# Needs only numpy and the framework. 'expected' holds the exact float64 oracle.",
        "import functools", "import types", "", "import numpy as np",
        *dict.fromkeys(fw["imports"] + imports + more_imp), "",
        fw["self"].format(device=tf_device if fw is BOUNDARY["tensorflow"] else device,
                          platform=platform),
        "", *[h + "\n" for h in helpers + more_help], *binds, "",
        _function_source(fn).replace("def ", "def kernel_", 1), "",
    ]
    for n, a in zip(names, args):
        lines.append(f"{n} = None" if a is None else f"{n} = {_literal(a)}")
    lines.append(f"kwargs = {dict(case.kwargs)!r}")
    natives = [
        "None" if a is None else
        (fw["to_native"].format(name=n, dtype=dtype) if is_floating(a)
         else fw["to_native_int"].format(name=n))
        for n, a in zip(names, args)
    ]
    call = f"kernel_{fn.__name__}(self, {', '.join(natives)}, **kwargs)"
    lines += _compare_lines(fw, call, outcome, mode)
    return "\n".join(lines) + "\n"


def _compare_lines(fw: dict[str, str], call: str, outcome: Any, mode: str) -> list[str]:
    w = outcome.worst
    if mode != "forward" or not outcome.expected:
        return [
            f"out = {call}",
            f"# The {mode} check failed at {w.output!r} index {list(w.worst_index)}: "
            f"the framework gave {w.got!r}, the oracle's exact derivative is {w.expected!r} "
            f"(allowed error {w.allowed:.3g}).",
            "print(out)",
        ]
    lines = ["outs = " + call, "outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]"]
    for i, (name, e) in enumerate(zip(outcome.output_names, outcome.expected)):
        lines += [
            f"expected_{i} = {_literal(e)}  # {name}",
            f"got_{i} = {fw['to_numpy'].format(expr=f'outs[{i}]')}",
            f"err_{i} = np.abs(got_{i} - expected_{i})",
            f"print({name!r}, 'max abs error', np.nanmax(err_{i}) if err_{i}.size else 0.0, "
            f"'NaN count', int(np.isnan(got_{i}).sum()))",
        ]
    lines += [
        f"# worst element: {w.output!r} index {list(w.worst_index)}, expected {w.expected!r}, "
        f"the check allowed an error of {w.allowed:.3g} there.",
        f"w = got_{outcome.output_names.index(w.output)}[{tuple(w.worst_index)!r}]",
        f"print('worst element: got', w, 'expected', {w.expected!r}, "
        f"'allowed error', {w.allowed!r})",
    ]
    return lines
