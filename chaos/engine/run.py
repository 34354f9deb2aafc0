"""One scenario, start to end (the shape of chaostoolkit-lib's run):

fresh state (reset) → which workloads apply → steady-state gate → canaries warm up → inject →
runbooks + probes → audit (before revert) → revert (finally) → stop canaries → after-probe.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from chaos import heap
from chaos.errors import ChaosError
from chaos.faults.base import Fault
from chaos.journal import SKIPPED, Journal
from chaos.engine import audit, method, recovery, rollback, steady_state
from chaos.engine.setup import EngineSettings, WorkloadRun, prepare_workloads
from chaos.scenarios.base import FaultInputs, Scenario
from chaos.targets.base import Deployment, Target
from chaos.targets.inventory import Inventory, parse_inventory

FAULT_TTL_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class Selection:
    applicable: list[str]
    skipped: dict[str, str]  # workload -> reason


def select_workloads(scenario: Scenario, inventory: Inventory, names: list[str],
                     target: Target) -> Selection:
    applicable, skipped = [], {}
    for name in names:
        workload = inventory.workloads[name]
        unavailable = target.workload_unavailable(name)
        if unavailable:
            skipped[name] = unavailable
            continue
        missing = sorted(scenario.requires - target.capabilities)
        if missing:
            skipped[name] = f"the {target.name} target cannot inject {', '.join(missing)}"
            continue
        reason = workload.stores.why_not_on(target) or scenario.skip_reason(workload)
        if reason is None:
            applicable.append(name)
        else:
            skipped[name] = reason
    return Selection(applicable, skipped)


def _longest_lag(summary: dict[str, Any], names: list[str]) -> float:
    lags = [float(link.get("lag_seconds") or 0.0) for link in summary.get("replication") or []
            if link.get("workload") in names]
    return max(lags, default=0.0)


def run_scenario(*, scenario: Scenario, target: Target, deployment: Deployment,
                 workload_names: list[str], journal: Journal, run_id: str,
                 settings: EngineSettings, on_phase: Callable[[str], None] = lambda _: None) -> None:
    """Run `scenario` over the applicable workloads of `workload_names`; everything it does is in
    the journal. Raises ChaosError when the steady-state gate fails (a tool/input problem)."""
    inventory = parse_inventory(deployment.inventory, f"the {target.name} deployment")
    selection = select_workloads(scenario, inventory, workload_names, target)
    for name, reason in selection.skipped.items():
        journal.record(SKIPPED, scenario.name, name, reason=reason)
    if not selection.applicable:
        return

    runs = prepare_workloads(target=target, inventory=inventory, names=selection.applicable,
                             run_id=run_id, scenario=scenario.name, journal=journal,
                             settings=settings)
    stop = threading.Event()
    injected: list[Fault] = []
    failure: BaseException | None = None
    try:
        on_phase("steady-state gate")
        steady_state.gate(runs, journal, settings)
        on_phase("canaries warming up")
        _warm_up(runs, settings, _longest_lag(deployment.summary, selection.applicable), stop)
        on_phase("setting the stage")
        scenario.before_fault(target=target, inventory=inventory, runs=runs, journal=journal,
                              budget_seconds=settings.budget_seconds)
        plan = scenario.plan_faults(FaultInputs(
            target=target, run_id=run_id, scenario=scenario.name,
            workloads={r.name: r.workload for r in runs},
            app_stores={r.name: r.routing.current for r in runs}, inventory=inventory,
            routings={r.name: r.routing for r in runs},
            primary_region=inventory.primary_region, pause_seconds=settings.pause_seconds,
            deletion_mode=settings.deletion_mode,
            ttl_seconds=settings.budget_seconds + settings.pause_seconds + FAULT_TTL_MARGIN_SECONDS))
        on_phase("injecting faults")
        fault_times = method.inject(plan, journal, scenario.name, injected, stop)
        on_phase("recovering")
        recovery.recover_all(scenario=scenario, runs=runs, target=target, inventory=inventory,
                             journal=journal, run_id=run_id, fault_times=fault_times,
                             settings=settings, stop=stop, injected=injected)
        on_phase("auditing")
        audit.audit_all(runs, target, journal, scenario.name)
    except BaseException as err:  # a signal, a dead lab, a tool failure: revert, then re-raise it
        failure = err
        raise
    finally:
        stop.set()
        try:
            on_phase("reverting faults")
            rollback.revert_all(injected, journal, scenario.name)
        except Exception:
            # Each failed revert is journaled (rollback.py). When the scenario is already failing
            # (its lab died: nothing answers the revert), that failure is the news: raising the
            # revert's error here would hide it.
            if failure is None:
                raise
        finally:
            _stop_canaries(runs)
    steady_state.after(runs, journal, scenario.name)
    for run in runs:
        run.probe.close()
        run.detector.close()


# Acknowledged writes each canary makes before the fault: the RPO resolution is the median
# interval between them (20: 0.4 s at the default 50 writes/s).
WARMUP_ACKS = 20
_WARMUP_POLL_SECONDS = 0.02
WARMUP_GRACE_SECONDS = 5.0  # beyond the settle time, for a canary slow to get its first acks


def _warm_up(runs: list[WorkloadRun], settings: EngineSettings, longest_lag: float,
             stop: threading.Event) -> None:
    """Start the canaries and let them write long enough that the replicas hold everything but
    the last `lag` seconds: the steady state the fault interrupts. Each canary must have had its
    first write acknowledged `longest_lag + min_warmup_seconds` ago and have WARMUP_ACKS writes
    acknowledged; no longer (a fixed 1 s + lag was 0.5-1 s too long per wave at small factors),
    and bounded (WARMUP_GRACE_SECONDS) for a canary that gets nothing acknowledged."""
    # The canary threads share this process's GIL with a large long-lived heap: collect now,
    # before any write is measured, and keep that heap out of later collections (chaos.heap).
    heap.settle()
    for run in runs:
        run.canary.start()
    settle = longest_lag + settings.min_warmup_seconds
    deadline = time.monotonic() + settle + WARMUP_GRACE_SECONDS

    def warm(run: WorkloadRun) -> bool:
        first = run.canary.first_acked_at
        return (first is not None and time.monotonic() - first >= settle
                and run.canary.acked >= WARMUP_ACKS)

    while not all(warm(run) for run in runs) and time.monotonic() < deadline:
        if stop.wait(_WARMUP_POLL_SECONDS):
            break
    for run in runs:
        first = run.canary.first_acked_seq
        if first is None:
            raise ChaosError(f"canary: {run.name} got no write acknowledged while warming up; "
                             "check the target and the inventory")
        run.probe.witness_seq = run.detector.witness_seq = first


def _stop_canaries(runs: list[WorkloadRun]) -> None:
    for run in runs:
        run.canary.stop()


__all__ = ["Selection", "run_scenario", "select_workloads"]
