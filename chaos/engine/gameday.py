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
                           SKIPPED, TIME_SCALE, Event, Journal, ReplicationLag, RunRecord, WorkloadTarget,
                           inventory_digest, targets_from_inventory, write_run_record)
from chaos.lab.scratch import ProcessId
from chaos.measurement import ScenarioResult, exit_code, measure
from chaos.reports import write_reports
from chaos.engine.run import run_scenario, select_workloads
from chaos.engine.setup import EngineSettings
from chaos.scenarios.catalog import SCENARIOS
from chaos.engine.capacity import http_workloads, measure_capacity, probe_workload
from chaos.engine.stopping import RunGuard
from chaos.engine.waves import Wave, plan_waves
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
    time_factor: float | None = None              # None: per scenario and wave (chaos.engine.waves)
    replication_lag_seconds: float | None = None
    profile: str = "aws"                          # lab timing (chaos.lab.timing): aws | mechanics


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
            targets[name] = targets[name].overridden(**{key: seconds})
    return targets


def inventory_for(inventory: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The inventory narrowed to the selected workloads: the lab deploys only what they need (a
    game day of the `logs` bucket starts no PostgreSQL server). The application's DNS (public
    zone, failover records) stays only when a selected workload fails over through it, the private
    zone only when one switches a private record; backup vaults, alarms and FIS stay (backups and
    their alarms are stack-wide)."""
    workloads = inventory.get("workloads") or {}
    if set(names) >= set(workloads):
        return inventory
    chosen = {name: workloads[name] for name in names}
    failovers = [w.get("failover") or {} for w in chosen.values()]
    narrowed = {**inventory, "workloads": chosen}
    if not any(failovers):
        # Nothing selected fails over through the application's record: neither its DNS nor the
        # Region switch plan (whose traffic step acts on that record) is deployed.
        narrowed.update({key: None for key in ("application", "hosted_zone", "recovery_plan") if key in inventory})
    if not any(f.get("private_record") for f in failovers) and "private_zone" in inventory:
        narrowed["private_zone"] = None
    return narrowed


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


MECHANICS_TIME_FACTOR = 0.1  # mechanics profile: health checks at 1/10 of their interval, lags real
KNOWN_LAG_WARMUP_SECONDS = 0.25  # beyond the lab's reported lag: the replica holds the witness


def run_gameday(plan: GameDayPlan, target: Target, inventory: dict[str, Any], out_dir: Path,
                *, on_phase: Callable[[str, str], None] = lambda scenario, phase: None,
                guard: RunGuard | None = None) -> GameDayOutcome:
    """Deploy (lab) or attach (others), run the scenarios wave by wave, measure, write reports
    and run files.

    With a `guard` (the CLI's), a signal or the target dying stops the run early: the outcome
    then carries `stopped` and the reports say INTERRUPTED or ABORTED. Any other failure is
    re-raised after run.json records it (`status: aborted`)."""
    names = check_plan(plan, inventory, target)  # bad names fail before anything starts
    targets = workload_targets(inventory, plan)
    scales = getattr(target, "scales_time", False)
    session = _Session(plan, target, inventory_for(inventory, names), scales)
    views = parse_inventory(session.inventory, f"stack {plan.stack}")
    run_id, started = new_run_id(), time.time()
    harness = ProcessId.of(os.getpid())
    record = replace(_run_record(plan, target, session, run_id, started, targets), ended_at=None,
                     status=RUNNING, host={"harness": harness.to_dict()} if harness else {})
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
    try:
        try:
            for scenario_name in plan.scenarios:
                in_flight = scenario_name
                _run_waves(scenario_name, plan, session, views, names, targets, journal, run_id, on_phase)
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
        record = replace(_run_record(plan, target, session, run_id, started, targets), host=record.host,
                         status=ABORTED, exit_code=EXIT_TOOL_ERROR,
                         stop_reason=f"the harness failed: {type(err).__name__}: {first_line}")
        try:
            journal.close()
            write_run_record(out_dir, record)
        except OSError:
            pass
        raise
    journal.close()
    record = replace(_run_record(plan, target, session, run_id, started, targets), host=record.host,
                     status=stopped.status if stopped else COMPLETED,
                     stop_reason=stopped.reason if stopped else None)
    events = journal.events()
    results = measure(events, targets)
    record = replace(record, exit_code=stopped.exit_code if stopped else exit_code(results))
    write_run_record(out_dir, record)
    reports = write_reports(out_dir, record, events, results)
    return GameDayOutcome(record, results, journal, reports, stopped)


def _run_waves(scenario_name: str, plan: GameDayPlan, session: "_Session", views: Any, names: list[str],
               targets: dict[str, WorkloadTarget], journal: Journal, run_id: str,
               on_phase: Callable[[str, str], None]) -> None:
    """One scenario: its workloads in waves, each wave deployed afresh at its own time factor."""
    scenario = SCENARIOS[scenario_name]
    selection = select_workloads(scenario, views, names, session.target)
    judged = {name: wanted.for_scenario(scenario_name) for name, wanted in targets.items()}
    waves = session.waves(selection.applicable, judged, run_id, on_phase, scenario_name)
    for name, reason in selection.skipped.items():
        journal.record(SKIPPED, scenario_name, name, reason=reason)
    for index, wave in enumerate(waves):
        if not wave.workloads:
            continue
        on_phase(scenario_name, f"deploying {', '.join(wave.workloads)} (time factor {wave.time_factor:g})")
        deployment = session.fresh(wave.time_factor, wave.workloads)
        # Under `mechanics` the lags run in real time (only health checks are scaled): lab
        # seconds are reported as they are, factor 1.
        measured_factor = wave.time_factor if session.profile == "aws" else 1.0
        for name in wave.workloads:
            journal.record(TIME_SCALE, scenario_name, name, time_factor=measured_factor,
                           profile=session.profile, wave=index)
            session.time_factors[f"{scenario_name}/{name}"] = measured_factor
        run_scenario(scenario=scenario, target=session.target, deployment=deployment,
                     workload_names=list(wave.workloads), journal=WaveJournal(journal, wave.workloads),
                     run_id=run_id,
                     settings=_wave_settings(plan.settings, wave, judged, scenario_name,
                                             session.profile, session.scales),
                     on_phase=lambda phase, s=scenario_name: on_phase(s, phase))


class _Session:
    """The target's deployment across waves. The lab deploys each wave afresh with only the
    wave's workloads at the wave's factor (an AZ outage of `orders` starts no DynamoDB table, a
    deletion of `logs` no PostgreSQL server); real targets keep their one deployment."""

    def __init__(self, plan: GameDayPlan, target: Target, inventory: dict[str, Any], scales: bool):
        self.plan, self.target, self.inventory, self.scales = plan, target, inventory, scales
        self.profile = plan.profile if scales else "aws"  # real targets run in AWS's own time
        self.deployment: Deployment | None = None
        self.capacity: float | None = None
        self.capacity_measured = False
        self.time_factors: dict[str, float] = {}
        self.first_factor: float | None = None
        self.links: dict[tuple[str, str, str], dict[str, Any]] = {}  # every wave's replication links

    def fixed_factor(self) -> float | None:
        if not self.scales:
            return 1.0
        if self.plan.time_factor is not None:
            return self.plan.time_factor
        return MECHANICS_TIME_FACTOR if self.profile == "mechanics" else None

    def waves(self, applicable: list[str], targets: dict[str, WorkloadTarget], run_id: str,
              on_phase: Callable[[str, str], None], scenario: str) -> list[Wave]:
        if not applicable:
            return [Wave(self.fixed_factor() or 1.0, ())]
        if len(http_workloads(self.inventory, applicable)) > 1 and not self.capacity_measured \
                and self.scales:
            # What the lab sustains, measured once on the deployed lab before any scenario.
            self.capacity_measured = True
            probe = probe_workload(self.inventory, applicable)
            if probe is not None:
                on_phase(scenario, "measuring what the lab sustains")
                deployment = self.fresh(self.fixed_factor() or 1.0, (probe,))
                self.capacity = measure_capacity(self.target, deployment.inventory, [probe], run_id)
        return plan_waves(applicable, targets, profile=self.profile, fixed_factor=self.fixed_factor(),
                          rate=self.plan.settings.rate,
                          probe_interval=self.plan.settings.probe_interval_seconds,
                          capacity_writes_per_second=self.capacity, scenario=scenario,
                          bypass_lab=frozenset(n for n in applicable if n not in http_workloads(
                              self.inventory, applicable)))

    def fresh(self, time_factor: float, names: tuple[str, ...]) -> Deployment:
        if self.first_factor is None:
            self.first_factor = time_factor
        if self.scales:
            self.target.time_factor = time_factor  # type: ignore[attr-defined]
            self.target.profile = self.profile  # type: ignore[attr-defined]
            self.deployment = self.target.prepare(inventory_for(self.inventory, list(names)))
        elif self.deployment is None:
            self.deployment = self.target.prepare(self.inventory)
        else:
            self.deployment = self.target.reset()
        for link in self.deployment.summary.get("replication") or []:
            key = (str(link.get("workload")), str(link.get("source_region")), str(link.get("target_region")))
            self.links[key] = link
        return self.deployment


class WaveJournal:
    """The journal as one wave's engine sees it: a scenario-wide event (workload None, e.g. the
    region outage) is recorded once per workload of the wave, so waves of the same scenario keep
    their own fault times apart."""

    def __init__(self, journal: Journal, workloads: tuple[str, ...]):
        self._journal, self._workloads = journal, workloads

    def record(self, kind: str, scenario: str, workload: str | None = None, *,
               t: float | None = None, **data: Any) -> Event:
        if workload is not None or not self._workloads:
            return self._journal.record(kind, scenario, workload, t=t, **data)
        stamp = time.time() if t is None else t
        events = [self._journal.record(kind, scenario, name, t=stamp, **data) for name in self._workloads]
        return events[0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)


def _wave_settings(settings: EngineSettings, wave: Wave, targets: dict[str, WorkloadTarget],
                   scenario: str, profile: str, scales: bool) -> EngineSettings:
    """Bound the recovery waits by the wave's targets and envelopes in lab time (x3: a miss must
    be measured, not cut short), never below the default budget; under the aws profile on the
    lab, clients keep a DNS answer for the record's TTL (scaled). On the lab, whose deploy
    reports every replication lag, the canaries settle only KNOWN_LAG_WARMUP_SECONDS past the
    longest one before the fault (a target whose lags are unknown keeps the 1 s default)."""
    longest = max((recovery_bound_seconds(targets[n], scenario) for n in wave.workloads), default=0.0)
    return replace(settings, budget_seconds=max(settings.budget_seconds, 3 * longest * wave.time_factor),
                   dns_time_factor=wave.time_factor if scales and profile == "aws" else 0.0,
                   min_warmup_seconds=(min(settings.min_warmup_seconds, KNOWN_LAG_WARMUP_SECONDS)
                                       if scales else settings.min_warmup_seconds))


def recovery_bound_seconds(target: WorkloadTarget, scenario: str) -> float:
    """AWS seconds a recovery of `scenario` may take and still be measured: its target, its
    envelope, and when the inventory has no envelope for the scenario the slowest envelope of the
    workload (e.g. a ransomware restore is the padded point-in-time restore its deletion envelope
    describes), so a slow but successful padded restore is never cut short as "not recovered"."""
    own = target.envelope_seconds(scenario, "rto_seconds")
    envelope = own if own is not None else max(
        (entry["rto_seconds"] for entry in target.envelopes.values()), default=0.0)
    return max(target.rto_seconds, envelope)


def _run_record(plan: GameDayPlan, target: Target, session: _Session, run_id: str,
                started: float, targets: dict[str, WorkloadTarget]) -> RunRecord:
    deployment = session.deployment
    summary = deployment.summary if deployment else {}
    return RunRecord(
        run_id=run_id, stack=plan.stack, target=target.name, endpoint=target.endpoint_url,
        started_at=started, ended_at=time.time(), scenarios=list(plan.scenarios),
        workloads=targets, time_factor=session.first_factor or 1.0, canary_rate=plan.settings.rate,
        profile=session.profile, time_factors=dict(session.time_factors),
        lab_capacity_writes_per_second=session.capacity,
        replication_lag_override=plan.replication_lag_seconds,
        replication=[ReplicationLag.from_link(link) for link in session.links.values()],
        declared_not_emulated=RunRecord.not_emulated_from_summary(summary),
        deploy_summary=summary,
        inventory_digest=inventory_digest(deployment.inventory if deployment else session.inventory))
