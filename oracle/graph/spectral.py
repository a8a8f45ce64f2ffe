"""Spectral graph theory (notes 004, "Spectral-based GNN"): Laplacians, the Dirichlet
energy, the graph Fourier transform and its inverse, spectral filters g(L) x and the
Chebyshev recurrence of ChebNet.

Graph representation: ``oracle/graph/_base.py``. Laplacians are dense (N, N) arrays.

Laplacians follow the adjacency A[s, t] of the edge list and its out-degrees D (row sums):
L = D - A. Self loops cancel in D - A and are ignored by every Laplacian here, as PyG's
``get_laplacian`` and SciPy's ``csgraph.laplacian`` do (a node whose only edges are self
loops is isolated). The normalized Laplacians are L_sym = I - D^-1/2 A D^-1/2 and
L_rw = I - D^-1 A with 0^-1/2 = 0^-1 = 0, so an isolated node keeps 1 on the diagonal
(``isolated="one"``: the formula read literally, and PyG); ``isolated="zero"`` puts 0 there,
the form D^-1/2 (D - A) D^-1/2 of SciPy and NetworkX.

The Fourier basis. The spectral ops use the Laplacian of the symmetrized graph,
(L + L^T) / 2, decomposed as U diag(lambda) U^T (ascending eigenvalues) by
``oracle.autodiff.linalg.eigh_accurate``: in float64 NumPy's eigh refined with
extended-precision residuals (a reference accurate to float64 rounding, where plain eigh is
only accurate to eps ||L|| / gap), in the other dtypes plain ``numpy.linalg.eigh`` (the naive
evaluation): for an undirected edge list it is L itself, and for any other list it makes
every perturbation of a weight a symmetric one (eigensolvers read one triangle, so a
non-symmetric input would make each framework's answer depend on which). The eigenvectors
are defined only up to sign, and up to a rotation inside a repeated eigenvalue: the raw
transform fixes the sign of each column (its entry of largest magnitude, the first such, is
positive) but nothing fixes a basis inside a repeated eigenvalue, so ``fourier_invariants``
and ``inverse_fourier_invariants`` give the quantities that are defined: eigenvalues, the
reconstruction U diag(lambda) U^T, the projection of x onto each eigenspace, U U^T x. Their
derivatives through eigh come from the rule of ``oracle/autodiff/linalg.py`` (first-order
perturbation, distinct eigenvalues only: it raises at repeated ones).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon
from oracle.autodiff.linalg import eigh_accurate
from oracle.graph import _base as G

_NORMALIZATIONS = (None, "sym", "rw")
_ISOLATED = ("one", "zero")


def laplacian(edge_index: Any, edge_weight: Any = None, *, num_nodes: int) -> Any:
    """L = D - A (N, N): D the out-degrees (row sums of A), self loops ignored."""
    src, dst = G.check_edges(edge_index, num_nodes)
    src, dst, w = G.without_self_loops(src, dst, G.weights(edge_weight, src.size))
    lap = _canon.zeros((num_nodes, num_nodes), like=w)
    np.add.at(lap, (src, dst), -w)
    np.add.at(lap, (src, src), w)
    return lap


def normalized_laplacian(edge_index: Any, edge_weight: Any = None, *, num_nodes: int,
                         normalization: str = "sym", isolated: str = "one") -> Any:
    """L_sym = I - D^-1/2 A D^-1/2 (``normalization="sym"``) or L_rw = I - D^-1 A ("rw"),
    D the out-degrees, self loops ignored. ``isolated``: "one" (1 on an isolated node's
    diagonal: the formula with 0^-1/2 = 0, PyG) or "zero" (SciPy, NetworkX)."""
    if normalization not in ("sym", "rw"):
        raise ValueError(f"normalization must be 'sym' or 'rw', got {normalization!r}")
    if isolated not in _ISOLATED:
        raise ValueError(f"isolated must be one of {_ISOLATED}, got {isolated!r}")
    src, dst = G.check_edges(edge_index, num_nodes)
    src, dst, w = G.without_self_loops(src, dst, G.weights(edge_weight, src.size))
    deg = G.out_degree(src, w, num_nodes)
    if normalization == "sym":
        s = G.inv_sqrt(deg)
        off = s[src] * w * s[dst]
    else:
        off = G.inv(deg)[src] * w
    lap = _canon.zeros((num_nodes, num_nodes), like=(off, deg))
    np.add.at(lap, (src, dst), -off)
    diag = np.arange(num_nodes)
    ones = _canon.scalar(1.0)
    if isolated == "one":
        lap[diag, diag] = lap[diag, diag] + ones
    else:
        lap[diag, diag] = lap[diag, diag] + np.where(_canon.primal(deg) > 0, ones, 0 * ones)
    return lap


def graph_laplacian(edge_index: Any, edge_weight: Any, num_nodes: int,
                    normalization: str | None, isolated: str = "one") -> Any:
    """``laplacian`` (normalization None) or ``normalized_laplacian``."""
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}")
    if normalization is None:
        return laplacian(edge_index, edge_weight, num_nodes=num_nodes)
    return normalized_laplacian(edge_index, edge_weight, num_nodes=num_nodes,
                                normalization=normalization, isolated=isolated)


def dirichlet_energy(x: Any, edge_index: Any, edge_weight: Any = None, *,
                     form: str = "pairwise") -> Any:
    """The Dirichlet energy of each column of the signal x (N,) or (N, F): (F,) or ().

    ``form="pairwise"``: 1/2 sum over edges of w (x_s - x_t)^2 (a sum of squares, no
    cancellation); ``form="quadratic"``: x^T L x with L = D - A, which cancels for smooth x.
    The two agree for an undirected edge list; for a directed one the quadratic form sees
    out-degrees only, the pairwise one both endpoints.
    """
    x = _canon.asarray(x)
    n = x.shape[0]
    src, dst = G.check_edges(edge_index, n)
    w = G.weights(edge_weight, src.size)
    if form == "pairwise":
        diff = x[src] - x[dst]
        ww = w if x.ndim == 1 else w[:, None]
        return _canon.scalar(0.5) * np.sum(ww * diff * diff, axis=0)
    if form == "quadratic":
        lx = G.mm(laplacian(edge_index, edge_weight, num_nodes=n), x)
        return np.sum(x * lx, axis=0)
    raise ValueError(f"form must be 'pairwise' or 'quadratic', got {form!r}")


# --------------------------------------------------------------------------- Fourier


class GraphFourier(NamedTuple):
    """eigenvalues (N,) ascending, x_hat = U^T x, basis U (columns, signs fixed)."""

    eigenvalues: Any
    x_hat: Any
    basis: Any


def spectrum(edge_index: Any, edge_weight: Any, num_nodes: int, normalization: str | None,
             isolated: str = "one") -> tuple[Any, Any]:
    """(eigenvalues, U) of the symmetrized Laplacian, each column's largest-magnitude entry
    (the first such) positive. Degenerate derivatives raise (oracle/autodiff/linalg.py)."""
    lap = graph_laplacian(edge_index, edge_weight, num_nodes, normalization, isolated)
    sym = _canon.scalar(0.5) * (lap + lap.T)
    lam, u = eigh_accurate(sym)
    up = _canon.primal(u)
    lead = np.argmax(np.abs(up), axis=0)
    signs = np.where(up[lead, np.arange(num_nodes)] < 0, -1, 1).astype(up.dtype)
    return lam, u * signs


def _as_columns(x: Any) -> tuple[Any, bool]:
    x = _canon.asarray(x)
    return (x[:, None], True) if x.ndim == 1 else (x, False)


def fourier(x: Any, edge_index: Any, edge_weight: Any = None, *,
            normalization: str | None = None, isolated: str = "one") -> GraphFourier:
    """The graph Fourier transform x_hat = U^T x of x (N,) or (N, F), with L = U diag U^T.
    Signs and bases inside repeated eigenvalues are conventions: compare
    ``fourier_invariants``, never U."""
    x = _canon.asarray(x)
    lam, u = spectrum(edge_index, edge_weight, x.shape[0], normalization, isolated)
    return GraphFourier(lam, G.mm(u.T, x), u)


def inverse_fourier(x_hat: Any, edge_index: Any, edge_weight: Any = None, *,
                    normalization: str | None = None, isolated: str = "one") -> Any:
    """x = U x_hat, with the basis of ``fourier`` (same sign convention)."""
    x_hat = _canon.asarray(x_hat)
    _, u = spectrum(edge_index, edge_weight, x_hat.shape[0], normalization, isolated)
    return G.mm(u, x_hat)


def cluster_ids(clusters: Any, n: int) -> np.ndarray:
    """The eigenspace id of each eigenvalue (ascending): ``clusters`` (N,) integers that
    start at 0 and step by 0 or 1 (equal ids: one eigenspace), or None (all distinct)."""
    if clusters is None:
        return np.arange(n)
    ids = np.asarray(clusters)
    steps = np.diff(ids)
    if (ids.shape != (n,) or ids.dtype.kind not in "iu" or (n and ids[0] != 0)
            or np.any((steps != 0) & (steps != 1))):
        raise ValueError(f"clusters must be eigenspace ids 0, 0/1 steps, of length {n}")
    return ids.astype(np.int64)


class FourierInvariants(NamedTuple):
    """What the Fourier basis determines: eigenvalues (N,), the reconstruction
    U diag(lambda) U^T (N, N), projections (N, N, F) whose row i is the projection of x onto
    the eigenspace of lambda_i (a repeated eigenvalue's rows repeat its eigenspace's), and
    U U^T x (N, F)."""

    eigenvalues: Any
    reconstruction: Any
    projections: Any
    roundtrip: Any


def _projections(u: Any, x_hat: Any, ids: np.ndarray) -> Any:
    n = u.shape[0]
    proj = _canon.zeros((n, n, x_hat.shape[1]), like=(u, x_hat))
    for c in range(int(ids.max(initial=-1)) + 1):
        sel = np.flatnonzero(ids == c)
        p = G.mm(u[:, sel], x_hat[sel])
        for i in sel:
            proj[i] = p
    return proj


def fourier_invariants(x: Any, edge_index: Any, edge_weight: Any = None, clusters: Any = None,
                       *, normalization: str | None = None,
                       isolated: str = "one") -> FourierInvariants:
    """The basis-free content of ``fourier``. ``clusters``: the eigenspace id of each
    eigenvalue in ascending order (``cluster_ids``; None: all distinct); a projection onto a
    whole eigenspace is independent of the basis chosen inside it."""
    xc, _ = _as_columns(x)
    n = xc.shape[0]
    ids = cluster_ids(clusters, n)
    lam, u = spectrum(edge_index, edge_weight, n, normalization, isolated)
    x_hat = G.mm(u.T, xc)
    return FourierInvariants(lam, G.mm(u * lam, u.T), _projections(u, x_hat, ids),
                             G.mm(u, x_hat))


class InverseFourierInvariants(NamedTuple):
    """synthesis U (c o U^T x) with c constant on each eigenspace (N, F), and U U^T x."""

    synthesis: Any
    roundtrip: Any


def inverse_fourier_invariants(x: Any, edge_index: Any, edge_weight: Any, c: Any,
                               clusters: Any = None, *, normalization: str | None = None,
                               isolated: str = "one") -> InverseFourierInvariants:
    """The inverse transform of a spectrum modified per eigenspace: U (c_ids o x_hat) with
    x_hat = U^T x and c (N,) one coefficient per eigenspace id (``cluster_ids``; entries of
    unused ids have no effect): basis-free, it is sum_c c_c P_c x. Also U U^T x."""
    xc, _ = _as_columns(x)
    n = xc.shape[0]
    c = _canon.asarray(c)
    if c.shape != (n,):
        raise ValueError(f"c must have one entry per possible eigenspace ({n},), got {c.shape}")
    ids = cluster_ids(clusters, n)
    lam, u = spectrum(edge_index, edge_weight, n, normalization, isolated)
    x_hat = G.mm(u.T, xc)
    return InverseFourierInvariants(G.mm(u, c[ids][:, None] * x_hat), G.mm(u, x_hat))


_KERNELS = ("heat", "rational", "cosine")


def filter_response(lam: Any, kernel: str, t: float) -> Any:
    """g(lambda): heat exp(-t lambda), rational 1 / (1 + t lambda), cosine cos(t lambda)."""
    tt = _canon.scalar(t)
    if kernel == "heat":
        return np.exp(-tt * lam)
    if kernel == "rational":
        return 1 / (1 + tt * lam)
    if kernel == "cosine":
        return np.cos(tt * lam)
    raise ValueError(f"kernel must be one of {_KERNELS}, got {kernel!r}")


def spectral_filter(x: Any, edge_index: Any, edge_weight: Any = None, *, kernel: str = "heat",
                    t: float = 1.0, normalization: str | None = None,
                    isolated: str = "one") -> Any:
    """y = U g(Lambda) U^T x = g(L) x (basis-free) for x (N,) or (N, F)."""
    xc, vector = _as_columns(x)
    lam, u = spectrum(edge_index, edge_weight, xc.shape[0], normalization, isolated)
    g = filter_response(lam, kernel, t)
    y = G.mm(u, g[:, None] * G.mm(u.T, xc))
    return y[:, 0] if vector else y


def chebyshev(x: Any, edge_index: Any, edge_weight: Any, w: Any, b: Any = None, *,
              lambda_max: float, normalization: str | None = "sym",
              isolated: str = "one") -> Any:
    """ChebNet: y = sum_{k<K} T_k(L~) x W_k^T + b, L~ = 2 L / lambda_max - I, by the
    recurrence T_0 x = x, T_1 x = L~ x, T_k x = 2 L~ T_{k-1} x - T_{k-2} x.

    x (N, F_in), w (K, F_out, F_in) (K terms: degree K - 1), b (F_out,) or None. L is the
    Laplacian of ``normalization`` (PyG ChebConv's default "sym"). The operator applied is
    L~^T: messages flow source -> target as in PyG (for an undirected graph L~^T = L~).
    ``lambda_max`` is a parameter (PyG's default, 2 * max entry of L, is 2 for "sym").
    """
    x = _canon.asarray(x)
    w = _canon.asarray(w)
    n = x.shape[0]
    if w.ndim != 3 or w.shape[2] != x.shape[1] or w.shape[0] < 1:
        raise ValueError(f"w must be (K, F_out, F_in={x.shape[1]}), got {w.shape}")
    lap = graph_laplacian(edge_index, edge_weight, n, normalization, isolated)
    scaled = _canon.scalar(2.0 / lambda_max) * lap.T - _canon.asarray(np.eye(n))
    terms = [x]
    if w.shape[0] > 1:
        terms.append(G.mm(scaled, x))
    for _ in range(2, w.shape[0]):
        terms.append(_canon.scalar(2.0) * G.mm(scaled, terms[-1]) - terms[-2])
    out = G.linear(terms[0], w[0])
    for k in range(1, w.shape[0]):
        out = out + G.linear(terms[k], w[k])
    return out if b is None else out + _canon.asarray(b)
