"""The main job in one command: a conformance run and a speed run of each backend,
merged into one HTML report. The conformance runs go side by side, one per CPU core (each
is single-threaded: the adapters set one intra-op thread), their output lines prefixed by
the backend; the speed runs go one at a time after them, on a machine left quiet.

Each run is the same ``pytest conformance/`` a user would type, in a subprocess, so that one
framework's import (or crash) cannot disturb another's and each run directory is exactly what
the plugin writes. A backend that cannot run (not installed, no such device) is reported in
one line and the others go on; the report is built from whatever runs left results, also
when the job is interrupted.
"""

from __future__ import annotations

import collections
import json
import os
import random
import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from conformance.results import write_json_atomic
from reports.load import STATUS

ROOT = Path(__file__).resolve().parents[1]
INTERRUPTED = 130  # a run cut off by Ctrl-C, as a shell reports it


# pytest's exit statuses that are a verdict, not a crash: all passed, some failed, nothing
# collected; anything else (internal error, usage error, a signal) means the run broke.
VERDICT_STATUSES = (0, 1, 5)


@dataclass
class Run:
    backend: str
    kind: str  # "conformance" or "speed"
    results: Path
    returncode: int
    error: str | None = None  # the first line of the error, when the process crashed

    @property
    def wrote_results(self) -> bool:
        return (self.results / "env.json").is_file()

    crashed: bool = False

    def ended_well(self) -> bool:
        """A verdict status, and the run's own files say it reached its end: env.json has a
        finished time and a speed run wrote its benchmarks (an exception in a session hook,
        as pytest-benchmark's on an incompatible version, exits 1 without either)."""
        if self.returncode not in VERDICT_STATUSES:
            return False
        if self.returncode == 5:
            return True
        try:
            finished = json.loads((self.results / "env.json").read_text())["finished"]
        except (OSError, ValueError, KeyError):
            return False
        speed_ok = self.kind != "speed" or (self.results / "benchmarks.json").is_file()
        return finished is not None and speed_ok

    def crash_line(self) -> str:
        return f"{self.kind} run crashed: {self.error or f'exit status {self.returncode}'}"

    def summary(self) -> str:
        speed = self.kind == "speed"
        state = self.crash_line() if self.crashed else {
            0: "benchmarks done" if speed else "all checks agree",
            1: "a benchmark failed" if speed else "disagreements found",
            5: "nothing selected", INTERRUPTED: "interrupted"}[self.returncode]
        where = self.results if self.wrote_results else "no results"
        return f"{self.backend} {self.kind}: {state} ({where})"


def first_error_line(output: list[str]) -> str | None:
    """The line that says what went wrong in a crashed pytest run's output: its usage or
    internal error, else the last exception line of a traceback."""
    for line in output:
        if line.startswith(("ERROR: ", "INTERNALERROR> ")) and "Error" in line:
            return line.removeprefix("INTERNALERROR> ").strip()
    exceptions = [ln.strip() for ln in output
                  if re.match(r"^(E\s+)?[A-Za-z_.]*(Error|Exception|Interrupt)\b", ln.strip())]
    if exceptions:
        return exceptions[-1].removeprefix("E").strip()
    rest = [ln.strip() for ln in output if ln.strip()]
    return rest[-1] if rest else None


def pytest_command(backend: str, results: Path, seed: int, speed: bool,
                   extra: Sequence[str]) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider",
           "-q", "--backend", backend, "--seed", str(seed), "--results", str(results)]
    return cmd + (["--speed"] if speed else []) + list(extra)


XDIST_OPTIONS = ("-n", "--numprocesses", "--dist", "--maxprocesses")


def without_xdist(args: Sequence[str]) -> list[str]:
    """``args`` less pytest-xdist's options: timings are taken one process at a time
    (pytest-benchmark switches itself off under xdist)."""
    out: list[str] = []
    skip_value = False
    for a in args:
        if skip_value:
            skip_value = False
        elif a in XDIST_OPTIONS:
            skip_value = True
        elif not any(a.startswith(o) and o != a for o in XDIST_OPTIONS):
            out.append(a)
    return out


