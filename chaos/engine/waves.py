"""Time scale and waves: which workloads of a scenario run together, at which time factor.

A lab measurement in lab seconds divided by the time factor (lab seconds per AWS second) is the
AWS-equivalent value the verdict judges. The canary resolves RPO to one write interval and the
probe resolves RTO to one probe interval (both lab seconds), so in AWS seconds the resolution is
interval / time_factor. Verdicts are decisive (chaos.measurement.decisive: a PASS holds with one
resolution added), so the resolution only has to be fine against the room between AWS's worst case
(the envelope) and the target, never coarser than that rule allows:

    resolution <= allowed = max(1 % x target, 1/4 x (target - envelope))

and the lab's own unpadded seconds (detection, runbook API calls, probe latency: LAB_OVERHEAD_SECONDS
on this 2-core machine), which 1/factor magnifies into AWS seconds, must fit in the other 3/4 of
that room, so they cannot push a healthy measurement past its target (a false FAIL). The factor
a workload needs is the larger of the two, but never more than the 1 %-of-target rule asked
(issue 13's): where the room is small, the old bound stands. Without an envelope (or with one at
or beyond the target) the room is unknown and the 1 % rule applies alone.

Factors round up to two significant digits. Each factor group is a wave (one lab reset at that factor);
adjacent groups are merged into one wave at the larger factor when that costs less lab time than
a wave's fixed cost (reset, deploy, gate, warm-up: WAVE_OVERHEAD_SECONDS; `merge_groups`). A wave
holds no more workloads than the lab sustains at the canary rate (measured at start,
`chaos.engine.capacity`), so no canary starves. Game-day time then grows linearly with the number
of workload-scenario pairs.

The `mechanics` profile keeps one fixed factor (health checks only; lags in real time) and is
split by capacity alone. Targets other than the lab run in real time (factor 1).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from chaos.journal import WorkloadTarget
from chaos.lab.timing import SCALED_FIGURES, lab_timing
from chaos.measurement.decisive import (LAB_OVERHEAD_SECONDS, MARGIN_SHARE, RESOLUTION_FLOOR,
                                        allowed_resolution, room)

# The achieved intervals exceed the asked ones: a probe waits its interval then takes a write and
# a read (tens of ms on a loaded machine); a canary slips behind its pace when the lab is busy.
PROBE_INTERVAL_MARGIN = 2.5
WRITE_INTERVAL_MARGIN = 1.5
MIN_TIME_FACTOR = 0.001          # below this the lab's own latencies (ms) weigh seconds of AWS time
# Lab seconds a wave costs besides its recovery: reset + deploy, steady-state gate, warm-up,
# revert, after-check (the same run's journal: 2.5-4.5 s between one wave's audit and the next
# wave's fault at factors <= 0.02).
WAVE_OVERHEAD_SECONDS = 3.0
# The capacity figure is ONE sequential writer's ceiling (round-trip bound); the lab's threaded
# server sustains more in aggregate, so a wave may use all of it and the canaries still keep pace.
CAPACITY_HEADROOM = 1.0
# Factors round up to two significant digits (<= 10 % above the need): the 1-2-5 series used
# before overshot by up to 150 % (0.0021 -> 0.005), and a factor too large is wall time (a padded
# hour-long restore takes 18 s at 0.005, 7.6 s at 0.0021). Grouping needs no coarse steps:
# `merge_groups` merges neighbouring factors where that is cheaper.
SIGNIFICANT_DIGITS = 2
_TYPICAL_LAG = {kind: lag.aws_seconds for kind, lag in lab_timing("aws", 1.0).lags.items()}


@dataclass(frozen=True)
class Wave:
    time_factor: float
    workloads: tuple[str, ...]


def required_time_factor(target: WorkloadTarget, *, write_interval: float, probe_interval: float,
                         scenario: str | None = None,
                         lab_overhead: float = LAB_OVERHEAD_SECONDS) -> float:
    """The smallest factor at which RPO and RTO are resolved finely enough for a decisive verdict
    (module docstring), `target` being the one judged in `scenario` (its envelope gives the room).

    A zero target (RPO 0: nothing may be lost) is judged by lost writes: it sets no factor. Both
    zero: real time (factor 1)."""
    needs = []
    for interval, goal, key, overhead in ((write_interval, target.rpo_seconds, "rpo_seconds", 0.0),
                                          (probe_interval, target.rto_seconds, "rto_seconds", lab_overhead)):
        envelope = target.envelope_seconds(scenario, key)
        bound = allowed_resolution(goal, envelope)
        if bound is None:
            continue
        for_resolution = interval / bound
        one_percent = interval / (RESOLUTION_FLOOR * goal)
        space = room(goal, envelope)
        # RPO needs no overhead term: a lag is scaled with the factor, and the sequential canary's
        # ack latency is below its interval (the resolution).
        for_overhead = overhead / ((1 - MARGIN_SHARE) * space) if space and overhead else 0.0
        needs.append(max(for_resolution, min(for_overhead, one_percent)))
    return max(needs, default=1.0)


def expected_lab_span(target: WorkloadTarget, scenario: str | None) -> float:
    """AWS seconds of a workload's wave that the lab really spends (scaled by the factor): the
    canaries' warm-up over the kind's typical replication lag, plus the envelope's RTO terms the
    lab emulates in time (chaos.lab.timing.SCALED_FIGURES: padded promotions and restores, health
    checks, DNS TTL). Without an envelope the target stands in (conservative: fewer merges)."""
    envelope = (target.envelopes.get(scenario) or {}) if scenario else {}
    lag = _TYPICAL_LAG.get(target.kind, 0.0)
    if not envelope:
        return lag + target.rto_seconds
    # The terms' shape is the inventory contract's (validated where the inventory is read).
    return lag + sum(term["seconds"] for term in envelope.get("rto_terms", ())
                     if term["figure"] in SCALED_FIGURES)


def merge_groups(groups: list[tuple[float, list[str]]], durations: Mapping[str, float], *,
                 wave_overhead: float = WAVE_OVERHEAD_SECONDS) -> list[tuple[float, list[str]]]:
    """Merge adjacent factor groups (ascending factor) where one wave at the larger factor costs
    less lab time than separate waves: a wave costs `wave_overhead` plus its slowest member's
    span (`expected_lab_span`, AWS seconds) x its factor. A merged workload only runs at a larger
    factor than it needs: finer resolution, never coarser. Exact (dynamic programming over the
    sorted groups)."""
    count = len(groups)
    best: list[float] = [0.0] + [math.inf] * count
    cut: list[int] = [0] * (count + 1)
    for end in range(1, count + 1):
        for begin in range(end):
            factor = groups[end - 1][0]
            slowest = max(durations.get(n, 0.0) for _, members in groups[begin:end] for n in members)
            cost = best[begin] + wave_overhead + factor * slowest
            if cost < best[end] - 1e-9:
                best[end], cut[end] = cost, begin
    merged: list[tuple[float, list[str]]] = []
    end = count
    while end > 0:
        begin = cut[end]
        merged.append((groups[end - 1][0], [n for _, members in groups[begin:end] for n in members]))
        end = begin
    return merged[::-1]


def step_up(factor: float) -> float:
    """Round up to SIGNIFICANT_DIGITS significant digits, within [MIN_TIME_FACTOR, 1]."""
    factor = min(1.0, max(MIN_TIME_FACTOR, factor))
    unit = 10.0 ** (math.floor(math.log10(factor)) - SIGNIFICANT_DIGITS + 1)
    return min(1.0, round(math.ceil(factor / unit * (1 - 1e-9)) * unit, 12))


def max_per_wave(capacity_writes_per_second: float | None, rate: float) -> int | None:
    """How many canaries at `rate` the lab sustains with headroom (None: no limit measured)."""
    if capacity_writes_per_second is None:
        return None
    return max(1, int(capacity_writes_per_second * CAPACITY_HEADROOM // rate))


def plan_waves(names: list[str], targets: Mapping[str, WorkloadTarget], *, profile: str,
               fixed_factor: float | None, rate: float, probe_interval: float,
               capacity_writes_per_second: float | None = None,
               bypass_lab: frozenset[str] = frozenset(), scenario: str | None = None) -> list[Wave]:
    """The waves of one scenario over its applicable workloads `names`, in run order.

    `targets`: the targets judged in `scenario` (whose envelopes give the room, module docstring).
    `bypass_lab`: workloads whose canary does not go through the lab's HTTP path (PostgreSQL
    speaks to its own server processes): they join a wave without counting against capacity."""
    by_factor: dict[float, list[str]] = {}
    for name in names:
        if fixed_factor is not None:
            factor = fixed_factor
        else:
            factor = step_up(required_time_factor(
                targets[name], write_interval=WRITE_INTERVAL_MARGIN / rate,
                probe_interval=PROBE_INTERVAL_MARGIN * probe_interval, scenario=scenario))
        by_factor.setdefault(factor, []).append(name)
    groups = sorted(by_factor.items())
    if fixed_factor is None:
        groups = merge_groups(groups, {n: expected_lab_span(targets[n], scenario) for n in names})
    limit = max_per_wave(capacity_writes_per_second, rate) or max(1, len(names))
    waves = []
    for factor, members in groups:
        shared = [n for n in members if n not in bypass_lab]
        chunks = [shared[start:start + limit] for start in range(0, len(shared), limit)] or [[]]
        chunks[0] = [n for n in members if n in bypass_lab] + chunks[0]
        waves += [Wave(factor, tuple(chunk)) for chunk in chunks]
    return waves


__all__ = ["MIN_TIME_FACTOR", "WAVE_OVERHEAD_SECONDS", "Wave",
           "expected_lab_span", "max_per_wave", "merge_groups", "plan_waves",
           "required_time_factor", "step_up"]
