"""Framework adapters: each maps a framework's native API onto the oracle's canonical ops.

Built-in backends are named here; anything else is loaded as ``package.module:Class``.
"""

BUILTIN = {
    "torch": "adapters.torch:TorchAdapter",
    "jax": "adapters.jax:JaxAdapter",
    "tensorflow": "adapters.tensorflow:TensorFlowAdapter",
}
