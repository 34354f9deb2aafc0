"""Lab seconds to AWS-equivalent seconds, and what a measurement says about its envelope.

The lab compresses AWS's durations by `time_factor` (lab seconds per AWS second; chaos.lab.timing),
so a duration measured on the lab clock divided by the factor is what it would take on AWS. The
verdict judges those AWS-equivalent values; the envelope (what AWS can deliver with what the stack
provisions, infra.envelope) is compared with them too: a measurement outside its envelope is a
finding (the lab or the envelope is wrong), never silently accepted.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from chaos.journal import Event, WorkloadTarget
from chaos.measurement.decisive import LAB_OVERHEAD_SECONDS, allowed_resolution
from chaos.measurement.rpo import RpoMeasurement
from chaos.measurement.rto import Phases, RtoMeasurement

M = TypeVar("M", RtoMeasurement, RpoMeasurement)


def scaled(seconds: float | None, factor: float) -> float | None:
    return None if seconds is None else seconds / factor


def to_aws(measurement: M, factor: float) -> M:
    """The same measurement with its durations in AWS-equivalent seconds (times stay lab epochs)."""
    if factor == 1.0:
        return measurement
    if isinstance(measurement, RtoMeasurement):
        phases = measurement.phases
        return replace(measurement, rto_seconds=scaled(measurement.rto_seconds, factor),
                       phases=Phases(*(scaled(p, factor) for p in (
                           phases.detection_seconds, phases.decision_seconds,
                           phases.failover_seconds, phases.first_success_seconds))))
    return replace(measurement, rpo_seconds=scaled(measurement.rpo_seconds, factor))


def probe_interval(probes: list[Event], fault_time: float) -> float | None:
    """Median spacing of the steady-state probes after the fault: how finely RTO is resolved."""
    times = [p.t for p in probes if p.t >= fault_time]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    return statistics.median(gaps) if gaps else None


def envelope_findings(rto: float | None, rpo: float | None, envelope: Mapping[str, Any], *,
                      factor: float = 1.0, rto_resolution: float | None = None,
                      rpo_resolution: float | None = None) -> list[str]:
    """Measurements further outside their envelope than the measurement itself explains.

    The lab pads AWS's actions to the envelope's worst case, so a healthy RTO lands on the envelope
    plus the lab's own unpadded seconds (LAB_OVERHEAD_SECONDS, magnified by 1 / factor) and one
    resolution; an RPO, within one resolution. Beyond that the lab or the envelope is wrong."""
    findings = []
    for label, measured, key, allowance in (
            ("RTO", rto, "rto_seconds", (rto_resolution or 0.0) + LAB_OVERHEAD_SECONDS / factor),
            ("RPO", rpo, "rpo_seconds", rpo_resolution or 0.0)):
        bound = envelope.get(key)
        if measured is None or bound is None or measured <= bound + allowance:
            continue
        findings.append(f"{label} {measured:.3f} s (AWS-equivalent) is outside its envelope {bound:g} s "
                        f"by more than the measurement explains ({allowance:.3f} s: "
                        + ("one resolution and the lab's own unpadded seconds at factor "
                           f"{factor:g})" if label == "RTO" else "one resolution)")
                        + ": the lab is slower than AWS's worst case or the envelope misses a term")
    return findings


def resolution_findings(rpo_resolution: float | None, rto_resolution: float | None,
                        target: WorkloadTarget, envelope: Mapping[str, Any] | None = None) -> list[str]:
    """A resolution coarser than the one the wave planner aims at (chaos.measurement.decisive:
    1 % of the target, or a quarter of the room between the envelope and the target)."""
    envelope = envelope or {}
    findings = []
    for label, resolution, goal, key in (("RPO", rpo_resolution, target.rpo_seconds, "rpo_seconds"),
                                         ("RTO", rto_resolution, target.rto_seconds, "rto_seconds")):
        bound = allowed_resolution(goal, envelope.get(key))
        if resolution is not None and bound is not None and resolution > bound:
            findings.append(f"{label} resolution {resolution:.3f} s (AWS-equivalent) is coarser than "
                            f"the {bound:.3f} s its {goal:g} s target allows: raise --time-factor "
                            "(lab seconds per AWS second)" + (" or --rate" if label == "RPO" else ""))
    return findings
