"""Lazily imported TensorFlow / Keras modules shared by the family mapping modules."""

from adapters.base import LazyModule

tf = LazyModule("tensorflow", extra="tensorflow")
keras = LazyModule("keras", extra="tensorflow")
