"""Reasons for the keywords many torch mappings leave alone (``@implements(params=...)``),
shared so that each is stated once (see ``python -m conformance coverage --params``)."""

OUT = {"out": "fixed: None, a new tensor (an out= tensor is written in place, outside "
       "autograd)"}
EIGH = {"UPLO": "fixed: 'L' (default); the matrix is symmetric, so either triangle gives "
        "the same eigenproblem", **OUT}
