"""Rollback: revert every injected fault, last first, whatever happened before.

Called from a `finally` (Ctrl-C included). A revert that fails is journaled and the others still
run; the failure is re-raised at the end so a fault left behind is never silent.
"""
from __future__ import annotations

from chaos.faults.base import Fault
from chaos.journal import FAULT_REVERTED, NOTE, Journal


def revert_all(injected: list[Fault], journal: Journal, scenario: str) -> None:
    errors: list[str] = []
    for fault in reversed(injected):
        try:
            if fault.revert():
                journal.record(FAULT_REVERTED, scenario, fault.workload_name, fault=fault.name)
        except Exception as err:  # keep reverting the others; report below
            errors.append(f"{fault.name} {fault.key}: {err}")
            journal.record(NOTE, scenario, None, text=f"revert of {fault.name} failed: {err}")
    if errors:
        raise RuntimeError("faults not reverted: " + "; ".join(errors))
