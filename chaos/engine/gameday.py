"""A game day: every asked scenario, one after the other, each from fresh state, into one
journal; then measurement and reports (chaos.measurement, chaos.reports).

The caller owns the target (and closes it in a `finally`); this module never starts processes.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from chaos.errors import ChaosError
from chaos.journal import (Journal, ReplicationLag, RunRecord, WorkloadTarget, inventory_digest,
                           save_run, targets_from_inventory)
from chaos.measurement import ScenarioResult, measure
from chaos.reports import write_reports
from chaos.engine.run import run_scenario, select_workloads
from chaos.engine.setup import EngineSettings
from chaos.scenarios.catalog import SCENARIOS
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
                *, on_phase: Callable[[str, str], None] = lambda scenario, phase: None
                ) -> GameDayOutcome:
    """Deploy (lab) or attach (others), run the scenarios, measure, write reports and run files."""
    run_id = new_run_id()
    journal = Journal()
    started = time.time()
    names = check_plan(plan, inventory, target)  # bad names fail before anything starts
    targets = workload_targets(inventory, plan)
    on_phase("-", "deploying")
    deployment = target.prepare(inventory)
    try:
        for index, scenario_name in enumerate(plan.scenarios):
            if index:
                on_phase(scenario_name, "resetting to fresh state")
                deployment = target.reset()
            run_scenario(scenario=SCENARIOS[scenario_name], target=target, deployment=deployment,
                         workload_names=names, journal=journal, run_id=run_id,
                         settings=plan.settings,
                         on_phase=lambda phase, s=scenario_name: on_phase(s, phase))
            on_phase(scenario_name, "done")
    except BaseException:
        # Keep what happened up to the failure (run.json + journal.jsonl) for the post-mortem,
        # without letting a failure to save hide the original one.
        try:
            save_run(out_dir, _run_record(plan, target, deployment, run_id, started, targets),
                     journal.events())
        except OSError:
            pass
        raise
    record = _run_record(plan, target, deployment, run_id, started, targets)
    events = journal.events()
    results = measure(events, targets)
    save_run(out_dir, record, events)
    reports = write_reports(out_dir, record, events, results)
    return GameDayOutcome(record, results, journal, reports)


def _run_record(plan: GameDayPlan, target: Target, deployment: Deployment, run_id: str,
                started: float, targets: dict[str, WorkloadTarget]) -> RunRecord:
    summary = deployment.summary
    return RunRecord(
        run_id=run_id, stack=plan.stack, target=target.name, endpoint=target.endpoint_url,
        started_at=started, ended_at=time.time(), scenarios=list(plan.scenarios),
        workloads=targets, time_factor=plan.time_factor, canary_rate=plan.settings.rate,
        replication_lag_override=plan.replication_lag_seconds,
        replication=[ReplicationLag.from_link(link) for link in summary.get("replication") or []],
        declared_not_emulated=RunRecord.not_emulated_from_summary(summary),
        deploy_summary=summary, inventory_digest=inventory_digest(deployment.inventory))
