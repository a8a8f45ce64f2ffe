"""Machine-readable results: ``env.json`` (the fingerprint) and ``checks-<worker>.jsonl``.

Each check is one JSON line written with a single ``os.write`` on an append-only descriptor,
so an interrupted run leaves whole lines; ``env.json`` is replaced atomically, and keeps
``finished: null`` when a run never reached its end.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from reports.schema import SCHEMA_VERSION

PACKAGES = ("numpy", "scipy", "hypothesis", "pytest", "ml_dtypes", "torch", "jax", "jaxlib",
            "tensorflow", "tensorflow-cpu", "keras", "mpmath")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def clean(value: Any) -> Any:
    """JSON-safe: non-finite floats to null, NumPy scalars and tuples to plain Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(clean(data), f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ChecksWriter:
    def __init__(self, run_dir: Path, worker: str) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / f"checks-{worker}.jsonl"
        self._fd = -1  # opened on the first check: an xdist controller writes none
        self.counts: dict[str, int] = {}

    def write(self, record: dict[str, Any]) -> None:
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        record = {"schema": SCHEMA_VERSION, **record}
        line = json.dumps(clean(record), allow_nan=False, sort_keys=True) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        self.counts[record["verdict"]] = self.counts.get(record["verdict"], 0) + 1

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The CPU features a kernel library dispatches on (oneDNN, Eigen, XLA's CPU backend): they
# decide which code path runs, so a divergence can be about one of them (``when``).
CPU_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni",
                "amx_tile", "amx_bf16", "asimd", "sve")


def cpu_flags() -> set[str]:
    """The instruction-set flags the kernel reports for this CPU (Linux; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_facts() -> dict[str, str]:
    """``{"cpu.avx2": "yes", "cpu.avx512f": "no", ...}`` for the fingerprint's facts."""
    flags = cpu_flags()
    return {f"cpu.{f}": "yes" if f in flags else "no" for f in CPU_FEATURES}


def host_info(gpu: str | None) -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cpu_features": sorted(f for f in CPU_FEATURES if f in cpu_flags()),
        "cores": os.cpu_count(),
        "gpu": gpu,
    }


def read_totals(run_dir: Path) -> tuple[dict[str, int], set[str]]:
    """Verdict counts and the divergence ids met, over every worker's file (a truncated
    last line, left by an interrupted worker, is skipped)."""
    totals: dict[str, int] = {}
    seen: set[str] = set()
    for path in sorted(run_dir.glob("checks-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
                verdict = rec["verdict"]
            except (ValueError, KeyError):
                continue
            totals[verdict] = totals.get(verdict, 0) + 1
            if rec.get("divergence"):
                seen.add(rec["divergence"]["id"])
    return totals, seen
