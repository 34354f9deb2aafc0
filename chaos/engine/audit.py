"""Audit, before any fault is reverted: which canary writes does the recovered store hold?

The recovered store is the application's current one after the runbook (the DR replica, the
promoted replica, the restored table). Auditing before the revert matters: once the primary
region is back, replication would ship the writes that were lost at the moment of the outage.
"""
from __future__ import annotations

from chaos.journal import AUDIT, NOTE, Journal
from chaos.engine.setup import WorkloadRun
from chaos.targets.base import Target


def audit_all(runs: list[WorkloadRun], target: Target, journal: Journal, scenario: str) -> None:
    for run in runs:
        store = run.routing.current
        try:
            present = run.workload.stores.audit(target, store, run.stream)
        except Exception as err:  # no audit event: measurement reports the RPO as unknown
            journal.record(NOTE, scenario, run.name, text=f"audit of {store} failed: {err}")
            continue
        journal.record(AUDIT, scenario, run.name, present=sorted(present), store=str(store))