def child_env() -> dict[str, str]:
    """This process' environment for a child pytest run, less pytest's own variables: a
    parent pytest-xdist worker's would make the child's pytest-benchmark believe it runs
    under xdist and switch itself off."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def run_backend(backend: str, kind: str, root: Path, seed: int, extra: Sequence[str],
                runs: list[Run], prefix: str = "") -> Run:
    """One pytest run; it joins ``runs`` before it starts, so that a run interrupted halfway
    (its results are valid up to the last whole line) still goes into the report."""
    speed = kind == "speed"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", backend)  # package.module:Class -> a file name
    results = root / f"{stamp}-{name}-{seed}{'-speed' if speed else ''}"
    cmd = pytest_command(backend, results, seed, speed, without_xdist(extra) if speed else extra)
    _say(f"== {backend} {kind}: {' '.join(cmd[1:])}\n", "")
    env = child_env()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    run = Run(backend, kind, results, INTERRUPTED)
    runs.append(run)
    run.returncode, output = _echoed(cmd, env, prefix)
    run.crashed = not run.ended_well()
    if run.crashed:
        run.error = first_error_line(output)
        if run.wrote_results:  # the report lists it: "<kind> run crashed: <error>"
            write_json_atomic(results / STATUS, {"returncode": run.returncode,
                                                 "crashed": run.crash_line()})
    return run


_OUT = threading.Lock()


def _say(line: str, prefix: str) -> None:
    with _OUT:
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def _echoed(cmd: list[str], env: dict[str, str], prefix: str = "") -> tuple[int, list[str]]:
    """Run ``cmd``, passing its output through line by line (after ``prefix``, when runs go
    side by side) and keeping the last lines."""
    tail: collections.deque[str] = collections.deque(maxlen=400)
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            _say(line, prefix)
            tail.append(line.rstrip("\n"))
    return proc.returncode, list(tail)


def _conformance_runs(backends: Sequence[str], jobs: int, root: Path, seed: int,
                      extra: Sequence[str], runs: list[Run]) -> list[Run]:
    """Every backend's conformance run, ``jobs`` at a time; in the backends' order."""
    if jobs == 1:
        return [run_backend(b, "conformance", root, seed, extra, runs) for b in backends]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_backend, b, "conformance", root, seed, extra, runs,
                               f"[{b}] ") for b in backends]
        return [f.result() for f in futures]


def run_all(backends: Sequence[str], output: Path, root: Path, seed: int | None = None,
            speed: bool = True, extra: Sequence[str] = (), jobs: int | None = None) -> int:
    """Run every backend (and its speed run), build the merged report; the exit status is
    0 when every run agreed, 1 when some check disagreed, 2 when a run could not start.
    ``jobs``: conformance runs at once (default one per core, at most one per backend)."""
    from reports.html import build
    from reports.schema import ReportError

    seed = random.randrange(2**31) if seed is None else seed
    root, output = root.resolve(), output.resolve()
    jobs = jobs or max(1, min(len(backends), _cores()))
    print(f"conformance pipeline: backends {', '.join(backends)}, seed {seed} "
          f"(rerun with --seed {seed}), {jobs} conformance run{'s' if jobs > 1 else ''} at once",
          flush=True)
    runs: list[Run] = []
    try:
        done = _conformance_runs(backends, jobs, root, seed, extra, runs)
        for run in done if speed else []:
            if run.wrote_results:
                run_backend(run.backend, "speed", root, seed, extra, runs)
    except KeyboardInterrupt:
        print("interrupted: building the report from the runs so far", flush=True)
    for run in runs:
        print(run.summary())
    dirs = [r.results for r in runs if r.wrote_results]
    if not dirs:
        print("error: no run wrote results; no report", file=sys.stderr)
        return 2
    try:
        results = build(dirs, output)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for b in results.broken:
        print(f"broken: {b}", file=sys.stderr)
    print(f"wrote {output} from {len(dirs)} run{'s' if len(dirs) != 1 else ''}")
    return _status(runs, len(backends), bool(results.broken))


def _cores() -> int:
    """The cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _status(runs: list[Run], wanted: int, broken: bool) -> int:
    started = {r.backend for r in runs}
    if any(r.returncode == INTERRUPTED for r in runs):
        return INTERRUPTED
    if broken or len(started) < wanted or any(r.crashed for r in runs):
        return 2
    return 1 if any(r.returncode == 1 for r in runs) else 0
