"""Recovery: for every workload at once, detection and the runbook in one thread, the
steady-state probe loop (from the fault until its first success) in another.

Both are bounded by the scenario's budget. A runbook that fails or times out is journaled as a
note and ends that workload's probe loop: unless a probe passed already, measurement reports it
"not recovered" (a missed target, exit 1), not a crash of the tool.
"""
from __future__ import annotations

import threading

from chaos.journal import Journal
from chaos.runbooks.context import RunbookContext, Shared
from chaos.scenarios.base import Scenario
from chaos.engine.method import FaultTimes
from chaos.engine.setup import EngineSettings, WorkloadRun
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory
from chaos.workload.canary import describe_error

JOIN_GRACE_SECONDS = 15.0


def _runbook(scenario: Scenario, ctx: RunbookContext, run: WorkloadRun) -> None:
    def witness_missing() -> bool:
        # Its own probe instance: the probe loop runs concurrently on `run.probe`.
        return not run.detector.check().ok
    try:
        scenario.detect(ctx, witness_missing)
        scenario.recover(ctx, run.stream)
    except Exception as err:  # a failed recovery is a result, measured as "not recovered"
        ctx.note(f"runbook failed: {describe_error(err)}; "
                 "recovery of this workload ends here")
        run.stop.set()  # the probe loop stops too: nobody is recovering this workload any more


def _probe_loop(run: WorkloadRun, journal: Journal, settings: EngineSettings) -> None:
    run.probe.until_ok(journal, "during", budget_seconds=settings.budget_seconds,
                       interval_seconds=settings.probe_interval_seconds, stop=run.stop)


def recover_all(*, scenario: Scenario, runs: list[WorkloadRun], target: Target,
                inventory: Inventory, journal: Journal, run_id: str, fault_times: FaultTimes,
                settings: EngineSettings, stop: threading.Event) -> None:
    threads = []
    shared = Shared()  # e.g. the one Region switch plan execution every workload's runbook joins
    for run in runs:
        ctx = RunbookContext(target=target, inventory=inventory, workload_name=run.name,
                             workload=run.workload, routing=run.routing, canary=run.canary,
                             journal=journal, scenario=scenario.name, run_id=run_id,
                             fault_time=fault_times.of(run.name), budget_seconds=settings.budget_seconds,
                             stop=stop, shared=shared)
        # The probe and the runbook each get their own writer/clients: no sharing across threads.
        threads.append(threading.Thread(target=_runbook, args=(scenario, ctx, run),
                                        name=f"runbook-{run.name}", daemon=True))
        threads.append(threading.Thread(target=_probe_loop, args=(run, journal, settings),
                                        name=f"probe-{run.name}", daemon=True))
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            # Every wait inside is bounded by the budget; the grace covers one slow last call.
            thread.join(settings.budget_seconds + JOIN_GRACE_SECONDS)
    finally:
        stop.set()
        for run in runs:
            run.stop.set()
