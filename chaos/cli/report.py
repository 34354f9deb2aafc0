"""`python -m chaos report <run-dir>`: re-measure a saved run and re-render its reports.

Measurement is a pure function of `run.json` + `journal.jsonl`, so a report can be rendered again
(another format, another directory, a newer tool) without re-running the game day. Exits with the
run's verdict: 0 every target met, 1 a target missed, 2 the run directory is missing or corrupt,
or the run was ABORTED (its lab died, or its process was killed: run.json still `running`),
130/143 the run was INTERRUPTED by SIGINT/SIGTERM. A run still in progress is refused.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from chaos.cli.output import writable_dir
from chaos.errors import ChaosError
from chaos.journal import RUNNING, RunRecord, load_run
from chaos.lab.scratch import ProcessId
from chaos.measurement import measure
from chaos.measurement.unfinished import settle_unfinished
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


def refuse_if_running(run_record: RunRecord, flag: str) -> None:
    """A run.json still `running` whose harness is alive is a run in progress, not a dead one."""
    harness = ProcessId.from_dict(run_record.host.get("harness") or {})
    if run_record.status == RUNNING and harness is not None and harness.alive():
        raise ChaosError(f"{flag}: run {run_record.run_id} is still in progress (pid {harness.pid}); "
                         f"wait for it, or stop it with `kill -TERM {harness.pid}`")


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    run_record, events = load_run(args.run_dir)
    refuse_if_running(run_record, "run-dir")
    run_record, events = settle_unfinished(run_record, events)
    out = writable_dir("--out" if args.out else "run-dir", Path(args.out or args.run_dir))
    results = measure(events, run_record.workloads)
    written = write_reports(out, run_record, events, results, formats)
    console = make_console()
    summary = print_results(results, console=console, quiet=args.quiet, run=run_record)
    if not args.quiet:
        for path in written:
            console.print(f"wrote {path}", highlight=False)
    return summary.exit_code
