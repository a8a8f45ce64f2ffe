"""The generic state check, parametrized over the registry by the plugin."""

from conformance.plugin import context
from conformance.runner import run_test


def test_state(conformance_check, request):
    spec, mode, dtype = conformance_check
    run_test(context(request.config), spec, mode, dtype, request.node.nodeid,
             f"{mode}[{spec.id}-{dtype}]")
