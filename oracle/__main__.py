"""``python -m oracle accuracy [--ops GLOB ...] [--json PATH] [--seed S] [--examples N]``:
the float64 oracle against its mpmath transcriptions, per op: the stated bound, the max and
99th percentile error (in the bound's units and in ulps), the normwise error and the input
class of the worst case. Exit status 1 when an op exceeds its bound (or fails on its own
domain), 2 on bad usage; ops the harness cannot build inputs for are listed as not measured
(not a failure of the oracle)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m oracle")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accuracy", help="measure the oracle against mpmath (50 digits)")
    a.add_argument("--ops", nargs="+", metavar="GLOB", help="op globs, e.g. 'act.*'")
    a.add_argument("--json", type=Path, metavar="PATH",
                   help="write the results here (the report reads accuracy*.json)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--examples", type=int, default=None,
                   help="examples per (op form, input class); default 20")
    a.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)

    from oracle.accuracy import harness as R

    ops = R.select(args.ops)
    if not ops:
        print(f"oracle: no op matches {args.ops}", file=sys.stderr)
        return 2
    examples = args.examples or R.DEFAULT_EXAMPLES
    total = len(ops)
    done = [0]

    def progress(line: str) -> None:
        done[0] += 1
        print(f"[{done[0]}/{total}] {line}", file=sys.stderr, flush=True)

    results = R.run(ops, examples=examples, seed_value=args.seed,
                    progress=None if args.quiet else progress)
    print(R.table(results))
    bad = [r.op for r in results if r.measured and not r.passed]
    unmeasured = [r.op for r in results if not r.measured]
    within = len(results) - len(bad) - len(unmeasured)
    print(f"\n{within} of {len(results)} ops within their stated bound"
          + (f"; over or failing: {', '.join(bad)}" if bad else "")
          + (f"; not measured (no input builder): {', '.join(unmeasured)}"
             if unmeasured else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = R.document(results, examples=examples, seed_value=args.seed)
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
