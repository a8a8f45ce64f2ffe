"""Textbook evaluations of the ``aug`` family (``OpSpec.textbook``).

Only aug.pca_jitter/eigen needs one: a value-only spec (no derivative is checked), whose
hook therefore answers mode "forward" (conformance/checks.py asks a spec without
``grad_wrt`` for a second naive evaluation of its values).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def eigenpairs(mode: str, args: list[np.ndarray], kwargs: dict[str, Any],
               outs: list[np.ndarray], seeds: Any) -> list[np.ndarray]:
    """A second naive evaluation of the eigen step in the tested dtype, summing in another
    order: the channel means and the covariance accumulated sequentially (np.cumsum) where
    the oracle's run uses NumPy's pairwise sums and a matrix product. An eigenvector's
    rounding error follows the covariance's, which is a cancelling sum when the pixels
    spread little around their mean: there two independent roundings of equal size (the
    kernel's and one naive run) can differ by more than C, and the larger naive error
    counts (seen: torch float32, one eigenvector entry 1.14 x the single-run bound)."""
    data = args[0]
    pixels = np.moveaxis(data, 1, -1).reshape(-1, 3)
    count = pixels.dtype.type(pixels.shape[0])
    dev = pixels - np.cumsum(pixels, axis=0)[-1] / count
    cov = np.cumsum(dev[:, :, None] * dev[:, None, :], axis=0)[-1] / (count - 1)
    vals, vecs = np.linalg.eigh(cov)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    lead = vecs[np.argmax(np.abs(vecs), axis=0), np.arange(3)]
    return [vals, vecs * np.where(lead < 0, -1, 1).astype(vecs.dtype)]
