"""Hand values of the issue-17 kernel options of the dense family: Gemm's alpha and beta
(how the expected values and tolerances are chosen: tests/_options.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import dense as D
from oracle.precise import dense as PD
from tests._options import close, precise


# --- dense --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [D.dense, PD.dense])
def test_gemm_alpha_beta(fn):
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [0.5, -1.0]]), np.array([5.0, 1.0])
    # x W^T = [11, -1.5]; 2 * that - 1/2 * b = [19.5, -3.5].
    close(precise(fn, x, w, b, alpha=2.0, beta=-0.5), [[19.5, -3.5]])
    # beta = 0 drops the bias, alpha = 0 the product.
    close(precise(fn, x, w, b, alpha=1.0, beta=0.0), [[11.0, -1.5]])
    close(precise(fn, x, w, b, alpha=0.0, beta=1.0), [[5.0, 1.0]])
