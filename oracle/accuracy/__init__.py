"""The oracle's own accuracy: every oracle op in float64 against its mpmath transcription
(oracle/precise/) at 50 digits, on hypothesis-drawn inputs in hard classes
(oracle/accuracy/classes.py), with a stated bound per op (oracle/accuracy/bounds.py).
``python -m oracle accuracy`` prints the table (oracle/accuracy/harness.py runs it);
tests/test_accuracy*.py enforce it. Importing this package loads only the bounds
(conformance/agreement.py adds them to its float64 bound).
"""

from __future__ import annotations

from oracle.accuracy.bounds import BOUNDS, FAMILY_BOUNDS, Bound, bound_for, stated_error

__all__ = ["BOUNDS", "FAMILY_BOUNDS", "Bound", "bound_for", "stated_error"]
