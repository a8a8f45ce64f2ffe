"""The spectral graph oracle (oracle/graph/spectral.py) and the eigen-derivative rule
(oracle/autodiff/linalg.py) against independent evidence: closed-form spectra of paths,
cycles, complete graphs and stars, SciPy's csgraph Laplacian, the Dirichlet energy's
identities, numpy.polynomial.chebyshev on the spectrum, SciPy's matrix functions (expm, cosm,
solve) for g(L) x, mpmath's eigsy, and central differences for the eigen-derivatives."""

import itertools

import mpmath
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse.csgraph as csgraph
from numpy.polynomial import chebyshev as C

from oracle import _canon, autodiff
from oracle import graph as GR
from oracle.autodiff import DegenerateEigenvalues, Dual
from oracle.autodiff.linalg import eigh_accurate, refine


def undirected(pairs, weights=None):
    """Both directions of each pair (the oracle's representation of an undirected graph)."""
    src, dst, w = [], [], []
    for k, (a, b) in enumerate(pairs):
        wk = 1.0 if weights is None else weights[k]
        src += [a, b]
        dst += [b, a]
        w += [wk, wk]
    return np.array([src, dst]), np.array(w)


def path(n):
    return undirected([(i, i + 1) for i in range(n - 1)])


def cycle(n):
    return undirected([(i, (i + 1) % n) for i in range(n)])


def complete(n):
    return undirected(list(itertools.combinations(range(n), 2)))


def star(n):
    return undirected([(0, i) for i in range(1, n)])


def eigenvalues(ei, w, n, normalization=None, isolated="one"):
    return GR.fourier(np.zeros((n, 1)), ei, w, normalization=normalization,
                      isolated=isolated).eigenvalues


# --------------------------------------------------------------------------- Laplacians


@pytest.mark.parametrize("n", [2, 5, 9])
def test_path_cycle_complete_star_spectra(n):
    k = np.arange(n)
    assert np.allclose(eigenvalues(*path(n), n), np.sort(2 - 2 * np.cos(np.pi * k / n)),
                       atol=1e-13)
    if n > 2:
        assert np.allclose(eigenvalues(*cycle(n), n), np.sort(2 - 2 * np.cos(2 * np.pi * k / n)),
                           atol=1e-13)
        assert np.allclose(eigenvalues(*cycle(n), n, "sym"),
                           np.sort(1 - np.cos(2 * np.pi * k / n)), atol=1e-13)
    assert np.allclose(eigenvalues(*complete(n), n), [0] + [n] * (n - 1), atol=1e-13)
    assert np.allclose(eigenvalues(*complete(n), n, "sym"), [0] + [n / (n - 1)] * (n - 1),
                       atol=1e-13)
    if n > 2:  # star: 0, 1 (n - 2 times), n; normalized 0, 1 (n - 2 times), 2
        assert np.allclose(eigenvalues(*star(n), n), [0] + [1] * (n - 2) + [n], atol=1e-13)
        assert np.allclose(eigenvalues(*star(n), n, "sym"), [0] + [1] * (n - 2) + [2],
                           atol=1e-13)


def test_laplacian_by_hand_with_loops_and_multi_edges():
    # 0 -> 1 twice (weights 1 and 2), 1 -> 2 (3), a loop at 2 (5): out-degrees 3, 3, 0
    ei = np.array([[0, 0, 1, 2], [1, 1, 2, 2]])
    w = np.array([1.0, 2.0, 3.0, 5.0])
    expect = np.array([[3.0, -3.0, 0.0], [0.0, 3.0, -3.0], [0.0, 0.0, 0.0]])
    assert np.array_equal(GR.laplacian(ei, w, num_nodes=3), expect)
    sym = GR.normalized_laplacian(ei, w, num_nodes=4)
    assert sym[2, 2] == 1.0 and sym[3, 3] == 1.0  # isolated (a loop only; no edges)
    assert GR.normalized_laplacian(ei, w, num_nodes=4, isolated="zero")[3, 3] == 0.0
    rw = GR.normalized_laplacian(ei, w, num_nodes=3, normalization="rw")
    assert np.allclose(rw, [[1, -1, 0], [0, 1, -1], [0, 0, 1]])


