"""The graph family's textbook derivative formulas (conformance/textbook/graph/) against
the oracle's exact derivatives in float64, on cases drawn by the conformance specs: a
textbook formula is the kernels' algorithm, so in float64 it must agree with the duals to
rounding. Without this, a wrong textbook formula would widen the naive bound unseen."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

from conformance import evaluate
from conformance.specs import all_specs

SPECS = all_specs()
WITH_TEXTBOOK = sorted(s for s in SPECS if s.startswith("graph.") and SPECS[s].textbook)
REL = 2.0**-40  # far below any float32 effect, far above float64 rounding of these sizes


def _scale(exact) -> float:
    """The largest derivative of the set: GAT's d/da_dst is a cancelling difference whose
    exact value may be ~1e-17 of the others, and the textbook's float64 rounding of it is
    measured against the terms it cancels, not against itself."""
    return max(max(float(np.max(np.abs(np.asarray(e, dtype=np.float64)), initial=0.0))
                   for e in exact), 1e-300)


def _err(got, exact) -> float:
    exact = np.asarray(exact, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - exact), initial=0.0))


def test_the_textbook_specs_are_the_ones_expected():
    assert set(WITH_TEXTBOOK) >= {"graph.residual_dense", "graph.residual_dense/dense",
                                  "graph.gat", "graph.diffusion/dcnn", "graph.diffusion/dgc",
                                  "graph.normalized_laplacian", "graph.dirichlet_energy",
                                  "graph.edge_conv"}


@pytest.mark.parametrize("spec_id", WITH_TEXTBOOK)
def test_textbook_agrees_with_the_exact_derivatives_in_float64(spec_id):
    spec = SPECS[spec_id]
    wrt = list(spec.grad_wrt)

    @hseed(2026)
    @settings(max_examples=6, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(spec.inputs("float64"), st.integers(0, 2**16))
    def check(case, seed):
        rng = np.random.default_rng(seed)
        args, kwargs = list(case.args), dict(case.kwargs)
        outs, _ = evaluate.values(spec, args, kwargs, "float64")
        cots = [rng.standard_normal(np.shape(o)) for o in outs]
        us = [rng.standard_normal(np.shape(args[i])) for i in wrt]
        exact = evaluate.vjp(spec, args, kwargs, wrt, cots, outs, "float64")
        book = evaluate.textbook(spec, "vjp", args, kwargs, cots, "float64")
        assert len(book) == len(exact)
        scale = _scale(exact)
        for k, (b, e) in enumerate(zip(book, exact)):
            assert _err(b[0], e) <= REL * scale, f"vjp d/d{case.arg_names()[wrt[k]]}"
        _, exact_t = evaluate.jvp(spec, args, kwargs, wrt, us, "float64")
        book_t = evaluate.textbook(spec, "jvp", args, kwargs, us, "float64")
        scale = _scale(exact_t)
        for k, (b, e) in enumerate(zip(book_t, exact_t)):
            assert _err(b[0], e) <= REL * scale, f"jvp output {k}"

    check()


def test_residual_textbook_cancels_where_tanh_saturates():
    """The point of the residual_dense textbook: in float32, tanh' = 1 - y^2 from the output
    loses most of its digits at |z| ~ 8 (1 - y ~ 2e-7, a few ulp of y), while the duals'
    sech^2 keeps them. DenseGCN on two equal nodes: each GCN averages them, so the layers'
    pre-activations are the features themselves, all saturated."""
    spec = SPECS["graph.residual_dense/dense"]
    x = np.array([[8.0, -8.5, 9.0], [8.0, -8.5, 9.0]])
    args = [x, np.array([[0, 1], [1, 0]]), np.ones(2), np.eye(2, 3), np.zeros(2),
            np.eye(5)[[0, 2]], np.zeros(2)]
    kwargs = {"block": "dense", "activation": "tanh"}
    wrt = list(spec.grad_wrt)
    us = [np.ones_like(args[i]) for i in wrt]
    _, (exact,) = evaluate.jvp(spec, args, kwargs, wrt, us, "float64")
    low = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in args]
    low_us = [u.astype(np.float32) for u in us]
    (book,) = evaluate.textbook(spec, "jvp", low, kwargs, low_us, "float32")
    _, (naive,) = evaluate.jvp(spec, low, kwargs, wrt, low_us, "float32")
    tanh_cols = exact[:, 3:]  # the layers' tanh outputs (the first 3 columns are x itself)
    book_err = np.max(np.abs(book[0][:, 3:] - tanh_cols) / np.abs(tanh_cols))
    naive_err = np.max(np.abs(np.asarray(naive)[:, 3:] - tanh_cols) / np.abs(tanh_cols))
    assert book_err > 1e-2 and naive_err < 1e-5
