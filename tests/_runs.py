"""Helpers to run the conformance suite in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.pipeline import child_env

ROOT = Path(__file__).resolve().parents[1]


def run_conformance(*args: str, extra_path: Path | None = None,
                    timeout: float = 600) -> subprocess.CompletedProcess:
    env = child_env()  # under ``pytest tests/ -n 2``, as the main job's runs
    paths = [str(ROOT)] + ([str(extra_path)] if extra_path else [])
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-p", "no:cacheprovider",
           "-q", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def records(run_dir: Path) -> list[dict]:
    out = []
    for path in sorted(run_dir.glob("checks-*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines()]
    return out
