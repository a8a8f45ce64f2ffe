"""Hand values of the issue-17 kernel options of the losses family: cross-entropy class weights,
ignore_index and label_smoothing
(how the expected values and tolerances are chosen: tests/_options.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oracle import losses as L
from oracle.precise import losses as PL
from tests._options import close, precise

LN2, LN3 = math.log(2.0), math.log(3.0)
# Row 0: logits log [1, 2, 1] -> softmax [1/4, 1/2, 1/4]; row 1: equal logits -> 1/3 each.
Z = np.array([[0.0, LN2, 0.0], [0.0, 0.0, 0.0]])
T = np.array([1, 0])
W = np.array([2.0, 1.0, 4.0])


# --- cross-entropy ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_weighted_mean_divides_by_the_targets_weights(fn):
    # Per sample: w[1] * -log(1/2) = log 2 and w[0] * -log(1/3) = 2 log 3; torch's mean
    # divides by w[1] + w[0] = 3, not by N = 2.
    close(precise(fn, Z, T, W, reduction="none"), [LN2, 2 * LN3])
    close(precise(fn, Z, T, W, reduction="sum"), LN2 + 2 * LN3)
    close(precise(fn, Z, T, W, reduction="mean"), (LN2 + 2 * LN3) / 3)


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_ignored_targets_leave_the_sum_and_the_denominator(fn):
    # Sample 1 (target 0) ignored: the loss is log 2 over the one kept sample (weight 1).
    close(precise(fn, Z, T, reduction="none", ignore_index=0), [LN2, 0.0])
    close(precise(fn, Z, T, reduction="mean", ignore_index=0), LN2)
    close(precise(fn, Z, T, W, reduction="mean", ignore_index=0), LN2 / 1.0)
    # An ignore_index outside [0, C) (torch's -100) may appear among the targets.
    close(precise(fn, Z, np.array([1, -100]), reduction="mean", ignore_index=-100), LN2)
    # Ignoring a class nobody has changes nothing: (log 2 + log 3) / 2.
    close(precise(fn, Z, T, reduction="mean", ignore_index=2), (LN2 + LN3) / 2)


def test_every_sample_ignored_is_nan():
    with np.errstate(invalid="ignore"):
        assert np.isnan(L.cross_entropy(Z, np.array([0, 0]), reduction="mean", ignore_index=0))


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_label_smoothing_is_torchs_form(fn):
    # s = 1/2, C = 3: q = (1 - s) one_hot + s / 3 = [1/6, 2/3, 1/6] for target 1 of row 0:
    # -(1/6 log 1/4 + 2/3 log 1/2 + 1/6 log 1/4) = (2/3 + 2/3) log 2 = 4/3 log 2.
    z, t = Z[:1], T[:1]
    close(precise(fn, z, t, reduction="sum", label_smoothing=0.5), 4 / 3 * LN2)
    # With weights [2, 1, 4]: -(2/6 log 1/4 + 2/3 log 1/2 + 4/6 log 1/4) = 8/3 log 2, and the
    # mean divides by the target's weight w[1] = 1.
    close(precise(fn, z, t, W, reduction="mean", label_smoothing=0.5), 8 / 3 * LN2)
    # s = 1: the uniform target, -(1/3)(log 1/4 + log 1/2 + log 1/4) = 5/3 log 2.
    close(precise(fn, z, t, reduction="mean", label_smoothing=1.0), 5 / 3 * LN2)


@pytest.mark.parametrize("fn", [L.cross_entropy, PL.cross_entropy])
def test_probability_targets_mean_divides_by_n_even_with_weights(fn):
    probs = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # The same per-sample losses as the index targets, log 2 and 2 log 3, over N = 2.
    close(precise(fn, Z, probs, W, reduction="mean"), (LN2 + 2 * LN3) / 2)
    # Smoothing applies to the rows as given: row 0 with s = 1/2 as above, 4/3 log 2.
    close(precise(fn, Z[:1], probs[:1], reduction="sum", label_smoothing=0.5), 4 / 3 * LN2)


def test_ignore_index_needs_class_indices():
    with pytest.raises(ValueError, match="class-index targets only"):
        L.cross_entropy(Z, np.eye(3)[:2], ignore_index=0)
