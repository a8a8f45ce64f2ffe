"""The TensorFlow backend: ``TensorFlowAdapter`` = the core plus one mixin per family."""

from adapters.tensorflow.activations import ActivationOps
from adapters.tensorflow.adapter import TensorFlowCore
from adapters.tensorflow.architectures import ArchitectureOps
from adapters.tensorflow.attention import AttentionOps
from adapters.tensorflow.augmentation import AugmentationOps
from adapters.tensorflow.autodiff import AutodiffOps
from adapters.tensorflow.blocks import BlockOps
from adapters.tensorflow.conv import ConvOps
from adapters.tensorflow.dense import DenseOps
from adapters.tensorflow.graph import GraphOps
from adapters.tensorflow.losses import LossOps
from adapters.tensorflow.normalization import NormalizationOps
from adapters.tensorflow.optimizers import OptimizerOps
from adapters.tensorflow.pooling import PoolingOps
from adapters.tensorflow.regularization import RegularizationOps
from adapters.tensorflow.rnn import RnnOps
from adapters.tensorflow.schedules import ScheduleOps


class TensorFlowAdapter(ActivationOps, LossOps, DenseOps, NormalizationOps, PoolingOps,
                        RegularizationOps, AutodiffOps, ConvOps, BlockOps, ArchitectureOps,
                        AugmentationOps, GraphOps, RnnOps, OptimizerOps, ScheduleOps, AttentionOps,
                        TensorFlowCore):
    """tf.nn / tf.math kernels, Keras 3 layers where tf.nn has no op."""


__all__ = ["TensorFlowAdapter"]
