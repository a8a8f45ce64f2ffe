"""Specs of the ``aug`` family: ``geometry`` (flip, crop, resize given their parameters),
``color`` (colour jitter, PCA lighting, noise and blur given theirs) and ``draws`` (the
frameworks' random draws, checked statistically). Importing the package registers all."""

from conformance.specs.augmentation import color, draws, geometry  # noqa: F401
