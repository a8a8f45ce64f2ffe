"""Tests of oracle.schedules: hand-computed sequences (dyadic values: exact), the closed
forms against math.exp and the mpmath transcriptions, and reduce-on-plateau traced by hand
through patience, thresholds, cooldown and the floor, including the epoch at which each
framework's counter convention cuts (docs/conventions/schedules.md)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from oracle import _canon
from oracle import schedules as R
from oracle.precise import schedules as P

EPS = np.finfo(np.float64).eps
LR0 = np.array(1.0)


def test_step_decay_by_hand():
    out = R.step_decay(LR0, factor=0.5, step_size=2, steps=6)
    np.testing.assert_array_equal(out.lr, [1, 1, 0.5, 0.5, 0.25, 0.25])
    one_based = R.step_decay(LR0, factor=0.5, step_size=2, steps=3, offset=1)
    np.testing.assert_array_equal(one_based.lr, [1, 0.5, 0.5])


def test_exponential_decay_is_exp_of_minus_k_t():
    out = R.exponential_decay(np.array(0.3), rate=0.1, steps=20)
    want = [0.3 * math.exp(-0.1 * t) for t in range(20)]
    np.testing.assert_allclose(out.lr, want, rtol=4 * EPS)


def test_exponential_base_form_continuous_and_staircase():
    cont = R.exponential_decay(LR0, factor=0.25, decay_steps=2, form="base", steps=4)
    np.testing.assert_allclose(cont.lr, [1, 0.5, 0.25, 0.125], rtol=2 * EPS)
    stair = R.exponential_decay(LR0, factor=0.25, decay_steps=2, staircase=True, form="base",
                                steps=4)
    np.testing.assert_array_equal(stair.lr, [1, 1, 0.25, 0.25])


def test_inverse_time_decay_by_hand():
    out = R.inverse_time_decay(LR0, rate=1.0, steps=4)
    np.testing.assert_allclose(out.lr, [1, 1 / 2, 1 / 3, 1 / 4], rtol=EPS)
    stair = R.inverse_time_decay(LR0, rate=1.0, decay_steps=2, staircase=True, steps=4)
    np.testing.assert_array_equal(stair.lr, [1, 1, 0.5, 0.5])


def test_schedules_compute_in_the_dtype_of_lr0():
    with _canon.compute_dtype(np.float32):
        out = R.exponential_decay(np.array(0.3, np.float32), rate=0.1, steps=3)
    assert out.lr.dtype == np.float32


def _plateau(values, **kw):
    base = {"factor": 0.5, "patience": 2, "threshold": 0.0, "threshold_mode": "abs"}
    return R.reduce_on_plateau(LR0, np.asarray(values, dtype=float), **{**base, **kw})


def test_plateau_cuts_after_patience_epochs_without_improvement():
    """Patience 2, a flat loss: value 1 sets best, values 2 and 3 do not improve, so the cut
    comes with the 3rd value (the notes', Keras and optax; torch's ReduceLROnPlateau with
    patience 2 cuts at the 4th: its patience is ours - 1)."""
    out = _plateau([1.0] * 6)
    np.testing.assert_array_equal(out.lr, [1, 1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_array_equal(out.bad_epochs, [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(out.best, [1] * 6)


def test_plateau_improvement_resets_the_count():
    out = _plateau([4.0, 4.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(out.lr, [1, 1, 1, 1, 0.5])
    np.testing.assert_array_equal(out.best, [4, 4, 3, 3, 3])


def test_plateau_thresholds():
    """rel: improved iff a < best (1 - thr); abs: a < best - thr."""
    rel = _plateau([1.0, 0.95, 0.85], patience=1, threshold=0.1, threshold_mode="rel")
    np.testing.assert_array_equal(rel.best, [1, 1, 0.85])
    np.testing.assert_array_equal(rel.lr, [1, 0.5, 0.5])
    ab = _plateau([4.0, 3.75, 3.5], patience=1, threshold=0.25)
    # 3.75 < 4 - 0.25 is false (equal): a bad epoch and a cut; 3.5 < 3.75 improves
    np.testing.assert_array_equal(ab.best, [4, 4, 3.5])
    np.testing.assert_array_equal(ab.lr, [1, 0.5, 0.5])


def test_plateau_cooldown_ignores_the_epochs_after_a_cut():
    out = _plateau([1.0] * 7, patience=1, cooldown=2)
    # cut at 2; epochs 3, 4 in cooldown (counted 2 -> 1 -> 0, bad reset); 5 bad again -> cut
    np.testing.assert_array_equal(out.lr, [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(out.cooldown, [0, 2, 1, 0, 2, 1, 0])
    np.testing.assert_array_equal(out.bad_epochs, [0, 0, 0, 0, 0, 0, 0])


def test_plateau_floor_restart_or_keep_counting():
    """At min_lr a due cut cannot lower lr: torch and optax still restart the count (bad back
    to 0), Keras skips it and keeps counting."""
    restart = _plateau([1.0] * 5, patience=1, min_lr=0.5)
    keep = _plateau([1.0] * 5, patience=1, min_lr=0.5, at_floor="keep_counting")
    np.testing.assert_array_equal(restart.lr, [1, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(keep.lr, restart.lr)
    np.testing.assert_array_equal(restart.bad_epochs, [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(keep.bad_epochs, [0, 0, 1, 2, 3])


def test_plateau_rejects_a_floor_above_lr0():
    with pytest.raises(ValueError):
        _plateau([1.0], min_lr=2.0)


@pytest.mark.parametrize("op, kwargs", [
    ("sched.step_decay", {"factor": 0.8125, "step_size": 3, "steps": 16, "offset": 1}),
    ("sched.exponential_decay", {"rate": 0.3125, "steps": 16}),
    ("sched.exponential_decay", {"factor": 0.6875, "decay_steps": 3, "form": "base",
                                 "steps": 16}),
    ("sched.inverse_time_decay", {"rate": 1.75, "decay_steps": 3, "steps": 16}),
])
def test_schedules_against_mpmath(op, kwargs):
    lr0 = np.array(0.7)
    got = R.ORACLE[op](lr0, **kwargs).lr
    with mpmath.workdps(50):
        want = P.PRECISE[op](lr0, **kwargs).lr.astype(float)
    # factor^p: NumPy's power errs by <= 2 ulp, times p <= 16 via the rounded exponent
    np.testing.assert_allclose(got, want, rtol=8 * EPS)


def test_plateau_against_mpmath():
    rng = np.random.default_rng(3)
    values = (64 + np.cumsum(rng.choice([-8, -1, 0, 0, 1], 24))) / 16
    for mode, thr in (("rel", 2.0**-6), ("abs", 0.125)):
        kw = {"factor": 0.625, "patience": 2, "threshold": thr, "threshold_mode": mode,
              "cooldown": 1, "min_lr": 2.0**-4}
        got = R.reduce_on_plateau(np.array(0.75), values, **kw)
        with mpmath.workdps(50):
            want = P.reduce_on_plateau(np.array(0.75), values, **kw)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b.astype(float), rtol=4 * EPS)
