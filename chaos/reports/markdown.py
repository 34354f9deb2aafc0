"""report.md: the human report, written to fit a CI step summary ($GITHUB_STEP_SUMMARY)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from chaos.journal import RunRecord
from chaos.measurement.results import ScenarioResult
from chaos.measurement.verdict import summarize
from chaos.reports import format as fmt

_VERDICT_ICON = {"PASS": "✅", "FAIL": "❌", "EMPTY": "⚠️", "INTERRUPTED": "⏹️", "ABORTED": "💥"}


def render_markdown(run: RunRecord, results: list[ScenarioResult]) -> str:
    measured = [r for r in results if not r.skipped]
    skipped = [r for r in results if r.skipped]
    summary = summarize(results, run)
    stopped_line = []
    if summary.stopped:
        stopped_line = [
            f"**The run did not finish: {summary.stop_reason or summary.stopped}.** Scenarios it "
            f"completed are judged below; the {summary.unfinished} result(s) of the scenario it "
            f"stopped in are {summary.verdict}, with what was measured until then. "
            + (f"`python -m chaos recover` put back what it left at "
               f"{datetime.fromtimestamp(run.recovered_at, tz=timezone.utc):%H:%M:%S} UTC."
               if run.recovered_at else
               "If it could not revert its faults or stop its lab (it was killed), run "
               "`python -m chaos recover --out <this directory>`."),
            "",
        ]
    planned = any(r.plan_rto_objective_seconds is not None for r in measured)
    lines = [
        f"## SecureCart DR game day: {_VERDICT_ICON[summary.verdict]} {summary.verdict}",
        "",
        f"{summary.passed} passed, {summary.failed} failed"
        f"{f', {summary.unfinished} unfinished' if summary.stopped else ''}, {summary.skipped} skipped "
        f"(exit code {summary.exit_code}).",
        "",
        *stopped_line,
        _run_line(run, results),
        "",
        "### Measured vs envelope vs target",
        "",
        "AWS-equivalent = lab seconds / time factor (lab seconds per AWS second): the values judged "
        "against the targets. Envelope: the worst case AWS can deliver with what the stack "
        "provisions (— when the inventory carries none).",
        "",
        _table(
            ["Scenario", "Workload", "Strategy", "Factor", "RTO lab", "RTO AWS-eq", "RTO envelope", "RTO target",
             *(["Plan RTO objective"] if planned else []),
             "RPO lab", "RPO AWS-eq", "RPO envelope", "RPO target", "Lost / acked", "Verdict"],
            [
                [
                    r.scenario,
                    r.workload,
                    r.strategy,
                    f"{r.time_factor:g}",
                    fmt.seconds(r.lab_rto_seconds, missing=fmt.rto(r)),
                    fmt.rto(r),
                    fmt.seconds(r.envelope_rto_seconds),
                    fmt.target(r.rto_target_seconds),
                    *([fmt.seconds(r.plan_rto_objective_seconds)] if planned else []),
                    fmt.seconds(r.lab_rpo_seconds, missing=fmt.rpo(r)),
                    fmt.rpo(r),
                    fmt.seconds(r.envelope_rpo_seconds),
                    fmt.target(r.rpo_target_seconds),
                    fmt.lost_of_acked(r),
                    f"**{fmt.verdict_word(r)}**",
                ]
                for r in measured
            ],
        ),
    ]
    failures = [r for r in measured if r.reasons]
    if failures:
        lines += ["", "### Why targets were missed", ""]
        lines += [f"- `{r.scenario}` / `{r.workload}`: {'; '.join(r.reasons)}" for r in failures]
    found = [r for r in measured if r.findings]
    if found:
        lines += ["", "### Findings (measurement outside its envelope, or too coarse)", ""]
        lines += [f"- `{r.scenario}` / `{r.workload}`: {'; '.join(r.findings)}" for r in found]
    noted = [r for r in measured if r.notes]
    if noted:
        lines += ["", "### Notes", ""]
        lines += [f"- `{r.scenario}` / `{r.workload}`: {'; '.join(r.notes)}" for r in noted]
    lines += [
        "",
        "### RTO phases",
        "",
        "Detection: fault → failure detected; decision: → runbook started; failover: → last recovery "
        "action done; first success: → first passing probe. Each as AWS-equivalent (lab). — means "
        "the run recorded no such moment.",
        "",
        _table(
            ["Scenario", "Workload", "Detection", "Decision", "Failover", "First success", "RTO"],
            [
                [
                    r.scenario,
                    r.workload,
                    *(_both(aws, lab) for aws, lab in zip(
                        (r.phases.detection_seconds, r.phases.decision_seconds,
                         r.phases.failover_seconds, r.phases.first_success_seconds),
                        (r.lab_phases.detection_seconds, r.lab_phases.decision_seconds,
                         r.lab_phases.failover_seconds, r.lab_phases.first_success_seconds))),
                    _both(r.rto_seconds, r.lab_rto_seconds),
                ]
                for r in measured
            ],
        ),
        *_plan_step_tables(measured),
        "",
        "### Measurement resolution",
        "",
        "RPO is resolved to about one inter-acknowledgement interval of the canary, RTO to one probe "
        "interval. A PASS holds with one resolution added to the measured value (decisive); each "
        "resolution (AWS-equivalent) should stay under a quarter of the room between envelope and "
        "target, at least 1 % of the target (docs/lab-time.md).",
        "",
        _table(
            ["Scenario", "Workload", "Ack interval (median, lab)", "RPO resolution (AWS-eq)",
             "RTO resolution (AWS-eq)", "Write rate", "Ack latency p50 / p99", "Failed writes"],
            [
                [
                    r.scenario,
                    r.workload,
                    fmt.seconds(r.resolution.median_ack_interval_seconds),
                    fmt.seconds(r.rpo_resolution_seconds),
                    fmt.seconds(r.rto_resolution_seconds),
                    fmt.rate(r.resolution.write_rate_per_second),
                    f"{fmt.seconds(r.resolution.ack_latency_p50_seconds)} / "
                    f"{fmt.seconds(r.resolution.ack_latency_p99_seconds)}",
                    str(r.resolution.failed_writes),
                ]
                for r in measured
            ],
        ),
    ]
    if skipped:
        lines += ["", "### Not applicable (skipped)", ""]
        lines += [f"- `{r.scenario}` / `{r.workload}`: {r.skip_reason}" for r in skipped]
    lines += ["", "### Replication lags used", ""]
    if run.replication_lag_override is not None:
        lines += [f"Every replicated store was set to {fmt.seconds(run.replication_lag_override)} (`--replication-lag`).", ""]
    if run.replication:
        lines.append(
            _table(
                ["Workload", "Kind", "Source → target", "Lag", "Paused at deploy"],
                [
                    [
                        link.workload,
                        link.kind,
                        f"{link.source_region} → {link.target_region}",
                        fmt.seconds(link.lag_seconds, missing="as the target replicates"),
                        "yes" if link.paused else "no",
                    ]
                    for link in run.replication
                ],
            )
        )
    else:
        lines.append("No replication link was reported by the target.")
    lines += _timing_section(run)
    # On a real endpoint nothing is emulated: what it lacks was not created at all.
    real_endpoint = bool(run.deploy_summary.get("not_created"))
    if run.deploy_summary.get("notes"):
        lines += ["", "### What the endpoint does differently", ""]
        lines += [f"- {note}" for note in run.deploy_summary["notes"]]
    lines += ["", f"### Declared, not {'created' if real_endpoint else 'emulated'}", ""]
    if run.declared_not_emulated:
        lines += [
            f"- {item.resource}{f' ({item.workload})' if item.workload else ''}: {item.reason}"
            for item in run.declared_not_emulated
        ]
    else:
        lines.append("Nothing: every declared resource was created on the target.")
    return "\n".join(lines) + "\n"


def _plan_step_tables(measured: list[ScenarioResult]) -> list[str]:
    """RTO by plan step: one table per scenario recovered by the stack's Region switch plan (the
    execution is shared by the scenario's workloads, so its steps are the same for each)."""
    lines: list[str] = []
    seen: set[str] = set()
    for r in measured:
        if not r.plan_steps or r.scenario in seen:
            continue
        seen.add(r.scenario)
        fault = r.fault_window.fault_time

        def since_fault(t: float | None) -> str:
            return fmt.seconds(None if t is None or fault is None else t - fault)

        steps = sorted(r.plan_steps, key=lambda s: (s.started_at is None, s.started_at or 0.0))
        lines += ["", f"### RTO by plan step: `{r.scenario}`", "",
                  f"The stack's ARC Region switch plan (RTO objective {fmt.seconds(r.plan_rto_objective_seconds)}) "
                  "recovered this scenario; times count from the fault. A ManualApproval step's duration is "
                  "the approval time.", "",
                  _table(["Step", "Block", "Started", "Ended", "Duration", "Status"],
                         [[s.name, s.block_type, since_fault(s.started_at), since_fault(s.ended_at),
                           fmt.seconds(s.seconds), s.status + (f" ({s.error})" if s.error else "")]
                          for s in steps])]
    return lines


