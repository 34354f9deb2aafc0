"""How finely the canary resolves RPO, and how it performed.

RPO is resolved to about one inter-ack interval: a write lost or kept is only known at the
moments writes were acknowledged. The interval is the median over the steady state before the
fault (the fault itself stalls the canary and would skew a mean).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from chaos.journal import Event


@dataclass(frozen=True)
class Resolution:
    median_ack_interval_seconds: float | None
    write_rate_per_second: float | None
    ack_latency_p50_seconds: float | None
    ack_latency_p99_seconds: float | None
    failed_writes: int


def measure_resolution(fault_time: float | None, *, acks: list[Event], failures: list[Event]) -> Resolution:
    """`acks` sorted by time. Interval and rate over pre-fault acks (all acks without a fault)."""
    steady = [a.t for a in acks if fault_time is None or a.t <= fault_time]
    if len(steady) < 2:
        steady = [a.t for a in acks]
    intervals = [later - earlier for earlier, later in zip(steady, steady[1:])]
    duration = steady[-1] - steady[0] if len(steady) >= 2 else 0.0
    latencies = sorted(float(a.data["latency"]) for a in acks if a.data.get("latency") is not None)
    return Resolution(
        median_ack_interval_seconds=statistics.median(intervals) if intervals else None,
        write_rate_per_second=(len(steady) - 1) / duration if duration > 0 else None,
        ack_latency_p50_seconds=percentile(latencies, 50),
        ack_latency_p99_seconds=percentile(latencies, 99),
        failed_writes=len(failures),
    )


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (a value that was really observed); None for no values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]
