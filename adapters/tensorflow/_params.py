"""Reasons for the keywords many TensorFlow / Keras mappings leave alone
(``@implements(params=...)``), shared so that each is stated once; every mapping still
lists its own layer's keywords (``python -m conformance coverage --params`` reads them from
the layer's signature, and a keyword without an entry shows as unaccounted)."""

NAME = {"name": "fixed: None, an op name in the graph (no numeric effect)"}

# The weight options of a Keras layer whose weights the mapping supplies (stateless_call or
# assigned variables): initializers never reach the result, and nothing regularizes or
# constrains a single forward computation.
_GIVEN = "fixed: default, unused (the given weights replace the variables)"
KERAS_WEIGHTS = {
    "kernel_initializer": _GIVEN, "bias_initializer": _GIVEN,
    "kernel_regularizer": "fixed: None (a loss term, outside the forward value)",
    "bias_regularizer": "fixed: None (a loss term, outside the forward value)",
    "activity_regularizer": "fixed: None (a loss term, outside the forward value)",
    "kernel_constraint": "fixed: None (applied by optimizers after a step)",
    "bias_constraint": "fixed: None (applied by optimizers after a step)",
}
# keras.layers.Dense / EinsumDense / Embedding: LoRA and quantization.
KERAS_LORA = {
    "lora_rank": "not covered: None; a LoRA adapter adds (alpha/rank) A B to the kernel, "
    "a spec drawing A, B and the rank would test it",
    "lora_alpha": "fixed: default, unused without lora_rank",
    "quantization_config": "not covered: None; int8/float8/int4 quantized kernels would need "
    "specs with their own error model",
}
# A Dense projection with given weights, no activation (the mapping applies its own).
KERAS_DENSE = {**KERAS_WEIGHTS, **KERAS_LORA,
               "activation": "fixed: None, linear (any activation is applied after)"}
# tf.linalg.matmul as the composed cells call it: x @ w^T.
MATMUL = {**NAME, "transpose_a": "fixed: False", "transpose_b": "fixed: True, w is (out, in)",
          "adjoint_a": "fixed: False (real inputs)", "adjoint_b": "fixed: False (real inputs)",
          "a_is_sparse": "fixed: False, dense kernels", "b_is_sparse": "fixed: False",
          "output_type": "fixed: None, the inputs' dtype",
          "grad_a": "fixed: False (default, a gradient-graph hint)",
          "grad_b": "fixed: False (default, a gradient-graph hint)"}
