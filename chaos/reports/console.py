"""Terminal output: a rich table of measured vs target, or one line for CI logs (`quiet`)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from chaos.journal import RunRecord
from chaos.measurement.results import ScenarioResult
from chaos.measurement.verdict import Summary, summarize
from chaos.reports import format as fmt

CI_LOG_WIDTH = 160
_STYLE = {"passed": "bold green", "failed": "bold red", "skipped": "dim", "interrupted": "bold yellow",
          "aborted": "bold magenta"}


def results_table(results: list[ScenarioResult]) -> Table:
    table = Table(title="SecureCart DR game day: measured vs target (AWS-equivalent)", title_justify="left",
                  box=box.SIMPLE_HEAD)
    for column in ("Scenario", "Workload", "Strategy"):
        table.add_column(column)
    for column in ("Factor", "RTO / envelope / target", "RPO / envelope / target", "Lost / acked"):
        table.add_column(column, justify="right")
    table.add_column("Verdict", no_wrap=True)
    for r in results:
        style = _STYLE[r.status]
        table.add_row(
            r.scenario,
            r.workload,
            r.strategy,
            "—" if r.skipped else f"{r.time_factor:g}",
            f"{fmt.rto(r)} / {fmt.seconds(r.envelope_rto_seconds)} / {fmt.target(r.rto_target_seconds)}",
            f"{fmt.rpo(r)} / {fmt.seconds(r.envelope_rpo_seconds)} / {fmt.target(r.rpo_target_seconds)}",
            fmt.lost_of_acked(r),
            f"[{style}]{fmt.verdict_word(r)}[/{style}]",
        )
    return table


def make_console() -> Console:
    """A terminal gets its own width; a CI log (not a terminal) is not 80 columns wide, so the
    table gets room instead of wrapping every cell."""
    console = Console()
    return console if console.is_terminal else Console(width=CI_LOG_WIDTH)


def quiet_line(summary: Summary) -> str:
    """e.g. `chaos: FAIL, 7 passed, 1 failed, 2 skipped (exit 1)`; a stopped run says why:
    `chaos: INTERRUPTED (interrupted by SIGTERM), 2 passed, 0 failed, 1 unfinished, 0 skipped (exit 143)`."""
    why = f" ({summary.stop_reason})" if summary.stopped and summary.stop_reason else ""
    unfinished = f", {summary.unfinished} unfinished" if summary.stopped else ""
    return (
        f"chaos: {summary.verdict}{why}, {summary.passed} passed, {summary.failed} failed{unfinished}, "
        f"{summary.skipped} skipped (exit {summary.exit_code})"
    )


def print_results(results: list[ScenarioResult], *, console: Console | None = None, quiet: bool = False,
                  run: RunRecord | None = None) -> Summary:
    """Print the table (or the one line in quiet mode) and the failure reasons; returns the summary."""
    console = console or make_console()
    summary = summarize(results, run)
    if not quiet:
        console.print(results_table(results))
        for r in results:
            if r.reasons:
                console.print(f"[red]✗[/red] {r.scenario} / {r.workload}: {'; '.join(r.reasons)}", highlight=False)
            if r.stopped:
                console.print(f"[yellow]■[/yellow] {r.scenario} / {r.workload}: {'; '.join(r.notes[:1])}",
                              highlight=False)
            for finding in r.findings:
                console.print(f"[yellow]![/yellow] {r.scenario} / {r.workload}: {finding}", highlight=False)
        # One line per distinct reason keeps the table narrow and still says why nothing ran.
        skips: dict[str, list[str]] = {}
        for r in results:
            if r.skipped and r.skip_reason:
                skips.setdefault(r.skip_reason, []).append(f"{r.scenario}/{r.workload}")
        for reason, pairs in skips.items():
            console.print(f"[dim]skipped {', '.join(pairs)}: {reason}[/dim]", highlight=False)
    console.print(quiet_line(summary), highlight=False, markup=False)
    return summary
