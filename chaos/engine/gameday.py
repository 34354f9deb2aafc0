"""A game day: every asked scenario, one after the other, each from fresh state, into one
journal; then measurement and reports (chaos.measurement, chaos.reports).

The caller owns the target (and closes it in a `finally`); this module never starts processes.

Crash safety: the journal is on disk from the first event and run.json is written when the run
starts (`status: running`, the harness's PID) and again once the lab child exists (its PID, run
directory, leftovers file), so a run killed at any point can be re-rendered (`chaos report`) and
put back (`chaos recover`). A signal or a dead lab (chaos/engine/stopping.py) stops the run:
the scenario in flight reverts its faults (its `finally`), a `run_stopped` event names it, and
the reports are still written, with the verdict INTERRUPTED or ABORTED.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from chaos.errors import EXIT_TOOL_ERROR, ChaosError, RunStopped
from chaos.journal import (ABORTED, COMPLETED, JOURNAL_FILE, RUN_STOPPED, RUNNING, SCENARIO_ENDED,
                           Journal, ReplicationLag, RunRecord, WorkloadTarget, inventory_digest,
                           targets_from_inventory, write_run_record)
from chaos.lab.scratch import ProcessId
from chaos.measurement import ScenarioResult, exit_code, measure
from chaos.reports import write_reports
from chaos.engine.run import run_scenario, select_workloads
from chaos.engine.setup import EngineSettings
from chaos.scenarios.catalog import SCENARIOS
from chaos.engine.stopping import RunGuard
from chaos.targets.base import Deployment, Target
from chaos.targets.inventory import parse_inventory


@dataclass(frozen=True)
class GameDayPlan:
    stack: str
    scenarios: list[str]                          # names from SCENARIOS, in run order
    workloads: list[str] | None = None            # None: every workload of the inventory
    scenarios_explicit: bool = False              # asked by name: not applying anywhere is an error
    settings: EngineSettings = field(default_factory=EngineSettings)
    rto_targets: dict[str, float] = field(default_factory=dict)  # overrides, by workload
    rpo_targets: dict[str, float] = field(default_factory=dict)
    time_factor: float = 1.0
    replication_lag_seconds: float | None = None


@dataclass
class GameDayOutcome:
    run: RunRecord
    results: list[ScenarioResult]
    journal: Journal
    reports: list[Path]
    stopped: RunStopped | None = None  # set when a signal or a dead target stopped the run


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def workload_targets(inventory: dict[str, Any], plan: GameDayPlan) -> dict[str, WorkloadTarget]:
    """The inventory's targets, with the --rto-target/--rpo-target overrides applied."""
    targets = targets_from_inventory(inventory)
    for flag, overrides in (("--rto-target", plan.rto_targets), ("--rpo-target", plan.rpo_targets)):
        for name, seconds in overrides.items():
            if name not in targets:
                raise ChaosError(f"{flag}: no workload {name!r} in stack {plan.stack}; "
                                 f"choose among {', '.join(sorted(targets))}")
            key = "rto_seconds" if flag == "--rto-target" else "rpo_seconds"
            targets[name] = replace(targets[name], **{key: seconds})
    return targets


def check_plan(plan: GameDayPlan, inventory: dict[str, Any], target: Target) -> list[str]:
    """Validate names against the inventory before anything is started; returns the workloads."""
    views = parse_inventory(inventory, f"stack {plan.stack}")
    available = sorted(views.workloads)
    names = plan.workloads or available
    for name in names:
        if name not in available:
            raise ChaosError(f"--workload: no workload {name!r} in stack {plan.stack}; "
                             f"choose among {', '.join(available)}")
    for scenario_name in plan.scenarios:
        if scenario_name not in SCENARIOS:
            raise ChaosError(f"--scenario: unknown scenario {scenario_name!r}; choose among "
                             f"{', '.join(SCENARIOS)}")
        if plan.scenarios_explicit:
            selection = select_workloads(SCENARIOS[scenario_name], views, names, target)
            if not selection.applicable:
                why = "; ".join(f"{n}: {r}" for n, r in selection.skipped.items())
                raise ChaosError(f"--scenario: {scenario_name} applies to none of the selected "
                                 f"workloads ({why}); pick another scenario or workload")
    return names


