"""The graph oracle against its mpmath transcriptions (oracle/precise/graph.py) at 50
digits, on cases drawn by the conformance specs (float64, small graphs): every catalog id,
the Fourier ones through their basis-free invariants (and raw, for distinct spectra)."""

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed

from conformance.specs import all_specs
from oracle import _canon
from oracle.precise import graph as P

EPS = np.finfo(np.float64).eps

# spec id -> the precise function of its catalog id
DIRECT = {
    "graph.laplacian": P.laplacian, "graph.normalized_laplacian": P.normalized_laplacian,
    "graph.dirichlet_energy": P.dirichlet_energy, "graph.spectral_filter": P.spectral_filter,
    "graph.spectral_filter/repeated": P.spectral_filter, "graph.chebyshev": P.chebyshev,
    "graph.gcn": P.gcn, "graph.gcn/unweighted": P.gcn, "graph.aggregate": P.aggregate,
    "graph.aggregate/max_pool": P.aggregate, "graph.aggregate/lstm": P.aggregate,
    "graph.aggregate/lstm_padded": P.aggregate, "graph.gat": P.gat, "graph.gin": P.gin,
    "graph.diffusion/dcnn": P.diffusion, "graph.diffusion/dgc": P.diffusion,
    "graph.monet": P.monet, "graph.monet/no_root": P.monet, "graph.readout": P.readout,
    "graph.readout/max": P.readout,
    "graph.edge_conv": P.edge_conv, "graph.edge_conv/dynamic": P.edge_conv,
    "graph.residual_dense": P.residual_dense, "graph.residual_dense/dense": P.residual_dense,
}


def as_float(a):
    return np.vectorize(float, otypes=[np.float64])(np.asarray(a, dtype=object))


def close(got, exact, what, rel=64 * EPS):
    got = np.asarray(got, dtype=np.float64)
    exact = as_float(exact)
    assert got.shape == exact.shape, what
    scale = max(float(np.max(np.abs(exact), initial=0.0)), 1.0)
    err = float(np.max(np.abs(got - exact), initial=0.0))
    assert err <= rel * scale, f"{what}: |oracle - mpmath| = {err:.3g} (scale {scale:.3g})"


def cases(spec_id, n=4):
    spec = all_specs()[spec_id]
    found = []

    @hseed(2026)
    @settings(max_examples=n, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(spec.inputs("float64"))
    def draw(case):
        found.append(case)

    draw()
    return spec, found


@pytest.mark.parametrize("spec_id", sorted(DIRECT))
def test_oracle_matches_mpmath(spec_id):
    spec, drawn = cases(spec_id)
    for case in drawn:
        got = _canon.flatten_outputs(spec.oracle(*case.args, **case.kwargs))
        with mpmath.workdps(50):
            exact = P.PRECISE[spec.catalog_id](*case.args, **case.kwargs)
        close(got[0], exact, f"{spec_id} {case.kwargs}")


def mp_invariants(lam, u, x, ids):
    """Eigenvalues, reconstruction, per-eigenvalue eigenspace projections, round trip, from
    mpmath's eigendecomposition."""
    n = len(lam)
    x_hat = np.dot(u.T, x)
    recon = np.dot(u * lam, u.T)
    proj = np.empty((n,) + x.shape, dtype=object)
    for i in range(n):
        sel = np.flatnonzero(ids == ids[i])
        proj[i] = np.dot(u[:, sel], x_hat[sel])
    return lam, recon, proj, np.dot(u, x_hat), x_hat


@pytest.mark.parametrize("spec_id", ["graph.fourier/distinct", "graph.fourier/repeated",
                                     "graph.inverse_fourier/distinct",
                                     "graph.inverse_fourier/repeated"])
def test_fourier_invariants_match_mpmath(spec_id):
    spec, drawn = cases(spec_id, n=3)
    for case in drawn:
        x, ei, w = case.args[:3]
        ids = case.args[-1]
        got = spec.oracle(*case.args, **case.kwargs)
        with mpmath.workdps(50):
            lam, _, u = P.fourier(x, ei, w, **case.kwargs)
            lam, recon, proj, rt, x_hat = mp_invariants(lam, u, P._mp(x), ids)
            if "inverse" in spec_id:
                c = P._mp(case.args[3])[ids]
                synth = np.dot(u, x_hat * c[:, None])
                close(got.synthesis, synth, spec_id)
                close(got.roundtrip, rt, spec_id)
                continue
        for name, g, e in zip(got._fields, got, (lam, recon, proj, rt)):
            close(g, e, f"{spec_id} {name}")


def test_raw_fourier_matches_mpmath_for_distinct_spectra():
    spec, drawn = cases("graph.fourier/distinct", n=3)
    for case in drawn:
        x, ei, w = case.args[:3]
        got = P_oracle_fourier(x, ei, w, case.kwargs["normalization"])
        with mpmath.workdps(50):
            exact = P.fourier(x, ei, w, normalization=case.kwargs["normalization"])
        for name, g, e in zip(("eigenvalues", "x_hat", "basis"), got, exact):
            close(g, e, f"fourier {name}")
        inv = P.inverse_fourier(as_float(exact[1]), ei, w,
                                normalization=case.kwargs["normalization"])
        close(inv, P._mp(x), "inverse_fourier of the transform")


def P_oracle_fourier(x, ei, w, normalization):  # noqa: N802
    from oracle import graph as GR

    return GR.fourier(x, ei, w, normalization=normalization)
