"""Specs of the ``arch`` family: per-layer shapes and parameter counts of LeNet-5, AlexNet and
VGG-16 (``arch.shapes_and_params``), and the multiply counts of a 'same' convolution with and
without a 1x1 bottleneck (``arch.shapes_and_params/bottleneck``). Exact integers, float64
only: each backend builds the nets from its own layers and counts with its own tools.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.registry import Case, OpSpec, register
from oracle import architectures as AR


def _arch_inputs(dtype: str) -> st.SearchStrategy[Case]:
    return st.sampled_from(sorted(AR.ARCHITECTURES)).map(lambda n: Case((), {"name": n}))


# The notes' example (28x28x192 -> 32 of 5x5, bottleneck 16) and two smaller ones.
BOTTLENECKS = [
    {"size": 28, "c_in": 192, "c_mid": 16, "c_out": 32, "kernel": 5},
    {"size": 14, "c_in": 64, "c_mid": 8, "c_out": 24, "kernel": 3},
    {"size": 7, "c_in": 16, "c_mid": 16, "c_out": 8, "kernel": 5},
]


def _bottleneck_inputs(dtype: str) -> st.SearchStrategy[Case]:
    return st.sampled_from(BOTTLENECKS).map(lambda kw: Case((), dict(kw)))


register(
    OpSpec("arch.shapes_and_params", AR.shapes_and_params, _arch_inputs, dtypes=("float64",),
           notes="exact integers: kinds, per-layer shapes and parameter counts, total"),
    OpSpec("arch.shapes_and_params/bottleneck", AR.bottleneck_arrays, _bottleneck_inputs,
           dtypes=("float64",), notes="multiplies of a 'same' conv with and without a 1x1 "
           "bottleneck, counted by each framework's own flop counter"),
)
