"""Textbook derivatives of the ``rnn`` family (``OpSpec.textbook``).

Framework kernels differentiate a recurrent net from its saved activations: sigmoid' =
y (1 - y), tanh' = 1 - y^2, softmax' = y (s - sum(s y)), with y the gate value rounded to the
working dtype (torch's sigmoid_backward / tanh_backward, JAX's logistic and tanh JVP rules,
TensorFlow's SigmoidGrad / TanhGrad). Where a gate saturates, y rounds to 1 and 1 - y^2 is 0
(or a few ulps of 1) although the true derivative is e^-2|z|: a relative error the oracle's
own duals (sech^2 from exp(-2|z|)) never make. So the textbook evaluation is the oracle's
dual pass with those rules (``oracle.rnn.saved.derivatives_from_outputs``), in the tested
dtype: forward mode for "jvp", and reverse mode through the dual Jacobian (one pass per
differentiated element: the checks ask for it only below 64 elements) for "vjp".

Two forms of the update gate are in use: the notes' u (the oracle, and the composed
mappings) and the frameworks' z = 1 - u (torch GRU/GRUCell, Flax GRUCell/MGUCell, Keras GRU
all save z = sigmoid(-s) and form (1 - z) n + z h), whose u = 1 - z has an absolute
rounding of ulp(1)/2: where u is small, its derivative u (1 - u) = z (1 - z) loses its
relative accuracy (measured: torch GRUCell's float32 d/dw_x 2e-4 off where u ~ 1e-4).

The hook is called three times per evaluation, with the op's outputs as computed and moved
one ulp up and down (``conformance.evaluate.textbook``). Those outputs are not what a kernel
saves; the gates inside are. So the three calls give three textbook evaluations:
* unmoved outputs: the saved gates as the oracle computes them (u form);
* outputs moved up / down: the update gate saved in the z form, and every saved gate
  value moved one ulp up / down, as a kernel's saved values differ from the oracle's by
  their own rounding. One evaluation alone can be lucky where terms cancel: an input
  feeding both h and c, whose contributions to d/dx nearly cancel (measured on
  rnn.lstm_peephole in float32: a correct torch gradient 12 times the oracle's own error
  there). Both directions are needed: a saved z one ulp off moves 1 - z by ulp / u, which
  is 0.3 % for u ~ 2e-5 in float32 (torch GRUCell's d/dx measured 0.3 % off, one way).

Both modes' outputs are ``Summed``: a reverse-mode gradient sums over outputs (time,
batch, units) terms of both signs, and forward mode sums over inputs and gates. Their
magnitudes come from the same dual pass in magnitude mode (oracle/autodiff/magnitude.py),
with the saved-output rules' own terms: y (1 - y) for sigmoid (1 - y is exact where y >= 1/2),
1 + y^2 for tanh's 1 - y^2, y (|t| + sum(y |t|)) for softmax. A bound scaled with the
surviving value judged a correct kernel's float32 rounding (TF seed 2: the Keras SimpleRNN
cell's d/dw_ax 1.49x through a softmax output, the LSTM cell's d/dx 1.84x). The unmoved
call gives the magnitudes; the bound takes them for all three evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.textbook import Summed, absolute
from oracle import _canon, autodiff
from oracle.rnn.saved import derivatives_from_outputs


def _direction(outs: list[Any], unmoved: list[np.ndarray]) -> int:
    """0 for the outputs as computed, +1 / -1 for the outputs moved one ulp up / down."""
    for moved, base in zip(outs, unmoved):
        diff = np.asarray(moved, dtype=np.float64) - np.asarray(base, dtype=np.float64)
        nonzero = diff[diff != 0]
        if nonzero.size:
            return 1 if nonzero[0] > 0 else -1
    return 0


def from_outputs(oracle: Callable[..., Any], wrt: tuple[int, ...],
                 reference: Callable[..., Any] | None = None) -> Callable[..., list[Any]]:
    """The textbook hook of a spec with this oracle and ``grad_wrt``. ``reference`` is the
    spec's own oracle function when it differs from ``oracle`` (the outputs the hook is
    handed are that function's, moved or not: the direction is read against them)."""
    reference = reference or oracle

    def hook(mode: str, args: list[Any], kwargs: dict[str, Any], outs: list[Any],
             seeds: list[Any]) -> list[Any]:
        unmoved = _canon.flatten_outputs(reference(*args, **kwargs))
        nudge = _direction(outs, unmoved)
        with derivatives_from_outputs(nudge, z_form=nudge != 0):
            if mode == "jvp":
                _, result = autodiff.jvp(oracle, args, kwargs, dict(zip(wrt, seeds)))
            else:
                result = autodiff.vjp(oracle, args, kwargs, list(wrt), seeds)
        result = [np.asarray(r) for r in result]
        if nudge != 0:  # one magnitude per evaluation is enough: the unmoved one's
            return result
        return [Summed(r, m) for r, m in zip(result, _magnitudes(mode, args, kwargs, seeds))]

    def _magnitudes(mode: str, args: list[Any], kwargs: dict[str, Any],
                    seeds: list[Any]) -> list[np.ndarray]:
        """The same pass in magnitude mode (oracle/autodiff/magnitude.py), in float64."""
        wide = [np.asarray(a, np.float64) if i in wrt else a for i, a in enumerate(args)]
        with _canon.compute_dtype(np.float64), derivatives_from_outputs(), \
                autodiff.magnitudes():
            if mode == "jvp":
                _, mags = autodiff.jvp(oracle, wide, kwargs,
                                       {i: absolute(s) for i, s in zip(wrt, seeds)})
                return mags
            return autodiff.vjp(oracle, wide, kwargs, list(wrt),
                                [None if v is None else absolute(v) for v in seeds])

    return hook
