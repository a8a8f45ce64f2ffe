"""AlexNet PCA lighting noise and additive Gaussian noise, given their random draws.

PCA lighting (Krizhevsky et al. 2012, §4.1): the eigenpairs (lambda_i, p_i) of the 3 x 3
covariance of the training set's RGB pixel values are computed once; each image then gets
[p_1 p_2 p_3] [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3]^T added to every pixel,
alpha_i ~ N(0, 0.1^2) drawn once per image.

Choice for derivatives: ``pca_lighting`` takes the eigenpairs as inputs (as the recipe
does: they belong to the data set, not to the image being augmented), so it is bilinear in
(alphas, eigenvalues) and linear in eigenvectors and image, and runs on dual numbers
unchanged. ``rgb_eigenpairs`` (covariance and eigh) is the data-set step; its spec checks
values only (oracle/autodiff/linalg.py's eigh rule would carry duals through it, with the
sign convention's flips constant, but no derivative of it is checked).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from oracle import _canon


class Eigenpairs(NamedTuple):
    eigvals: Any  # (3,), descending
    eigvecs: Any  # (3, 3), column i is the eigenvector of eigvals[i]


def pca_lighting(x: Any, alphas: Any, eigvals: Any, eigvecs: Any) -> Any:
    """x + sum_i alphas[n, i] * eigvals[i] * eigvecs[:, i] for every pixel of image n.

    x: (N, 3, H, W); alphas: (N, 3); eigvals: (3,); eigvecs: (3, 3), eigenvectors as
    columns. The offset is a per-image RGB vector added to all pixels (no clipping)."""
    x, alphas = _canon.asarray(x), _canon.asarray(alphas)
    eigvals, eigvecs = _canon.asarray(eigvals), _canon.asarray(eigvecs)
    n = np.shape(_canon.primal(x))[0]
    if np.shape(_canon.primal(alphas)) != (n, 3) or np.shape(_canon.primal(eigvals)) != (3,) \
            or np.shape(_canon.primal(eigvecs)) != (3, 3):
        raise ValueError("need x (N, 3, H, W), alphas (N, 3), eigvals (3,), eigvecs (3, 3)")
    # sum_i eigvecs[c, i] alphas[n, i] eigvals[i], by broadcasting (einsum has no bfloat16)
    offset = np.sum(eigvecs[None, :, :] * (alphas * eigvals[None, :])[:, None, :], axis=2)
    return x + offset[:, :, None, None]


def rgb_covariance(data: Any, *, ddof: int = 1) -> np.ndarray:
    """The 3 x 3 covariance of all RGB pixels of ``data`` (N, 3, H, W), two-pass: the
    channel means first, then the mean products of deviations (divided by M - ddof, M the
    number of pixels; ddof = 1 as np.cov and torch.cov)."""
    d = _canon.asarray(data)
    pixels = np.moveaxis(d, 1, -1).reshape(-1, 3)
    dev = pixels - np.mean(pixels, axis=0, keepdims=True)
    return dev.T @ dev / _canon.scalar(pixels.shape[0] - ddof)


def rgb_eigenpairs(data: Any, *, ddof: int = 1) -> Eigenpairs:
    """Eigenpairs of ``rgb_covariance(data)``, eigenvalues descending. Sign convention:
    each eigenvector's entry of largest magnitude is positive (eigh's signs are arbitrary,
    and the lighting offset changes sign with them)."""
    cov = rgb_covariance(data, ddof=ddof)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    lead = vecs[np.argmax(np.abs(vecs), axis=0), np.arange(3)]
    return Eigenpairs(vals, vecs * np.where(lead < 0, -1, 1).astype(vecs.dtype))


def gaussian_noise(x: Any, noise: Any, *, sigma: float, mean: float = 0.0) -> Any:
    """x + mean + sigma * noise, given the standard-normal draw ``noise`` (shaped like x):
    the noise-injection regularizer N(mean, sigma^2) (Keras GaussianNoise has mean 0; kornia
    RandomGaussianNoise adds mean + sigma * randn)."""
    x, noise = _canon.asarray(x), _canon.asarray(noise)
    return x + (_canon.scalar(mean) + _canon.scalar(sigma) * noise)
