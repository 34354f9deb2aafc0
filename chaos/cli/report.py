"""`python -m chaos report <run-dir>`: re-measure a saved run and re-render its reports.

Measurement is a pure function of `run.json` + `journal.jsonl`, so a report can be rendered again
(another format, another directory, a newer tool) without re-running the game day. Exits with the
run's verdict: 0 every target met, 1 a target missed, 2 the run directory is missing or corrupt.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from chaos.cli.output import writable_dir
from chaos.journal import load_run
from chaos.measurement import measure
from chaos.reports import FORMATS, parse_formats, print_results, write_reports
from chaos.reports.console import make_console


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="re-render the reports of a saved run (run.json + journal.jsonl)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("run_dir", metavar="run-dir", help="directory a game day wrote with --out")
    parser.add_argument(
        "--format",
        default=",".join(FORMATS),
        help=f"comma-separated reports to write, among {','.join(FORMATS)} (default: all)",
    )
    parser.add_argument("--out", default=None, help="where to write the reports (default: the run directory)")
    parser.add_argument("--quiet", action="store_true", help="print one summary line instead of the table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    run_record, events = load_run(args.run_dir)
    out = writable_dir("--out" if args.out else "run-dir", Path(args.out or args.run_dir))
    results = measure(events, run_record.workloads)
    written = write_reports(out, run_record, events, results, formats)
    console = make_console()
    summary = print_results(results, console=console, quiet=args.quiet)
    if not args.quiet:
        for path in written:
            console.print(f"wrote {path}", highlight=False)
    return summary.exit_code
