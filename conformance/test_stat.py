"""The generic statistical check of random ops (dropout, stochastic pooling): each spec's
own ``check`` states its test and false-alarm rate."""

from conformance.plugin import context
from conformance.runner import run_test


def test_stat(conformance_check, request):
    spec, mode, dtype = conformance_check
    run_test(context(request.config), spec, mode, dtype, request.node.nodeid,
             f"{mode}[{spec.id}-{dtype}]")
