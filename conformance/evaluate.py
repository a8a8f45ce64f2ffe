"""The oracle's side of a check: the exact float64 evaluation and the naive ones the bound
is made of (the oracle run in the tested dtype, the spec's textbook derivative formula),
for values, dual-number JVPs and VJPs. Each charges its time to its phase."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from conformance.registry import OpSpec
from conformance.textbook import Alternatives, Summed
from conformance.timing import phase
from conformance.vocabulary import is_floating, numpy_dtype
from oracle import _canon, autodiff


def naive_dtype(dtype: str) -> str:
    """float64 has no lower-precision twin of its own: its naive error is scaled from float32."""
    return "float32" if dtype == "float64" else dtype


@contextmanager
def _in(dtype: str, name: str) -> Iterator[np.dtype]:
    """Evaluate in ``dtype`` (quietly: overflow and NaN are data here), timed as ``name``."""
    nd = numpy_dtype(dtype)
    with phase(name), warnings.catch_warnings(), np.errstate(all="ignore"), \
            _canon.compute_dtype(nd):
        warnings.simplefilter("ignore")
        yield nd


def _cast(args: list[Any], nd: np.dtype) -> list[Any]:
    return [a.astype(nd) if is_floating(a) else a for a in args]


def _role(dtype: str) -> str:
    return "oracle" if dtype == "float64" else "naive"


def values(spec: OpSpec, args: list[Any], kwargs: dict[str, Any],
           dtype: str) -> tuple[list[np.ndarray], list[str]]:
    """The oracle in ``dtype`` (float64 = exact): outputs as float64 arrays, and their names
    (the oracle's NamedTuple fields, else out0, out1...)."""
    with _in(dtype, _role(dtype)) as nd:
        out = spec.oracle(*_cast(args, nd), **kwargs)
    outs = [np.asarray(o, dtype=np.float64) for o in _canon.flatten_outputs(out)]
    names = _canon.output_names(out)
    return outs, names if len(names) == len(outs) else [f"out{i}" for i in range(len(outs))]


def zero_cotangents(cots: list[Any], outs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros_like(o) if c is None else c.astype(np.float64) for c, o in zip(cots, outs)]


def vjp(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
        cots: list[Any], outs: list[np.ndarray], dtype: str) -> list[np.ndarray]:
    """The oracle's full VJP (one dual pass per differentiated element) in ``dtype``; ``outs``
    gives the outputs' shapes for the cotangents of outputs that carry none."""
    with _in(dtype, _role(dtype)) as nd:
        cts = [c.astype(nd) for c in zero_cotangents(cots, outs)]
        grads = autodiff.vjp(spec.oracle, _cast(args, nd), kwargs, wrt, cts)
    return [np.asarray(g, dtype=np.float64) for g in grads]


def jvp(spec: OpSpec, args: list[Any], kwargs: dict[str, Any], wrt: list[int],
        tangents: list[np.ndarray], dtype: str) -> tuple[list[Any], list[np.ndarray]]:
    """The oracle's dual-number JVP in ``dtype``: (outputs, output tangents)."""
    with _in(dtype, _role(dtype)) as nd:
        outs, tans = autodiff.jvp(spec.oracle, _cast(args, nd), kwargs,
                                  {i: t.astype(nd) for i, t in zip(wrt, tangents)})
    return outs, [np.asarray(t, dtype=np.float64) for t in tans]


def textbook(spec: OpSpec, mode: str, args: list[Any], kwargs: dict[str, Any],
             seeds: list[Any], dtype: str) -> list[Variants] | None:
    """The spec's textbook derivative formula evaluated in the tested dtype itself (float64
    too: unlike the oracle's duals it is a different algorithm from the exact one), from the
    exact outputs and from outputs one ulp above and below, since a kernel's saved outputs
    carry their own rounding. Returns [per output or wrt: [variants]]."""
    if spec.textbook is None:
        return None
    with _in(dtype, "textbook") as nd:
        cast = _cast(args, nd)
        outs = [np.asarray(o).astype(nd) for o in _canon.flatten_outputs(
            spec.oracle(*cast, **kwargs))]
        seeds = [np.zeros_like(o) if s is None else np.asarray(s).astype(nd)
                 for s, o in zip(seeds, outs)] if mode == "vjp" else \
            [np.asarray(s).astype(nd) for s in seeds]
        variants = []
        for step in (0.0, np.inf, -np.inf):
            moved = [o if step == 0 else np.nextafter(o, nd.type(step)) for o in outs]
            variants.append(spec.textbook(mode, cast, kwargs, moved, seeds))
    return [Variants.of(v) for v in zip(*variants)]


class Variants(list):
    """One output's textbook evaluations (every variant, every alternative form), and the
    largest magnitude of its summed terms where the hook gave one (``Summed``)."""

    magnitude: np.ndarray | None = None

    @classmethod
    def of(cls, got: tuple[Any, ...]) -> Variants:
        out = cls(form for g in got for form in _forms(g))
        mags = [np.asarray(g.magnitude, np.float64) for g in got if isinstance(g, Summed)]
        out.magnitude = np.maximum.reduce(mags) if mags else None
        return out


def _forms(got: Any) -> list[np.ndarray]:
    """One output of a textbook hook: one array, or ``Alternatives`` of several."""
    got = got.value if isinstance(got, Summed) else got
    forms = got if isinstance(got, Alternatives) else [got]
    return [np.asarray(g, dtype=np.float64) for g in forms]
