"""Textbook derivatives, one module per family: the formulas kernels actually evaluate
(sigmoid' = y (1 - y) from the saved output, batch norm's fused backward from the saved
statistics), run in the tested dtype as a second naive evaluation of a derivative
(``OpSpec.textbook``). A check's bound uses the larger of this error and the oracle's own
duals run in the dtype, and its record says which set it (``bound_source``)."""
