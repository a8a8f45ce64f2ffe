"""Specs of the ``pool`` family, one module per module of ``oracle/pooling/``: ``windows``
(max, min, average, L2 and global pooling) and ``special`` (stochastic pooling, max
unpooling, k-max pooling). Importing the package registers both."""

from conformance.specs.pooling import special, windows  # noqa: F401
