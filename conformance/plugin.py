"""The pytest plugin: options, the run's header, parametrization of the generic tests over
the registry, results and the report at the end.

    pytest conformance/ --backend torch [--device cuda] [--dtype float32,float16]
        [--ops 'norm.*'] [--examples 50] [--seed 1234] [--results DIR] [--report FILE]
"""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from conformance import config as runconf
from conformance import results
from conformance.specs import all_specs
from conformance.vocabulary import MODES

_CTX = pytest.StashKey[runconf.Conformance]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance", "kernel conformance against the float64 oracle")
    g.addoption("--backend", default=None,
                help="torch, jax, tensorflow, or package.module:AdapterClass")
    g.addoption("--device", default="cpu", help="cpu, cuda[:N] (torch), gpu[:N] (jax, tf)")
    g.addoption("--dtype", default=None,
                help="comma-separated subset of float64,float32,float16,bfloat16 "
                     "(default: all the backend supports on the device)")
    g.addoption("--ops", default="*", help="comma-separated globs on op ids, e.g. 'norm.*'")
    g.addoption("--examples", type=int, default=runconf.DEFAULT_EXAMPLES,
                help=f"hypothesis examples per op, mode and dtype "
                     f"(default {runconf.DEFAULT_EXAMPLES})")
    g.addoption("--seed", type=int, default=None, help="run seed (default: random, printed)")
    g.addoption("--precision", default="strict", choices=("strict", "defaults"),
                help="strict: TF32 and reduced-precision matmul off (default); "
                     "defaults: the framework's own settings")
    g.addoption("--results", default=None, help="results directory (default under reports/)")
    g.addoption("--report", default=None, help="write the HTML agreement report here at the end")
    g.addoption("--divergences", default=None, help="an extra divergence TOML file")
    g.addoption("--speed", action="store_true",
                help="run the speed benchmarks (same as -m speed; default dtype float32)")


def _options(config: pytest.Config) -> dict[str, Any]:
    keys = ("backend", "device", "dtype", "ops", "examples", "seed", "precision", "results",
            "report", "divergences")
    return {**{k: config.getoption(k) for k in keys}, "speed": speed_selected(config)}


def activate(config: pytest.Config) -> runconf.Conformance:
    """Build the run (called by conformance/conftest.py, so plain `pytest tests/` runs never
    import a framework)."""
    if _CTX in config.stash:
        return config.stash[_CTX]
    # torch's forward AD goes through a deprecated torch.jit path: not the user's concern.
    config.addinivalue_line("filterwarnings",
                            "ignore:`torch.jit.script` is deprecated:DeprecationWarning")
    opts = _options(config)
    if opts["backend"] is None:
        raise pytest.UsageError("the conformance tests need --backend "
                                "(torch, jax, tensorflow or package.module:AdapterClass)")
    worker = getattr(config, "workerinput", {}).get("conformance")
    try:
        ctx = runconf.build(opts, worker)
    except runconf.ConformanceUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    worker_id = getattr(config, "workerinput", {}).get("workerid", "main")
    ctx.writer = results.ChecksWriter(ctx.run_dir, worker_id)
    _benchmark_json(config, ctx)
    if not speed_selected(config) and hasattr(config.option, "benchmark_disable"):
        # A conformance run times no benchmark: under pytest-xdist, pytest-benchmark would
        # warn that it disabled the (deselected) speed tests.
        config.option.benchmark_disable = True

    if worker is None:
        command = " ".join(shlex.quote(a) for a in ["pytest", *config.invocation_params.args])
        ctx.env = runconf.fingerprint(ctx, command)
        results.write_json_atomic(ctx.run_dir / "env.json", ctx.env)
    config.stash[_CTX] = ctx
    return ctx


def _benchmark_json(config: pytest.Config, ctx: runconf.Conformance) -> None:
    """A speed run writes pytest-benchmark's JSON next to the checks, through its documented
    ``--benchmark-json`` option (set before its session is built: its pytest_configure runs
    last), unless the user gave one."""
    if not speed_selected(config) or getattr(config.option, "benchmark_json", None):
        return
    worker = getattr(config, "workerinput", {}).get("workerid")
    name = f"benchmarks-{worker}.json" if worker else "benchmarks.json"
    config.option.benchmark_json = ctx.run_dir / name


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    ctx, bench = context(config), getattr(config, "_benchmarksession", None)
    if ctx is None or bench is None or not speed_selected(config):
        return
    if bench.disabled:
        # Timed rounds would silently not run: benchmarks under xdist (-n, or a parent's
        # PYTEST_XDIST_WORKER) or --benchmark-disable are switched off by pytest-benchmark.
        raise pytest.UsageError("speed runs need pytest-benchmark enabled: run them without "
                                "-n (xdist) and without --benchmark-disable")


