"""The rnn textbook's derivatives are ``Summed``: their magnitudes come from a dual pass in
magnitude mode. A weight gradient sums over the batch, and a softmax output's backward
y (g - sum(g y)) cancels, so a correct float32 kernel's rounding can exceed a bound scaled
with the surviving value (TF seed 2: Keras' SimpleRNN cell d/dw_ax 1.49x, a softmax output).

The kernel here is an Elman cell's backward written as the frameworks write it, in float32,
its sums in reverse order, its tanh two ulps off: it passes on every case (under a bound
scaled with the values it failed 10 of these 150 cases, worst 2.4x), and the same gradient
2^-10 off fails.
"""

import numpy as np
import pytest

from conformance import checks
from conformance.registry import Case
from conformance.specs import all_specs

SPEC = all_specs()["rnn.elman_cell"]
NAMES = ("x", "a", "w_ax", "w_aa", "b_a", "w_ya", "b_y")


def _softmax(o: np.ndarray) -> np.ndarray:
    e = np.exp(o - o.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _rsum(a: np.ndarray, axis: int) -> np.ndarray:
    """A sum in reverse order (another kernel's order than NumPy's pairwise one)."""
    a = np.flip(a, axis)
    out = np.zeros(np.delete(a.shape, axis), a.dtype)
    for piece in np.moveaxis(a, axis, 0):
        out = out + piece
    return out


def _tanh_2ulp(z: np.ndarray) -> np.ndarray:
    """tanh in float32 two ulps toward zero: within the 2 ulps a libm (CUDA's tanhf) allows.
    Where tanh saturates, its saved h gives 1 - h^2 a few ulps of 1 off, all of its value."""
    h = np.tanh(z)
    for _ in range(2):
        h = np.nextafter(h, np.float32(0))
    return h


class Kernel:
    """Reverse mode from saved outputs (tanh' = 1 - h^2, softmax' = y (g - sum(g y))),
    float32; ``bug`` scales d/dw_ax by 1 + bug."""

    def __init__(self, bug: float = 0.0) -> None:
        self.bug = bug

    def run_vjp(self, op, args, kwargs, wrt, cots, dtype):
        x, a, w_ax, w_aa, b_a, w_ya, b_y = (np.asarray(v, np.float32) for v in args)
        gy, gh = (np.zeros((x.shape[0], n), np.float32) if c is None else c.astype(np.float32)
                  for c, n in zip(cots, (w_ya.shape[0], w_ax.shape[0])))
        h = _tanh_2ulp(x @ w_ax.T + a @ w_aa.T + b_a)
        y = _softmax(h @ w_ya.T + b_y)
        go = y * (gy - _rsum((gy * y)[..., None], 1))
        gz = (go @ w_ya + gh) * (1 - h * h)
        grads = [gz @ w_ax, gz @ w_aa, _rsum(gz[:, :, None] * x[:, None, :], 0),
                 _rsum(gz[:, :, None] * a[:, None, :], 0), _rsum(gz, 0),
                 _rsum(go[:, :, None] * h[:, None, :], 0), _rsum(go, 0)]
        grads[2] = grads[2] * np.float32(1 + self.bug)
        return grads


def _cases(n: int):
    rng = np.random.default_rng(2)
    for trial in range(n):
        # The spec's saturating regime: x in [-4, 4], input weights U(+-4/sqrt(F)).
        f, h, o, batch = 3, 3, 2, 3
        args = (rng.uniform(-4, 4, (batch, f)), np.zeros((batch, h)),
                rng.uniform(-4, 4, (h, f)) / np.sqrt(f), rng.uniform(-0.5, 0.5, (h, h)),
                rng.uniform(-2, 2, h), rng.uniform(-4, 4, (o, h)) / np.sqrt(h),
                rng.uniform(-2, 2, o))
        args = tuple(np.asarray(v, np.float32).astype(np.float64) for v in args)
        yield trial, Case(args, {"output_activation": "softmax"}, NAMES)


def test_a_correct_float32_backward_passes():
    ratios = [max(ag.ratio for ag in checks.vjp(Kernel(), SPEC, case, "float32",
                                                  trial).agreements)
              for trial, case in _cases(150)]
    assert max(ratios) < 1, max(ratios)


@pytest.mark.parametrize("trial", [0, 1, 2])
def test_a_weight_gradient_2_to_the_minus_10_off_still_fails(trial):
    _, case = list(_cases(trial + 1))[trial]
    outcome = checks.vjp(Kernel(2.0**-10), SPEC, case, "float32", trial)
    assert not outcome.passed
    assert max(ag.ratio for ag in outcome.agreements) > 10, outcome.agreements
