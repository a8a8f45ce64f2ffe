"""Hand values of the issue-17 kernel options of the conv family: convolution padding_mode
(how the expected values and tolerances are chosen: tests/_options.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import conv as C
from oracle.precise import conv as PC
from tests._options import close, precise

# --- convolution --------------------------------------------------------------------------------
X1 = np.array([[[1.0, 2.0, 3.0, 4.0]]])
ONE = np.ones((1, 1, 1))  # a 1-tap identity kernel: the output is the padded input itself


@pytest.mark.parametrize("fn", [C.conv1d, PC.conv1d])
@pytest.mark.parametrize("mode, padded", [
    ("zeros", [0, 0, 1, 2, 3, 4, 0, 0]),
    ("reflect", [3, 2, 1, 2, 3, 4, 3, 2]),  # the edge element is not repeated
    ("replicate", [1, 1, 1, 2, 3, 4, 4, 4]),
    ("circular", [3, 4, 1, 2, 3, 4, 1, 2]),
])
def test_padding_modes(fn, mode, padded):
    close(precise(fn, X1, ONE, padding=2, padding_mode=mode), [[padded]])


def test_padding_mode_with_a_kernel_and_same():
    # k = 2 'same': total 1, after (0, 1); reflect pads [1, 2, 3, 4, 3]; taps [1, 10].
    w = np.array([[[1.0, 10.0]]])
    close(C.conv1d(X1, w, padding="same", padding_mode="reflect"), [[[21.0, 32.0, 43.0, 34.0]]])
    close(C.conv1d(X1, w, padding="same", padding_mode="circular"), [[[21.0, 32.0, 43.0, 14.0]]])


def test_reflect_needs_padding_below_the_size():
    with pytest.raises(ValueError, match="reflect padding"):
        C.conv1d(X1, ONE, padding=4, padding_mode="reflect")
    C.conv1d(X1, ONE, padding=4, padding_mode="circular")  # circular allows p = n
    with pytest.raises(ValueError, match="padding_mode"):
        C.conv1d(X1, ONE, padding=1, padding_mode="symmetric")
