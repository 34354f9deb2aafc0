"""What the lab sustains: acknowledged writes/s of one unpaced canary, measured at game-day start.

The lab is one process: its throughput is shared by every canary of a wave. With 48 DynamoDB
workloads at 50 writes/s each, the canaries starved (one got 9 writes acknowledged) and the RPO
error reached 100 ms. So before the first scenario the engine measures the ceiling once, on one of
the deployed workloads (a short burst, outside any measured window), and `waves.plan_waves` keeps
each wave's total rate within it.
"""
from __future__ import annotations

import time
from typing import Any

from chaos.journal import WRITE_ACKED, Journal
from chaos.stores.base import RecordStream
from chaos.targets.base import Target
from chaos.targets.inventory import parse_inventory
from chaos.workload.canary import Canary
from chaos.workload.routing import AppRouting

BURST_SECONDS = 0.5
MAX_BURST_SECONDS = 5.0
MIN_ACKS = 20
UNPACED_RATE = 100_000.0  # far above what any store takes: the canary writes back to back
# The lab's Python HTTP path (moto) is the shared bottleneck; PostgreSQL canaries bypass it.
PROBED_KINDS = ("dynamodb", "s3")


def http_workloads(inventory: dict[str, Any], names: list[str]) -> list[str]:
    """Those of `names` whose canary goes through the lab's HTTP path (DynamoDB, S3)."""
    workloads = inventory.get("workloads") or {}
    return [n for n in names if (workloads.get(n) or {}).get("kind") in PROBED_KINDS]


def probe_workload(inventory: dict[str, Any], names: list[str]) -> str | None:
    return next(iter(http_workloads(inventory, names)), None)


def measure_capacity(target: Target, inventory: dict[str, Any], names: list[str],
                     run_id: str) -> float | None:
    """Writes/s one unpaced canary gets acknowledged on the first DynamoDB/S3 workload of
    `names`; None when there is none (PostgreSQL canaries do not share the lab's HTTP path);
    0.0 when the lab acknowledged (almost) nothing, which schedules one canary per wave."""
    workloads = parse_inventory(inventory, "the deployed inventory").workloads
    name = next((n for n in names if n in workloads and workloads[n].kind in PROBED_KINDS), None)
    if name is None:
        return None
    workload = workloads[name]
    workload.stores.prepare(target)
    journal = Journal()
    canary = Canary(workload_name=name, workload=workload, target=target,
                    routing=AppRouting(workload.stores.primary()),
                    stream=RecordStream("capacity", run_id, "capacity"), journal=journal,
                    rate=UNPACED_RATE)
    canary.start()
    try:
        # At least BURST_SECONDS and MIN_ACKS acknowledgements, within MAX_BURST_SECONDS.
        deadline = time.monotonic() + MAX_BURST_SECONDS
        time.sleep(BURST_SECONDS)
        while len(journal) < MIN_ACKS and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        canary.stop()
    acks = sorted(e.t for e in journal.events() if e.kind == WRITE_ACKED)
    if len(acks) < 2 or acks[-1] <= acks[0]:
        return 0.0  # the lab barely answers: one canary per wave
    return (len(acks) - 1) / (acks[-1] - acks[0])
