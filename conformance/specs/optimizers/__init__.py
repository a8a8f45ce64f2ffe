"""Specs of the ``optim`` family: every optimizer as a trajectory of K steps (mode ``state``),
the parameters and every state tensor compared after each step.

First-order methods run on a drawn gradient sequence (``first_order``, ``adaptive``); NAG,
Newton and L-BFGS on a drawn smooth test function that each framework evaluates and
differentiates itself (``objectives`` in the oracle; ``second_order``). Shared draws:
``_draw``. The frameworks' forms: docs/conventions/optimizers.md.
"""

from conformance.registry import register
from conformance.specs.optimizers import adaptive, first_order, second_order

register(*first_order.SPECS, *adaptive.SPECS, *second_order.SPECS)
