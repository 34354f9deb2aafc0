"""Per-workload machinery of one scenario run: routing, canary, probe, runbook context.

`WorkloadRun` bundles what the phases (steady state, method, recovery, audit, rollback) share for
one workload; `prepare_workloads` builds them from a freshly reset deployment.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from chaos.journal import Journal
from chaos.probes.steady_state import SteadyStateProbe
from chaos.stores.base import RecordStream
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload
from chaos.workload.canary import Canary
from chaos.workload.routing import AppRouting


@dataclass(frozen=True)
class EngineSettings:
    """How a scenario is run; the CLI fills it from its flags."""

    rate: float = 50.0                # canary writes/s per workload
    pause_seconds: float = 2.0        # replication-pause: how long replication stays paused
    deletion_mode: str = "items"      # accidental-deletion on dynamodb/rds: items | table
    min_warmup_seconds: float = 1.0   # canary writes before the fault: after its first ack, plus
                                      # the longest lag the harness knows, and at least WARMUP_ACKS
                                      # of them (run.py); 1 s covers lags it cannot see (LocalStack,
                                      # AWS); the lab's game day, whose lags its deploy reports,
                                      # settles KNOWN_LAG_WARMUP_SECONDS after them (gameday.py)
    budget_seconds: float = 90.0      # bound on every recovery wait of a scenario
    probe_interval_seconds: float = 0.05
    gate_seconds: float = 20.0        # how long the steady-state gate may take to pass
    dns_time_factor: float = 0.0      # lab seconds per AWS second of DNS caching (0: not emulated)


@dataclass
class WorkloadRun:
    name: str
    workload: Workload
    routing: AppRouting
    stream: RecordStream
    canary: Canary
    probe: SteadyStateProbe      # the steady-state probe loop's
    detector: SteadyStateProbe   # the runbook thread's (data-loss detection), never shared
    stop: threading.Event = field(default_factory=threading.Event)
    state: dict[str, Any] = field(default_factory=dict)  # what the scenario set up (before_fault)


def prepare_workloads(*, target: Target, inventory: Inventory, names: list[str],
                      run_id: str, scenario: str, journal: Journal,
                      settings: EngineSettings) -> list[WorkloadRun]:
    """Canary, probe and routing for each applicable workload (nothing started yet)."""
    runs = []
    for name in names:
        workload = inventory.workloads[name]
        routing = AppRouting(workload.stores.prepare(target))
        stream = RecordStream("canary", run_id, scenario)
        canary = Canary(workload_name=name, workload=workload, target=target, routing=routing,
                        stream=stream, journal=journal, rate=settings.rate)
        probes = [SteadyStateProbe(target=target, inventory=inventory, workload_name=name,
                                   workload=workload, routing=routing, run_id=run_id,
                                   scenario=scenario, canary_stream=stream,
                                   dns_time_factor=settings.dns_time_factor) for _ in range(2)]
        runs.append(WorkloadRun(name, workload, routing, stream, canary, *probes))
    return runs
