"""A conformance run's configuration: options, the adapter, the selected specs and dtypes,
the divergences, the seed and the results directory. Built once per pytest process."""

from __future__ import annotations

import fnmatch
import functools
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base import Adapter, AdapterError, load_adapter_class
from conformance import divergences as div
from conformance import results
from conformance.registry import OpSpec
from conformance.specs import all_specs
from conformance.vocabulary import FLOAT_DTYPES

DEFAULT_EXAMPLES = 20


class ConformanceUsageError(Exception):
    """Bad command-line input: reported as one line, non-zero exit, no traceback."""


@dataclass
class Conformance:
    backend: str
    adapter: Adapter
    specs: list[OpSpec]
    dtypes: list[str]
    examples: int
    seed: int
    run_dir: Path
    divergences: list[div.Divergence]
    precision: str
    ops_pattern: str
    run_id: str = ""
    report: Path | None = None
    writer: results.ChecksWriter | None = None
    env: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.adapter.framework_version()

    @property
    def device(self) -> str:
        return self.adapter.device_info()["actual"]

    @functools.cached_property
    def facts(self) -> dict[str, str]:
        """What decides which kernels run here: the adapter's settings and the CPU's
        instruction sets (divergences' ``when`` is matched against these)."""
        return {**results.cpu_facts(), **self.adapter.facts()}

    def divergence(self, spec: OpSpec, mode: str, dtype: str) -> div.Divergence | None:
        return div.find(self.divergences, spec.id, mode, dtype,
                        self.adapter.requested_device, self.version, self.facts)

    def dtypes_for(self, spec: OpSpec) -> list[str]:
        return [d for d in self.dtypes if d in spec.dtypes]


def _select_specs(pattern: str) -> list[OpSpec]:
    globs = [p.strip() for p in pattern.split(",") if p.strip()]
    specs = [s for s in all_specs().values()
             if any(fnmatch.fnmatchcase(s.id, g) or fnmatch.fnmatchcase(s.catalog_id, g)
                    for g in globs)]
    if not specs:
        raise ConformanceUsageError(f"--ops {pattern!r} matches no registered op")
    return sorted(specs, key=lambda s: s.id)


def _select_dtypes(option: str | None, adapter: Adapter) -> list[str]:
    supported = list(adapter.supported_dtypes())
    if not option:
        return supported
    wanted = [d.strip() for d in option.split(",") if d.strip()]
    for d in wanted:
        if d not in FLOAT_DTYPES:
            raise ConformanceUsageError(
                f"unknown dtype {d!r}: use one or more of {', '.join(FLOAT_DTYPES)}")
        if d not in supported:
            raise ConformanceUsageError(
                f"{adapter.name} on {adapter.requested_device} does not support {d}")
    return wanted


def _load_divergences(backend: str, adapter: Adapter, extra: str | None) -> list[div.Divergence]:
    paths = div.builtin_paths(adapter.name)
    own = getattr(adapter, "divergence_file", None)
    if own:
        paths.append(Path(own))
    if extra:
        paths.append(Path(extra))
    try:
        return div.load_all(paths)
    except div.DivergenceFileError as exc:
        raise ConformanceUsageError(f"malformed divergence file: {exc}") from exc


def build(opts: dict[str, Any], worker: dict[str, Any] | None) -> Conformance:
    """From parsed options (and, in an xdist worker, what the controller handed down)."""
    try:
        cls = load_adapter_class(opts["backend"])
        # One intra-op thread for conformance checks; speed runs time the framework as it
        # comes (its default thread count), and the fingerprint says which.
        adapter = cls(device=opts["device"], precision=opts["precision"],
                      threads=None if opts.get("speed") else 1)
        adapter.setup()
    except AdapterError as exc:
        raise ConformanceUsageError(str(exc)) from exc
    if opts["examples"] < 1:
        raise ConformanceUsageError("--examples must be at least 1")
    specs = _select_specs(opts["ops"])
    dtypes = _select_dtypes(opts["dtype"], adapter)
    seed = worker["seed"] if worker else (
        opts["seed"] if opts["seed"] is not None else random.SystemRandom().randrange(2**31))
    # A run id unique across machines and directories; xdist workers share the controller's.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # The process id keeps two runs of one backend and seed started in the same second apart.
    run_id = worker["run_id"] if worker else f"{stamp}-{adapter.name}-{seed}-{os.getpid()}"
    if worker:
        run_dir = Path(worker["run_dir"])
    elif opts["results"]:
        run_dir = Path(opts["results"])
    else:
        run_dir = Path("reports") / "results" / run_id
    return Conformance(
        backend=opts["backend"], adapter=adapter, specs=specs, dtypes=dtypes,
        examples=opts["examples"], seed=seed, run_dir=run_dir,
        divergences=_load_divergences(opts["backend"], adapter, opts["divergences"]),
        precision=opts["precision"], ops_pattern=opts["ops"],
        report=Path(opts["report"]) if opts["report"] else None, run_id=run_id,
    )


def fingerprint(ctx: Conformance, command: str) -> dict[str, Any]:
    dev = ctx.adapter.device_info()
    cls = type(ctx.adapter)
    return {
        "schema": results.SCHEMA_VERSION,
        "run_id": ctx.run_id,
        "started": results.now(),
        "finished": None,
        "backend": ctx.backend,
        "adapter": f"{cls.__module__}:{cls.__qualname__}",
        "framework": {"name": ctx.adapter.framework, "version": ctx.version},
        "device": dev,
        "dtypes": ctx.dtypes,
        "ops": ctx.ops_pattern,
        "examples": ctx.examples,
        "seed": ctx.seed,
        "precision": {"mode": ctx.precision, "flags": ctx.adapter.precision_flags()},
        "facts": ctx.facts,
        "host": results.host_info(None if "cpu" in dev["actual"].lower() else dev["name"]),
        "packages": results.package_versions(),
        "command": command,
        "totals": None,
    }
