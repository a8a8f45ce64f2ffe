"""``python -m conformance coverage [--format text|json] [--backend NAME]...``"""

from __future__ import annotations

import argparse
import json
import sys

from adapters.base import AdapterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance")
    sub = parser.add_subparsers(dest="command", required=True)
    cov = sub.add_parser("coverage", help="per catalog id: oracle, spec, backend mappings")
    cov.add_argument("--format", choices=("text", "json"), default="text")
    cov.add_argument("--backend", action="append", default=None,
                     help="a backend to list (repeatable; default: the built-in three)")
    args = parser.parse_args(argv)
    from conformance import coverage

    try:
        rep = coverage.report(args.backend)
    except AdapterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        json.dump(rep, sys.stdout, indent=2, sort_keys=True)
        print()
    else:
        print(coverage.format_text(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
