"""`python -m chaos history`: measured RTO and RPO against targets over time, per pair.

Every game day appends its results to a history (a local JSON Lines file by default, or an S3
object with `--history s3://BUCKET/KEY`, e.g. for the nightly staging run). This command reads it
back: a table of the latest value, its target and the median before it for each (scenario,
workload), regressions flagged, and `history.png` (measured / target over time).

Exit codes: 0 shown; 1 with --strict when a pair regressed; 2 bad input (unreadable history).
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from rich import box
from rich.table import Table

from chaos.errors import EXIT_OK, EXIT_TARGET_MISSED, ChaosError
from chaos.history.store import default_location, open_history
from chaos.history.trend import DEFAULT_TOLERANCE, DEFAULT_WINDOW, PairTrend, trends
from chaos.reports.console import make_console


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("history", help="RTO/RPO trend per scenario and workload across game days",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack whose game days to show")
    parser.add_argument("--history", default=None,
                        help="history file or s3://BUCKET/KEY (default: gameday-history/<stack>.jsonl)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help=f"compare the latest run with the median of this many before it (default {DEFAULT_WINDOW})")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"relative slack before a slower run counts as a regression (default {DEFAULT_TOLERANCE})")
    parser.add_argument("--out", default=None, help="directory for history.png (default: next to a local history)")
    parser.add_argument("--json", action="store_true", help="print the trend as JSON instead of a table")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a pair regressed")
    parser.set_defaults(func=run)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} s"


def _median(trend: PairTrend, metric: str) -> float | None:
    values = [getattr(p, metric) for p in trend.points[:-1] if getattr(p, metric) is not None]
    return statistics.median(values) if values else None


def table(pairs: list[PairTrend]) -> Table:
    grid = Table(box=box.SIMPLE_HEAD)
    for column in ("Scenario", "Workload", "Runs", "Pass rate", "RTO (median before) / target",
                   "RPO (median before) / target", "Latest", "Regression"):
        grid.add_column(column)
    for t in pairs:
        latest = t.latest
        grid.add_row(
            t.scenario, t.workload, str(len(t.points)), f"{t.pass_rate:.0%}",
            f"{_seconds(latest.rto_seconds)} ({_seconds(_median(t, 'rto_seconds'))}) / {latest.rto_target_seconds:g} s",
            f"{_seconds(latest.rpo_seconds)} ({_seconds(_median(t, 'rpo_seconds'))}) / {latest.rpo_target_seconds:g} s",
            "PASS" if latest.passed else "FAIL",
            "; ".join(t.regressions) or "—")
    return grid


def run(args: argparse.Namespace) -> int:
    if args.window < 1:
        raise ChaosError("--window: must be a whole number >= 1; pass e.g. --window 5")
    if not (0 <= args.tolerance <= 10):
        raise ChaosError("--tolerance: must be between 0 and 10 (a fraction, 0.2 = 20 %)")
    location = args.history or default_location(args.stack)
    entries = open_history(location).load()
    pairs = trends(entries, stack=args.stack, window=args.window, tolerance=args.tolerance)
    if not pairs:
        raise ChaosError(f"--history: no game day of stack {args.stack} in {location}; run "
                         f"`python -m chaos gameday --stack {args.stack}` first")
    runs = len({p.run_id for t in pairs for p in t.points})
    out = Path(args.out) if args.out else (Path(location).parent if not location.startswith("s3://") else Path("."))
    # matplotlib (~1.5 s to import) only here: every `python -m chaos` command imports this module
    # to register its flags (chaos/cli/__init__.py), and none of the others draws a chart.
    from chaos.history.chart import write_chart
    try:
        out.mkdir(parents=True, exist_ok=True)
        chart = write_chart(out / "history.png", pairs,
                            f"{args.stack}: measured / target over {runs} game days")
    except OSError as err:
        raise ChaosError(f"--out: cannot write history.png in {out} ({err.strerror}); pass a "
                         "writable directory") from None
    regressed = [t for t in pairs if t.regressions]
    if args.json:
        print(json.dumps({"stack": args.stack, "runs": runs, "chart": str(chart), "pairs": [
            {"scenario": t.scenario, "workload": t.workload, "runs": len(t.points),
             "pass_rate": t.pass_rate, "regressions": list(t.regressions),
             "points": [vars(p) for p in t.points]} for t in pairs]}, indent=2))
    else:
        console = make_console()
        console.print(table(pairs))
        console.print(f"history: {runs} game days of {args.stack} in {location}; "
                      f"{len(regressed)} pair(s) regressed; chart {chart}", highlight=False)
    return EXIT_TARGET_MISSED if (args.strict and regressed) else EXIT_OK
