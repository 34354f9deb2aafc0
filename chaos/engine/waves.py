"""Time scale and waves: which workloads of a scenario run together, at which time factor.

A lab measurement in lab seconds divided by the time factor (lab seconds per AWS second) is the
AWS-equivalent value the verdict judges. The canary resolves RPO to one write interval and the
probe resolves RTO to one probe interval (both lab seconds), so in AWS seconds the resolution is
interval / time_factor. It must stay under 1 % of the target it is judged against, which sets the
smallest factor a workload may run at:

    time_factor >= max(write_interval / (1 % x RPO target), probe_interval / (1 % x RTO target))

Workloads whose factors round to the same 1-2-5 step run in one wave (one lab reset at that
factor); a wave holds no more workloads than the lab sustains at the canary rate (measured at
start, `chaos.engine.capacity`), so no canary starves. Game-day time then grows linearly with
the number of workload-scenario pairs.

The `mechanics` profile keeps one fixed factor (health checks only; lags in real time) and is
split by capacity alone. Targets other than the lab run in real time (factor 1).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from chaos.journal import WorkloadTarget

RESOLUTION_BOUND = 0.01          # resolution must stay under 1 % of the target judged
# The achieved intervals exceed the asked ones: a probe waits its interval then takes a write and
# a read (tens of ms on a loaded machine); a canary slips behind its pace when the lab is busy.
PROBE_INTERVAL_MARGIN = 2.5
WRITE_INTERVAL_MARGIN = 1.5
MIN_TIME_FACTOR = 0.001          # below this the lab's own latencies (ms) weigh seconds of AWS time
# The capacity figure is ONE sequential writer's ceiling (round-trip bound); the lab's threaded
# server sustains more in aggregate, so a wave may use all of it and the canaries still keep pace.
CAPACITY_HEADROOM = 1.0
_STEPS = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class Wave:
    time_factor: float
    workloads: tuple[str, ...]


def required_time_factor(target: WorkloadTarget, *, write_interval: float, probe_interval: float) -> float:
    """The smallest factor keeping both resolutions under RESOLUTION_BOUND of their targets.

    A zero target (RPO 0: nothing may be lost) cannot be resolved to 1 % of itself at any factor;
    the lost-writes count judges it, so it sets no factor. Both zero: real time (factor 1)."""
    needs = [interval / (RESOLUTION_BOUND * goal)
             for interval, goal in ((write_interval, target.rpo_seconds), (probe_interval, target.rto_seconds))
             if goal > 0]
    return max(needs, default=1.0)


def step_up(factor: float) -> float:
    """Round up to the 1-2-5 series, within [MIN_TIME_FACTOR, 1]."""
    factor = min(1.0, max(MIN_TIME_FACTOR, factor))
    exponent = math.floor(math.log10(factor))
    for step in _STEPS + (10.0,):
        candidate = round(step * 10.0 ** exponent, 12)
        if candidate >= factor * (1 - 1e-9):
            return min(1.0, candidate)
    return 1.0


def max_per_wave(capacity_writes_per_second: float | None, rate: float) -> int | None:
    """How many canaries at `rate` the lab sustains with headroom (None: no limit measured)."""
    if capacity_writes_per_second is None:
        return None
    return max(1, int(capacity_writes_per_second * CAPACITY_HEADROOM // rate))


def plan_waves(names: list[str], targets: Mapping[str, WorkloadTarget], *, profile: str,
               fixed_factor: float | None, rate: float, probe_interval: float,
               capacity_writes_per_second: float | None = None,
               bypass_lab: frozenset[str] = frozenset()) -> list[Wave]:
    """The waves of one scenario over its applicable workloads `names`, in run order.

    `bypass_lab`: workloads whose canary does not go through the lab's HTTP path (PostgreSQL
    speaks to its own server processes): they join a wave without counting against capacity."""
    by_factor: dict[float, list[str]] = {}
    for name in names:
        if fixed_factor is not None:
            factor = fixed_factor
        else:
            factor = step_up(required_time_factor(
                targets[name], write_interval=WRITE_INTERVAL_MARGIN / rate,
                probe_interval=PROBE_INTERVAL_MARGIN * probe_interval))
        by_factor.setdefault(factor, []).append(name)
    limit = max_per_wave(capacity_writes_per_second, rate) or max(1, len(names))
    waves = []
    for factor in sorted(by_factor):
        members = by_factor[factor]
        shared = [n for n in members if n not in bypass_lab]
        chunks = [shared[start:start + limit] for start in range(0, len(shared), limit)] or [[]]
        chunks[0] = [n for n in members if n in bypass_lab] + chunks[0]
        waves += [Wave(factor, tuple(chunk)) for chunk in chunks]
    return waves


__all__ = ["MIN_TIME_FACTOR", "RESOLUTION_BOUND", "Wave", "max_per_wave", "plan_waves",
           "required_time_factor", "step_up"]
