"""``python -m reports build RESULTS_DIR... -o report.html [--catalog catalog.txt]``;
``python -m reports spread SPEED_RUN_DIR...`` (repeatability of benchmark medians);
``python -m reports timing RESULTS_DIR...`` (where the checks' time went);
``python -m reports sizes RESULTS_DIR...`` (the measured size of each known divergence).

Errors (unwritable output, bad usage) are one line on stderr and exit status 2, with no
traceback and no file written. Broken run files (unreadable, empty, truncated) are listed in
the report, which is still written, and on stderr; the exit status is then 2 too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from reports.html import build
from reports.load import CATALOG
from reports.schema import ReportError

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"reports: error: {message} (see python -m reports --help)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m reports",
                description="Turn conformance results into one self-contained HTML report.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = sub.add_parser("build", help="merge one or more results directories into a report")
    b.add_argument("dirs", nargs="+", type=Path, metavar="RESULTS_DIR",
                   help="a directory written by pytest conformance/ --results DIR")
    b.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                   help="the HTML file to write (replaced atomically)")
    b.add_argument("--catalog", type=Path, default=CATALOG, metavar="FILE",
                   help="catalog ids, one per line (default: conformance/catalog.txt)")
    sp = sub.add_parser("spread", help="how far repeated speed runs put each median")
    sp.add_argument("dirs", nargs="+", type=Path, metavar="SPEED_RUN_DIR")
    tm = sub.add_parser("timing", help="where the checks' time went, per family and spec")
    tm.add_argument("dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    tm.add_argument("--slowest", type=int, default=15, help="how many slowest specs to list")
    sz = sub.add_parser("sizes", help="the measured size of each known divergence met")
    sz.add_argument("dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "spread":
        return _spread(args.dirs)
    if args.command == "sizes":
        from reports import sizes

        print(sizes.summary(sizes.load_records(args.dirs)))
        return 0
    if args.command == "timing":
        from reports import timing

        print(timing.summary(timing.load_records(args.dirs), args.slowest))
        return 0
    try:
        results = build(args.dirs, args.output, args.catalog)
    except ReportError as exc:
        print(f"reports: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_ERROR
    for w in results.warnings:
        print(f"reports: warning: {w}", file=sys.stderr)
    for b in results.broken:
        print(f"reports: broken: {b}", file=sys.stderr)
    print(f"wrote {args.output} ({len(results.checks)} checks from {len(results.runs)} "
          f"run{'s' if len(results.runs) != 1 else ''}"
          + (f", {len(results.broken)} broken file(s) listed in it)" if results.broken else ")"))
    return EXIT_ERROR if results.broken else 0


def _spread(dirs: list[Path]) -> int:
    from reports import spread

    try:
        print(spread.summary(spread.spreads(dirs)))
    except ReportError as exc:
        print(f"reports: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