def context(config: pytest.Config) -> runconf.Conformance | None:
    return config.stash.get(_CTX, None)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker shares the controller's seed and results directory."""
    ctx = context(node.config)
    if ctx is not None:
        node.workerinput["conformance"] = {"seed": ctx.seed, "run_dir": str(ctx.run_dir),
                                           "run_id": ctx.run_id}


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    ctx = context(config)
    if ctx is None:
        return None
    dev = ctx.adapter.device_info()
    return [
        f"conformance: backend {ctx.backend} ({ctx.adapter.framework} {ctx.version}), "
        f"device {dev['actual']} ({dev['name']}), precision {ctx.precision}",
        f"conformance: seed {ctx.seed} (rerun with --seed {ctx.seed}), "
        f"{ctx.examples} examples, dtypes {','.join(ctx.dtypes)}, {len(ctx.specs)} specs",
        f"conformance: results in {ctx.run_dir}",
    ]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Printed even under -q: the seed that reproduces this run and where its results are."""
    ctx = context(config)
    if ctx is None or hasattr(config, "workerinput"):
        return
    terminalreporter.write_line(
        f"conformance: {ctx.backend} on {ctx.device}, seed {ctx.seed} "
        f"(rerun with --seed {ctx.seed}); results in {ctx.run_dir}"
        + (f"; report {ctx.report}" if ctx.report else ""))


def speed_selected(config: pytest.Config) -> bool:
    return bool(config.getoption("speed")) or "speed" in (config.getoption("markexpr") or "")


def _speed_params(ctx: runconf.Conformance, config: pytest.Config) -> list[Any]:
    dtypes = ctx.dtypes if config.getoption("dtype") else ["float32"]
    params = []
    for spec in ctx.specs:
        if not spec.bench or ctx.adapter.mapping(spec.id) is None:
            continue
        directions = ["forward", "backward"] if spec.grad_wrt else ["forward"]
        for size in spec.bench:
            for direction in directions:
                for dtype in ctx.dtypes_for(spec):
                    if dtype in dtypes:
                        skip = _unsupported(ctx, spec, direction, dtype)
                        params.append(pytest.param((spec, size, direction, dtype), marks=skip,
                                                   id=f"{spec.id}-{size}-{direction}-{dtype}"))
    return params


def _unsupported(ctx: runconf.Conformance, spec: Any, direction: str,
                 dtype: str) -> list[pytest.MarkDecorator]:
    """A skip for a benchmark whose mode a divergence declares unsupported (TensorFlow's
    adjust_contrast has no gradient: its backward benchmark would only raise)."""
    known = ctx.divergence(spec, "forward" if direction == "forward" else "vjp", dtype)
    skip = known.skip_reason() if known is not None else None
    return [] if skip is None else [pytest.mark.skip(reason=skip)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Speed benchmarks run only when asked for (-m speed or --speed), and then alone."""
    if context(config) is None:
        return
    want = speed_selected(config)
    keep = [i for i in items if (i.get_closest_marker("speed") is not None) == want]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: Any) -> None:
    ctx = context(config)
    if ctx is not None:
        from conformance.speed import measure_limits

        output_json.setdefault("machine_info", {})["limits"] = measure_limits(ctx.adapter)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "speed_case" in metafunc.fixturenames:
        ctx = activate(metafunc.config)
        metafunc.parametrize("speed_case", _speed_params(ctx, metafunc.config))
        return
    # test_<mode> in conformance/test_<mode>.py, one generic test per mode.
    mode = metafunc.function.__name__.removeprefix("test_")
    if mode not in MODES or "conformance_check" not in metafunc.fixturenames:
        return
    ctx = activate(metafunc.config)
    params = []
    for spec in ctx.specs:
        if mode not in spec.modes:
            continue
        for dtype in ctx.dtypes_for(spec):
            params.append(pytest.param((spec, mode, dtype), id=f"{spec.id}-{dtype}"))
    metafunc.parametrize("conformance_check", params)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ctx = context(session.config)
    if ctx is None:
        return
    if ctx.writer is not None:
        ctx.writer.close()
    if hasattr(session.config, "workerinput"):
        return
    totals, _ = results.read_totals(ctx.run_dir)
    _warn_unmatched(ctx)
    # An interrupted run keeps finished = null, so a report can flag it as partial.
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    ctx.env["finished"] = None if interrupted else results.now()
    ctx.env["totals"] = totals
    results.write_json_atomic(ctx.run_dir / "env.json", ctx.env)
    if ctx.report is not None:
        _write_report(ctx)


def _warn_unmatched(ctx: runconf.Conformance) -> None:
    """Warn about stale entries: ones that match no check this backend could run at all."""
    device = ctx.adapter.requested_device
    dtypes = ctx.adapter.supported_dtypes()
    specs = all_specs().values()
    for d in ctx.divergences:
        # An entry for another device or framework version is not stale on this run.
        if not d.applies_to(device, ctx.version, ctx.facts):
            continue
        if not any(d.matches(s.id, m, t, device, ctx.version, ctx.facts)
                   for s in specs for t in dtypes if t in s.dtypes for m in s.modes):
            warnings.warn(f"divergence {d.id!r} ({d.ops}) matches no check of backend "
                          f"{ctx.backend} {ctx.version} on {device}", stacklevel=1)


def _write_report(ctx: runconf.Conformance) -> None:
    from reports.html import build
    from reports.schema import ReportError

    try:
        build([ctx.run_dir], Path(ctx.report))
    except (ReportError, OSError) as exc:
        print(f"conformance: the report could not be written: {exc}", file=sys.stderr)
