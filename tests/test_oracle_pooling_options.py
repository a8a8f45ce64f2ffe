"""Hand values of the issue-17 kernel options of the pooling family: Lp pooling's norm_type,
divisor_override, TF's SAME padding, wide padding and k smallest
(how the expected values and tolerances are chosen: tests/_options.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import pooling as P
from oracle.precise import pooling as PP
from tests._options import close, precise

# --- pooling ------------------------------------------------------------------------------------
X4 = np.array([[[-1.0, 2.0, -3.0, 4.0]]])


@pytest.mark.parametrize("fn", [P.l2_pool, PP.l2_pool])
def test_lp_pool_of_the_absolute_values(fn):
    # Kernel 2, stride 2: windows [-1, 2] and [-3, 4].
    close(precise(fn, X4, kernel=2, mean=False, norm_type=1.0), [[[3.0, 7.0]]])
    close(precise(fn, X4, kernel=2, mean=False, norm_type=3.0),
          [[[9.0 ** (1 / 3), 91.0 ** (1 / 3)]]])
    # mean=True divides inside the root: ((1 + 8) / 2)^(1/3).
    close(precise(fn, X4, kernel=2, mean=True, norm_type=3.0),
          [[[4.5 ** (1 / 3), 45.5 ** (1 / 3)]]])
    # p = 3/2: (1 + 2 sqrt 2)^(2/3).
    close(precise(fn, X4, kernel=2, mean=False, norm_type=1.5),
          [[[(1 + 2 * 2**0.5) ** (2 / 3), (3**1.5 + 8) ** (2 / 3)]]])


@pytest.mark.parametrize("fn", [P.avg_pool, PP.avg_pool])
def test_divisor_override(fn):
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    close(precise(fn, x, kernel=2, divisor_override=3), [[[1.0, 7 / 3]]])
    # Padding 1, stride 2: windows [0, 1], [2, 3], [4, 0]: sums 1, 5, 4, all over 2.
    close(precise(fn, x, kernel=2, stride=2, padding=1, divisor_override=2),
          [[[0.5, 2.5, 2.0]]])


def test_same_padding_puts_the_odd_extra_element_at_the_end():
    x = np.arange(7.0)[None, None]
    # k = 2, s = 1: total padding 1, after: windows [0, 1] ... [5, 6], [6, pad].
    assert P.same_pads((7,), (2,), (1,), (1,)) == [(0, 1)]
    close(P.avg_pool(x, kernel=2, stride=1, padding="same", count_include_pad=False),
          [[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.0]]])
    close(P.avg_pool(x, kernel=2, stride=1, padding="same", count_include_pad=True),
          [[[0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 3.0]]])
    # k = 3, s = 2: ceil(7 / 2) = 4 windows, total 2 = (1, 1): [p,0,1] [1,2,3] [3,4,5] [5,6,p].
    close(P.max_pool(x, kernel=3, stride=2, padding="same"), [[[1.0, 3.0, 5.0, 6.0]]])
    close(PP.max_pool(x, kernel=3, stride=2, padding="same"), [[[1.0, 3.0, 5.0, 6.0]]])
    with pytest.raises(ValueError, match="no ceil_mode"):
        P.max_pool(x, kernel=2, padding="same", ceil_mode=True)


@pytest.mark.parametrize("fn", [P.kmax_pool, PP.kmax_pool])
def test_k_smallest(fn):
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    close(precise(fn, x, k=2, largest=False), [1.0, 1.0])
    close(precise(fn, x, k=3, largest=False), [3.0, 1.0, 1.0])  # kept in input order
    # Ties: among the 2s the lowest index (0) joins the two 1s.
    close(precise(fn, np.array([2.0, 1.0, 2.0, 1.0, 2.0]), k=3, largest=False),
          [2.0, 1.0, 1.0])


def test_k_smallest_of_unsigned_integers_does_not_wrap():
    x = np.array([3, 0, 250, 7], dtype=np.uint8)
    np.testing.assert_array_equal(P.kmax_pool(x, k=2, largest=False), [3, 0])


@pytest.mark.parametrize("fn", [P.avg_pool, PP.avg_pool])
def test_wide_padding(fn):
    # n = 5, k = 3, s = 2, p = 2 > k // 2: windows [p, p, 1], [1, 2, 3], [3, 4, 5], [5, p, p].
    x = np.arange(1.0, 6.0)[None, None]
    close(precise(fn, x, kernel=3, stride=2, padding=2, wide_padding=True),
          [[[1 / 3, 2.0, 4.0, 5 / 3]]])
    close(precise(fn, x, kernel=3, stride=2, padding=2, wide_padding=True,
                  count_include_pad=False), [[[1.0, 2.0, 4.0, 5.0]]])
    close(precise(PP.max_pool, x, kernel=3, stride=2, padding=2, wide_padding=True),
          [[[1.0, 3.0, 5.0, 5.0]]])
    with pytest.raises(ValueError, match="exceeds half the kernel"):
        P.avg_pool(x, kernel=3, stride=2, padding=2)
