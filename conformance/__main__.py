"""``python -m conformance coverage [--format text|json] [--backend NAME]... [--params]``

``python -m conformance soak --backend B --seeds N [--first-seed S] [pytest options...]``:
the suite over N consecutive seeds, failures per seed and the totals.

``python -m conformance mutants [--seeds 5] [--bugs GLOB] [pytest options...]``: the
planted-bug corpus (tests/mutants/), per bug the seeds it was caught on and by which checks.

``python -m conformance show OP``: everything about one op (oracle, specs, mappings,
divergences, tests).

``python -m conformance selftime --backend B [--seed S] [pytest options...]``: one run, and
where its time went (checks per CPU-second per family, the harness share).

``python -m conformance run [--backends torch,jax,tensorflow] [-o report.html] [--no-speed]
[pytest options...]``: the main job (conformance and speed runs of each backend, one report).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from adapters import BUILTIN
from adapters.base import AdapterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance")
    sub = parser.add_subparsers(dest="command", required=True)
    cov = sub.add_parser("coverage", help="per catalog id: oracle, spec, backend mappings")
    cov.add_argument("--format", choices=("text", "json"), default="text")
    cov.add_argument("--backend", action="append", default=None,
                     help="a backend to list (repeatable; default: the built-in three)")
    cov.add_argument("--params", action="store_true",
                     help="every keyword of every native callable: drawn, fixed, not covered "
                          "or unaccounted (imports the frameworks)")
    run = sub.add_parser(
        "run", help="conformance and speed runs of each backend, merged into one HTML report",
        epilog="Other options (--ops, --examples, --dtype, --device, -n 2...) go to each "
               "pytest run unchanged.")
    run.add_argument("--backends", default=",".join(BUILTIN),
                     help="comma-separated backends, run in turn (default: all three)")
    run.add_argument("-o", "--output", type=Path, default=Path("reports/report.html"),
                     help="the merged HTML report (default reports/report.html)")
    run.add_argument("--results-root", type=Path, default=Path("reports/results"),
                     help="where each run's results directory goes")
    run.add_argument("--seed", type=int, default=None, help="one seed for every run")
    run.add_argument("--no-speed", dest="speed", action="store_false",
                     help="skip the speed runs")
    run.add_argument("--jobs", type=int, default=None,
                     help="conformance runs at once (default: one per CPU core, at most one "
                          "per backend; each is single-threaded); speed runs go one at a time")
    soak = sub.add_parser(
        "soak", help="the conformance suite over consecutive seeds; failures per seed",
        epilog="Other options (--ops, --examples, --dtype, --device, -n 2...) go to each "
               "pytest run unchanged.")
    soak.add_argument("--backend", required=True, help="the backend to soak")
    soak.add_argument("--seeds", type=int, required=True, help="how many seeds")
    soak.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    soak.add_argument("--results-root", type=Path, default=Path("reports/results"),
                      help="where each seed's results directory goes")
    selftime = sub.add_parser(
        "selftime", help="the suite's own speed: checks per CPU-second per family, harness share",
        epilog="Other options (--ops, --examples, --dtype...) go to the pytest run unchanged.")
    selftime.add_argument("--backend", required=True, help="the backend to time")
    selftime.add_argument("--seed", type=int, default=1, help="the run seed (default 1)")
    selftime.add_argument("--results-root", type=Path, default=Path("reports/results"),
                          help="where the run's results directory goes")
    mut = sub.add_parser(
        "mutants", help="the planted-bug corpus: per bug, on how many seeds it was caught",
        epilog="Other options (--examples, --dtype...) go to each pytest run unchanged.")
    mut.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    mut.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    mut.add_argument("--bugs", default="*", help="a glob on the bugs' class names")
    show = sub.add_parser("show", help="everything about one op: oracle, specs, mappings, "
                                       "divergences, tests")
    show.add_argument("op", help="a catalog id, e.g. norm.batch_norm_train")
    args, extra = parser.parse_known_args(argv)
    if args.command == "show":
        from conformance.show import show as show_op

        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        try:
            print(show_op(args.op))
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
        return 0
    if args.command == "selftime":
        from conformance.selftime import selftime as run_selftime

        return run_selftime(args.backend, args.seed, args.results_root, extra)
    if args.command == "mutants":
        from conformance.mutants import mutants as run_mutants

        if args.seeds < 1:
            parser.error("--seeds must be at least 1")
        return run_mutants(args.seeds, args.first_seed, args.bugs, extra)
    if args.command == "soak":
        from conformance.soak import soak as run_soak

        if args.seeds < 1:
            parser.error("--seeds must be at least 1")
        return run_soak(args.backend, args.seeds, args.first_seed, args.results_root, extra)
    if args.command == "run":
        from conformance import pipeline

        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        if args.jobs is not None and args.jobs < 1:
            parser.error("--jobs must be at least 1")
        return pipeline.run_all(backends, args.output, args.results_root, args.seed,
                                args.speed, extra, jobs=args.jobs)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from conformance import coverage

    if args.params:
        from conformance import params

        try:
            found = params.rows(args.backend)
        except AdapterError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.format == "json":
            json.dump([r.__dict__ for r in found], sys.stdout, indent=2)
            print()
        else:
            print(params.format_text(found))
        return 0
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
