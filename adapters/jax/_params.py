"""Reasons for the keywords many JAX mappings leave alone (``@implements(params=...)``),
shared so that each is stated once (see ``python -m conformance coverage --params``)."""

# Every matmul-like primitive: strict mode sets jax_default_matmul_precision to "highest"
# (adapters/jax/adapter.py), which is what precision=None then means.
MATMUL = {
    "precision": "fixed: None, the configured default ('highest' in strict mode; the "
    "--precision defaults run keeps the framework's)",
    "preferred_element_type": "fixed: None, the inputs' dtype (no wider accumulator "
    "requested)",
    "out_sharding": "fixed: None, one device",
}
EINSUM = {**MATMUL, "out": "fixed: None (JAX arrays are immutable)",
          "optimize": "fixed: default; two operands, one contraction order",
          "_dot_general": "fixed: default, lax.dot_general (private hook)"}
# A flax.linen Module's constructor fields every module has.
FLAX_MODULE = {"parent": "fixed: None, a top-level module applied with explicit params",
               "name": "fixed: None (auto; names only the params tree)"}
SCAN = {"xs": "fixed: the sequence (time-major) as the scanned input",
        "length": "fixed: None, the sequence's length", "reverse": "fixed: False (forward in "
        "time)", "unroll": "fixed: 1 (default), one step per loop iteration",
        "_split_transpose": "fixed: False (default, experimental)"}
SEGMENT = {"num_segments": "fixed: the node (or graph) count, static (jit needs the output "
           "shape)", "indices_are_sorted": "fixed: False; edges come in drawn order",
           "unique_indices": "fixed: False; targets repeat", "bucket_size": "fixed: None, one "
           "scatter", "mode": "fixed: None, the default; ids are in range by construction",
           "out_sharding": "fixed: None, one device"}
AT_ADD = {"indices_are_sorted": "fixed: False (default)", "unique_indices": "fixed: False; "
          "(src, dst) pairs may repeat and add up", "mode": "fixed: None, the default; "
          "indices are in range by construction", "out_sharding": "fixed: None, one device",
          "wrap_negative_indices": "fixed: True (default); indices are non-negative"}
EIGH = {"UPLO": "fixed: 'L' (default); the matrix is symmetric", "symmetrize_input":
        "fixed: True (default), (A + A^T)/2 before the solve"}
