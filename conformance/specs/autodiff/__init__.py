"""Specs of the ``ad`` family, one module per oracle module of ``oracle/autodiff/``:
``elementary`` (each framework's forward-mode rules on single operations) and ``composite``
(jvp, vjp, Hessians and difference quotients of fixed functions). Importing the package
registers both."""

from conformance.specs.autodiff import composite, elementary  # noqa: F401
