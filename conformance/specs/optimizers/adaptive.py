"""Specs of optim.adagrad, optim.rmsprop, optim.adadelta and optim.adam (mode ``state``).

Each catalog id is the notes' form; variants name the frameworks' other forms
(docs/conventions/optimizers.md): eps outside the root (``/eps_outside``: torch Adagrad and
RMSprop, optax ``eps_in_sqrt=False``), Adam with decoupled weight decay (``/decoupled``:
AdamW), Keras' epsilon-hat Adam (``/epsilon_hat``), the notes' eps inside the root of the
bias-corrected v (``/eps_inside``: optax ``eps_root``), and torch's foreach and fused Adam
kernels (``/foreach``, ``/fused``).

eps = 0 is drawn (float64, float32) only with no zero gradient element and, for Adagrad,
only with a positive initial accumulator or such gradients: 0/0 is undefined there.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from conformance.registry import Case, OpSpec
from conformance.specs.optimizers import _draw as D
from oracle import optimizers as O

INITIAL_ACCUMULATOR = st.sampled_from([0.0, 2.0**-4, 0.125, 0.5, 1.0])


def _inputs(kwargs: Callable[[st.DrawFn, str], dict],
            undefined_at_zero: Callable[[dict], bool]) -> Callable[[str], st.SearchStrategy[Case]]:
    def inputs(dtype: str) -> st.SearchStrategy[Case]:
        @st.composite
        def draw(d: st.DrawFn) -> Case:
            kw = kwargs(d, dtype)
            return D.sequence_case(d, dtype, kw, nonzero=undefined_at_zero(kw))

        return draw()

    return inputs


def _adagrad(placement: str) -> Callable[[str], st.SearchStrategy[Case]]:
    def kwargs(d: st.DrawFn, dtype: str) -> dict:
        return {"lr": d(D.lr()), "eps": d(D.eps(dtype)),
                "initial_accumulator": d(INITIAL_ACCUMULATOR), "eps_placement": placement}

    return _inputs(kwargs, lambda kw: kw["eps"] == 0 and kw["initial_accumulator"] == 0)


def _rmsprop(placement: str) -> Callable[[str], st.SearchStrategy[Case]]:
    def kwargs(d: st.DrawFn, dtype: str) -> dict:
        return {"lr": d(D.lr()), "rho": d(D.decay(dtype)), "eps": d(D.eps(dtype)),
                "eps_placement": placement}

    return _inputs(kwargs, lambda kw: kw["eps"] == 0)


def _adadelta(d: st.DrawFn, dtype: str) -> dict:
    # eps > 0: with eps = 0 the first step is sqrt(0) / sqrt(E_g) g = 0 and nothing moves.
    return {"rho": d(D.decay(dtype)), "eps": d(D.eps(dtype, allow_zero=False)),
            "lr": d(st.one_of(st.just(1.0), D.lr(-10, -1)))}


def _adam(eps_mode: str, weight_decay_mode: str = "l2",
          weight_decay: bool = True) -> Callable[[str], st.SearchStrategy[Case]]:
    def kwargs(d: st.DrawFn, dtype: str) -> dict:
        return {"lr": d(D.lr()), "b1": d(D.decay(dtype, lo=0.0)), "b2": d(D.decay(dtype)),
                "eps": d(D.eps(dtype)), "eps_mode": eps_mode,
                "weight_decay": d(D.weight_decay()) if weight_decay else 0.0,
                "weight_decay_mode": weight_decay_mode}

    return _inputs(kwargs, lambda kw: kw["eps"] == 0)


_ADAM_BENCH = {"lr": 2.0**-10, "b1": 0.875, "b2": 1 - 2.0**-10, "eps": 2.0**-20,
               "eps_mode": "outside", "weight_decay": 0.0, "weight_decay_mode": "l2"}


def _adam_spec(variant: str, eps_mode: str, weight_decay_mode: str = "l2",
               weight_decay: bool = True, notes: str = "") -> OpSpec:
    bench = {**_ADAM_BENCH, "eps_mode": eps_mode, "weight_decay_mode": weight_decay_mode}
    return OpSpec(f"optim.adam{variant}", O.adam,
                  _adam(eps_mode, weight_decay_mode, weight_decay), trajectory=True,
                  bench=D.bench_sequence(**bench), notes=notes)


SPECS = [
    OpSpec("optim.adagrad", O.adagrad, _adagrad("inside"), trajectory=True,
           bench=D.bench_sequence(lr=2.0**-6, eps=2.0**-20, initial_accumulator=0.125,
                                  eps_placement="inside"),
           notes="G += g^2, theta -= lr g / sqrt(G + eps) (Keras, optax)"),
    OpSpec("optim.adagrad/eps_outside", O.adagrad, _adagrad("outside"), trajectory=True,
           bench=D.bench_sequence(lr=2.0**-6, eps=2.0**-20, initial_accumulator=0.125,
                                  eps_placement="outside"),
           notes="theta -= lr g / (sqrt(G) + eps) (torch)"),
    OpSpec("optim.rmsprop", O.rmsprop, _rmsprop("inside"), trajectory=True,
           bench=D.bench_sequence(lr=2.0**-8, rho=0.875, eps=2.0**-20, eps_placement="inside"),
           notes="eps inside the root (Keras, optax's default)"),
    OpSpec("optim.rmsprop/eps_outside", O.rmsprop, _rmsprop("outside"), trajectory=True,
           bench=D.bench_sequence(lr=2.0**-8, rho=0.875, eps=2.0**-20,
                                  eps_placement="outside"),
           notes="eps outside the root (torch, optax eps_in_sqrt=False)"),
    OpSpec("optim.adadelta", O.adadelta, _inputs(_adadelta, lambda kw: False), trajectory=True,
           bench=D.bench_sequence(rho=0.875, eps=2.0**-20, lr=1.0),
           notes="Zeiler's rule with an lr multiplier (every framework)"),
    _adam_spec("", "outside", notes="eps after bias correction, L2 weight decay (torch Adam, "
                                    "optax)"),
    _adam_spec("/foreach", "outside", notes="torch Adam(foreach=True)"),
    _adam_spec("/fused", "outside", notes="torch Adam(fused=True)"),
    _adam_spec("/decoupled", "outside", "decoupled", notes="AdamW (torch, optax)"),
    _adam_spec("/epsilon_hat", "hat", "decoupled",
               notes="Kingma & Ba's epsilon-hat, decoupled weight decay (Keras Adam)"),
    _adam_spec("/eps_inside", "inside", weight_decay=False,
               notes="the notes' sqrt(v' + eps) (optax eps_root)"),
]
