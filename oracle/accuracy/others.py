"""The families whose mpmath transcriptions their own helpers wrote (attn, aug, graph, optim,
sched, rnn): measured on the inputs their conformance specs draw (class "spec"), for every
spec variant whose oracle function has a transcription of the same name. Their hard-class
builders are for their owners to add (as oracle/accuracy/cases.py does for the others).

Their stated bounds are per family in oracle/accuracy/bounds.py (``FAMILY_BOUNDS``).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from oracle.accuracy.draw import Args, Draw, Form, Terms
from oracle.precise import PRECISE


def _dirichlet_terms(args: tuple[Any, ...], kwargs: dict[str, Any],
                     outs: list[np.ndarray]) -> list[np.ndarray]:
    # x^T (D - A) x = sum over edges w (x_s^2 - x_s x_t): judged by the terms' magnitudes.
    x, edges = np.abs(np.asarray(args[0], np.float64)), np.asarray(args[1])
    w = np.ones(edges.shape[1]) if len(args) < 3 or args[2] is None else np.abs(args[2])
    w = w if x.ndim == 1 else w[:, None]
    terms = np.sum(w * (x[edges[0]] ** 2 + x[edges[0]] * x[edges[1]]), axis=0)
    return [np.maximum(terms, np.abs(outs[0]))]


# Condition scales for the ops of these families whose stated bound is of kind "terms".
TERMS: dict[str, Terms] = {"graph.dirichlet_energy": _dirichlet_terms}


def _spec_build(spec: Any) -> Any:
    def build(d: Draw) -> Args:
        case = d.data.draw(spec.inputs("float64"))
        return tuple(case.args), dict(case.kwargs)
    return build


def other_forms(known: set[str]) -> dict[str, list[Form]]:
    """One form per spec variant of each transcribed op outside ``known``."""
    from conformance.specs import all_specs

    specs = all_specs()
    out: dict[str, list[Form]] = {}
    for op, precise in sorted(PRECISE.items()):
        if op in known:
            continue
        module = sys.modules[precise.__module__]
        forms = []
        for spec in sorted(specs.values(), key=lambda s: s.id):
            if spec.catalog_id != op:
                continue
            twin = getattr(module, spec.oracle.__name__, None)
            if twin is not None:
                forms.append(Form(spec.id, spec.oracle, twin, _spec_build(spec), ("spec",),
                                  TERMS.get(op)))
        out[op] = forms
    return out