def test_normalized_laplacian_matches_scipy_csgraph():
    rng = np.random.default_rng(0)
    a = np.triu(rng.uniform(0.5, 2.0, (7, 7)) * (rng.random((7, 7)) < 0.4), 1)
    a[:, 6] = a[6, :] = 0  # node 6 isolated
    a = a + a.T
    s, t = np.nonzero(a)
    ei = np.stack([s, t])
    ours = GR.normalized_laplacian(ei, a[s, t], num_nodes=7, isolated="zero")
    assert np.allclose(ours, csgraph.laplacian(a, normed=True), atol=1e-14)
    assert np.allclose(GR.laplacian(ei, a[s, t], num_nodes=7), csgraph.laplacian(a), atol=1e-14)


def test_adjacency_degrees_and_laplacian_agree():
    ei, w = star(5)
    a = GR.adjacency(ei, w, num_nodes=5)
    assert np.array_equal(GR.laplacian(ei, w, num_nodes=5), np.diag(a.sum(1)) - a)


# --------------------------------------------------------------------------- energy


def test_dirichlet_energy_identities():
    rng = np.random.default_rng(1)
    ei, w = undirected([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)], rng.uniform(0.5, 2, 5))
    x = rng.standard_normal((4, 3))
    pair = GR.dirichlet_energy(x, ei, w)
    quad = GR.dirichlet_energy(x, ei, w, form="quadratic")
    assert np.allclose(pair, quad, rtol=1e-14)
    assert np.all(pair >= 0)
    # constant signals have no energy; energy is quadratic and shift-invariant
    assert np.allclose(GR.dirichlet_energy(np.ones((4, 2)), ei, w), 0)
    assert np.allclose(GR.dirichlet_energy(3 * x + 7, ei, w), 9 * pair)
    # in the spectral domain: sum_k lambda_k |x_hat_k|^2
    lam, x_hat, _ = GR.fourier(x, ei, w)
    assert np.allclose(pair, (lam[:, None] * x_hat**2).sum(0), rtol=1e-12)
    # by hand: one edge of weight 2 between values 1 and 4 (both directions): 2 * 9
    assert GR.dirichlet_energy(np.array([1.0, 4.0]), *undirected([(0, 1)], [2.0])) == 18.0


# --------------------------------------------------------------------------- Fourier


