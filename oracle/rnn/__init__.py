"""Recurrent networks (catalog family ``rnn``, notes 004): the cells in ``cells.py`` (one
step each, gate order and weight layout in each docstring), the unroll over time and the
bidirectional and stacked wrappers in ``wrappers.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oracle.rnn.cells import (
    ElmanStep,
    JordanStep,
    LSTMState,
    elman_cell,
    gru,
    gru_simple,
    jordan_cell,
    linear,
    lstm,
    lstm_peephole,
    simple_cell,
)
from oracle.rnn.wrappers import CELLS, bidirectional, sequence, stacked

__all__ = [
    "CELLS", "ORACLE", "ElmanStep", "JordanStep", "LSTMState", "bidirectional", "elman_cell",
    "gru", "gru_simple", "jordan_cell", "linear", "lstm", "lstm_peephole", "sequence",
    "simple_cell", "stacked",
]

ORACLE: dict[str, Callable[..., Any]] = {
    "rnn.elman_cell": elman_cell,
    "rnn.jordan_cell": jordan_cell,
    "rnn.gru_simple": gru_simple,
    "rnn.gru": gru,
    "rnn.lstm": lstm,
    "rnn.lstm_peephole": lstm_peephole,
    "rnn.bidirectional": bidirectional,
    "rnn.stacked": stacked,
    "rnn.sequence": sequence,
}