def write_markdown(path: str | Path, run: RunRecord, results: list[ScenarioResult]) -> Path:
    path = Path(path)
    path.write_text(render_markdown(run, results), encoding="utf-8")
    return path


def _both(aws: float | None, lab: float | None) -> str:
    if aws is None:
        return "—"
    if lab is None or lab == aws:
        return fmt.seconds(aws)
    return f"{fmt.seconds(aws)} ({fmt.seconds(lab)} lab)"


def _timing_section(run: RunRecord) -> list[str]:
    """The lab's durations: AWS figure, lab value, source; padded actions labelled."""
    timing = run.deploy_summary.get("timing") or {}
    if not timing:
        return []
    lines = ["", f"### Lab timing (profile `{timing.get('profile')}`)", ""]
    rows = [[f"replication lag: {kind}", fmt.seconds(d.get("aws_seconds")), fmt.seconds(d.get("lab_seconds")),
             str(d.get("source"))] for kind, d in (timing.get("lags") or {}).items()]
    rows += [[f"{action.replace('_', ' ')} (padded)", fmt.seconds(d.get("aws_seconds")),
              fmt.seconds(d.get("lab_seconds")), str(d.get("source"))]
             for action, d in (timing.get("pads") or {}).items()]
    lines.append(_table(["Duration", "AWS", f"Lab (factor {timing.get('time_factor'):g}, last wave)", "Source"], rows))
    if timing.get("pads"):
        lines += ["", "Padded: the lab's real action (PostgreSQL promotion, WAL replay, table restore, AWS "
                  "Backup restore job) finishes faster than AWS; the resource then stays unavailable (the "
                  "restore job RUNNING) until AWS's worst-case time (scaled) has passed since the request. "
                  "Lab values scale with each wave's factor."]
    return lines


