"""`python -m chaos recover --out DIR`: put back what a stopped or killed game day left.

Reads the run's run.json and journal.jsonl and, for that run only: reverts the faults it injected
and did not revert (Chaos API rules, FIS experiments, replication pauses), puts back DNS records a
runbook changed by hand, ends the lab process it started and the PostgreSQL servers under it,
and removes its temporary directories (chaos/engine/aftermath.py). Prints what it did; a
second run finds nothing left and says so. Exit 0 when nothing is left, 2 when something could
not be put back (each named on its own line) or the run is still in progress.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chaos.errors import EXIT_OK, EXIT_TOOL_ERROR
from chaos.journal import RUNNING, load_run
from chaos.engine.aftermath import recover


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover", help="put back what a stopped or killed game day left behind",
        description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the run directory: the --out of the game day to recover")
    parser.add_argument("--profile", help="AWS profile for a run on --target aws (default: the usual chain)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chaos.cli.report import refuse_if_running
    run_dir = Path(args.out)
    record, _ = load_run(run_dir)  # a missing or corrupt run directory: one line, exit 2
    refuse_if_running(record, "--out")
    report = recover(run_dir, aws_profile=args.profile)
    if record.status == RUNNING:
        how = "killed before it ended: run.json still says running"
    else:
        how = record.status + (f": {record.stop_reason}" if record.stop_reason else "")
    print(f"recover: run {record.run_id} (stack {record.stack} on {record.target}, {how})")
    for line in report.done:
        print(f"  done: {line}")
    for line in report.review:
        print(f"  review: {line}")
    for line in report.failed:
        print(f"  FAILED: {line}", file=sys.stderr)
    if report.failed:
        print(f"recover: {len(report.failed)} thing(s) could not be put back; fix them and run it again",
              file=sys.stderr)
        return EXIT_TOOL_ERROR
    if not report.done and not report.review:
        print("recover: nothing left to do")
    else:
        print(f"recover: done ({len(report.done)} put back)")
    return EXIT_OK
