"""CI's look at the main job's report, as a person would see it: headless Chromium renders it
and the computed DOM must hold the agreement matrix with a checked cell for each backend
that ran, and the benchmark table with a timing per backend.

    python .ci/check_report.py REPORT.html torch,jax,tensorflow
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def dom(report: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(["chromium", *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               report.resolve().as_uri()], capture_output=True, text=True,
                              timeout=120)
    if proc.returncode != 0:
        sys.exit(f"chromium could not render {report}: {proc.stderr[-500:]}")
    return proc.stdout


def section(html: str, start: str, end: str) -> str:
    i = html.find(start)
    return html[i:html.find(end, i)] if i >= 0 else ""


def main(report: Path, backends: list[str]) -> int:
    html = dom(report)
    matrix = section(html, '<table class="matrix">', "</table>")
    bench = section(html, '<table class="bench">', "</table>")
    problems = []
    if not re.search(r'<td class="cell w-(pass|xfail)', matrix):
        problems.append("the matrix has no checked cell")
    if len(re.findall(r'<td class="num[^"]*"[^>]*>[0-9.]+ [mµn]?s</td>', bench)) < len(backends):
        problems.append("the benchmark table has fewer timings than backends")
    for b in backends:
        if b not in matrix or b not in bench:
            problems.append(f"backend {b} is missing from the matrix or the benchmark table")
    if 'id="broken"' in html:
        problems.append("the report lists broken runs")
    for p in problems:
        print(f"check_report: {report}: {p}", file=sys.stderr)
    if not problems:
        print(f"check_report: {report}: matrix and benchmark table present for "
              f"{', '.join(backends)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2].split(",")))