def _run_line(run: RunRecord, results: list[ScenarioResult]) -> str:
    started = datetime.fromtimestamp(run.started_at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    duration = "" if run.ended_at is None else f", {fmt.seconds(run.ended_at - run.started_at)}"
    endpoint = f" at `{run.endpoint}`" if run.endpoint else ""
    canary = "" if run.canary_rate is None else f", canary asked {run.canary_rate:g} writes/s per workload"
    achieved = [r.resolution.write_rate_per_second for r in results
                if r.resolution is not None and r.resolution.write_rate_per_second is not None]
    if canary and achieved:  # a store slower than the rate asked shows here, not only in a table
        low, high = min(achieved), max(achieved)
        canary += f", achieved {low:.0f}/s" if round(low) == round(high) else f", achieved {low:.0f}-{high:.0f}/s"
    factors = sorted(set(run.time_factors.values())) or [run.time_factor]
    capacity = ("" if run.lab_capacity_writes_per_second is None else
                f"; the lab sustained {run.lab_capacity_writes_per_second:.0f} writes/s at start")
    return (
        f"Stack `{run.stack}` on target `{run.target}`{endpoint}; run `{run.run_id}` started {started}{duration}. "
        f"Profile `{run.profile}`, time factor {', '.join(f'{f:g}' for f in factors)} "
        f"(lab seconds per AWS second){canary}{capacity}. "
        f"Inventory {run.inventory_digest or 'digest not recorded'}; tool {run.tool_version}."
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"

    return "\n".join([row(header), "|" + "---|" * len(header), *(row(r) for r in rows)])