def weighted_graph(seed=0):
    rng = np.random.default_rng(seed)
    ei, w = undirected([(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (1, 3)],
                       rng.uniform(0.5, 2.0, 6))
    return ei, w, rng.standard_normal((5, 2))


def test_fourier_round_trip_parseval_and_basis_invariance():
    ei, w, x = weighted_graph()
    lam, x_hat, u = GR.fourier(x, ei, w)
    assert np.allclose(u.T @ u, np.eye(5), atol=1e-14)
    assert np.allclose(GR.inverse_fourier(x_hat, ei, w), x, atol=1e-14)
    assert np.allclose((x_hat**2).sum(0), (x**2).sum(0))
    inv = GR.fourier_invariants(x, ei, w)
    assert np.allclose(inv.reconstruction, GR.laplacian(ei, w, num_nodes=5), atol=1e-14)
    assert np.allclose(inv.roundtrip, x, atol=1e-14)
    # a sign flip of any eigenvector changes U and x_hat but none of the invariants
    flipped = u * np.array([1, -1, 1, -1, -1])
    assert np.allclose(np.einsum("ni,if->inf", flipped, flipped.T @ x), inv.projections)


def test_repeated_eigenspace_projections_do_not_depend_on_the_basis():
    ei, w = cycle(6)  # eigenvalues 0, 1, 1, 3, 3, 4
    x = np.random.default_rng(2).standard_normal((6, 2))
    ids = np.array([0, 1, 1, 2, 2, 3])
    inv = GR.fourier_invariants(x, ei, w, ids)
    lam, u = GR.spectrum(ei, w, 6, None)
    for i, j in [(1, 2), (3, 4)]:  # rotate inside each double eigenvalue
        c, s = np.cos(0.7), np.sin(0.7)
        u[:, [i, j]] = u[:, [i, j]] @ np.array([[c, -s], [s, c]])
    for k in range(6):
        sel = ids == ids[k]
        assert np.allclose(inv.projections[k], u[:, sel] @ (u[:, sel].T @ x), atol=1e-14)
    assert np.allclose(inv.projections[[0, 1, 3, 5]].sum(0), x)
    synth = GR.inverse_fourier_invariants(x, ei, w, np.array([2.0, -1.0, 0.5, 3.0, 9.0, 9.0]),
                                          ids).synthesis
    lap = GR.laplacian(ei, w, num_nodes=6)
    # c per eigenspace: 2 on {0}, -1 on {1}, 0.5 on {3}, 3 on {4} is a polynomial in L
    poly = np.polynomial.Polynomial.fit([0, 1, 3, 4], [2, -1, 0.5, 3], 3).convert().coef
    expect = sum(ck * np.linalg.matrix_power(lap, k) for k, ck in enumerate(poly)) @ x
    assert np.allclose(synth, expect, atol=1e-12)


@pytest.mark.parametrize("kernel", ["heat", "rational", "cosine"])
def test_spectral_filter_against_scipy_matrix_functions(kernel):
    ei, w, x = weighted_graph(3)
    lap = GR.laplacian(ei, w, num_nodes=5)
    t = 0.75
    expect = {"heat": lambda: scipy.linalg.expm(-t * lap) @ x,
              "rational": lambda: np.linalg.solve(np.eye(5) + t * lap, x),
              "cosine": lambda: scipy.linalg.cosm(t * lap) @ x}[kernel]()
    assert np.allclose(GR.spectral_filter(x, ei, w, kernel=kernel, t=t), expect, atol=1e-13)


@pytest.mark.parametrize("normalization,lambda_max", [("sym", 2.0), ("sym", 1.5), (None, 7.0)])
def test_chebyshev_recurrence_against_numpy_chebyshev(normalization, lambda_max):
    """Scalar coefficients W_k = theta_k I: y = U T(lambda~) U^T x, with T evaluated on the
    spectrum by numpy.polynomial.chebyshev."""
    ei, w, x = weighted_graph(4)
    theta = np.array([0.5, -1.0, 0.25, 2.0])
    wk = np.stack([t * np.eye(2) for t in theta])
    y = GR.chebyshev(x, ei, w, wk, None, lambda_max=lambda_max, normalization=normalization)
    lam, u = GR.spectrum(ei, w, 5, normalization)
    scaled = 2 * lam / lambda_max - 1
    assert np.allclose(y, u @ (C.chebval(scaled, theta)[:, None] * (u.T @ x)), atol=1e-12)


# --------------------------------------------------------------------------- eigh


def test_refine_reaches_float64_rounding_against_mpmath():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((9, 9))
    a = a + a.T
    w, u = refine(a, *np.linalg.eigh(a))
    with mpmath.workdps(40):
        vals, vecs = mpmath.eigsy(mpmath.matrix(a.tolist()))
        order = np.argsort([float(v) for v in vals])
        exact = np.array([[float(vecs[i, int(k)]) for k in order] for i in range(9)])
        exact_w = np.array([float(vals[int(k)]) for k in order])
    exact *= np.sign((exact * u).sum(0))
    assert np.max(np.abs(u - exact)) <= 4 * np.finfo(float).eps
    assert np.max(np.abs(w - exact_w)) <= 4 * np.finfo(float).eps * np.max(np.abs(exact_w))


def test_float32_eigensolver_is_a_genuine_float32_one():
    """The naive evaluation's eigensolver errs as a float32 solver does (NumPy's eigh on
    float32 input does not: it is accurate to a fraction of an ulp)."""
    rng = np.random.default_rng(6)
    worst = 0.0
    for _ in range(20):
        a = rng.standard_normal((12, 12)).astype(np.float32)
        a = a + a.T
        _, u64 = refine(a.astype(np.float64), *np.linalg.eigh(a.astype(np.float64)))
        w32, u32 = eigh_accurate(a)
        assert u32.dtype == np.float32
        err = np.abs(u32 * np.sign((u32 * u64).sum(0)) - u64).max()
        worst = max(worst, err / np.finfo(np.float32).eps)
    assert worst > 1.0


def central(f, x, t, h=1e-6):
    return (f(x + h * t) - f(x - h * t)) / (2 * h)


@pytest.mark.parametrize("accurate", [False, True])
def test_eigen_derivative_rule_against_central_differences(accurate):
    rng = np.random.default_rng(7)
    a = np.diag([0.0, 1.0, 2.5, 4.0, 6.0]) + 0.05 * rng.standard_normal((5, 5))
    a = (a + a.T) / 2  # gaps about 1: a clear gap everywhere
    t = rng.standard_normal((5, 5))
    t = (t + t.T) / 2
    eig = eigh_accurate if accurate else np.linalg.eigh
    out = eig(Dual(a, t))
    u0 = np.linalg.eigh(a)[1]

    def vecs(m):  # eigenvectors with the signs of u0, so differences are smooth
        u = np.linalg.eigh(m)[1]
        return u * np.sign((u * u0).sum(0))

    assert np.allclose(out[0].tangent, central(lambda m: np.linalg.eigh(m)[0], a, t), atol=1e-8)
    assert np.allclose(out[1].tangent, central(vecs, a, t), atol=1e-8)


def test_eigen_derivative_reads_the_lower_triangle_like_numpy():
    rng = np.random.default_rng(8)
    a = np.diag([1.0, 2.0, 4.0]) + 0.1
    upper = np.triu(rng.standard_normal((3, 3)), 1)  # numpy.linalg.eigh ignores this part
    out = np.linalg.eigh(Dual(a, upper))
    assert np.allclose(out[0].tangent, 0) and np.allclose(out[1].tangent, 0)


def test_repeated_eigenvalues_are_declared_not_guessed():
    ei, w = cycle(6)
    with pytest.raises(DegenerateEigenvalues, match="repeated eigenvalues"):
        autodiff.jvp(lambda w_: GR.fourier_invariants(np.ones((6, 1)), ei, w_).eigenvalues,
                     [w], {}, {0: np.ones_like(w)})
    # derivatives w.r.t. the signal need no eigen-derivative: they exist
    _, (tan,) = autodiff.jvp(lambda x: GR.spectral_filter(x, ei, w), [np.ones((6, 1))], {},
                             {0: np.eye(6)[:, :1]})
    assert np.allclose(tan, scipy.linalg.expm(-GR.laplacian(ei, w, num_nodes=6))[:, :1])


def test_spectral_ops_run_in_float32():
    ei, w, x = weighted_graph(9)
    with _canon.compute_dtype(np.float32):
        y = GR.fourier_invariants(x.astype(np.float32), ei, w.astype(np.float32))
    assert all(v.dtype == np.float32 for v in y)
    assert np.allclose(y.roundtrip, x, atol=1e-5)


def test_eigen_derivative_on_a_weighted_graph_against_central_differences():
    """The rule through the whole spectral path: the invariants and g(L) x of a weighted
    5-node graph with a clear gap (checked), differentiated w.r.t. the edge weights."""
    ei, w, x = weighted_graph(11)
    lam = eigenvalues(ei, w, 5)
    assert np.min(np.diff(lam)) > 0.1 * lam[-1]
    t = np.random.default_rng(12).standard_normal(w.size)
    t = t.reshape(-1, 2)[:, :1].repeat(2, axis=1).ravel()  # symmetric: both directions alike

    def invariants(w_):
        inv = GR.fourier_invariants(x, ei, w_)
        return [inv.eigenvalues, inv.reconstruction, inv.projections,
                GR.spectral_filter(x, ei, w_, kernel="cosine", t=0.5)]

    _, tans = autodiff.jvp(lambda w_: tuple(invariants(w_)), [w], {}, {0: t})
    plus, minus = invariants(w + 1e-6 * t), invariants(w - 1e-6 * t)
    assert len(tans) == 4
    for got, p, m in zip(tans, plus, minus):
        assert np.allclose(got, (p - m) / 2e-6, atol=1e-7)
