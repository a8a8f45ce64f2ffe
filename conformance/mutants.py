"""``python -m conformance mutants [--seeds 5] [--first-seed 1] [--bugs GLOB]``: how well the
suite catches the planted-bug corpus (``tests/mutants/planted_corpus.py``).

Each bug is a user adapter subclassing the torch adapter with one op overridden; it is run
as a user would run it (a conformance subprocess, default settings, its ``OPS`` only) on each
seed, and counts as caught on a seed when a check of it fails or errors there. The table
gives, per bug, the seeds it was caught on and the checks (spec, mode, dtype) that caught
it. A bug caught on fewer seeds than it was run on is a weakness to fix in the strategies.
Exit status: 0 every bug caught on every seed, 1 otherwise, 2 a run could not start.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "mutants"
CORPUS = "planted_corpus"
CAUGHT = ("fail", "error")


@dataclass
class Result:
    bug: str
    ops: str
    affects: tuple[str, ...]
    seeds: list[int] = field(default_factory=list)
    caught_on: list[int] = field(default_factory=list)
    by: Counter = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        checks = ", ".join(f"{k} x{n}" for k, n in self.by.most_common(4)) or "-"
        return (f"{self.bug:32} {len(self.caught_on)}/{len(self.seeds)} "
                f"{','.join(self.affects):22} {checks}")


def corpus(pattern: str = "*") -> list[type]:
    sys.path.insert(0, str(CORPUS_DIR))
    try:
        module = importlib.import_module(CORPUS)
    finally:
        sys.path.remove(str(CORPUS_DIR))
    return [m for m in module.MUTANTS if fnmatch.fnmatchcase(m.__name__, pattern)]


def run_one(bug: type, seed: int, results: Path, extra: list[str]) -> list[dict]:
    """One conformance run of one bug on one seed: its check records."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(CORPUS_DIR), env.get("PYTHONPATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider",
           "-q", "--backend", f"{CORPUS}:{bug.__name__}", "--ops", bug.OPS, "--seed", str(seed),
           "--results", str(results), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{bug.__name__} seed {seed}: exit {proc.returncode}: "
                           f"{(proc.stdout + proc.stderr).strip().splitlines()[-1:]}")
    out = []
    for path in sorted(results.glob("checks-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def measure(bugs: list[type], seeds: list[int], extra: list[str]) -> list[Result]:
    found = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        for bug in bugs:
            r = Result(bug.__name__, bug.OPS, tuple(getattr(bug, "AFFECTS", ())))
            for seed in seeds:
                r.seeds.append(seed)
                try:
                    recs = run_one(bug, seed, Path(tmp) / f"{bug.__name__}-{seed}", extra)
                except RuntimeError as exc:
                    r.broken.append(str(exc))
                    continue
                hits = [x for x in recs if x["verdict"] in CAUGHT]
                if hits:
                    r.caught_on.append(seed)
                r.by.update({f"{x['spec']} {x['mode']} {x['dtype']}" for x in hits})
            print(r.line, flush=True)
            found.append(r)
    return found


def mutants(seeds: int, first_seed: int, pattern: str, extra: list[str]) -> int:
    bugs = corpus(pattern)
    if not bugs:
        print(f"no bug of the corpus matches {pattern!r}", file=sys.stderr)
        return 2
    print(f"{'bug':32} seeds {'affects':22} caught by (spec mode dtype x seeds)", flush=True)
    found = measure(bugs, list(range(first_seed, first_seed + seeds)), extra)
    weak = [r for r in found if len(r.caught_on) < len(r.seeds)]
    for r in found:
        for b in r.broken:
            print(f"  broken: {b}")
    print(f"\n{len(found) - len(weak)}/{len(found)} bugs caught on every seed"
          + (f"; weaknesses: {', '.join(r.bug for r in weak)}" if weak else ""))
    if any(r.broken for r in found):
        return 2
    return 1 if weak else 0
