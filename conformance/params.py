"""``python -m conformance coverage --params [--backend B]...``: every keyword of every native
callable an adapter's mappings declare (``@implements(native=..., params=...)``), per op and
backend, with what becomes of it: drawn (a spec draws it), fixed (with the reason), not
covered (with the reason), or unaccounted. Mappings that name no native callable are listed
as such (composed ones say so). Unlike the plain coverage table this imports the frameworks:
the keywords are read from the callables' signatures (those with a default value, and
keyword-only ones: the optional parameters of a kernel; the tensors it takes have none).
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any

from adapters import BUILTIN
from adapters.base import AdapterError, load_adapter_class


@dataclass(frozen=True)
class Row:
    backend: str
    op: str
    native: str | None
    keyword: str | None
    status: str  # drawn | fixed: ... | not covered: ... | unaccounted | no native declared...


# The short names the adapters' ``_lazy.py`` modules (and their docstrings) use for framework
# modules: a mapping may declare ``tf.math.sigmoid`` or ``jnp.dot`` as it calls them.
ALIASES = {
    "tf": "tensorflow", "jnp": "jax.numpy", "lax": "jax.lax", "F": "torch.nn.functional",
    "nn": "torch.nn", "optax": "optax", "keras": "keras",
}


def resolve(path: str) -> Any:
    """``torch.nn.functional.avg_pool2d``: the longest importable module prefix, then
    attributes. A first component from ``ALIASES`` (``tf.``, ``jnp.``, ``F.``...) is
    expanded; ``jax.Array.at[].add`` (an indexed update, ``x.at[i].add(v)``) resolves to the
    method of the update reference JAX returns for ``x.at[i]``."""
    head, _, rest = path.partition(".")
    if head in ALIASES:
        path = ALIASES[head] + ("." + rest if rest else "")
    m = re.fullmatch(r"jax\.Array\.at\[\]\.(\w+)", path)
    if m:
        jnp = importlib.import_module("jax.numpy")
        return getattr(type(jnp.zeros(1).at[0]), m.group(1))
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except (ImportError, TypeError, ValueError):  # not a module path
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"cannot import any prefix of {path!r}")


def raw_op_keywords(path: str) -> list[str]:
    """``tf.raw_ops.X`` takes keyword arguments only, its inputs (tensors) and attributes:
    the attributes with a default (the op's options; ``T`` and the like are inferred from
    the inputs) and ``name``, read from the registered OpDef."""
    resolve(path)  # the op exists in this TensorFlow
    from tensorflow.python.framework import op_def_registry

    op_def = op_def_registry.get(path.rsplit(".", 1)[-1])
    if op_def is None:
        raise AttributeError(f"no registered OpDef for {path!r}")
    return [a.name for a in op_def.attr if a.HasField("default_value")] + ["name"]


def keywords(fn: Any) -> list[str] | None:
    """The optional keywords of a callable (a class: its constructor), or None when Python
    cannot read its signature (some C builtins)."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return _documented_keywords(fn)
    return [p.name for p in sig.parameters.values()
            if p.name not in ("self", "cls")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and (p.default is not p.empty or p.kind == p.KEYWORD_ONLY)]


def _documented_keywords(fn: Any) -> list[str] | None:
    """torch's C builtins (torch.tanh, F.linear) carry their signature as the docstring's
    first line(s), ``linear(input, weight, bias=None) -> Tensor``: its optional names."""
    doc = (getattr(fn, "__doc__", None) or "").strip() or _torch_schema(fn)
    # the signature may wrap over lines (scaled_dot_product_attention's does)
    m = re.match(r"[\w.]+\(([^)]*)\)\s*(->|$|\n)", doc)
    if m is None:
        return None
    names, keyword_only = [], False
    for part in (p.strip() for p in m.group(1).split(",")):
        if part == "*":
            keyword_only = True
        elif part and part != "/":
            name = re.split(r"[=:\s]", part, maxsplit=1)[0]
            if "=" in part or keyword_only:
                names.append(name)
    return names


def _torch_schema(fn: Any) -> str:
    """An undocumented torch builtin (``torch._weight_norm``): its ATen schema,
    ``aten::_weight_norm(Tensor v, Tensor g, int dim=0) -> Tensor``, as a signature line."""
    if not (getattr(fn, "__module__", None) or "").startswith("torch"):
        return ""
    try:
        import torch

        schemas = torch._C._jit_get_schemas_for_operator(f"aten::{fn.__name__}")
    except (ImportError, AttributeError, RuntimeError):
        return ""
    if not schemas:
        return ""
    text = str(schemas[0]).removeprefix("aten::")
    # "Tensor v, int dim=0": keep the names (the last word before any default)
    head, _, tail = text.partition("(")
    args = [re.sub(r"^.*\s(\w+)(=.*)?$", lambda m: m.group(1) + (m.group(2) or ""),
                   a.strip()) for a in tail.split(")")[0].split(",") if a.strip()]
    return f"{head}({', '.join(args)}) -> Tensor"


def rows(backends: list[str] | None = None) -> list[Row]:
    out: list[Row] = []
    for backend in backends or list(BUILTIN):
        cls = load_adapter_class(backend)
        for op, m in sorted(cls._mappings.items()):
            accounted = dict(m.params)
            if not m.native:
                why = "composed" if m.composed else "native kernel"
                out.append(Row(backend, op, None, None, f"no native callable declared ({why})"))
                continue
            seen: set[str] = set()
            for path in m.native:
                try:
                    names = (raw_op_keywords(path) if ".raw_ops." in path
                             else keywords(resolve(path)))
                except (ImportError, AttributeError, AdapterError, TypeError) as exc:
                    out.append(Row(backend, op, path, None, f"cannot resolve: {exc}"))
                    continue
                if names is None:
                    out.append(Row(backend, op, path, None, "signature not readable"))
                    continue
                for k in names:
                    seen.add(k)
                    out.append(Row(backend, op, path, k, accounted.get(k, "unaccounted")))
            out += [Row(backend, op, None, k, f"{v} (not a keyword of {', '.join(m.native)})")
                    for k, v in accounted.items() if k not in seen]
    return out


def unaccounted(found: list[Row]) -> list[Row]:
    return [r for r in found if r.status == "unaccounted"
            or r.status.startswith(("no native callable declared (native",
                                    "cannot resolve", "signature not readable"))]


def format_text(found: list[Row]) -> str:
    lines = [f"{'backend':10} {'op':34} {'native':42} {'keyword':22} status"]
    for r in found:
        lines.append(f"{r.backend:10} {r.op:34} {r.native or '-':42} {r.keyword or '-':22} "
                     f"{r.status}")
    missing = unaccounted(found)
    lines.append(f"\n{len(missing)} unaccounted (a native keyword without drawn / fixed / not "
                 "covered, or a native mapping that names no callable):")
    lines += [f"  {r.backend} {r.op}: {r.native or ''} {r.keyword or ''} {r.status}".rstrip()
              for r in missing]
    return "\n".join(lines)
