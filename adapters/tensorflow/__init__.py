"""The TensorFlow backend: ``TensorFlowAdapter`` = the core plus one mixin per family."""

from adapters.tensorflow.activations import ActivationOps
from adapters.tensorflow.adapter import TensorFlowCore
from adapters.tensorflow.autodiff import AutodiffOps
from adapters.tensorflow.blocks import BlockOps
from adapters.tensorflow.conv import ConvOps
from adapters.tensorflow.losses import LossOps
from adapters.tensorflow.normalization import NormalizationOps
from adapters.tensorflow.pooling import PoolingOps
from adapters.tensorflow.regularization import RegularizationOps


class TensorFlowAdapter(ActivationOps, LossOps, NormalizationOps, PoolingOps, RegularizationOps,
                        AutodiffOps, ConvOps, BlockOps, TensorFlowCore):
    """tf.nn / tf.math kernels, Keras 3 layers where tf.nn has no op."""


__all__ = ["TensorFlowAdapter"]