def run_gameday(plan: GameDayPlan, target: Target, inventory: dict[str, Any], out_dir: Path,
                *, on_phase: Callable[[str, str], None] = lambda scenario, phase: None,
                guard: RunGuard | None = None) -> GameDayOutcome:
    """Deploy (lab) or attach (others), run the scenarios, measure, write reports and run files.

    With a `guard` (the CLI's), a signal or the target dying stops the run early: the outcome
    then carries `stopped` and the reports say INTERRUPTED or ABORTED. Any other failure is
    re-raised after run.json records it (`status: aborted`)."""
    names = check_plan(plan, inventory, target)  # bad names fail before anything starts
    targets = workload_targets(inventory, plan)
    harness = ProcessId.of(os.getpid())
    record = RunRecord(
        run_id=new_run_id(), stack=plan.stack, target=target.name, endpoint=target.endpoint_url,
        started_at=time.time(), ended_at=None, scenarios=list(plan.scenarios), workloads=targets,
        time_factor=plan.time_factor, canary_rate=plan.settings.rate,
        replication_lag_override=plan.replication_lag_seconds, status=RUNNING,
        host={"harness": harness.to_dict()} if harness else {})
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal.on_disk(out_dir / JOURNAL_FILE)
    write_run_record(out_dir, record)

    def host_changed(host: dict[str, Any]) -> None:
        nonlocal record
        record = replace(record, host={**record.host, **host})
        write_run_record(out_dir, record)

    target.supervise(on_lost=guard.abort if guard else None, on_host_change=host_changed)
    stopped: RunStopped | None = None
    in_flight = "-"
    deployment: Deployment | None = None
    try:
        try:
            on_phase("-", "deploying")
            deployment = target.prepare(inventory)
            record = _with_deployment(record, target, deployment)
            write_run_record(out_dir, record)
            for index, scenario_name in enumerate(plan.scenarios):
                in_flight = scenario_name
                if index:
                    on_phase(scenario_name, "resetting to fresh state")
                    deployment = target.reset()
                run_scenario(scenario=SCENARIOS[scenario_name], target=target, deployment=deployment,
                             workload_names=names, journal=journal, run_id=record.run_id,
                             settings=plan.settings,
                             on_phase=lambda phase, s=scenario_name: on_phase(s, phase))
                journal.record(SCENARIO_ENDED, scenario_name)
                on_phase(scenario_name, "done")
        except RunStopped as stop:
            stopped = stop
            journal.record(RUN_STOPPED, in_flight, None, t=stop.at, status=stop.status,
                           reason=stop.reason, exit_code=stop.exit_code)
        if guard is not None:
            guard.hold()  # the run is over: a signal now must not break the saving of its reports
    except BaseException as err:
        # A tool failure: keep what happened up to it (run.json + journal.jsonl) for the
        # post-mortem, without letting a failure to save hide the original one.
        first_line = (str(err).splitlines() or [""])[0]
        record = replace(record, ended_at=time.time(), status=ABORTED, exit_code=EXIT_TOOL_ERROR,
                         stop_reason=f"the harness failed: {type(err).__name__}: {first_line}")
        try:
            journal.close()
            write_run_record(out_dir, record)
        except OSError:
            pass
        raise
    journal.close()
    record = replace(record, ended_at=time.time(),
                     status=stopped.status if stopped else COMPLETED,
                     stop_reason=stopped.reason if stopped else None)
    events = journal.events()
    results = measure(events, targets)
    record = replace(record, exit_code=stopped.exit_code if stopped else exit_code(results))
    write_run_record(out_dir, record)
    reports = write_reports(out_dir, record, events, results)
    return GameDayOutcome(record, results, journal, reports, stopped)


def _with_deployment(record: RunRecord, target: Target, deployment: Deployment) -> RunRecord:
    summary = deployment.summary
    return replace(
        record, endpoint=target.endpoint_url,
        replication=[ReplicationLag.from_link(link) for link in summary.get("replication") or []],
        declared_not_emulated=RunRecord.not_emulated_from_summary(summary),
        deploy_summary=summary, inventory_digest=inventory_digest(deployment.inventory))
