"""Planted bugs in a user's graph adapter, run through the real conformance suite.

* A normalized Laplacian computed as I - D^-1 A (the random-walk one) where I - D^-1/2 A
  D^-1/2 is asked for must fail.
* Flipping the signs of the eigenvectors is not a bug (the Fourier basis is only defined up
  to them): the invariant comparisons must pass it, as they must pass a rotation inside a
  repeated eigenvalue.
* Pairing eigenvectors with the wrong eigenvalues is a bug: it must fail.
"""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch_geometric")

ADAPTERS = textwrap.dedent('''
    import torch
    from adapters.base import implements
    from adapters.torch import TorchAdapter
    from adapters.torch.graph.spectral import dense_laplacian


    class RandomWalkLaplacian(TorchAdapter):
        """I - D^-1 A where the spec asks for the symmetric I - D^-1/2 A D^-1/2."""

        @implements("graph.normalized_laplacian")
        def graph_normalized_laplacian(self, edge_index, edge_weight, *, num_nodes,
                                       normalization="sym", isolated="one"):
            return dense_laplacian(edge_index, edge_weight, num_nodes, "rw")


    def invariants(u, lam, x, clusters):
        x_hat = u.T @ x
        terms = u.T[:, :, None] * x_hat[:, None, :]
        ids = torch.arange(x.shape[0]) if clusters is None else clusters
        proj = torch.zeros_like(terms).index_add(0, ids, terms)[ids]
        return lam, (u * lam) @ u.T, proj, u @ x_hat


    def spectrum(edge_index, edge_weight, n, normalization, isolated):
        lap = dense_laplacian(edge_index, edge_weight, n, normalization, isolated)
        return torch.linalg.eigh(0.5 * (lap + lap.T))


    class FlippedEigenvectors(TorchAdapter):
        """Every other eigenvector negated, and each pair of equal eigenvalues' vectors
        rotated: a different but equally valid Fourier basis."""

        @implements("graph.fourier/distinct")
        @implements("graph.fourier/repeated")
        def fourier(self, x, edge_index, edge_weight, clusters=None, *, normalization=None,
                    isolated="one"):
            lam, u = spectrum(edge_index, edge_weight, x.shape[0], normalization, isolated)
            n = u.shape[1]
            signs = torch.tensor([(-1.0) ** i for i in range(n)], dtype=u.dtype)
            u = u * signs
            if clusters is not None:
                c, s = 0.6, 0.8
                for i in range(n - 1):
                    if clusters[i] == clusters[i + 1]:
                        a, b = u[:, i].clone(), u[:, i + 1].clone()
                        u = u.clone()
                        u[:, i], u[:, i + 1] = c * a - s * b, s * a + c * b
            return invariants(u, lam, x, clusters)


    class ShuffledEigenvectors(TorchAdapter):
        """Eigenvectors paired with the wrong eigenvalues (their order reversed)."""

        @implements("graph.fourier/distinct")
        def fourier(self, x, edge_index, edge_weight, clusters=None, *, normalization=None,
                    isolated="one"):
            lam, u = spectrum(edge_index, edge_weight, x.shape[0], normalization, isolated)
            return invariants(u.flip(1), lam, x, clusters)
''')


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_graph.py").write_text(ADAPTERS)
    return tmp_path


def run(user_pkg, tmp_path, backend, ops, *extra):
    out = tmp_path / "run"
    proc = run_conformance("--backend", f"planted_graph:{backend}", "--ops", ops,
                           "--dtype", "float64", "--seed", "1", "--examples", "8",
                           "--results", str(out), "-k", "test_forward", *extra,
                           extra_path=user_pkg)
    return proc, records(out)


def test_random_walk_normalization_is_caught(user_pkg, tmp_path):
    proc, recs = run(user_pkg, tmp_path, "RandomWalkLaplacian", "graph.normalized_laplacian")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "graph.normalized_laplacian forward on torch" in proc.stdout
    (fail,) = [r for r in recs if r["verdict"] == "fail"]
    assert fail["spec"] == "graph.normalized_laplacian" and fail["ratio"] > 1e6
    assert fail["case"]["kwargs"]["normalization"] == "sym"


def test_the_builtin_normalized_laplacian_passes(tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "torch", "--ops", "graph.normalized_laplacian",
                           "--dtype", "float64", "--seed", "1", "--examples", "8",
                           "--results", str(out), "-k", "test_forward")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_eigenvector_sign_flip_is_not_a_bug(user_pkg, tmp_path):
    proc, recs = run(user_pkg, tmp_path, "FlippedEigenvectors", "graph.fourier/*")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checked = {r["spec"] for r in recs if r["verdict"] == "pass"}
    assert checked == {"graph.fourier/distinct", "graph.fourier/repeated"}


def test_eigenvectors_paired_with_the_wrong_eigenvalues_are_caught(user_pkg, tmp_path):
    proc, recs = run(user_pkg, tmp_path, "ShuffledEigenvectors", "graph.fourier/distinct")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (fail,) = [r for r in recs if r["verdict"] == "fail"]
    assert fail["worst"]["output"] in ("reconstruction", "projections") and fail["ratio"] > 1e6
