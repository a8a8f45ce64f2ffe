"""Speed of each op's native kernel (pytest-benchmark); selected with ``-m speed``."""

import numpy as np
import pytest

from adapters.base import outputs_list
from conformance import speed
from conformance.plugin import context


@pytest.mark.speed
def test_speed(speed_case, benchmark, request):
    ctx = context(request.config)
    spec, size, direction, dtype = speed_case
    case = spec.bench[size]()
    call, _, _ = speed.prepared(ctx.adapter, spec, case, dtype, direction)
    compile_s, rounds, iterations, first = speed.plan_rounds(call)
    out = outputs_list(first)
    shapes = [list(np.shape(a)) for a in case.args if a is not None]
    benchmark.extra_info.update({
        "op": spec.catalog_id, "spec": spec.id, "backend": ctx.backend,
        "framework_version": ctx.version, "run_id": ctx.run_id,
        "device": ctx.device, "dtype": dtype, "size_label": size, "shape": shapes,
        "direction": direction,
        "compile_s": compile_s if ctx.adapter.compiles else None,
        "bytes": speed.nbytes(case, dtype, out if direction == "forward" else []),
        "flops": spec.flops(case) if spec.flops else None,
    })
    benchmark.pedantic(call, rounds=rounds, iterations=iterations, warmup_rounds=0)
