"""The entry point: a run's events and the workloads' targets in, one result per scenario x workload out."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from chaos.errors import ChaosError
from chaos.journal import (
    AUDIT,
    DETECTED,
    FAILOVER_DONE,
    FAULT_REVERTED,
    NOTE,
    PLAN_STARTED,
    PLAN_STEP,
    PROBE,
    RUN_STOPPED,
    RUNBOOK_STARTED,
    SCENARIO_ENDED,
    SKIPPED,
    TIME_SCALE,
    WRITE_ACKED,
    WRITE_FAILED,
    Event,
    WorkloadTarget,
)
from chaos.measurement.resolution import Resolution, measure_resolution
from chaos.measurement.results import Marks, PlanStep, ScenarioResult
from chaos.measurement.rpo import measure_rpo
from chaos.measurement.rto import Phases, RtoMeasurement, measure_rto
from chaos.measurement.selection import Timeline, split_timelines
from chaos.measurement.scale import envelope_findings, probe_interval, resolution_findings, to_aws
from chaos.measurement.verdict import judge
from chaos.measurement.window import FaultWindow, fault_window


def measure(events: Iterable[Event], targets: Mapping[str, WorkloadTarget]) -> list[ScenarioResult]:
    """Measure every (scenario, workload) the journal names, in the order the run met them."""
    return [measure_timeline(timeline, _target_of(timeline, targets)) for timeline in split_timelines(events)]


def measure_timeline(timeline: Timeline, target: WorkloadTarget) -> ScenarioResult:
    target = target.for_scenario(timeline.scenario)  # e.g. a deletion is judged as a restore
    identity = dict(
        scenario=timeline.scenario,
        workload=timeline.workload,
        strategy=target.strategy,
        kind=target.kind,
        rto_target_seconds=target.rto_seconds,
        rpo_target_seconds=target.rpo_seconds,
    )
    skips = timeline.of(SKIPPED)
    if skips:
        return ScenarioResult(**identity, skipped=True, skip_reason=str(skips[0].data.get("reason", "")))

    scales = timeline.of(TIME_SCALE)
    factor = float(scales[-1].data.get("time_factor") or 1.0) if scales else 1.0
    profile = str(scales[-1].data.get("profile")) if scales else None
    envelope = target.envelopes.get(timeline.scenario) or {}
    identity.update(time_factor=factor, profile=profile,
                    envelope_rto_seconds=envelope.get("rto_seconds"),
                    envelope_rpo_seconds=envelope.get("rpo_seconds"))
    acks = timeline.of(WRITE_ACKED)
    window = fault_window(timeline)
    resolution = measure_resolution(window.fault_time, acks=acks, failures=timeline.of(WRITE_FAILED))
    notes = [str(n.data.get("text", "")) for n in timeline.of(NOTE)]
    if window.fault_time is None and _stop_of(timeline) is not None:
        return _stopped_result(identity, _stop_of(timeline), timeline, None, acks, resolution, window, notes)
    if window.fault_time is None:
        return ScenarioResult(
            **identity,
            acknowledged_writes=len(acks),
            resolution=resolution,
            fault_window=window,
            reasons=["no fault was injected: nothing to recover from (the scenario did not run)"],
            notes=notes,
        )

    fault_time = window.fault_time
    rto = measure_rto(
        fault_time,
        probes=timeline.of(PROBE),
        detections=timeline.of(DETECTED),
        runbook_starts=timeline.of(RUNBOOK_STARTED),
        failovers=timeline.of(FAILOVER_DONE),
    )
    stop = _stop_of(timeline)
    if stop is not None:
        return _stopped_result(identity, stop, timeline, rto, acks, resolution, window, notes)

    audits = timeline.of(AUDIT)
    lab_rto, lab_rpo = rto, measure_rpo(fault_time, acks=acks, audit=audits[-1] if audits else None)
    # The verdict judges AWS-equivalent values: lab seconds / time factor.
    rto, rpo = to_aws(lab_rto, factor), to_aws(lab_rpo, factor)
    rpo_resolution = (None if resolution.median_ack_interval_seconds is None
                      else resolution.median_ack_interval_seconds / factor)
    probe_step = probe_interval(timeline.of(PROBE), fault_time)
    rto_resolution = None if probe_step is None else probe_step / factor
    # Decisive: a PASS holds with one resolution added (chaos.measurement.decisive).
    reasons = judge(target, rto, rpo, rto_resolution=rto_resolution, rpo_resolution=rpo_resolution)
    findings = envelope_findings(rto.rto_seconds, rpo.rpo_seconds, envelope, factor=factor,
                                 rto_resolution=rto_resolution, rpo_resolution=rpo_resolution
                                 ) + resolution_findings(rpo_resolution, rto_resolution, target, envelope)
    plan_steps = plan_steps_of(timeline)
    failed = [step for step in plan_steps if step.status == "failed"]
    # A Parallel block fails with the step inside it: name the step that failed, not its container.
    reasons += [f"Region switch plan step {step.name} ({step.block_type}) failed"
                + (f": {step.error}" if step.error else "")
                for step in ([s for s in failed if s.block_type != "Parallel"] or failed)]
    plans = timeline.of(PLAN_STARTED)

    if rpo.everything_lost:
        notes.append("every acknowledged pre-fault write was lost: RPO counted from the first acknowledgement")
    if rpo.lost_before_newest_present:
        notes.append(
            f"{rpo.lost_before_newest_present} lost writes are older than the newest surviving one: "
            "the loss is not only the unreplicated tail"
        )
    if rpo.post_fault_acknowledged_writes:
        survived = "unknown" if rpo.post_fault_survived_writes is None else rpo.post_fault_survived_writes
        notes.append(
            f"{rpo.post_fault_acknowledged_writes} writes acknowledged after the fault, {survived} in the recovered store"
        )

    return ScenarioResult(
        **identity,
        passed=not reasons,
        recovered=rto.recovered,
        rto_seconds=rto.rto_seconds,
        rpo_seconds=rpo.rpo_seconds,
        lab_rto_seconds=lab_rto.rto_seconds,
        lab_rpo_seconds=lab_rpo.rpo_seconds,
        rpo_resolution_seconds=rpo_resolution,
        rto_resolution_seconds=rto_resolution,
        lost_writes=rpo.lost_writes,
        acknowledged_writes=rpo.acknowledged_writes,
        post_fault_acknowledged_writes=rpo.post_fault_acknowledged_writes,
        post_fault_survived_writes=rpo.post_fault_survived_writes,
        audit_store=rpo.store,
        everything_lost=rpo.everything_lost,
        phases=rto.phases,
        lab_phases=lab_rto.phases,
        resolution=resolution,
        fault_window=window,
        marks=Marks(
            fault_time=fault_time,
            detected_at=rto.detected_at,
            runbook_started_at=rto.runbook_started_at,
            failover_done_at=rto.failover_done_at,
            recovered_at=rto.recovered_at,
            recovery_point=rpo.recovery_point,
            newest_present_ack=rpo.newest_present_ack,
        ),
        reasons=reasons,
        findings=findings,
        notes=notes,
        plan_steps=plan_steps,
        plan_rto_objective_seconds=plans[0].data.get("rto_objective_seconds") if plans else None,
    )


def _stop_of(timeline: Timeline) -> Event | None:
    """The `run_stopped` event of a scenario the run did not finish (None: it ran to its end)."""
    stops = timeline.of(RUN_STOPPED)
    return stops[0] if stops and not timeline.of(SCENARIO_ENDED) else None


def _stopped_result(identity: dict, stop: Event, timeline: Timeline, rto: RtoMeasurement | None,
                    acks: list[Event], resolution: Resolution, window: FaultWindow,
                    notes: list[str]) -> ScenarioResult:
    """A scenario cut short: what was measured up to the stop, the verdict INTERRUPTED or
    ABORTED, and notes that give the real times (how long it ran, when it stopped)."""
    status = str(stop.data.get("status") or "aborted")
    reason = str(stop.data.get("reason") or "the run stopped")
    began = min((e.t for events in timeline.by_kind.values() for e in events), default=stop.t)
    timing = f"{status} {stop.t - began:.1f} s into the scenario"
    if window.fault_time is None and timeline.of(FAULT_REVERTED):
        timing += ", while its fault was being injected (it was reverted)"
    elif window.fault_time is None:
        timing += ", before any fault was injected"
    else:
        timing += f", {stop.t - window.fault_time:.1f} s after the fault"
        if rto is not None and rto.recovered:
            timing += f" (recovered after {rto.rto_seconds:.3f} s; not audited, so RPO unknown)"
        else:
            timing += ", before recovery was confirmed"
    if window.fault_time is not None and window.end is None:
        timing += "; the run journaled no revert of its fault"
    timing += f" ({reason})"
    return ScenarioResult(
        **identity,
        stopped=status,
        stop_reason=reason,
        recovered=bool(rto and rto.recovered),
        rto_seconds=rto.rto_seconds if rto else None,
        acknowledged_writes=len(acks),
        phases=rto.phases if rto else Phases(None, None, None, None),
        resolution=resolution,
        fault_window=window,
        marks=Marks(fault_time=window.fault_time,
                    detected_at=rto.detected_at if rto else None,
                    runbook_started_at=rto.runbook_started_at if rto else None,
                    failover_done_at=rto.failover_done_at if rto else None,
                    recovered_at=rto.recovered_at if rto else None),
        notes=[timing, *notes],
    )
def plan_steps_of(timeline: Timeline) -> list[PlanStep]:
    """The plan's blocks as the runbook journaled them, in the order they ended."""
    return [
        PlanStep(name=str(e.data.get("name")), block_type=str(e.data.get("block_type")),
                 started_at=e.data.get("started_at"), ended_at=e.data.get("ended_at"),
                 status=str(e.data.get("status") or "completed"), error=e.data.get("error"))
        for e in timeline.of(PLAN_STEP)
    ]


def _target_of(timeline: Timeline, targets: Mapping[str, WorkloadTarget]) -> WorkloadTarget:
    try:
        return targets[timeline.workload]
    except KeyError:
        raise ChaosError(
            f"workloads: the journal names workload {timeline.workload!r} that the run's inventory does not "
            f"declare (known: {', '.join(sorted(targets)) or 'none'}); measure with the inventory the run used"
        ) from None
